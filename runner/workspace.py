"""The workspace: a folder with `taskform.yaml` and spec files."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from runner.errors import SpecError, SpecIssue, WorkspaceError
from runner.providers.docker.settings import DockerSettings
from runner.providers.github import GithubSettings
from runner.providers.llm import LLMSettings
from runner.providers.ssh.settings import SshSettings
from runner.spec.paths import PathCheck, WorkspacePath
from runner.spec.validation import validate
from runner.spec.yamlsrc import SourceDoc, parse_file
from runner.strict import StrictModel

CONFIG_NAME = "taskform.yaml"


def _glob(pattern: str) -> str:
    # pathlib refuses some patterns only once it globs ('a**' raises ValueError, '.' an
    # IndexError): glob a folder that does not exist, which touches nothing, to find out now
    try:
        next(Path("/nonexistent/taskform").glob(pattern), None)
    except (ValueError, IndexError):
        raise ValueError("expected a glob like specs/**/*.yaml ('**' only as a whole part of "
                         f"the path), got {json.dumps(pattern)}") from None
    return pattern


SpecGlob = Annotated[str, AfterValidator(PathCheck(empty=False)), AfterValidator(_glob)]


class VariableDecl(StrictModel):
    """A declared variable: a literal `value`, or read from `env` with an optional `default`."""

    value: Any = None
    env: str | None = None
    default: Any = None
    secret: bool = False
    description: str = ""


class StateSettings(StrictModel):
    """Where the state lives: a SQLite file in the workspace (the default), or a PostgreSQL
    database shared by a team and its CI, many workspaces side by side (docs/state.md)."""

    backend: Literal["sqlite", "postgresql"] = "sqlite"
    path: WorkspacePath = Field(default=".taskform/state.db", description="sqlite: the file")
    url: str | None = Field(default=None, description="postgresql: postgresql://USER@HOST:PORT/DB")
    workspace: str | None = Field(default=None, min_length=1, max_length=200, description=(
        "postgresql: the name this workspace's records live under (default: the folder's name)"))
    password_variable: str | None = Field(default=None, description=(
        "postgresql: a declared secret variable holding the password (else libpq's PGPASSWORD "
        "or ~/.pgpass)"))
    db_schema: str = Field(default="taskform", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                           description="postgresql: the schema taskform's tables live in")
    synchronous_commit: bool = Field(default=False, description=(
        "postgresql: wait until each commit is on the server's disk. Off, taskform's own crash "
        "still loses nothing; a crash of the database machine may lose its last fraction of a "
        "second of commits, never corrupting the state (SQLite's WAL gives the same)"))

    @field_validator("url")
    @classmethod
    def _url_without_password(cls, url: str | None) -> str | None:
        return None if url is None else check_database_url(url)

    @model_validator(mode="after")
    def _settings_of_the_backend(self) -> StateSettings:
        if self.backend == "postgresql" and not self.url:
            raise ValueError("backend postgresql needs url: postgresql://USER@HOST:PORT/DATABASE")
        only_postgresql = {"url", "workspace", "password_variable", "db_schema",
                           "synchronous_commit"}
        if self.backend == "sqlite" and self.model_fields_set & only_postgresql:
            names = sorted("schema" if n == "db_schema" else n
                           for n in self.model_fields_set & only_postgresql)
            raise ValueError(f"{', '.join(names)}: only backend postgresql reads "
                             f"{'it' if len(names) == 1 else 'them'}")
        if self.backend == "postgresql" and "path" in self.model_fields_set:
            raise ValueError("path: only backend sqlite reads it")
        return self


def check_database_url(url: str) -> str:
    """A postgresql:// URL that carries no password: a password in taskform.yaml or on a
    command line ends up in git, shell history and `ps`; it belongs in PGPASSWORD, ~/.pgpass or
    a secret variable."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"expected a postgresql://USER@HOST:PORT/DATABASE URL, got a "
                         f"{parts.scheme or 'schemeless'} one")
    if parts.password is not None or "password" in parse_qs(parts.query):
        raise ValueError("the URL carries a password: put it in PGPASSWORD or ~/.pgpass, or in a "
                         "secret variable named by password_variable")
    return url


class GradingSettings(StrictModel):
    """task-sync's PASS_MARKER / FAIL_MARKER / TIMEOUT_MARKER / TIMEOUT_SECONDS."""

    pass_marker: str | None = None
    fail_marker: str | None = None
    timeout_marker: str | None = None
    timeout_seconds: float = Field(default=45, gt=0)
    output_limit: int = Field(default=1024 * 1024, gt=0)
    watchdog_slack_seconds: float = Field(
        default=30.0, gt=0, description="how long the host waits for what a grading runs before "
        "its command (setup commands, patches); the command's own deadline is its timeout")


class WorkspaceConfig(StrictModel):
    """Everything in `taskform.yaml`; every setting has a default, so an empty file is valid."""

    specs: list[SpecGlob] = Field(default_factory=lambda: ["specs/**/*.yaml", "specs/**/*.yml"])
    parallelism: int = Field(default=10, ge=1, le=256)
    state: StateSettings = Field(default_factory=StateSettings)
    variables: dict[str, Any] = Field(default_factory=dict)
    grading: GradingSettings = Field(default_factory=GradingSettings)
    docker: DockerSettings = Field(default_factory=DockerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    github: GithubSettings = Field(default_factory=GithubSettings)
    ssh: SshSettings = Field(default_factory=SshSettings)


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
    # the values to mask everywhere: declared secrets, and (added while rendering) every value a
    # template derived from one; Redactors read this list as it grows
    secrets: list[str] = field(default_factory=list)
    secret_names: frozenset[str] = frozenset()  # the variables declared `secret: true`

    @property
    def state_dir(self) -> Path:
        return self.root / ".taskform"

    @property
    def name(self) -> str:
        return self.root.name

    def resolve(self, relative: str, what: str = "path") -> Path:
        """A path inside the workspace; one that escapes it (`..`, absolute, symlink) is refused."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise WorkspaceError(f"{what} {relative!r} is outside the workspace {self.root}")
        return path

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
    issues += [d.issue((), "taskform.yaml holds one YAML document; remove this second one")
               for d in docs[1:]]
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
    ws.secret_names = frozenset(
        name for name, raw in model.variables.items()
        if (isinstance(raw, dict) and raw.get("secret") is True)
        or (isinstance(ws.variables.get(name), str) and ws.variables[name] in ws.secrets))
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
        if isinstance(decls.get(name), dict) and decls[name].get("secret") is True and value:
            secrets.append(value)  # a secret given on the command line is masked like any other
        values[name] = value
    return values, secrets, issues
