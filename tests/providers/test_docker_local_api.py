"""A fresh sandbox's requests on a local engine without the SDK (`peek.request`, `peek.upgrade`,
`open_exec.frames`): refusals name what was asked as the SDK path's do, what a removal or a kill
may find (gone already, a removal under way) is no failure, an attach hands the connection over
with whatever came early, and the multiplexed output is read whole however the socket cuts it.
On the real engine, a clone made this way is the clone the SDK makes."""

from __future__ import annotations

import socket
import struct
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.errors import ProviderError, StepFailed
from runner.providers.docker import engine as engine_module
from runner.providers.docker import peek
from runner.providers.docker.engine import LOCAL_SOCKET, DockerEngine
from runner.providers.docker.open_exec import OpenProcess, frames

BASE_IMAGE = "taskform/base:bookworm"
Answer = Callable[[bytes], bytes]  # the request as received -> the raw answer


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


def http(status: str, body: bytes = b"", extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.fixture
def engine_at(tmp_path: Path) -> Iterator[Callable[[Answer], tuple[DockerEngine, list[bytes]]]]:
    """A fake engine on a Unix socket answering each connection's request with `answer`; the
    requests it received."""
    servers: list[socket.socket] = []

    def start(answer: Answer) -> tuple[DockerEngine, list[bytes]]:
        path = tmp_path / f"{len(servers)}.sock"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(8)
        servers.append(server)
        seen: list[bytes] = []

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        request += conn.recv(65536)
                    head, _, body = request.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), 0)
                    while len(body) < length:
                        body += conn.recv(65536)
                    seen.append(head.split(b"\r\n")[0] + b" " + body)
                    conn.sendall(answer(request))
        threading.Thread(target=serve, daemon=True).start()
        return DockerEngine(f"unix://{path}"), seen
    yield start
    for server in servers:
        server.close()


def test_each_lifecycle_request_is_one_plain_request(engine_at):
    answers = {b"POST /containers/create": http("201 Created", b'{"Id": "abc", "Warnings": []}'),
               b"POST /containers/abc/start": http("204 No Content"),
               b"POST /containers/abc/wait": http("200 OK", b'{"StatusCode": 3}'),
               b"POST /containers/abc/kill": http("204 No Content"),
               b"DELETE /containers/abc": http("204 No Content")}
    engine, seen = engine_at(lambda req: next(a for k, a in answers.items() if req.startswith(k)))
    engine.start_container("abc")
    assert engine.wait("abc", timeout=5) == 3
    engine.kill_container("abc")
    engine.remove_container("abc", volumes=True)
    assert [s.split(b" HTTP/1.1")[0] for s in seen] == [
        b"POST /containers/abc/start", b"POST /containers/abc/wait", b"POST /containers/abc/kill",
        b"DELETE /containers/abc?force=1&v=1"]


@pytest.mark.parametrize(("status", "body", "then"), [
    ("404 Not Found", b'{"message": "No such container: abc"}', None),
    ("409 Conflict", b'{"message": "removal of container abc is already in progress"}', None),
    ("409 Conflict", b'{"message": "container abc is paused"}',
     ("remove container abc: the engine refused: container abc is paused", False)),
    ("500 Internal Server Error", b'{"message": "driver failed"}',
     ("remove container abc: the engine refused: driver failed", True)),
])
def test_a_removal_finding_it_gone_or_going_is_done_anything_else_fails_naming_it(
        engine_at, status, body, then):
    engine, _ = engine_at(lambda req: http(status, body))
    if then is None:
        engine.remove_container("abc")
        return
    with pytest.raises(StepFailed) as failed:
        engine.remove_container("abc")
    assert (failed.value.message, failed.value.retryable) == then


@pytest.mark.parametrize("status", ["404 Not Found", "409 Conflict"])
def test_killing_a_container_gone_or_not_running_is_nothing_to_do(engine_at, status):
    engine, seen = engine_at(lambda req: http(status, b'{"message": "is not running"}'))
    engine.kill_container("abc")
    assert len(seen) == 1


def test_a_refused_start_is_a_failed_step_naming_the_container(engine_at):
    engine, _ = engine_at(lambda req: http("400 Bad Request", b'{"message": "exec: no bash"}'))
    with pytest.raises(StepFailed) as failed:
        engine.start_container("abc", "tf-p-sbx-1")
    assert (failed.value.message, failed.value.retryable) == (
        "start container tf-p-sbx-1: the engine refused: exec: no bash", False)


