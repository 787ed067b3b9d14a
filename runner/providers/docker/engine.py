"""The Docker door: one engine, reached through the Docker SDK, connected lazily and checked
once per run. Everything the rest of taskform does to Docker goes through `DockerEngine`'s
methods and comes back as this module's value types; the SDK's objects never leave it.

An engine that does not answer is one ProviderError naming its address and how to start it;
a refusal of one request is a StepFailed saying what was being done."""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from runner.errors import ProviderError, StepFailed
from runner.providers.call import Call
from runner.providers.docker import peek
from runner.providers.docker.peek import socket_path

if TYPE_CHECKING:
    import docker

    from runner.providers.docker.open_exec import OpenProcess

LOCAL_SOCKET = "unix:///var/run/docker.sock"
HOW_TO_START = ("start it with `dockerd &` as root (or `bash scripts/setup.sh`, which also starts "
                "the test registry), or point docker.host in taskform.yaml or DOCKER_HOST at a "
                "running engine")
API_TIMEOUT = 300  # seconds for one request, with the SDK or without
BUILD_LOG_TAIL_LINES = 50
SAVE_CHUNK = 1 << 20


@dataclass(frozen=True)
class ContainerInfo:
    """A container as the engine describes it (`Config`/`HostConfig` as inspect gives them)."""

    id: str
    name: str
    status: str
    image_id: str
    labels: dict[str, str]
    exit_code: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    host_config: dict[str, Any] = field(default_factory=dict)
    mounts: tuple[dict[str, Any], ...] = ()

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True)
class ImageInfo:
    id: str
    tags: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    repo_digests: tuple[str, ...] = ()


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildRequest:
    """One build: the context folder (minus `excludes`), the Dockerfile relative to it, the
    tag, labels, and SDK build options (buildargs, nocache, pull, network_mode, platform,
    target)."""

    context: Path
    dockerfile: str
    tag: str
    labels: dict[str, str]
    excludes: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    log_tail: str


def split_tag(reference: str) -> tuple[str, str]:
    """`repo[:tag]` -> (repo, tag); a registry port is not a tag (`127.0.0.1:5000/x`)."""
    repo, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag:
        return reference, "latest"
    return repo, tag


class Engine(Protocol):
    """The Docker door: what the rest of taskform may ask of an engine."""

    address: str
    name: str

    @property
    def is_local(self) -> bool: ...
    def image(self, reference: str) -> ImageInfo | None: ...
    def images(self, filters: Mapping[str, Any]) -> list[ImageInfo]: ...
    def container(self, name_or_id: str) -> ContainerInfo | None: ...
    def containers(self, filters: Mapping[str, Any]) -> list[ContainerInfo]: ...
    def container_labels(self, filters: Mapping[str, Any]) -> dict[str, dict[str, str]]: ...
    def volume(self, name: str) -> VolumeInfo | None: ...
    def volumes(self, filters: Mapping[str, Any]) -> list[VolumeInfo]: ...
    def create_container(self, image: str, command: list[str] | None, *, name: str,
                         labels: Mapping[str, str], start: bool = True,
                         **options: Any) -> ContainerInfo: ...
    def clone_container(self, original: ContainerInfo, *, name: str,
                        labels: Mapping[str, str],
                        host_overrides: Mapping[str, Any] | None = None) -> ContainerInfo: ...
    def clone_attached(self, original: ContainerInfo, argv: list[str], *, name: str,
                       labels: Mapping[str, str],
                       host_overrides: Mapping[str, Any] | None = None
                       ) -> tuple[ContainerInfo, OpenProcess] | None: ...
    def start_container(self, container_id: str, name: str = "") -> None: ...
    def remove_container(self, container_id: str, *, volumes: bool = False) -> None: ...
    def kill_container(self, container_id: str) -> None: ...
    def logs(self, container_id: str, tail: int | str = 40) -> str: ...
    def wait(self, container_id: str, timeout: float) -> int: ...
    def put_file(self, container: str, directory: str, name: str, data: bytes,
                 mode: int = 0o600) -> None: ...
    def exec_start(self, container: str, argv: list[str], *, user: str = "",
                   workdir: str | None = None, env: Mapping[str, str] | None = None,
                   demux: bool = False) -> tuple[str, Any]: ...
    def exec_open(self, container: str, argv: list[str], *, user: str = "",
                  workdir: str | None = None) -> OpenProcess | None: ...
    def exec_exit_code(self, exec_id: str) -> int | None: ...
    def kill_exec(self, exec_id: str) -> None: ...
    def build(self, request: BuildRequest, call: Call) -> BuildResult: ...
    def pull(self, reference: str, call: Call) -> None: ...
    def tag(self, image_id: str, reference: str) -> None: ...
    def remove_image(self, reference: str, *, noprune: bool = False) -> bool: ...
    def create_volume(self, name: str, labels: Mapping[str, str]) -> VolumeInfo: ...
    def remove_volume(self, name: str) -> None: ...
    def save_image(self, reference: str) -> Iterator[bytes]: ...
    def load_image(self, chunks: Iterable[bytes]) -> None: ...
    def answers(self) -> bool: ...
    def close(self) -> None: ...


