"""The workspace: a folder with `taskform.yaml` and spec files."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from runner.errors import SpecError, SpecIssue, WorkspaceError
from runner.providers.docker.settings import DockerSettings
from runner.providers.github import GithubSettings
from runner.providers.llm import LLMSettings
from runner.spec.validation import validate
from runner.spec.yamlsrc import SourceDoc, parse_file
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


class Unset:
    """A declared variable whose environment variable is not set: an error when used."""

    def __init__(self, name: str, env: str):
        self.name, self.env = name, env

    def __repr__(self) -> str:
        return f"<unset ${self.env}>"

    def __str__(self) -> str:
        raise WorkspaceError(f"variable {self.name!r} reads environment variable {self.env}, "
                             "which is not set (and has no default)")


@dataclass
class Workspace:
    root: Path
    config: WorkspaceConfig
    variables: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    _real_root: bool | None = field(default=None, repr=False, compare=False)

    @property
    def state_dir(self) -> Path:
        return self.root / ".taskform"

    @property
    def name(self) -> str:
        return self.root.name

    def resolve(self, relative: str, what: str = "path") -> Path:
        """A path inside the workspace; one that escapes it (`..`, absolute, symlink) is refused."""
        path = self._plain_path(relative)
        if path is None:
            path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise WorkspaceError(f"{what} {relative!r} is outside the workspace {self.root}")
        return path

    def _plain_path(self, relative: str) -> Path | None:
        """`(root / relative).resolve()` for a relative path without `..` whose parts are no
        symlinks, checked with one lstat per part below the root rather than one per part from
        `/` (a plan of 5,000 gradings resolves tens of thousands of paths); None otherwise."""
        if relative.startswith("/") or not self._root_is_real():
            return None
        parts = [p for p in relative.split("/") if p not in ("", ".")]
        if ".." in parts:
            return None
        current = str(self.root)
        for i, part in enumerate(parts):
            current = os.path.join(current, part)
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    return None
            except OSError:  # missing: resolving keeps the rest as written
                return Path(os.path.join(current, *parts[i + 1:]))
        return Path(current)

    def _root_is_real(self) -> bool:
        if self._real_root is None:
            self._real_root = os.path.realpath(self.root) == str(self.root)
        return self._real_root

    def relative(self, path: Path) -> str:
        return str(path.resolve().relative_to(self.root))

    def secret(self, variable: str | None, setting: str, what: str) -> str:
        """The value of the declared secret variable that the setting `setting` names."""
        if not variable:
            raise WorkspaceError(f"{setting} must name a declared secret variable holding the "
                                 f"{what} (see variables: in {CONFIG_NAME})")
        if variable not in self.variables:
            raise WorkspaceError(f"{setting} names {variable!r}, which is not declared under "
                                 f"variables: in {CONFIG_NAME}")
        text = str(self.variables[variable])  # an unset environment variable raises here
        if text not in self.secrets:
            raise WorkspaceError(f"variable {variable!r} holds the {what}: declare it with "
                                 "secret: true so it is redacted everywhere")
        return text


def open_workspace(directory: str | os.PathLike[str] = ".",
                   overrides: dict[str, str] | None = None) -> Workspace:
    """Load `taskform.yaml` from `directory` and resolve its variables."""
    root = Path(directory).resolve()
    config_file = root / CONFIG_NAME
    if not root.is_dir():
        raise WorkspaceError(f"workspace {root} does not exist")
    if not config_file.is_file():
        raise WorkspaceError(f"no {CONFIG_NAME} in {root}: a workspace needs one (an empty file "
                             "is valid); use -C DIR to run in another folder")
    docs, issues = parse_file(config_file, CONFIG_NAME)
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
    ws = Workspace(root=root, config=model)
    ws.variables, ws.secrets, issues = _resolve_variables(model.variables, doc, overrides or {})
    if issues:
        raise SpecError(issues)
    return ws


def _resolve_variables(decls: dict[str, Any], doc: SourceDoc, overrides: dict[str, str]
                       ) -> tuple[dict[str, Any], list[str], list[SpecIssue]]:
    values: dict[str, Any] = {}
    secrets: list[str] = []
    issues: list[SpecIssue] = []
    for name, raw in decls.items():
        if not isinstance(raw, dict):
            values[name] = raw
            continue
        model, errs = validate(VariableDecl, raw, doc, ("variables", name))
        issues.extend(errs)
        if not isinstance(model, VariableDecl):
            continue
        value: Any = model.value
        if model.env:
            value = os.environ.get(model.env, model.default)
            if value is None:
                value = Unset(name, model.env)
        if model.secret and isinstance(value, str) and value:
            secrets.append(value)
        values[name] = value
    for name, value in overrides.items():
        if name not in values:
            issues.append(SpecIssue("-var", 1, 1, name, f"variable {name!r} is not declared in "
                                    f"{CONFIG_NAME}"))
        values[name] = value
    return values, secrets, issues
