"""Real droplets for the tests: Debian's openssh-server, one `sshd` per droplet on 127.0.0.2,
127.0.0.3 and 127.0.0.4, each with its own host key, logging root in with a key generated for
the test session; configs, keys and pid files in a temporary folder. Nothing leaves 127/8.

`scripts/setup.sh` installs openssh-server; without it (or without root) these tests skip with
the reason, and under CI=true a skip fails the run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")

CONFIG = """\
ListenAddress {address}:{port}
HostKey {host_key}
PidFile {folder}/sshd.pid
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
MaxSessions 32
MaxStartups 64:30:128
LogLevel ERROR
{extra}"""


def keygen(path: Path) -> str:
    """A new ed25519 key pair at `path`; returns the public key line (type and base64)."""
    for stale in (path, path.with_suffix(".pub")):
        stale.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@dataclass
class Sshd:
    """One test droplet's sshd."""

    name: str
    address: str
    port: int
    folder: Path
    authorized: Path
    extra: str = ""
    process: subprocess.Popen[bytes] | None = None
    host_key: str = ""

    def start(self, new_host_key: bool = False) -> None:
        key_file = self.folder / "host_ed25519"
        if new_host_key or not key_file.exists():
            self.host_key = keygen(key_file)
        config = self.folder / "sshd_config"
        config.write_text(CONFIG.format(address=self.address, port=self.port, host_key=key_file,
                                        folder=self.folder, authorized=self.authorized,
                                        extra=self.extra))
        self.process = subprocess.Popen([SSHD, "-f", str(config), "-D", "-e"],
                                        stdout=subprocess.DEVNULL,
                                        stderr=(self.folder / "sshd.log").open("ab"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd for {self.name} exited: "
                                   f"{(self.folder / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection((self.address, self.port), timeout=0.5) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd for {self.name} did not answer on {self.address}:{self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Fleet:
    """The test droplets and the key that logs in to all of them."""

    droplets: list[Sshd]
    key_file: Path

    @property
    def key_text(self) -> str:
        return self.key_file.read_text()

    def __getitem__(self, index: int) -> Sshd:
        return self.droplets[index]


def sshd_available() -> str | None:
    """Why the droplet tests cannot run here, or None."""
    if not os.path.exists(SSHD):
        return f"{SSHD} is missing: install openssh-server (bash scripts/setup.sh does)"
    if os.geteuid() != 0:
        return "the test droplets log in as root: run the tests as root"
    if not shutil.which("ssh-keygen"):
        return "ssh-keygen is missing (openssh-client)"
    return None


def start_fleet(base: Path, count: int = 3, extra: str = "") -> Fleet:
    reason = sshd_available()
    if reason:
        pytest.skip(reason)
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation folder
    base.mkdir(parents=True, exist_ok=True)
    key_file = base / "client_ed25519"
    public = keygen(key_file)
    authorized = base / "authorized_keys"
    authorized.write_text(public + "\n")
    droplets = []
    for i, address in enumerate(ADDRESSES[:count]):
        folder = base / f"lab-{i + 1}"
        folder.mkdir(exist_ok=True)
        sshd = Sshd(f"lab-{i + 1}", address, free_port(address), folder, authorized, extra)
        sshd.start()
        droplets.append(sshd)
    return Fleet(droplets, key_file)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """Three droplets for the whole session (tests that stop or rekey one start their own)."""
    started = start_fleet(tmp_path_factory.mktemp("fleet"))
    yield started
    for sshd in started.droplets:
        sshd.stop()


@pytest.fixture
def lone_droplet(tmp_path: Path) -> Iterator[Fleet]:
    """One droplet of the test's own, to stop or give a new host key."""
    started = start_fleet(tmp_path / "lone", count=1)
    yield started
    started[0].stop()


# the app: a small HTTP server on a port of its own (written to app.port), its command line
# marked with a word no other test uses, so the test can count and stop exactly its processes
SERVER = ("import http.server, socketserver\n"
          "s = socketserver.TCPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)\n"
          "open('app.port', 'w').write(str(s.server_address[1]))\n"
          "s.serve_forever()\n")
RUN_SH = """#!/bin/sh
set -e
echo "run $TASKFORM_SLOT" >> runs.log
rm -f app.port
nohup python3 -c "{server}" {marker} > app.log 2>&1 &
echo $! > app.pid
echo "started in slot $TASKFORM_SLOT"
"""
KILL_SH = """#!/bin/sh
[ -f app.pid ] && kill "$(cat app.pid)" 2>/dev/null || true
rm -f app.pid app.port
[ -z "$RESETS" ] || echo reset >> "$RESETS"
"""
HEALTH = ("python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:' + "
          "open('app.port').read() + '/index.html', timeout=2)\"")


class Lab:
    """A workspace (the `ws` fixture) wired to the fleet: the login key in keys/, droplets
    written as documents, a remote folder of the test's own on the droplets (this machine: each
    droplet gets `<remote>/<name>`, as if it were a machine of its own),
    and a small app whose run.sh starts an HTTP server marked with a word of this test's own."""

    def __init__(self, ws: object, fleet: Fleet, remote: Path):
        self.ws, self.fleet, self.remote = ws, fleet, remote
        self.marker = f"tf-lab-app-{uuid.uuid4().hex[:10]}"
        key = ws.root / "keys" / "id_ed25519"  # type: ignore[attr-defined]
        key.parent.mkdir(exist_ok=True)
        key.write_text(fleet.key_text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.ws, name)

    def droplet(self, index: int, name: str, *, labels: str = "{region: lab}", capacity: int = 1,
                trust: str | None = None, docker: bool = False, extra: str = "") -> str:
        sshd = self.fleet[index]
        trust = trust or f'host_key: "{sshd.host_key}"'
        return (f"apiVersion: taskform/v1\nkind: Droplet\nmetadata: {{name: {name}, labels: "
                f"{labels}}}\nspec:\n  address: {sshd.address}\n  port: {sshd.port}\n"
                f"  ssh_key: {{path: keys/id_ed25519}}\n  {trust}\n  capacity: {capacity}\n"
                f"  remote_dir: {self.remote}/{name}\n  docker: {str(docker).lower()}\n{extra}")

    def app(self, folder: str = "app", run: str | None = None, kill: str | None = None) -> None:
        self.ws.write(f"{folder}/run.sh", run or RUN_SH.format(server=SERVER,
                                                                marker=self.marker))  # type: ignore[attr-defined]
        self.ws.write(f"{folder}/kill.sh", kill or KILL_SH)  # type: ignore[attr-defined]
        self.ws.write(f"{folder}/index.html", "hello\n")  # type: ignore[attr-defined]

    @property
    def resets_log(self) -> Path:
        """Where the app's kill.sh notes each reset (outside the droplets' folders)."""
        return self.remote.parent / f"{self.remote.name}-resets.log"

    def running(self) -> int:
        """How many of this test's app processes run on the droplets (this machine)."""
        return len(self._pids())

    def _pids(self) -> list[int]:
        found = subprocess.run(["pgrep", "-f", "--", f" {self.marker}$"],
                               capture_output=True, text=True, timeout=30)
        return [int(pid) for pid in found.stdout.split()]

    def stop_leftovers(self) -> None:
        """Stop, by pid, what this test's app started and a failed test left running."""
        for pid in self._pids():
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self._pids() and time.monotonic() < deadline:
            time.sleep(0.05)

    def tree(self) -> list[str]:
        """Everything under the remote folder, as paths relative to it."""
        return sorted(str(p.relative_to(self.remote)) for p in self.remote.rglob("*"))


def _lab(ws: object, fleet: Fleet) -> Iterator[Lab]:
    remote = Path(f"/tmp/tf-lab-{uuid.uuid4().hex[:10]}")
    made = Lab(ws, fleet, remote)
    yield made
    made.ws.cli("destroy", "-auto-approve")  # type: ignore[attr-defined]
    made.stop_leftovers()
    shutil.rmtree(remote, ignore_errors=True)
    made.resets_log.unlink(missing_ok=True)


@pytest.fixture
def lab(ws: object, fleet: Fleet) -> Iterator[Lab]:
    """A lab on the session's three droplets."""
    yield from _lab(ws, fleet)


@pytest.fixture
def lone_lab(ws: object, lone_droplet: Fleet) -> Iterator[Lab]:
    """A lab on a droplet of the test's own (to stop, or to give a new host key)."""
    yield from _lab(ws, lone_droplet)