class DockerEngine:
    """The `Engine` at `address` (`unix://…`, `tcp://…`, `ssh://…`). `client` connects on first
    use and remembers a failure, so an unreachable engine is reported once, not once per
    resource. `name` is how messages call it (a droplet's engine is reached through a socket
    whose path means nothing to the reader), `advice` what to do when it does not answer."""

    def __init__(self, address: str, pool_size: int = 10, *, name: str | None = None,
                 advice: str = HOW_TO_START):
        self.address = address
        self.pool_size = pool_size
        self.name = name or f"the Docker engine at {address}"
        self.advice = advice
        self._lock = threading.Lock()
        self._client: docker.DockerClient | None = None
        self._error: ProviderError | None = None
        self._answered = False  # a peek got an answer: a later failure is not "unreachable"

    @property
    def is_local(self) -> bool:
        """True when the engine runs on this host (its exec processes can be signalled)."""
        return self.address == LOCAL_SOCKET

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
            client = docker.DockerClient(base_url=self.address, timeout=API_TIMEOUT,
                                         max_pool_size=self.pool_size)
            client.ping()
            return client
        except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
            self._error = ProviderError(f"cannot reach {self.name}: {short_error(exc)}; "
                                        f"{self.advice}")
            raise self._error from None

    def _peek(self, path: str, what: str, name: str, doing: str) -> dict[str, Any] | None:
        """`peek.inspect`, with the SDK path's errors (`_without_sdk`)."""
        with self._without_sdk(doing):
            return peek.inspect(path, what, name)

    def _local(self, method: str, url: str, doing: str, body: Any = None, *,
               accept: tuple[int, ...] = (), timeout: float = API_TIMEOUT) -> tuple[int, Any]:
        """`peek.request` on the local engine's socket, with the SDK path's errors; `accept`:
        error statuses returned rather than raised."""
        path = socket_path(self.address)
        assert path is not None, "only a unix:// engine is reached without the SDK"
        with self._without_sdk(doing):
            return peek.request(path, method, url, body, accept=accept, timeout=timeout)

    @contextmanager
    def _without_sdk(self, doing: str) -> Iterator[None]:
        """peek's errors as the SDK path reports them: an engine that never answered is one
        ProviderError for the run (remembered), a later failure or a refusal a failed step."""
        with self._lock:
            if self._error is not None:
                raise self._error
        try:
            yield
        except peek.Unreachable as exc:
            # the OS's words ("No such file or directory"), as the SDK path reports them
            cause = getattr(exc.cause, "strerror", None) or short_error(exc.cause)
            if self._answered:
                raise StepFailed(f"{doing}: the Docker engine did not answer: {cause}") from None
            error = ProviderError(f"cannot reach {self.name}: {cause}; {self.advice}")
            with self._lock:
                self._error = error
            raise error from None
        except peek.Refused as exc:
            raise StepFailed(f"{doing}: the engine refused: {exc.message}",
                             retryable=exc.status >= 500) from None
        self._answered = True

    def answers(self) -> bool:
        """Whether the engine answers now (a ping; False rather than an error)."""
        import docker
        import requests

        try:
            return bool(self.client.api.ping())
        except (ProviderError, docker.errors.DockerException, requests.RequestException,
                OSError):
            return False

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- looking -----------------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        path = socket_path(self.address)
        if path is not None:  # a plan's refresh: no SDK to import (peek.py)
            attrs = self._peek(path, "images", reference, f"inspect image {reference}")
            return None if attrs is None else _image_from(attrs)
        import docker

        with api_errors(f"inspect image {reference}"):
            try:
                return _image(self.client.images.get(reference))
            except docker.errors.ImageNotFound:
                return None

    def images(self, filters: Mapping[str, Any]) -> list[ImageInfo]:
        with api_errors("list images"):
            return [_image(i) for i in self.client.images.list(all=True, filters=dict(filters))]

    def container(self, name_or_id: str) -> ContainerInfo | None:
        if not name_or_id:
            return None
        path = socket_path(self.address)
        if path is not None:
            attrs = self._peek(path, "containers", name_or_id, f"inspect container {name_or_id}")
            return None if attrs is None else _container_from(attrs)
        import docker

        with api_errors(f"inspect container {name_or_id}"):
            try:
                return _container(self.client.containers.get(name_or_id))
            except docker.errors.NotFound:
                return None

    def containers(self, filters: Mapping[str, Any]) -> list[ContainerInfo]:
        with api_errors("list containers"):
            # the SDK lists, then inspects each: one removed in between (another run's, a
            # grading sandbox just done) is left out rather than failing the whole listing
            return [_container(c) for c in self.client.containers.list(
                all=True, filters=dict(filters), ignore_removed=True)]

    def container_labels(self, filters: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        """The ids of the containers matching `filters`, with their labels: one listing, no
        inspect of each (`containers` inspects each)."""
        path = socket_path(self.address)
        if path is not None:
            # as the SDK sends filters: every value a list of strings
            wanted = {k: [v] if isinstance(v, str) else list(v) for k, v in filters.items()}
            query = urlencode({"all": 1, "filters": json.dumps(wanted)})
            _, listed = self._local("GET", f"/containers/json?{query}", "list containers")
        else:
            with api_errors("list containers"):
                listed = self.client.api.containers(all=True, filters=dict(filters))
        return {str(c["Id"]): dict(c.get("Labels") or {}) for c in listed or []}

    def volume(self, name: str) -> VolumeInfo | None:
        import docker

        with api_errors(f"inspect volume {name}"):
            try:
                found = self.client.volumes.get(name)
            except docker.errors.NotFound:
                return None
        return VolumeInfo(found.name, dict(found.attrs.get("Labels") or {}))

    def volumes(self, filters: Mapping[str, Any]) -> list[VolumeInfo]:
        with api_errors("list volumes"):
            return [VolumeInfo(v.name, dict(v.attrs.get("Labels") or {}))
                    for v in self.client.volumes.list(filters=dict(filters))]

    # -- containers --------------------------------------------------------------------

    def create_container(self, image: str, command: list[str] | None, *, name: str,
                         labels: Mapping[str, str], start: bool = True,
                         **options: Any) -> ContainerInfo:
        """Create (and start) a container; `options` are the SDK's `containers.create`
        keyword arguments (from `params.sdk_arguments`)."""
        with api_errors(f"create container {name}"):
            container = self.client.containers.create(image, command, name=name, detach=True,
                                                      labels=dict(labels), **options)
        if start:
            self.start_container(container.id, name)
            container.reload()
        return _container(container)

    def start_container(self, container_id: str, name: str = "") -> None:
        doing = f"start container {name or container_id[:12]}"
        if socket_path(self.address) is not None:
            self._local("POST", f"/containers/{container_id}/start", doing)
            return
        with api_errors(doing):
            self.client.api.start(container_id)

    def clone_container(self, original: ContainerInfo, *, name: str,
                        labels: Mapping[str, str],
                        host_overrides: Mapping[str, Any] | None = None) -> ContainerInfo:
        """Create and start a container with exactly `original`'s configuration (image,
        command, environment, user, host config with its limits) under `name` and `labels`;
        `host_overrides` replace keys of its host config (`ReadonlyRootfs`, `Tmpfs`,
        `Mounts`, ...: the API's names)."""
        config = original.config
        container_id = self._create_clone(original, name, labels, host_overrides, {
            "command": config.get("Cmd"), "entrypoint": config.get("Entrypoint"),
            "working_dir": config.get("WorkingDir") or None, "user": config.get("User") or None,
            "tty": bool(config.get("Tty")), "stdin_open": bool(config.get("OpenStdin"))})
        return self._start_clone(container_id, name)

    def clone_attached(self, original: ContainerInfo, argv: list[str], *, name: str,
                       labels: Mapping[str, str],
                       host_overrides: Mapping[str, Any] | None = None
                       ) -> tuple[ContainerInfo, OpenProcess] | None:
        """Like `clone_container`, but its main process is `argv`, run as root in `/` (under
        `original`'s init, if it has one), its stdin held open for one feed and its output
        read from the feed (`OpenProcess`): attached before it starts, as `docker run -i`
        does. None, with nothing left, where the engine's connection cannot carry that (an
        SSH engine)."""
        # stdin_open with the SDK's detach=False also sets StdinOnce: the end of what is fed
        # (a half-close) closes the process's stdin, as it does an exec's
        container_id = self._create_clone(original, name, labels, host_overrides, {
            "entrypoint": argv[:1], "command": argv[1:], "working_dir": "/", "user": "0",
            "tty": False, "stdin_open": True})
        try:
            process = self._attach(container_id, name)
        except BaseException:
            self.remove_container(container_id, volumes=True)
            raise
        if process is None:
            self.remove_container(container_id, volumes=True)
            return None
        try:
            self._start_created(container_id, name)
        except BaseException:
            process.close()
            raise
        # started, as the engine said: no inspect to ask again (a process that ended since
        # shows as output that ended early)
        return ContainerInfo(container_id, name, "running", original.image_id, dict(labels),
                             config=original.config,
                             host_config={**original.host_config, **(host_overrides or {})}
                             ), process

    def _attach(self, container_id: str, name: str) -> OpenProcess | None:
        """Attach to a created container's stdin, stdout and stderr (`OpenProcess`); None
        where the engine's connection cannot carry it (an SSH engine)."""
        from runner.providers.docker.open_exec import OpenProcess, is_openable, of_sdk

        doing = f"attach to container {name}"
        path = socket_path(self.address)
        if path is not None:
            url = f"/containers/{container_id}/attach?stdin=1&stdout=1&stderr=1&stream=1"
            with self._without_sdk(doing):
                sock, early = peek.upgrade(path, url, timeout=API_TIMEOUT)
            return OpenProcess(sock, container_id, early=early)
        with api_errors(doing):
            stream = self.client.api.attach_socket(
                container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        if not is_openable(stream):
            stream.close()
            return None
        return of_sdk(stream, container_id)

    def _create_clone(self, original: ContainerInfo, name: str, labels: Mapping[str, str],
                      host_overrides: Mapping[str, Any] | None, how: dict[str, Any]) -> str:
        """Create (not start) a container with `original`'s image, environment and host
        config; `how`: the SDK's arguments for its process (command, user, ...)."""
        # the image the original runs, by id: a tag may have moved on since it was created
        config = {**original.config, "Image": original.image_id or original.config["Image"]}
        host = {**original.host_config, **(host_overrides or {})}
        if socket_path(self.address) is not None:
            _, created = self._local(
                "POST", f"/containers/create?{urlencode({'name': name})}",
                f"create container {name}", create_body(config, labels, host, how))
            return str(created["Id"])
        with api_errors(f"create container {name}"):
            created = self.client.api.create_container(
                image=config["Image"], environment=config.get("Env"), labels=dict(labels),
                name=name, host_config=host, stop_signal=config.get("StopSignal"),
                healthcheck=config.get("Healthcheck"),
                use_config_proxy=False, **how)  # Env is copied whole, proxy variables included
        return str(created["Id"])

    def _start_clone(self, container_id: str, name: str) -> ContainerInfo:
        """Start a created container and describe it; never left half made."""
        self._start_created(container_id, name)
        found = self.container(container_id)
        if found is None:
            raise StepFailed(f"container {name} vanished as soon as it was started")
        return found

    def _start_created(self, container_id: str, name: str) -> None:
        """Start a created container; removed if it cannot be."""
        try:
            self.start_container(container_id, name)
        except BaseException:
            self.remove_container(container_id, volumes=True)
            raise

    def remove_container(self, container_id: str, *, volumes: bool = False) -> None:
        """Remove (forcibly: running or not); one already gone is fine. `volumes`: its
        anonymous volumes go with it (named volumes never do)."""
        doing = f"remove container {container_id[:12]}"
        if socket_path(self.address) is not None:
            status, answer = self._local(
                "DELETE", f"/containers/{container_id}?force=1&v={int(volumes)}", doing,
                accept=(404, 409))
            message = str((answer or {}).get("message") or "") if status == 409 else ""
            if status == 409 and "already in progress" not in message:
                raise StepFailed(f"{doing}: the engine refused: {message}", retryable=False)
            return
        import docker

        with api_errors(doing):
            try:
                self.client.api.remove_container(container_id, force=True, v=volumes)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                if exc.status_code != 409 or "already in progress" not in str(exc):
                    raise  # a removal already under way ends the same way

    def kill_container(self, container_id: str) -> None:
        """SIGKILL every process of the container at once (its init included)."""
        if socket_path(self.address) is not None:  # gone, or not running: nothing to kill
            self._local("POST", f"/containers/{container_id}/kill",
                        f"kill container {container_id[:12]}", accept=(404, 409))
            return
        import docker

        with api_errors(f"kill container {container_id[:12]}"):
            try:
                self.client.api.kill(container_id)
            except docker.errors.APIError as exc:
                if exc.status_code not in (404, 409):  # gone, or not running: nothing to kill
                    raise

    def logs(self, container_id: str, tail: int | str = 40) -> str:
        """The last `tail` lines of its output ("all": everything)."""
        with api_errors(f"read the logs of container {container_id[:12]}"):
            data = self.client.api.logs(container_id, tail=tail)
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)

    def wait(self, container_id: str, timeout: float) -> int:
        """Wait for the container to stop; its exit code."""
        doing = f"wait for container {container_id[:12]}"
        if socket_path(self.address) is not None:
            _, answer = self._local("POST", f"/containers/{container_id}/wait", doing,
                                    timeout=timeout)
            return int(answer["StatusCode"])
        with api_errors(doing):
            return int(self.client.api.wait(container_id, timeout=timeout)["StatusCode"])

    def put_file(self, container: str, directory: str, name: str, data: bytes,
                 mode: int = 0o600) -> None:
        """Copy one root-owned file into a container."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid = len(data), mode, 0, 0
            archive.addfile(info, io.BytesIO(data))
        with api_errors(f"copy {name} into container {container}"):
            self.client.api.put_archive(container, directory, buffer.getvalue())

    # -- exec --------------------------------------------------------------------------

    def exec_start(self, container: str, argv: list[str], *, user: str = "",
                   workdir: str | None = None, env: Mapping[str, str] | None = None,
                   demux: bool = False) -> tuple[str, Any]:
        """Start `argv` in a running container; its exec id and output stream."""
        api = self.client.api
        with api_errors(f"exec in container {container[:12]}"):
            exec_id = api.exec_create(container, argv, workdir=workdir, user=user,
                                      environment=dict(env) if env else None)["Id"]
            return exec_id, api.exec_start(exec_id, stream=True, demux=demux)

    def exec_open(self, container: str, argv: list[str], *, user: str = "",
                  workdir: str | None = None) -> OpenProcess | None:
        """Start `argv` with its stdin open, to be fed later (`OpenProcess`); None when this
        engine's connection cannot carry it (an SSH engine): exec when the input is known."""
        from runner.providers.docker.open_exec import is_openable, of_sdk

        api = self.client.api
        with api_errors(f"exec in container {container[:12]}"):
            exec_id = api.exec_create(container, argv, stdin=True, workdir=workdir,
                                      user=user)["Id"]
            stream = api.exec_start(exec_id, socket=True)
        if not is_openable(stream):
            stream.close()  # its stdin ends: it runs nothing and exits
            return None
        return of_sdk(stream, container, exec_id)

    def exec_exit_code(self, exec_id: str) -> int | None:
        with api_errors("inspect exec"):
            code = self.client.api.exec_inspect(exec_id).get("ExitCode")
        return None if code is None else int(code)

    def kill_exec(self, exec_id: str) -> None:
        """Best effort: a local engine's exec process can be killed from the host (killing or
        discarding the container is what really ends it)."""
        import os
        import signal

        import docker
        import requests

        if not self.is_local:
            return
        try:
            pid = self.client.api.exec_inspect(exec_id).get("Pid")
            if pid:
                os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError, docker.errors.APIError,
                requests.RequestException):
            pass  # it ended by itself meanwhile, or is not ours to signal

    # -- images ------------------------------------------------------------------------

    def build(self, request: BuildRequest, call: Call) -> BuildResult:
        """Build, streaming the log to `call.log`; the image id and the log's tail."""
        from docker.api.build import process_dockerfile
        from docker.utils import tar

        tail: deque[str] = deque(maxlen=BUILD_LOG_TAIL_LINES)
        image_id = ""
        dockerfile = process_dockerfile(request.dockerfile, str(request.context))
        with api_errors(f"build {request.tag}"):
            archive = tar(str(request.context), exclude=list(request.excludes),
                          dockerfile=dockerfile)
            stream = self.client.api.build(
                fileobj=archive, custom_context=True, dockerfile=dockerfile[0], tag=request.tag,
                labels=dict(request.labels), rm=True, forcerm=True, decode=True,
                **dict(request.options))
            for chunk in stream:
                call.check_cancelled()
                if "error" in chunk:
                    raise StepFailed(f"build of {request.tag} failed: "
                                     f"{str(chunk['error']).strip()}", output="\n".join(tail),
                                     retryable=False)
                for line in str(chunk.get("stream") or "").splitlines():
                    if line.strip():
                        tail.append(line)
                        call.log(line)
                image_id = (chunk.get("aux") or {}).get("ID") or image_id
        if not image_id:
            found = self.image(request.tag)
            image_id = found.id if found else ""
        if not image_id:
            raise StepFailed(f"build of {request.tag} ended without an image",
                             output="\n".join(tail))
        return BuildResult(image_id, "\n".join(tail))

    def pull(self, reference: str, call: Call) -> None:
        """Pull `reference`, logging each distinct status line."""
        repo, tag = split_tag(reference)
        seen: set[str] = set()
        with api_errors(f"pull {reference}"):
            for chunk in self.client.api.pull(repo, tag=tag, stream=True, decode=True):
                call.check_cancelled()
                if "error" in chunk:
                    raise StepFailed(f"pull {reference}: {chunk['error']}")
                status = f"{chunk.get('id', '')} {chunk.get('status', '')}".strip()
                if status and "progress" not in chunk and status not in seen:
                    seen.add(status)
                    call.log(status)

    def tag(self, image_id: str, reference: str) -> None:
        repo, tag = split_tag(reference)
        with api_errors(f"tag {image_id[:19]} as {reference}"):
            self.client.api.tag(image_id, repo, tag)

    def remove_image(self, reference: str, *, noprune: bool = False) -> bool:
        """Untag (a tag) or delete (an id); False when it was not there."""
        import docker

        with api_errors(f"remove image {reference}"):
            try:
                self.client.api.remove_image(reference, noprune=noprune)
                return True
            except docker.errors.ImageNotFound:
                return False

    def save_image(self, reference: str) -> Iterator[bytes]:
        """The image as `docker save` writes it (a tar, with its tag when saved by tag), in
        chunks as the engine sends them: nothing is held whole in memory or on disk."""
        with api_errors(f"save image {reference}"):
            yield from self.client.api.get_image(reference, chunk_size=SAVE_CHUNK)

    def load_image(self, chunks: Iterable[bytes]) -> None:
        """`docker load` of a tar given in chunks (streamed as the request's body)."""
        with api_errors("load an image"):
            for message in self.client.api.load_image(chunks):
                if isinstance(message, dict) and message.get("error"):
                    raise StepFailed(f"load an image: the engine refused: {message['error']}",
                                     retryable=False)

    # -- volumes -----------------------------------------------------------------------

    def create_volume(self, name: str, labels: Mapping[str, str]) -> VolumeInfo:
        with api_errors(f"create volume {name}"):
            found = self.client.volumes.create(name=name, labels=dict(labels))
        return VolumeInfo(found.name, dict(found.attrs.get("Labels") or {}))

    def remove_volume(self, name: str) -> None:
        import docker

        with api_errors(f"remove volume {name}"):
            try:
                self.client.api.remove_volume(name)
            except docker.errors.NotFound:
                pass


