"""The settings of `Droplet` and `Deployment` documents (and of a deployment's replicas)."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from runner.address import parse_address
from runner.duration import parse_duration
from runner.providers.ssh.keys import check_key_line
from runner.spec.paths import WorkspacePath
from runner.strict import StrictModel as Settings

_REMOTE_PATH = re.compile(r"^/[A-Za-z0-9._/-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Duration = str | float


def seconds(value: Duration) -> float:
    return parse_duration(value)


def duration(value: Any) -> Any:
    parse_duration(value)  # raises ValueError naming the accepted forms
    return value


def _relative(value: str, what: str) -> str:
    clean = posixpath.normpath(value)
    if value.startswith("/") or clean == ".." or clean.startswith("../") or clean == ".":
        raise ValueError(f"{what} must be a path inside the deployment's directory, got {value!r}")
    return clean


class KeyRef(Settings):
    """Where the private key is: a file inside the workspace, or a declared secret variable."""

    path: WorkspacePath | None = Field(default=None, description="a private key file inside "
                                       "the workspace")
    var: str | None = Field(default=None, description="a variable declared with secret: true "
                            "holding the private key")

    @model_validator(mode="after")
    def _one(self) -> KeyRef:
        if (self.path is None) == (self.var is None):
            raise ValueError("give either path (a key file in the workspace) or var (a secret "
                             "variable)")
        return self


class DropletSettings(Settings):
    address: str = Field(min_length=1, description="host name or IP address")
    port: int = Field(default=22, ge=1, le=65535)
    user: str = Field(default="root", pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")
    ssh_key: KeyRef
    host_key: str | None = Field(default=None, description="the host's public key line, "
                                 "`ssh-ed25519 AAAA...` (ssh-keyscan prints it)")
    known_hosts: WorkspacePath | None = Field(default=None, description="a known_hosts file in "
                                              "the workspace holding the host's key")
    accept_new: bool = Field(default=False, description="take the key the host presents the "
                             "first time, and pin it from then on")
    capacity: int = Field(default=1, ge=1, le=1000, description="deployments at once")
    remote_dir: str = Field(default="/srv/taskform", description="taskform's folder on the "
                            "host: slots and deployments live under it")
    docker: bool = Field(default=True, description="the host runs Docker: checked when "
                         "observed, and deployments' labelled containers are removed on reset")

    @field_validator("host_key")
    @classmethod
    def _key_line(cls, value: str | None) -> str | None:
        problem = check_key_line(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return " ".join(value.split()[:2]) if value else value

    @field_validator("remote_dir")
    @classmethod
    def _remote_dir(cls, value: str) -> str:
        clean = posixpath.normpath(value)
        if not _REMOTE_PATH.match(value) or clean == "/" or "/../" in f"{value}/":
            raise ValueError(f"expected an absolute folder other than / (letters, digits, '.', "
                             f"'_', '-' and '/'), got {value!r}")
        return clean

    @model_validator(mode="after")
    def _trust(self) -> DropletSettings:
        ways = [self.host_key is not None, self.known_hosts is not None, self.accept_new]
        if sum(ways) != 1:
            raise ValueError("give exactly one of host_key, known_hosts, or accept_new: true "
                             "(host keys are always checked)")
        return self


class SourceDir(Settings):
    dir: WorkspacePath = Field(description="a folder in the workspace")


class PoolSettings(Settings):
    labels: dict[str, str] = Field(min_length=1, description="the droplets whose metadata "
                                   "labels include these")


class HealthSettings(Settings):
    command: str = Field(min_length=1, description="run in the deployment's directory on the "
                         "droplet; exit 0 is healthy")
    retries: int = Field(default=10, ge=0, le=1000, description="further tries after a failure")
    interval: Duration = Field(default="2s", description="between tries")
    timeout: Duration = Field(default="10s", description="of each try")

    _durations = field_validator("interval", "timeout")(duration)


class DeploySpec(Settings):
    """What a deployment and each of its replicas deploy, and how."""

    task: str | None = Field(default=None, description="a Task address (task.NAME, or a task "
                             "pool's child task_pool.NAME[ID]): its starter files are deployed")
    source: SourceDir | None = Field(default=None, description="or a folder of the workspace")
    overlay: SourceDir | None = Field(default=None, description="files laid over the task's or "
                                      "source's (run and reset scripts a task does not ship)")
    run: str = Field(default="run.sh", description="started in the deployment's directory")
    reset: str = Field(default="kill.sh", description="run on destroy and release, in the "
                       "deployment's directory")
    health: HealthSettings | None = None
    timeout: Duration = Field(default="10m", description="for run and for reset")
    env: dict[str, str] = Field(default_factory=dict, description="environment of run, reset "
                                "and health (besides TASKFORM_*)")

    _timeout = field_validator("timeout")(duration)

    @field_validator("task")
    @classmethod
    def _task(cls, value: str | None) -> str | None:
        if value is None:
            return value
        address = parse_address(value)
        if address.type not in ("task", "task_pool") or (address.type == "task_pool"
                                                          and not address.key):
            raise ValueError(f"expected a Task address like task.NAME or task_pool.NAME[ID], "
                             f"got {value!r}")
        return value

    @field_validator("run", "reset")
    @classmethod
    def _script(cls, value: str) -> str:
        return _relative(value, "the script")

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [n for n in value if not _ENV_NAME.match(n) or n.startswith("TASKFORM_")]
        if bad:
            raise ValueError(f"environment variable names must be letters, digits and '_', not "
                             f"starting with TASKFORM_: {', '.join(sorted(bad))}")
        return value

    @model_validator(mode="after")
    def _source(self) -> DeploySpec:
        if (self.task is None) == (self.source is None):
            raise ValueError("give either task (a Task address) or source: {dir: PATH}")
        return self


class DeploymentSettings(DeploySpec):
    droplet: str | None = Field(default=None, description="a Droplet name")
    pool: PoolSettings | None = Field(default=None, description="or droplets chosen by label, "
                                      "with free capacity")
    replicas: int = Field(default=1, ge=1, le=100, description="ready deployments to keep")

    @model_validator(mode="after")
    def _where(self) -> DeploymentSettings:
        if (self.droplet is None) == (self.pool is None):
            raise ValueError("give either droplet (a Droplet name) or pool: {labels: {...}}")
        return self


class ReplicaSettings(DeploySpec):
    """One replica: the deployment's settings and the droplets it may take a slot on."""

    droplets: list[str] = Field(min_length=1, description="Droplet names, in order of choice")
    deployment: str = Field(description="the Deployment's address")
