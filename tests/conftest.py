"""Shared fixtures: throwaway workspaces, the CLI through CliRunner and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from state_backends import BACKENDS, harness_for

if TYPE_CHECKING:
    from postgres_server import PostgresServer

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Workspace:
    root: Path
    backend: str = "sqlite"
    state_yaml: str = ""  # the `state:` settings of taskform.yaml (empty: the default SQLite)

    def configure(self, text: str = "") -> Path:
        """Write taskform.yaml: this workspace's state settings, then `text`."""
        return self.write("taskform.yaml", self.state_yaml + textwrap.dedent(text).lstrip("\n"))

    def stored_bytes(self) -> bytes:
        """Everything the state backend stored for this workspace (to search for secrets)."""
        from state_backends import stored_postgres_bytes, stored_sqlite_bytes

        if self.backend == "sqlite":
            return stored_sqlite_bytes(self.root)
        from postgres_server import shared_server

        settings = self._settings()
        return stored_postgres_bytes(shared_server(), settings.db_schema, str(settings.workspace))

    def _settings(self):  # type: ignore[no-untyped-def]
        from runner.workspace import open_workspace

        return open_workspace(self.root).config.state

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def spec(self, text: str, name: str = "main.yaml") -> Path:
        return self.write(f"specs/{name}", text)

    def cli(self, *args: str, input: str | None = None, env: dict[str, str] | None = None
            ) -> Result:
        """Run taskform in-process through click's CliRunner."""
        from runner.cli import cli

        runner = CliRunner()
        return runner.invoke(cli, ["-C", str(self.root), *args], input=input,
                             env={"NO_COLOR": "1", **(env or {})}, catch_exceptions=False)

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run taskform as a real subprocess (`python -m runner`). Only for the few tests
        about the process boundary (start-up, a real exit status and stderr, signals): each
        call costs an interpreter start and the imports; everything else uses `cli`."""
        return subprocess.run([sys.executable, "-m", "runner", "-C", str(self.root), *args],
                              capture_output=True, text=True, timeout=timeout, input=input,
                              env=subprocess_env(env), cwd=self.root)

    def state(self):  # type: ignore[no-untyped-def]
        """The workspace's state, opened as taskform opens it (the backend its config names)."""
        from runner.state import open_state
        from runner.workspace import open_workspace

        return open_state(open_workspace(self.root))


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a taskform subprocess: this checkout's runner first on the path."""
    env = {**os.environ, "NO_COLOR": "1", **(extra or {})}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@pytest.fixture(autouse=True)
def own_cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spec cache's per-user key lives under XDG_CACHE_HOME: a test session has its own,
    never the developer's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """An empty workspace with an empty taskform.yaml."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "taskform.yaml").write_text("")
    return Workspace(root)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (tests/postgres_server.py), stopped at the end; the
    test is skipped with the reason when none can start here."""
    from postgres_server import Unavailable, shared_server, stop_shared_server

    try:
        server = shared_server()
    except Unavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    stop_shared_server()


def needs_backend(request: pytest.FixtureRequest, backend: str) -> None:
    """Skip (with the reason) a test on a backend whose server cannot start here."""
    if backend == "postgresql":
        request.getfixturevalue("postgres")


@pytest.fixture(params=BACKENDS)
def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """An empty state on each backend the tests know, opened as taskform opens it."""
    needs_backend(request, request.param)
    store = harness_for(request.param, tmp_path / "state-ws").open()
    yield store
    store.close()


@pytest.fixture(params=BACKENDS)
def backend_ws(request: pytest.FixtureRequest, tmp_path: Path) -> Workspace:
    """An empty workspace on each backend (PostgreSQL: a name of its own in the shared
    schema, so the suite keeps many workspaces in one database); `configure()` writes its
    taskform.yaml."""
    needs_backend(request, request.param)
    root = tmp_path / "ws"
    root.mkdir()
    state_yaml = ""
    if request.param == "postgresql":
        from postgres_server import shared_server

        state_yaml = (f"state: {{backend: postgresql, url: '{shared_server().url()}', "
                      f"workspace: ws-{uuid.uuid4().hex[:10]}}}\n")
    ws = Workspace(root, request.param, state_yaml)
    ws.configure()
    return ws


@pytest.fixture
def taskform_main() -> Callable[..., int]:
    """Call `runner.cli.main` in-process and return its exit code (the real error boundary)."""
    from runner.cli import main

    def call(*args: str) -> int:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        return int(exit_info.value.code or 0)
    return call


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `postgres` every test that needs the server: it asks for the fixture, or runs on
    the `postgresql` backend (a parameter), so the fast lane can leave them to CI."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = list(callspec.params.values()) if callspec is not None else []
        if "postgres" in getattr(item, "fixturenames", ()) or "postgresql" in params:
            item.add_marker(pytest.mark.postgres)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every part is installed, so a skipped test is a failure, not a pass."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            sys.stderr.write(f"CI: skipped {report.nodeid}: {reason}\n")
        session.exitstatus = 1
