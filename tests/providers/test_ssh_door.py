"""The SSH door against real sshd droplets: commands, deadlines, cancellation, files, host keys
and the messages a refused or unreachable host gives."""

from __future__ import annotations

import threading
import time

import pytest
from droplet_fixtures import Fleet, Sshd, keygen

from runner.errors import Cancelled, ProviderError
from runner.providers.call import Call
from runner.providers.ssh import (
    Endpoint,
    HostKeyMismatch,
    PrivateKey,
    SshSettings,
    Trust,
    open_host,
)
from runner.providers.ssh.client import wrap
from runner.providers.ssh.door import key_line_fingerprint

pytestmark = pytest.mark.ssh


def endpoint(sshd: Sshd, fleet: Fleet, trust: Trust | None = None) -> Endpoint:
    return Endpoint(sshd.address, sshd.port, "root", trust or Trust(host_key=sshd.host_key),
                    PrivateKey(fleet.key_text, "file keys/test"))


@pytest.fixture
def host(fleet: Fleet):  # type: ignore[no-untyped-def]
    opened = open_host(endpoint(fleet[0], fleet), SshSettings(connect_timeout=5))
    yield opened
    opened.close()


def test_a_command_gives_its_exit_code_and_output_and_streams_lines(host) -> None:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    result = host.run("echo one; echo two >&2; exit 3", Call(log=lines.append))
    assert (result.exit_code, result.stdout, result.stderr, result.timed_out) == \
        (3, "one\n", "two\n", False)
    assert sorted(lines) == ["one", "two"]
    assert result.tail() == "one\ntwo"


def test_output_written_just_before_the_exit_is_never_lost(host) -> None:  # type: ignore[no-untyped-def]
    # sshd may send the exit status before it has drained stderr's pipe; the reading goes on
    # to the channel's close (CI once saw stderr come back empty here)
    for round_ in range(40):
        result = host.run(f"echo out{round_}; printf 'err%s\\n' {round_} >&2; exit 3", Call())
        assert (result.exit_code, result.stdout, result.stderr) == \
            (3, f"out{round_}\n", f"err{round_}\n"), round_
    big = host.run("head -c 300000 /dev/zero | tr '\\0' e >&2; echo end >&2", Call())
    assert big.stderr.endswith("e" * 1000 + "end\n")


def test_a_child_left_holding_the_output_does_not_hold_the_command(host) -> None:  # type: ignore[no-untyped-def]
    nap = f"sleep 20.{time.monotonic_ns() % 10**6}"
    started = time.monotonic()
    result = host.run(f"{nap} & echo parent done", Call())
    assert (result.exit_code, result.stdout) == (0, "parent done\n")
    assert time.monotonic() - started < 10  # the EOF grace, not the child's 20 s
    host.run(f"pkill -fx '{nap}' || true", Call())


def test_a_connection_lost_while_waiting_for_the_close_keeps_what_came(fleet) -> None:  # type: ignore[no-untyped-def]
    opened = open_host(endpoint(fleet[0], fleet), SshSettings(connect_timeout=5))
    nap = f"sleep 20.{time.monotonic_ns() % 10**6}"
    try:
        def lose_it(line: str) -> None:  # a second after the last line, inside the 2 s wait
            if line == "its error":
                threading.Timer(1.0, opened.close).start()

        started = time.monotonic()
        result = opened.run(f"{nap} & echo parent done; echo its error >&2; exit 5",
                            Call(log=lose_it))
        assert (result.exit_code, result.stdout, result.stderr) == \
            (5, "parent done\n", "its error\n")
        assert time.monotonic() - started < 10
        # the next command connects again
        assert opened.run(f"pkill -fx '{nap}'; echo again", Call()).stdout == "again\n"
    finally:
        opened.close()


def test_environment_and_stdin_reach_the_command(host) -> None:  # type: ignore[no-untyped-def]
    result = host.run('printf "%s|" "$GREETING"; cat', Call(), env={"GREETING": "it's 'quoted'"},
                      stdin=b"from stdin")
    assert result.stdout == "it's 'quoted'|from stdin"


def test_the_deadline_kills_the_whole_process_group_on_the_host(host) -> None:  # type: ignore[no-untyped-def]
    nap = f"sleep 300.{time.monotonic_ns() % 10**6}"  # a command line no one else runs
    result = host.run(f"{nap} & {nap}", Call(), timeout=1)
    assert (result.timed_out, result.exit_code) == (True, 124)
    left = host.run(f"pgrep -cfx '{nap}' || true", Call())
    assert left.stdout == "0\n"


