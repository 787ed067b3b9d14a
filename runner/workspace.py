"""The workspace: a folder with `taskform.yaml` and spec files.

Its settings are validated by pydantic models (`workspace_config.py`) when `taskform.yaml`
changed; otherwise they come from the spec cache as plain data (`configcache`), and the models
load only when something asks for `Workspace.config` (a kind, a door). The core reads what it
needs before any kind runs (spec patterns, parallelism, the state backend) from `settings`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import SpecError, SpecIssue, WorkspaceError

if TYPE_CHECKING:
    from runner.workspace_config import WorkspaceConfig

CONFIG_NAME = "taskform.yaml"


def __getattr__(name: str) -> Any:
    """The settings models, where they used to be defined (they load with pydantic, on use)."""
    if name in ("VariableDecl", "StateSettings", "GradingSettings", "WorkspaceConfig"):
        from runner import workspace_config

        return getattr(workspace_config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Unset:
    """A declared variable whose environment variable is not set: an error when used."""

    def __init__(self, name: str, env: str):
        self.name, self.env = name, env

    def __repr__(self) -> str:
        return f"<unset ${self.env}>"

    def __str__(self) -> str:
        raise WorkspaceError(f"variable {self.name!r} reads environment variable {self.env}, "
                             "which is not set (and has no default)")


class Workspace:
    """A workspace folder, its settings, and its variables' values (secrets among them)."""

    def __init__(self, root: Path, config: WorkspaceConfig | None = None,
                 variables: dict[str, Any] | None = None, secrets: list[str] | None = None, *,
                 settings: dict[str, Any] | None = None,
                 declarations: dict[str, Any] | None = None, written: dict[str, Any] | None = None):
        self.root = root
        self._config = config
        self._settings = settings
        self._written = written  # taskform.yaml's mapping as written, validated into `config`
        self.variables: dict[str, Any] = variables if variables is not None else {}
        # the values to mask everywhere: declared secrets, and (added while rendering) every
        # value a template derived from one; Redactors read this list as it grows
        self.secrets: list[str] = secrets if secrets is not None else []
        self.secret_names: frozenset[str] = frozenset()  # the variables declared `secret: true`
        # each variable's declaration: a VariableDecl dump, or its literal value
        self.declarations: dict[str, Any] = declarations if declarations is not None else {}
        self._real_root: bool | None = None

    def __repr__(self) -> str:
        return f"Workspace(root={self.root!r})"

    @property
    def config(self) -> WorkspaceConfig:
        """The validated settings models (pydantic loads on first use)."""
        if self._config is None:
            from runner.workspace_config import WorkspaceConfig

            # the mapping as written, not the dump: a default keeps its type (45, not 45.0)
            self._config = WorkspaceConfig.model_validate(
                self._written if self._written is not None else self.settings)
        return self._config

    @property
    def settings(self) -> dict[str, Any]:
        """taskform.yaml as validated, as plain data (the models' dump)."""
        if self._settings is None:
            assert self._config is not None, "a workspace has settings or a config"
            self._settings = self._config.model_dump(mode="json")
        return self._settings

    @property
    def spec_patterns(self) -> list[str]:
        return [str(p) for p in self.settings["specs"]]

    @property
    def parallelism(self) -> int:
        return int(self.settings["parallelism"])

    @property
    def docker_host(self) -> str | None:
        """`docker.host`: the engine the Docker kinds use (None: DOCKER_HOST, else the socket)."""
        host = self.settings["docker"]["host"]
        return None if host is None else str(host)

    @property
    def state_backend(self) -> str:
        return str(self.settings["state"]["backend"])

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
        """`path` resolved, relative to the workspace (ValueError when it is outside)."""
        if path.is_absolute() and path.is_relative_to(self.root):
            plain = self._plain_path(str(path.relative_to(self.root)))
            if plain is not None:
                return str(plain.relative_to(self.root))
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
    from runner.spec import configcache
    from runner.spec.readlimit import read_limited

    data, too_large = read_limited(config_file, CONFIG_NAME)
    if too_large:
        raise SpecError([too_large])
    found = configcache.find(root, data)
    if found is not None:
        ws = Workspace(root, settings=found.settings, declarations=found.declarations,
                       written=found.written)
    else:
        from runner.workspace_config import read_config

        model, declarations, written = read_config(data)
        ws = Workspace(root, config=model, declarations=declarations)
        configcache.keep(root, data, configcache.Validated(ws.settings, declarations, written))
    ws.variables, ws.secrets, issues = resolve_variables(ws.declarations, overrides or {})
    if issues:
        raise SpecError(issues)
    ws.secret_names = frozenset(
        name for name, decl in ws.declarations.items()
        if (isinstance(decl, dict) and decl.get("secret") is True)
        or (isinstance(ws.variables.get(name), str) and ws.variables[name] in ws.secrets))
    return ws


def resolve_variables(declarations: dict[str, Any], overrides: dict[str, str]
                      ) -> tuple[dict[str, Any], list[str], list[SpecIssue]]:
    """Each variable's value (from the environment where declared so), the secrets among them,
    and the issues with `-var` overrides."""
    values: dict[str, Any] = {}
    secrets: list[str] = []
    issues: list[SpecIssue] = []
    for name, decl in declarations.items():
        if not isinstance(decl, dict):
            values[name] = decl
            continue
        value: Any = decl["value"]
        if decl["env"]:
            value = os.environ.get(decl["env"], decl["default"])
            if value is None:
                value = Unset(name, decl["env"])
        if decl["secret"] and isinstance(value, str) and value:
            secrets.append(value)
        values[name] = value
    for name, value in overrides.items():
        if name not in values:
            issues.append(SpecIssue("-var", 1, 1, name, f"variable {name!r} is not declared in "
                                    f"{CONFIG_NAME}"))
        decl = declarations.get(name)
        if isinstance(decl, dict) and decl.get("secret") is True and value:
            secrets.append(value)  # a secret given on the command line is masked like any other
        values[name] = value
    return values, secrets, issues
