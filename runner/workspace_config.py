"""`taskform.yaml`'s settings models, and reading the file through them with every issue at
once. Apart from `workspace.py`: pydantic and the doors' settings models load only when a
workspace's settings are validated (taskform.yaml changed) or a kind asks for them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runner.errors import SpecError
from runner.providers.docker.settings import DockerSettings
from runner.providers.github import GithubSettings
from runner.providers.llm import LLMSettings
from runner.spec.validation import validate
from runner.spec.yamlsrc import SourceDoc, parse_bytes
from runner.strict import StrictModel

CONFIG_NAME = "taskform.yaml"


class VariableDecl(StrictModel):
    """A declared variable: a literal `value`, or read from `env` with an optional `default`."""

    value: Any = None
    env: str | None = None
    default: Any = None
    secret: bool = False
    description: str = ""


class StateSettings(StrictModel):
    backend: Literal["sqlite"] = "sqlite"
    path: str = ".taskform/state.db"


class GradingSettings(StrictModel):
    """task-sync's PASS_MARKER / FAIL_MARKER / TIMEOUT_MARKER / TIMEOUT_SECONDS."""

    pass_marker: str | None = None
    fail_marker: str | None = None
    timeout_marker: str | None = None
    timeout_seconds: float = Field(default=45, gt=0)
    output_limit: int = Field(default=1024 * 1024, gt=0)
    watchdog_slack_seconds: float = Field(
        default=30.0, gt=0, description="how long past a grading's timeout and kill_after the "
        "host waits for its whole script (reset and patching included) before giving up")


class WorkspaceConfig(StrictModel):
    """Everything in `taskform.yaml`; every setting has a default, so an empty file is valid."""

    specs: list[str] = Field(default_factory=lambda: ["specs/**/*.yaml", "specs/**/*.yml"])
    parallelism: int = Field(default=10, ge=1, le=256)
    state: StateSettings = Field(default_factory=StateSettings)
    variables: dict[str, Any] = Field(default_factory=dict)
    grading: GradingSettings = Field(default_factory=GradingSettings)
    docker: DockerSettings = Field(default_factory=DockerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    github: GithubSettings = Field(default_factory=GithubSettings)


def read_config(data: bytes) -> tuple[WorkspaceConfig, dict[str, Any], dict[str, Any]]:
    """The validated settings of `taskform.yaml`'s content, each variable's declaration as
    plain data (a `VariableDecl` dump, a dict, or its literal value: never a dict, a mapping is
    a declaration), and the mapping as written (validating it again gives the same model, to
    the type of each default). SpecError with every issue."""
    docs, issues = parse_bytes(data, CONFIG_NAME)
    if issues:
        raise SpecError(issues)
    doc = docs[0] if docs else SourceDoc(CONFIG_NAME, 0, {})
    raw = doc.value if doc.value is not None else {}
    if not isinstance(raw, dict):
        raise SpecError([doc.issue((), "expected a mapping of settings")])
    model, issues = validate(WorkspaceConfig, raw, doc, ())
    if issues:
        raise SpecError(issues)
    assert isinstance(model, WorkspaceConfig)
    declarations: dict[str, Any] = {}
    for name, decl in model.variables.items():
        if not isinstance(decl, dict):
            declarations[name] = decl
            continue
        found, errs = validate(VariableDecl, decl, doc, ("variables", name))
        issues.extend(errs)
        if isinstance(found, VariableDecl):
            declarations[name] = found.model_dump()
    if issues:
        raise SpecError(issues)
    return model, declarations, raw