def create_body(config: Mapping[str, Any], labels: Mapping[str, str],
                host: Mapping[str, Any], how: Mapping[str, Any]) -> dict[str, Any]:
    """The API's create request for a clone, as the SDK's `create_container` (without detach)
    builds it: `config` the original's (image, environment, stop signal, health check),
    `host` its host config, `how` the SDK's arguments for the process (command, entrypoint,
    working_dir, user, tty, stdin_open)."""
    stdin_open = bool(how.get("stdin_open"))
    body = {"Image": config["Image"], "Env": config.get("Env"), "Labels": dict(labels),
            "HostConfig": dict(host), "StopSignal": config.get("StopSignal"),
            "Healthcheck": config.get("Healthcheck"), "Cmd": how.get("command"),
            "Entrypoint": how.get("entrypoint"), "WorkingDir": how.get("working_dir"),
            "User": None if how.get("user") is None else str(how["user"]),
            "Tty": bool(how.get("tty")), "OpenStdin": stdin_open, "StdinOnce": stdin_open,
            "AttachStdin": stdin_open, "AttachStdout": True, "AttachStderr": True,
            "NetworkDisabled": False}
    return {key: value for key, value in body.items() if value is not None}


def _image(image: Any) -> ImageInfo:
    return _image_from(image.attrs or {}, str(image.id))


