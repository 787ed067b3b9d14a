"""A second Docker engine for the tests, reached the way a droplet's is: its own `dockerd` (own
socket, data root, exec root and pid file; `--bridge none --iptables=false`, since grading
containers have no network), and a test droplet whose sshd points its sessions at it
(`SetEnv DOCKER_HOST=...`), so `docker system dial-stdio` in an SSH session of that droplet
answers for the second engine.

The second dockerd runs in a network namespace of its own (`unshare --net`): started with
`--bridge none`, dockerd deletes whatever interface is named docker0 in its namespace, which
in the host's would be the main engine's bridge. The main engine (/var/run/docker.sock) is
never stopped or changed; the second one is stopped and its folders removed at the end."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from droplet_fixtures import Fleet, start_fleet

DOCKERD = "/usr/sbin/dockerd"


def engine_unavailable() -> str | None:
    """Why a second engine cannot be started here, or None."""
    if not os.path.exists(DOCKERD):
        return f"{DOCKERD} is missing: install docker.io (bash scripts/setup.sh does)"
    if os.geteuid() != 0:
        return "a second dockerd needs root"
    if not shutil.which("unshare"):
        return "unshare (util-linux) is missing: the second dockerd needs a network namespace"
    return None


@dataclass
class SecondEngine:
    """A dockerd of the tests' own under a short folder in /tmp (unix socket paths are short)."""

    folder: Path = field(default_factory=lambda: Path(f"/tmp/tfe-{uuid.uuid4().hex[:8]}"))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.folder}/docker.sock"

    def start(self) -> None:
        self.folder.mkdir(exist_ok=True)
        config = self.folder / "daemon.json"
        config.write_text(json.dumps({}))  # not /etc/docker/daemon.json: nothing of the host's
        log = (self.folder / "dockerd.log").open("ab")
        self.process = subprocess.Popen(
            ["unshare", "--net", "--fork", DOCKERD, "--config-file", str(config),
             "--host", self.url, "--data-root", str(self.folder / "data"),
             "--exec-root", str(self.folder / "exec"), "--pidfile",
             str(self.folder / "docker.pid"), "--bridge", "none", "--iptables=false",
             "--shutdown-timeout", "2", "--log-level", "warn"],
            stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the second dockerd exited: "
                                   + (self.folder / "dockerd.log").read_text()[-2000:])
            if self.answers():
                return
            time.sleep(0.1)
        raise RuntimeError("the second dockerd did not answer within 60s")

    def answers(self) -> bool:
        try:
            return bool(self.client(timeout=5).ping())
        except Exception:  # noqa: BLE001 - not up (yet), or down
            return False

    def client(self, timeout: int = 60) -> Any:
        import docker

        return docker.DockerClient(base_url=self.url, timeout=timeout)

    def stop(self) -> None:
        """SIGTERM to dockerd (its containers stop with it), then wait for it to end."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        pid_file = self.folder / "docker.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        """Everything it made: containers and volumes first (so it stops quickly), then the
        daemon, then its folders (unmounting what a hard stop left mounted)."""
        if self.process is not None and self.answers():
            client = self.client()
            for container in client.containers.list(all=True):
                container.remove(force=True, v=True)
            for volume in client.volumes.list():
                volume.remove(force=True)
        self.stop()
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith(f"{self.folder}/")]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True, timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class RemoteEngine:
    """The second engine and the droplet whose SSH sessions reach it."""

    engine: SecondEngine
    fleet: Fleet

    @property
    def sshd(self) -> Any:
        return self.fleet[0]


@pytest.fixture(scope="module")
def remote_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteEngine]:
    """A second dockerd, and one droplet (sshd on 127.0.0.2) whose sessions talk to it."""
    reason = engine_unavailable()
    if reason:
        pytest.skip(reason)
    engine = SecondEngine()
    try:
        engine.start()
        fleet = start_fleet(tmp_path_factory.mktemp("engine-droplet"), count=1,
                            extra=f"SetEnv DOCKER_HOST={engine.url}\n")
        try:
            yield RemoteEngine(engine, fleet)
        finally:
            fleet[0].stop()
    finally:
        engine.remove()
