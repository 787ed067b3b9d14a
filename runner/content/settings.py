"""Settings blocks shared by Task, TaskPool and ScenarioSet: how to generate, where to publish,
which scenario to use."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from runner.deploy.settings import Duration, HealthSettings, PoolSettings, duration
from runner.spec.paths import WorkspacePath
from runner.strict import StrictModel as Settings

Provider = Literal["template", "openai"]
UnknownTechnology = Literal["error", "category_fallback"]
REPO_NAME = r"^[A-Za-z0-9._-]{1,90}$"
NAME = r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"  # a folder's name: no '/', never '..'


class ContentSettings(Settings):
    """`content:` in taskform.yaml: workspace-wide choices about generated content."""

    unknown_technology: UnknownTechnology = Field(
        default="error", description="a competency no stack covers: `error` (naming the table), "
        "or `category_fallback`: use the fallback stack of its declared `category`")


class GeneratorSettings(Settings):
    provider: Provider | None = Field(default=None, description="default: taskform.yaml llm.provider")
    model: str | None = Field(default=None, description="default: taskform.yaml llm.model")
    scaffold: str | None = Field(default=None, description="offline scaffold (templates/tasks/<name>); "
                                 "default: the stack's")
    stack: str | None = Field(default=None, description="prompt stack; default: from stacks.yaml")
    exercise: str | None = Field(default=None, description="offline exercise of the scaffold's "
                                 "catalogue (template provider); default: the one matching the "
                                 "scenario")
    regenerations: int = Field(default=1, ge=0, le=5,
                               description="extra attempts with the gate failures fed back")

    @field_validator("scaffold")
    @classmethod
    def _scaffold_name(cls, value: str | None) -> str | None:
        # it names a folder of templates/tasks/: with '/' or '..' it would read any folder
        if value is not None and not re.fullmatch(NAME, value):
            raise ValueError("expected the name of a folder of templates/tasks/, got "
                             + json.dumps(value))
        return value


class PublishSettings(Settings):
    to: Literal["git", "github"] = "git"
    path: WorkspacePath = Field(default=".taskform/repos", description="git: folder of the bare repositories")
    owner: str | None = Field(default=None, description="github: organisation or user")
    repo: str | None = Field(default=None, pattern=REPO_NAME,
                             description="starter repository name; the answers one adds -answers")
    visibility: Literal["private", "public", "internal"] = Field(
        default="private", description="of the starter repository; the answers one is always private")
    branch: str = "main"
    on_destroy: Literal["keep", "archive", "delete"] = "keep"

    @model_validator(mode="after")
    def _owner(self) -> PublishSettings:
        if self.to == "github" and not self.owner:
            raise ValueError("publish to github needs an owner (organisation or user)")
        return self


class ScenarioChoice(Settings):
    """A scenario of a ScenarioSet (`set` and `index`), or literal `text`."""

    set: str | None = None
    index: int | None = Field(default=None, ge=0)
    pick: int | None = Field(default=None, ge=0, description="a stable choice (task pools)")
    text: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ScenarioChoice:
        if self.text is not None:
            if self.set is not None or self.index is not None or self.pick is not None:
                raise ValueError("give either text, or set with index")
        elif self.set is None or (self.index is None) == (self.pick is None):
            raise ValueError("give either text, or set with index")
        return self


class DockerVerifySettings(Settings):
    """How a generated task is graded in Docker before it is published."""

    pool_size: int = Field(default=2, ge=1, le=16, description="locked-down containers that "
                           "grade the golden patch and the original in parallel")
    timeout_seconds: float | None = Field(default=None, gt=0, description="per held-out test "
                                          "command; default: grading.timeout_seconds")
    repeat: int = Field(default=1, ge=1, le=5, description="grade the golden patch this many "
                        "times; a result that flips fails as flaky")
    report: WorkspacePath | None = Field(default=None, description="write the grading's HTML report to "
                               "this file (in the workspace), e.g. reports/<task>.html")


class DeployVerifySettings(Settings):
    """How a generated task is deployed, checked and removed again before it is published."""

    droplet: str | None = Field(default=None, description="a Droplet name")
    pool: PoolSettings | None = Field(default=None, description="or droplets chosen by label; "
                                      "neither: any Droplet of the workspace")
    health: HealthSettings | None = Field(default=None, description="waited for after run.sh; "
                                          "none: run.sh exiting 0 is enough")
    timeout: Duration = Field(default="10m", description="for run.sh and for kill.sh")

    _timeout = field_validator("timeout")(duration)

    @model_validator(mode="after")
    def _where(self) -> DeployVerifySettings:
        if self.droplet is not None and self.pool is not None:
            raise ValueError("give either droplet (a Droplet name) or pool: {labels: {...}}")
        return self


SHORTHANDS: dict[str, dict[str, Any]] = {"docker": {"docker": {}}, "deploy": {"deploy": {}}}


class VerifySettings(Settings):
    """`verify: docker`, `verify: deploy`, or the long form `{docker: {...}, deploy: {...}}`."""

    docker: DockerVerifySettings | None = None
    deploy: DeployVerifySettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str) and value in SHORTHANDS:
            return SHORTHANDS[value]
        if isinstance(value, str):
            raise ValueError("expected docker, deploy, or {docker: {pool_size: 2, ...}, deploy: "
                             "{droplet: NAME, ...}}, got " + json.dumps(value))
        return value

    @model_validator(mode="after")
    def _some(self) -> VerifySettings:
        if self.docker is None and self.deploy is None:
            raise ValueError("give docker, deploy, or both")
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [{"enum": list(SHORTHANDS), "type": "string"}, handler(core_schema)]}


def docker_verify(value: VerifySettings | None) -> DockerVerifySettings | None:
    """The Docker verification a `verify:` setting asks for (None: not verified in Docker)."""
    return value.docker if value is not None else None


def deploy_verify(value: VerifySettings | None) -> DeployVerifySettings | None:
    """The deployment a `verify:` setting asks for (None: not deployed before publishing)."""
    return value.deploy if value is not None else None