def test_no_engine_at_the_socket_is_the_one_error_for_the_run(tmp_path):
    engine = DockerEngine(f"unix://{tmp_path}/none.sock")
    with pytest.raises(ProviderError) as first:
        engine.remove_container("abc")
    assert str(first.value).startswith(f"cannot reach the Docker engine at unix://{tmp_path}/"
                                       "none.sock: No such file or directory; start it with")
    with pytest.raises(ProviderError) as again:
        engine.start_container("abc")
    assert again.value is first.value


def test_an_upgrade_hands_over_the_connection_with_what_came_early(tmp_path):
    path = tmp_path / "attach.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    fed: list[bytes] = []

    def attach() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
                         + frame(1, b"early "))
            data = b""
            while chunk := conn.recv(4096):  # until the half-close: the end of its stdin
                data += chunk
            fed.append(data)
            conn.sendall(frame(2, b"got ") + frame(1, data))
    threading.Thread(target=attach, daemon=True).start()
    sock, early = peek.upgrade(str(path), "/containers/abc/attach?stdin=1")
    process = OpenProcess(sock, "abc", early=early)
    assert b"".join(process.feed(b"the script")) == b"early got the script"
    assert fed == [b"the script"]
    process.close()
    server.close()


def test_an_upgrade_refused_carries_the_engines_message(engine_at):
    engine, _ = engine_at(lambda req: http("404 Not Found", b'{"message": "No such container"}'))
    with pytest.raises(peek.Refused) as refused:
        peek.upgrade(engine.address[len("unix://"):], "/containers/abc/attach")
    assert (refused.value.status, refused.value.message) == (404, "No such container")


def test_frames_are_read_whole_however_the_socket_cuts_them():
    stream = frame(1, b"a" * 70000) + frame(2, b"") + frame(2, b"err") + frame(1, b"tail-cut")
    stream = stream[:-4]  # the engine's end came in the middle of the last frame
    ours, theirs = socket.socketpair()

    def send() -> None:  # what came with the answer's headers aside, 7 bytes at a time
        for start in range(5, len(stream), 7):
            theirs.sendall(stream[start:start + 7])
        theirs.close()
    sender = threading.Thread(target=send)
    sender.start()
    got = list(frames(ours, stream[:5]))
    sender.join()
    ours.close()
    assert got == [b"a" * 70000, b"err", b"tail"]


@pytest.mark.docker
def test_a_clone_made_without_the_sdk_is_the_clone_the_sdk_makes(docker_client, monkeypatch):
    engine = DockerEngine(LOCAL_SOCKET)
    labels = {"taskform.test": f"local-api-{uuid.uuid4().hex[:8]}"}
    docker_client.containers.run(BASE_IMAGE, ["sleep", "infinity"], name=labels["taskform.test"],
                                 detach=True, init=True, network_mode="none", labels=labels,
                                 mem_limit="256m", pids_limit=64, cap_drop=["ALL"])
    made: list[str] = []
    try:
        template = engine.container(labels["taskform.test"])
        assert template is not None
        overrides = {"ReadonlyRootfs": True, "Tmpfs": {"/tmp": "rw,exec,mode=1777"}}
        outputs = []
        for way in ("plain", "sdk"):
            if way == "sdk":
                monkeypatch.setattr(engine_module, "socket_path", lambda address: None)
            found = engine.clone_attached(template, ["bash", "-c", "cat; echo done"],
                                          name=f"{labels['taskform.test']}-{way}",
                                          labels=labels, host_overrides=overrides)
            assert found is not None
            sandbox, process = found
            made.append(sandbox.id)
            assert sandbox.running and sandbox.image_id == template.image_id
            outputs.append(b"".join(process.feed(b"fed\n")))
            process.close()
        monkeypatch.undo()
        assert outputs == [b"fed\ndone\n"] * 2
        plain, sdk = (docker_client.api.inspect_container(i) for i in made)
        ignore = {"Hostname"}
        assert {k: v for k, v in plain["Config"].items() if k not in ignore} == \
            {k: v for k, v in sdk["Config"].items() if k not in ignore}
        assert plain["HostConfig"] == sdk["HostConfig"]
        assert engine.wait(made[0], timeout=10) == 0
        engine.kill_container(made[0])  # not running any more: nothing to kill
        for container_id in made:
            engine.remove_container(container_id, volumes=True)
            engine.remove_container(container_id, volumes=True)  # gone already: fine
        assert all(engine.container(i) is None for i in made)
        listed = engine.container_labels({"label": f"taskform.test={labels['taskform.test']}"})
        assert list(listed.values()) == [labels]
    finally:
        for container_id in made:
            docker_client.api.remove_container(container_id, force=True, v=True) \
                if engine.container(container_id) else None
        docker_client.api.remove_container(labels["taskform.test"], force=True, v=True)
