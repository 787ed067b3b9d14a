"""The Docker provider: one SDK client per engine, connected lazily and checked once per run,
plus the labels and deterministic names every Docker kind uses.

The engine is `docker.host` in taskform.yaml, else DOCKER_HOST, else the local socket. An
engine that does not answer is one ProviderError naming its address and how to start it."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from runner.errors import ProviderError, StepFailed

if TYPE_CHECKING:
    import docker

    from runner.kinds.base import Context
    from runner.workspace import Workspace

LOCAL_SOCKET = "unix:///var/run/docker.sock"
LABEL_WORKSPACE = "taskform.workspace"
LABEL_ADDRESS = "taskform.address"
LABEL_CONFIG = "taskform.config-hash"
LABEL_RUN = "taskform.run"
# on a container that replaced a discarded one in place (a grading that timed out): the id the
# resource recorded, so observe, destroy and gc know the replacement as that resource's
LABEL_REPLACES = "taskform.replaces"
HOW_TO_START = ("start it with `dockerd &` as root (or `bash scripts/setup.sh`, which also starts "
                "the test registry), or point docker.host in taskform.yaml or DOCKER_HOST at a "
                "running engine")


def engine_address(ws: Workspace) -> str:
    return ws.config.docker.host or os.environ.get("DOCKER_HOST") or LOCAL_SOCKET


class DockerEngine:
    """One engine. `client` connects on first use and remembers a failure, so an unreachable
    engine is reported once, not once per resource."""

    def __init__(self, address: str, pool_size: int = 10):
        self.address = address
        self.pool_size = pool_size
        self._lock = threading.Lock()
        self._client: docker.DockerClient | None = None
        self._error: ProviderError | None = None

    @property
    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> docker.DockerClient:
        import docker
        import requests

        try:
            client = docker.DockerClient(base_url=self.address, timeout=300,
                                         max_pool_size=self.pool_size)
            client.ping()
            return client
        except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
            self._error = ProviderError(f"cannot reach the Docker engine at {self.address}: "
                                        f"{_short(exc)}; {HOW_TO_START}")
            raise self._error from None

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def engine(ctx: Context) -> DockerEngine:
    """The run's engine for this workspace (created on first use, shared by every kind)."""
    address = engine_address(ctx.workspace)
    size = max(10, ctx.workspace.config.parallelism + 4)
    return ctx.connections.get("docker", address, lambda: DockerEngine(address, size))


def client(ctx: Context) -> docker.DockerClient:
    return engine(ctx).client


def labels(ctx: Context, config_hash: str = "") -> dict[str, str]:
    """taskform's labels for an object this resource creates."""
    out = dict(ctx.labels())
    if config_hash:
        out[LABEL_CONFIG] = config_hash
    return out


def is_owned(object_labels: dict[str, str] | None, ws: Workspace, address: str | None = None) -> bool:
    """True when the object carries this workspace's label (and this address's, if given)."""
    found = object_labels or {}
    if found.get(LABEL_WORKSPACE) != str(ws.root):
        return False
    return address is None or found.get(LABEL_ADDRESS) == address


def workspace_tag(ws: Workspace) -> str:
    """Six hex digits of the workspace path: two workspaces never share a name."""
    return hashlib.sha256(str(ws.root).encode()).hexdigest()[:6]


def object_name(ctx: Context, suffix: str = "") -> str:
    """A deterministic Docker name for this resource: `tf-<pipeline>-<step>[-<key>]-<ws>`."""
    address = ctx.address
    parts = list(address.parts[1:]) + [str(k) for k in address.key] + ([suffix] if suffix else [])
    base = re.sub(r"[^a-zA-Z0-9_.-]+", "-", "-".join(parts)).strip("-.")
    return f"tf-{base}-{workspace_tag(ctx.workspace)}"


@contextmanager
def api_errors(what: str) -> Iterator[None]:
    """Turn engine refusals into failed-step results that say what was being done."""
    import docker
    import requests

    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise StepFailed(f"{what}: {_explain(exc)}", retryable=False) from None
    except docker.errors.APIError as exc:
        retryable = exc.status_code is None or exc.status_code >= 500
        raise StepFailed(f"{what}: {_explain(exc)}", retryable=retryable) from None
    except (requests.RequestException, docker.errors.DockerException) as exc:
        raise StepFailed(f"{what}: the Docker engine did not answer: {_short(exc)}") from None


@contextmanager
def observing() -> Iterator[None]:
    """While planning, an engine that refuses is a provider problem, not a failed step."""
    try:
        yield
    except StepFailed as exc:
        raise ProviderError(f"refresh failed: {exc.message}") from None


def _explain(exc: Any) -> str:
    explanation = getattr(exc, "explanation", None)
    text = explanation.decode() if isinstance(explanation, bytes) else explanation
    return str(text or exc)


def _short(exc: BaseException) -> str:
    """The root cause (`[Errno 111] Connection refused`), not the HTTP library's wrapping."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if errno:
        return errno.group(0).strip()
    os_error = re.search(r"\w+Error\(\d+, '([^']+)'", text)
    if os_error:
        return os_error.group(1)
    for marker in ("Error while fetching server API version: ", "Connection aborted.', "):
        text = text.replace(marker, "")
    return text.strip("()'\" ") or type(exc).__name__


def short_id(image_or_container_id: str) -> str:
    return image_or_container_id.removeprefix("sha256:")[:12]