def test_cancellation_kills_the_remote_command(host) -> None:  # type: ignore[no-untyped-def]
    cancelled = threading.Event()
    marker = f"/tmp/tf-door-cancel-{time.monotonic_ns()}"
    nap = f"sleep 30.{time.monotonic_ns() % 10**6}"
    threading.Timer(1.0, cancelled.set).start()
    with pytest.raises(Cancelled):
        host.run(f"touch {marker}; {nap}; rm {marker}", Call(cancelled=cancelled, what="x"))
    # the group was killed (the kill waits for it): the file the command would have removed
    # stays, and nothing of it runs
    check = host.run(f"test -e {marker} && echo kept; rm -f {marker}; pgrep -cfx '{nap}'",
                     Call())
    assert check.stdout.split() == ["kept", "0"]


def test_files_are_written_whole_listed_renamed_and_removed(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = f"/tmp/tf-door-files-{time.monotonic_ns()}"
    local = tmp_path / "run.sh"
    local.write_text("#!/bin/sh\necho hi\n")
    with host.files() as files:
        files.mkdirs(f"{base}/a/b")
        files.write(f"{base}/a/b/x.json", b'{"x": 1}')
        files.upload(local, f"{base}/run.sh", 0o755)
        assert files.read(f"{base}/a/b/x.json") == b'{"x": 1}'
        assert files.read(f"{base}/nothing") is None
        assert files.listdir(f"{base}/a/b") == ["x.json"]
        assert files.listdir(f"{base}/none") is None
        files.mkdirs(f"{base}/taken")
        files.write(f"{base}/taken/holder", b"first")
        files.mkdirs(f"{base}/mine")
        files.write(f"{base}/mine/holder", b"second")
        assert files.rename(f"{base}/mine", f"{base}/taken") is False
        assert files.read(f"{base}/taken/holder") == b"first"
        assert files.rename(f"{base}/mine", f"{base}/free") is True
        files.remove(f"{base}/a/b/x.json")
        files.remove(f"{base}/a/b/x.json")
    ran = host.run(f"{base}/run.sh; ls -a {base}; rm -rf {base}", Call())
    assert ran.stdout.split() == ["hi", ".", "..", "a", "free", "run.sh", "taken"]


def test_a_dialled_command_is_a_byte_stream(host) -> None:  # type: ignore[no-untyped-def]
    stream = host.dial("cat")
    stream.sendall(b"ping\n")
    stream.shutdown_write()
    got = b""
    while chunk := stream.recv(1024):
        got += chunk
    stream.close()
    assert got == b"ping\n"


def test_a_changed_host_key_is_refused_naming_both_keys(fleet, lone_droplet) -> None:  # type: ignore[no-untyped-def]
    sshd = lone_droplet[0]
    old = sshd.host_key
    sshd.stop()
    sshd.start(new_host_key=True)
    ep = endpoint(sshd, lone_droplet, Trust(host_key=old))
    with pytest.raises(HostKeyMismatch) as refused:
        open_host(ep, SshSettings(connect_timeout=5)).run("true", Call())
    assert str(refused.value) == (
        f"root@{sshd.address}:{sshd.port} presented host key ssh-ed25519 "
        f"{key_line_fingerprint(sshd.host_key)}, but the host_key setting trusts "
        f"{key_line_fingerprint(old)}: refused, nothing was sent. If the machine was rebuilt on "
        "purpose, put its new key in host_key (or known_hosts)")


def test_an_unknown_host_key_is_refused_unless_accept_new(fleet, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sshd = fleet[1]
    known = tmp_path / "known_hosts"
    known.write_text(f"[{fleet[0].address}]:{fleet[0].port} {fleet[0].host_key}\n")
    ep = endpoint(sshd, fleet, Trust(known_hosts=known))
    with pytest.raises(ProviderError) as refused:
        open_host(ep, SshSettings(connect_timeout=5)).run("true", Call())
    assert str(refused.value) == (
        f"root@{sshd.address}:{sshd.port}: presented host key "
        f"{key_line_fingerprint(sshd.host_key)} (ssh-ed25519), which known_hosts file {known} "
        "does not hold: refused (add it there, or set accept_new: true to take the key a new "
        "host presents the first time)")
    known.write_text(f"[{sshd.address}]:{sshd.port} {sshd.host_key}\n")
    assert open_host(ep, SshSettings()).run("echo ok", Call()).stdout == "ok\n"
    taken = open_host(endpoint(sshd, fleet, Trust(accept_new=True)), SshSettings())
    assert taken.host_key() == sshd.host_key


def test_unreachable_and_refused_logins_say_so(fleet, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sshd = fleet[0]
    closed = Endpoint(sshd.address, 1, "root", Trust(host_key=sshd.host_key),
                      PrivateKey(fleet.key_text, "file keys/test"))
    with pytest.raises(ProviderError) as unreachable:
        open_host(closed, SshSettings(connect_timeout=2)).run("true", Call())
    assert str(unreachable.value) == f"root@{sshd.address}:1: unreachable: Connection refused"
    keygen(tmp_path / "other")
    stranger = Endpoint(sshd.address, sshd.port, "root", Trust(host_key=sshd.host_key),
                        PrivateKey((tmp_path / "other").read_text(), "variable other_key"))
    with pytest.raises(ProviderError) as refused:
        open_host(stranger, SshSettings(connect_timeout=5)).run("true", Call())
    assert str(refused.value) == (f"root@{sshd.address}:{sshd.port}: refused the login of root "
                                  "with the key from variable other_key")
    assert (tmp_path / "other").read_text() not in repr(stranger)


def test_a_private_key_that_is_not_one_is_named_by_origin_only(fleet) -> None:  # type: ignore[no-untyped-def]
    sshd = fleet[0]
    bad = Endpoint(sshd.address, sshd.port, "root", Trust(host_key=sshd.host_key),
                   PrivateKey("-----BEGIN NONSENSE-----\nc2VjcmV0\n", "variable droplet_key"))
    with pytest.raises(ProviderError) as refused:
        open_host(bad, SshSettings(connect_timeout=5)).run("true", Call())
    assert str(refused.value) == (f"root@{sshd.address}:{sshd.port}: the private key from "
                                  "variable droplet_key is not an OpenSSH or PEM private key "
                                  "(Ed25519, ECDSA or RSA)")


def test_the_wrapper_quotes_the_command_and_bounds_it() -> None:
    assert wrap("echo 'a b'", 2.2, {"X": "y z"}) == (
        "printf 'taskform-pid %s\\n' \"$$\" >&2; export X='y z'; exec timeout -k 5 3 sh -c "
        "'echo '\"'\"'a b'\"'\"''")
    with pytest.raises(ValueError):
        wrap("true", 1, {"A-B": "x"})


@pytest.mark.docker
def test_a_droplets_docker_engine_answers_through_the_door(fleet) -> None:  # type: ignore[no-untyped-def]
    """What Docker's ssh:// transport is made of, over the door's own checked connections (the
    test droplets' sessions reach this machine's engine)."""
    import docker

    from runner.providers.ssh.tunnel import DockerTunnel

    ep = endpoint(fleet[0], fleet)
    tunnel = DockerTunnel(lambda: open_host(ep, SshSettings(connect_timeout=5)))
    try:
        remote = docker.DockerClient(base_url=tunnel.url, timeout=60)
        local = docker.DockerClient(base_url="unix:///var/run/docker.sock", timeout=60)
        assert remote.info()["ID"] == local.info()["ID"]
        assert remote.images.get("taskform/base:bookworm").id == \
            local.images.get("taskform/base:bookworm").id
        assert oct(tunnel.path.stat().st_mode & 0o777) == "0o600"
    finally:
        tunnel.close()
    assert not tunnel.path.exists()


def test_the_tunnel_opens_another_connection_when_one_carries_its_share(fleet) -> None:  # type: ignore[no-untyped-def]
    """Five streams at once, at most two per SSH connection: three connections, and every
    stream carries its own bytes both ways (sshd's MaxSessions is never reached)."""
    import socket

    from runner.providers.ssh.tunnel import DockerTunnel

    ep = endpoint(fleet[0], fleet)
    tunnel = DockerTunnel(lambda: open_host(ep, SshSettings(connect_timeout=5)),
                          per_connection=2, command="cat")
    clients = []
    try:
        for i in range(5):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.connect(str(tunnel.path))
            client.sendall(f"stream {i}\n".encode())
            clients.append(client)
        echoed = [client.recv(64) for client in clients]
        assert echoed == [f"stream {i}\n".encode() for i in range(5)]
        assert tunnel.connections == 3
        for client in clients:
            client.close()
        deadline = time.monotonic() + 10
        while tunnel.streams and time.monotonic() < deadline:  # their sessions end
            time.sleep(0.02)
        again = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        again.connect(str(tunnel.path))
        again.sendall(b"again\n")
        assert again.recv(64) == b"again\n"
        again.close()
        assert tunnel.connections == 3  # reused, not a fourth
    finally:
        tunnel.close()


def test_the_client_sees_the_end_of_a_stream_the_remote_command_ended(fleet) -> None:  # type: ignore[no-untyped-def]
    """An exec's output ends when the engine ends the connection, while the client still has
    its writing side open: the client must read the end (a socket closed under the tunnel's
    blocked reader would stay open, and every grading on a droplet's engine would wait for its
    watchdog)."""
    import socket

    from runner.providers.ssh.tunnel import DockerTunnel

    ep = endpoint(fleet[0], fleet)
    tunnel = DockerTunnel(lambda: open_host(ep, SshSettings(connect_timeout=5)),
                          command="head -c 5")
    try:
        for _ in range(3):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(10)
            client.connect(str(tunnel.path))
            client.sendall(b"hello and more")  # never shut down: the remote side ends it
            got = b""
            while chunk := client.recv(64):
                got += chunk
            assert got == b"hello"
            client.close()
    finally:
        tunnel.close()