def _image_from(attrs: dict[str, Any], image_id: str = "") -> ImageInfo:
    """An image as the engine describes it (the SDK's `attrs`, or peek's answer)."""
    tags = [t for t in attrs.get("RepoTags") or () if t != "<none>:<none>"]
    return ImageInfo(id=str(attrs.get("Id") or image_id), tags=tuple(tags),
                     labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
                     repo_digests=tuple(attrs.get("RepoDigests") or ()))


def _container(container: Any) -> ContainerInfo:
    return _container_from(container.attrs or {}, str(container.id), container.name or "",
                           container.status)


def _container_from(attrs: dict[str, Any], container_id: str = "", name: str = "",
                    status: str = "") -> ContainerInfo:
    """A container as the engine describes it (the SDK's `attrs`, or peek's answer)."""
    state = attrs.get("State") or {}
    return ContainerInfo(
        id=str(attrs.get("Id") or container_id),
        name=str(attrs.get("Name") or name or "").lstrip("/"),
        status=str(state.get("Status") or status), image_id=str(attrs.get("Image") or ""),
        labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
        exit_code=state.get("ExitCode"), config=dict(attrs.get("Config") or {}),
        host_config=dict(attrs.get("HostConfig") or {}),
        mounts=tuple(attrs.get("Mounts") or ()))


@contextmanager
def api_errors(what: str) -> Iterator[None]:
    """Turn engine refusals into failed-step results that say what was being done."""
    import docker
    import requests

    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise StepFailed(f"{what}: the engine refused: {_explain(exc)}", retryable=False) from None
    except docker.errors.APIError as exc:
        retryable = exc.status_code is None or exc.status_code >= 500
        raise StepFailed(f"{what}: the engine refused: {_explain(exc)}",
                         retryable=retryable) from None
    except requests.RequestException as exc:
        raise StepFailed(f"{what}: the Docker engine did not answer: {short_error(exc)}"
                         ) from None
    except docker.errors.DockerException as exc:  # the SDK refused before sending anything
        raise StepFailed(f"{what}: invalid request: {exc}", retryable=False) from None


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


def short_error(exc: BaseException) -> str:
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


def engine_address(host: str | None) -> str:
    """The engine to use: `docker.host` from taskform.yaml, else DOCKER_HOST, else the local
    socket."""
    import os

    return host or os.environ.get("DOCKER_HOST") or LOCAL_SOCKET
