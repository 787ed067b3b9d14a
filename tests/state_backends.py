"""The state backends the tests run against, each behind one harness: a workspace whose
`taskform.yaml` puts its state on the backend, plus what only the backend can do (build a
state at an older schema version, read and set the version).

Adding a backend: one name in BACKENDS and one Harness subclass in HARNESSES. A test that
takes a harness on a backend whose server cannot start here is skipped with the reason (and
under CI=true, tests/conftest.py fails the run for it)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from runner.state import open_state
from runner.state.base import StateStore
from runner.workspace import open_workspace

BACKENDS = ["sqlite", "postgresql"]
REPO = Path(__file__).resolve().parents[1]

# what every backend's `build_at` puts in a state of an older schema version: one failed record
# (schema 1 packed its output into the error after the mark), one run, one event
OLD_ADDRESS = "pipeline.p.old"
OLD_ERROR, OLD_OUTPUT = "command exited with code 3", "starting\noops"
OLD_RUN = "r-20240101-000000-abcdef"


def child_env() -> dict[str, str]:
    """The environment of a Python child that opens the state: this checkout's runner first."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(REPO) + (os.pathsep + path if path else "")}


class Harness:
    """One backend as the tests drive it."""

    name = ""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "taskform.yaml").write_text(self.config())

    def config(self) -> str:
        """The `taskform.yaml` of a workspace whose state is on this backend."""
        raise NotImplementedError

    def open(self) -> StateStore:
        """A new connection to the one state of this harness, opened as taskform opens it."""
        return open_state(open_workspace(self.root))

    @property
    def latest(self) -> int:
        raise NotImplementedError

    def schema_version(self) -> int:
        raise NotImplementedError

    def set_schema_version(self, version: int) -> None:
        raise NotImplementedError

    def build_at(self, version: int) -> None:
        """Make the state as a taskform of schema `version` left it, holding the content above
        (version 0: no state yet)."""
        raise NotImplementedError

    def stored_bytes(self) -> bytes:
        """Everything the backend stored for this state, as bytes (to search for secrets)."""
        raise NotImplementedError


class SqliteHarness(Harness):
    name = "sqlite"

    @property
    def db(self) -> Path:
        return self.root / ".taskform" / "state.db"

    def config(self) -> str:
        return "state: {backend: sqlite, path: .taskform/state.db}\n"

    @property
    def latest(self) -> int:
        from runner.state.sqlite import MIGRATIONS

        return len(MIGRATIONS)

    def schema_version(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, version: int) -> None:
        conn = sqlite3.connect(self.db)
        conn.execute(f"PRAGMA user_version={int(version)}")
        conn.commit()
        conn.close()

    def build_at(self, version: int) -> None:
        import sqlite_utils

        from runner.state.sqlite import MIGRATIONS

        if version == 0:
            return
        self.db.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db, isolation_level=None)
        db = sqlite_utils.Database(conn)
        for step in MIGRATIONS[:version]:
            step(db)
        conn.execute(f"PRAGMA user_version={version}")
        columns = {row[1] for row in conn.execute("PRAGMA table_info(resources)")}
        row: dict[str, Any] = {
            "address": OLD_ADDRESS, "kind": "shell", "status": "failed", "fingerprint": "{}",
            "settings": '{"command": "exit 3"}', "outputs": "{}", "depends_on": "[]",
            "parent": None, "prevent_destroy": 0, "labels": "{}", "run_id": OLD_RUN,
            "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-01-01T00:00:00.000Z"}
        if "output" in columns:
            row.update(error=OLD_ERROR, output=OLD_OUTPUT)
        else:
            row.update(error=f"{OLD_ERROR}\n--- output ---\n{OLD_OUTPUT}")
        db["resources"].insert(row)
        db["runs"].insert({"id": OLD_RUN, "command": "apply", "started_at": "2024-01-01",
                           "finished_at": "2024-01-01", "status": "failed", "user": "ci",
                           "host": "old-host", "pid": 1, "summary": '{"failed": 1}'})
        db["events"].insert({"run_id": OLD_RUN, "ts": "2024-01-01", "address": OLD_ADDRESS,
                             "event": "failed", "message": OLD_ERROR, "data": "{}"})
        conn.execute("UPDATE meta SET value='1' WHERE key='serial'")
        conn.close()


    def stored_bytes(self) -> bytes:
        return stored_sqlite_bytes(self.root)


def stored_sqlite_bytes(root: Path) -> bytes:
    """The state file and its write-ahead log, as they are on disk."""
    files = [root / ".taskform" / "state.db", root / ".taskform" / "state.db-wal"]
    return b"".join(f.read_bytes() for f in files if f.exists())


class PostgresHarness(Harness):
    """A workspace on the tests' PostgreSQL server (tests/postgres_server.py), under a name
    and a schema of its own: schema tests change the schema's version, so no two harnesses
    share one (tests/state/test_postgresql.py puts many workspaces in one schema)."""

    name = "postgresql"

    def __init__(self, root: Path):
        from postgres_server import shared_server

        self.server = shared_server()
        token = uuid.uuid4().hex[:10]
        self.workspace, self.schema = f"ws-{token}", f"t_{token}"
        super().__init__(root)

    def config(self) -> str:
        return (f"state: {{backend: postgresql, url: '{self.server.url()}', "
                f"workspace: {self.workspace}, schema: {self.schema}}}\n")

    @property
    def latest(self) -> int:
        from runner.state.postgresql_schema import MIGRATIONS

        return len(MIGRATIONS)

    def schema_version(self) -> int:
        from runner.state.postgresql_schema import schema_version

        with self.server.connect() as conn:
            return schema_version(conn, self.schema)

    def set_schema_version(self, version: int) -> None:
        with self.server.connect() as conn:
            conn.execute(f'UPDATE "{self.schema}".meta SET value = %s WHERE key = '
                         "'schema_version'", (str(version),))

    def build_at(self, version: int) -> None:
        if version:  # the first PostgreSQL schema is the latest: there is nothing older
            raise ValueError(f"no PostgreSQL schema {version} before {self.latest}")

    def stored_bytes(self) -> bytes:
        return stored_postgres_bytes(self.server, self.schema, self.workspace)


def stored_postgres_bytes(server: Any, schema: str, workspace: str) -> bytes:
    """Every row the state's tables hold for the workspace, as text."""
    out = []
    with server.connect() as conn:
        for table in ("workspaces", "resources", "runs", "events", "facts", "locks"):
            column = "name" if table == "workspaces" else "workspace"
            rows = conn.execute(f'SELECT t::text FROM "{schema}".{table} t WHERE {column} = %s',
                                (workspace,)).fetchall()
            out += [r[0] for r in rows]
    return "\n".join(out).encode()


HARNESSES: dict[str, type[Harness]] = {"sqlite": SqliteHarness, "postgresql": PostgresHarness}


def harness_for(name: str, root: Path) -> Harness:
    return HARNESSES[name](root)
