"""Looking at a local engine without the SDK (`providers/docker/peek.py`): the same answers as
the SDK's from the real engine, the same errors when the socket is missing, and an engine that
answers badly is a failed step naming what was asked. A no-op plan with refresh of a workspace
with containers imports no SDK at all."""

from __future__ import annotations

import http.server
import os
import socket
import socketserver
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import ProviderError, StepFailed
from runner.providers.docker import engine as engine_module
from runner.providers.docker.engine import LOCAL_SOCKET, DockerEngine

REPO = Path(__file__).resolve().parents[2]
BASE_IMAGE = "taskform/base:bookworm"


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _handler(status: int, body: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        seen: list[str] = []

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            Handler.seen.append(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

        def address_string(self) -> str:  # a Unix socket has no peer address
            return "local"
    return Handler


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    servers = []

    def start(status: int, body: bytes) -> tuple[str, type]:
        path = tmp_path / f"{len(servers)}.sock"
        handler = _handler(status, body)
        server = _Server(str(path), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"unix://{path}", handler
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_missing_socket_is_the_sdk_paths_error_once_for_the_run(tmp_path):
    engine = DockerEngine(f"unix://{tmp_path}/none.sock")
    with pytest.raises(ProviderError) as first:
        engine.image("x:1")
    assert str(first.value).startswith(
        f"cannot reach the Docker engine at unix://{tmp_path}/none.sock: No such file or "
        "directory; start it with `dockerd &` as root")
    with pytest.raises(ProviderError) as again:
        engine.container("c")
    assert again.value is first.value  # remembered: one error for the run


def test_answers_not_found_and_refusals(serve):
    address, seen = serve(200, b'{"Id": "sha256:ab", "RepoTags": ["<none>:<none>", "a/b:1"], '
                               b'"Config": {"Labels": {"k": "v"}}, "RepoDigests": ["a/b@sha256:c"]}')
    found = DockerEngine(address).image("a/b:1")
    assert (found.id, found.tags, found.labels, found.repo_digests) == (
        "sha256:ab", ("a/b:1",), {"k": "v"}, ("a/b@sha256:c",))
    assert seen.seen == ["/images/a/b:1/json"]
    address, _ = serve(404, b'{"message": "No such container: c"}')
    assert DockerEngine(address).container("c") is None
    address, _ = serve(500, b'{"message": "the daemon broke"}')
    with pytest.raises(StepFailed) as refused:
        DockerEngine(address).container("c d")
    assert (refused.value.message, refused.value.retryable) == (
        "inspect container c d: the engine refused: the daemon broke", True)
    address, _ = serve(400, b"not json")
    with pytest.raises(StepFailed) as bad:
        DockerEngine(address).image("x")
    assert (bad.value.message, bad.value.retryable) == (
        "inspect image x: the engine refused: not json", False)


def test_an_engine_that_answered_and_then_went_away_is_a_failed_step(serve, tmp_path):
    address, _ = serve(404, b"{}")
    engine = DockerEngine(address)
    assert engine.image("x") is None
    os.unlink(address[len("unix://"):])
    with pytest.raises(StepFailed) as lost:
        engine.image("x")
    assert lost.value.message == ("inspect image x: the Docker engine did not answer: No such "
                                  "file or directory")


def test_a_socket_that_answers_garbage_is_one_clear_error(tmp_path):
    path = tmp_path / "garbage.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        conn.recv(4096)
        conn.sendall(b"\x00\xffnot http at all\r\n\r\n")
        conn.close()
    threading.Thread(target=answer, daemon=True).start()
    try:
        with pytest.raises(ProviderError) as lost:
            DockerEngine(f"unix://{path}").container("c")
    finally:
        server.close()
    assert str(lost.value).startswith(f"cannot reach the Docker engine at unix://{path}: ")
    assert "start it with `dockerd &`" in str(lost.value)


@pytest.mark.docker
def test_the_real_engine_gives_the_sdks_answers():
    engine = DockerEngine(LOCAL_SOCKET)
    sdk = engine.client  # the SDK, connected as apply connects it
    assert engine.image(BASE_IMAGE) == engine_module._image(sdk.images.get(BASE_IMAGE))
    assert engine.image(f"taskform/none-{uuid.uuid4().hex[:8]}:x") is None
    name = f"tf-peek-{uuid.uuid4().hex[:8]}"
    created = engine.create_container(BASE_IMAGE, ["sleep", "30"], name=name,
                                      labels={"taskform.test": "peek"})
    try:
        peeked = engine.container(name)
        assert peeked == engine_module._container(sdk.containers.get(name))
        assert (peeked.id, peeked.name, peeked.status) == (created.id, name, "running")
    finally:
        engine.remove_container(created.id)
    assert engine.container(name) is None


@pytest.mark.docker
def test_a_no_op_plan_with_refresh_imports_no_sdk(dws):
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: p}}
        spec:
          steps:
            box:
              docker_run: {{image_tag: {BASE_IMAGE}, command: [sleep, "300"]}}
        """)
    dws.apply()
    code = ("import sys, runner.cli\ntry:\n    runner.cli.main(['plan', '-detailed-exitcode'])\n"
            "except SystemExit as e:\n    print('exit', e.code)\n"
            "print(sorted(m for m in ('docker', 'requests', 'paramiko') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=dws.root, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.endswith("No changes. 1 resource matches the specs.\nexit 0\n[]\n"), out
