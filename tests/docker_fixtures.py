"""Fixtures for tests against the real Docker engine (started by scripts/docker-up.sh).

Every test gets its own workspace, so everything it creates carries a workspace label of its
own; teardown removes exactly the objects carrying that label, and nothing else."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

BASE_IMAGE = "taskform/base:bookworm"
REGISTRY_IMAGE = "127.0.0.1:5000/taskform/base:bookworm"
ENGINE = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _engine() -> Any:
    try:
        import docker

        client = docker.DockerClient(base_url=ENGINE, timeout=60)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine to test against
        pytest.skip(f"no Docker engine answers at {ENGINE} ({type(exc).__name__}); start one "
                    "with `bash scripts/docker-up.sh`")
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"the base image {BASE_IMAGE} is missing; build it with "
                    "`bash scripts/docker-up.sh`")
    return client


@pytest.fixture(scope="session")
def docker_client() -> Any:
    return _engine()


class DockerWorkspace:
    """The `ws` workspace plus the engine, a unique image tag and shortcuts for the checks."""

    def __init__(self, ws: Any, client: Any):
        self.ws, self.root, self.client = ws, ws.root, client
        self.tag = f"tf-test-{uuid.uuid4().hex[:8]}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ws, name)  # write, spec, cli, run, state

    def apply(self, *args: str) -> Any:
        result = self.cli("apply", "-auto-approve", *args)
        assert result.exit_code == 0, result.output
        return result

    def plan_lines(self, *args: str) -> list[str]:
        """The plan's change and reason lines, without the settings shown under them."""
        result = self.cli("plan", *args)
        assert result.exit_code == 0, result.output
        return [line for line in result.output.splitlines()
                if line.startswith(("  + ", "  ~ ", "  - ", "  -/+ ", "      # ", "Plan:",
                                    "No changes"))]

    def outputs(self, address: str) -> dict[str, Any]:
        return dict(self.state().records()[address].outputs)

    def labelled(self, what: str) -> list[Any]:
        filters = {"label": f"taskform.workspace={self.root}"}
        if what == "containers":
            return list(self.client.containers.list(all=True, filters=filters))
        if what == "volumes":
            return list(self.client.volumes.list(filters=filters))
        return list(self.client.images.list(all=True, filters=filters))

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The docker CLI, as a user working outside taskform would use it."""
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120,
                              check=True)


@pytest.fixture
def dws(ws: Any, docker_client: Any) -> Iterator[DockerWorkspace]:
    out = DockerWorkspace(ws, docker_client)
    try:
        yield out
    finally:
        clean(docker_client, out)


def clean(client: Any, ws: DockerWorkspace) -> None:
    import docker

    for container in ws.labelled("containers"):
        container.remove(force=True)
    for volume in ws.labelled("volumes"):
        volume.remove(force=True)
    for image in ws.labelled("images"):
        for tag in image.tags:
            try:
                client.images.remove(tag, noprune=True)
            except docker.errors.NotFound:
                pass
        try:
            client.images.remove(image.id, force=True)
        except docker.errors.NotFound:
            pass


def write_app(ws: Any, folder: str = "app", extra: str = "") -> None:
    """A small app image built from the base image: /app holds the context."""
    ws.write(f"{folder}/Dockerfile", f"FROM {BASE_IMAGE}\nCOPY . /app\nWORKDIR /app\n{extra}")
    ws.write(f"{folder}/main.py", "print('hello from the app')\n")
    ws.write(f"{folder}/README.md", "docs\n")
