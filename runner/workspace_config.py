"""`taskform.yaml`'s settings models, and reading the file through them with every issue at
once. Apart from `workspace.py`: pydantic and the doors' settings models load only when a
workspace's settings are validated (taskform.yaml changed) or a kind asks for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from runner.content.settings import ContentSettings
from runner.errors import SpecError
from runner.providers.docker.settings import DockerSettings
from runner.providers.github import GithubSettings
from runner.providers.llm import LLMSettings
from runner.providers.ssh.settings import SshSettings
from runner.spec.paths import PathCheck, WorkspacePath
from runner.spec.validation import validate
from runner.spec.yamlsrc import SourceDoc, parse_bytes
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
    content: ContentSettings = Field(default_factory=ContentSettings)
    ssh: SshSettings = Field(default_factory=SshSettings)


def read_config(data: bytes) -> tuple[WorkspaceConfig, dict[str, Any], dict[str, Any]]:
    """The validated settings of `taskform.yaml`'s content, each variable's declaration as
    plain data (a `VariableDecl` dump, a dict, or its literal value: never a dict, a mapping is
    a declaration), and the mapping as written (validating it again gives the same model, to
    the type of each default). SpecError with every issue."""
    docs, issues = parse_bytes(data, CONFIG_NAME)
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
