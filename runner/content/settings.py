"""Settings blocks shared by Task, TaskPool and ScenarioSet: how to generate, where to publish,
which scenario to use."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from runner.kinds.base import Settings

Provider = Literal["template", "openai"]
REPO_NAME = r"^[A-Za-z0-9._-]{1,90}$"


class GeneratorSettings(Settings):
    provider: Provider | None = Field(default=None, description="default: taskform.yaml llm.provider")
    model: str | None = Field(default=None, description="default: taskform.yaml llm.model")
    scaffold: str | None = Field(default=None, description="offline scaffold (templates/tasks/<name>); "
                                 "default: the stack's")
    stack: str | None = Field(default=None, description="prompt stack; default: from stacks.yaml")
    regenerations: int = Field(default=1, ge=0, le=5,
                               description="extra attempts with the gate failures fed back")


class PublishSettings(Settings):
    to: Literal["git", "github"] = "git"
    path: str = Field(default=".taskform/repos", description="git: folder of the bare repositories")
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
