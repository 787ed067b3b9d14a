"""The PostgreSQL state's schema: one migration per version, applied in order inside one
transaction that holds a transaction-level advisory lock (so two runners opening a new
database at once create it once); `meta.schema_version` holds how many have run. A migration
is never edited once released: a change of schema is a new one at the end.

Every table is keyed by workspace: one database (and one schema) holds many workspaces side by
side. JSON is kept in `text` columns, not `jsonb`: jsonb refuses the NUL character a command's
output may carry and reorders keys; and `error`, `output` and event messages are JSON strings
for the same reason (a PostgreSQL text value cannot hold NUL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.errors import StateError

if TYPE_CHECKING:
    import psycopg

_V1 = """
CREATE TABLE {s}.workspaces (
    name text PRIMARY KEY,
    serial bigint NOT NULL DEFAULT 0
);
CREATE TABLE {s}.resources (
    workspace text NOT NULL,
    address text NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    fingerprint text NOT NULL,
    settings text NOT NULL,
    outputs text NOT NULL,
    depends_on text NOT NULL,
    parent text,
    prevent_destroy boolean NOT NULL,
    labels text NOT NULL,
    error text,
    output text,
    run_id text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    PRIMARY KEY (workspace, address)
);
CREATE TABLE {s}.runs (
    workspace text NOT NULL,
    id text NOT NULL,
    command text NOT NULL,
    started_at text NOT NULL,
    finished_at text,
    status text NOT NULL,
    "user" text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    summary text NOT NULL,
    PRIMARY KEY (workspace, id)
);
CREATE TABLE {s}.events (
    id bigserial PRIMARY KEY,
    workspace text NOT NULL,
    run_id text NOT NULL,
    ts text NOT NULL,
    address text,
    event text NOT NULL,
    message text NOT NULL,
    data text NOT NULL
);
CREATE INDEX events_workspace ON {s}.events (workspace, id);
CREATE INDEX events_address ON {s}.events (workspace, address, id);
CREATE INDEX events_run ON {s}.events (workspace, run_id, id);
CREATE TABLE {s}.facts (
    workspace text NOT NULL,
    namespace text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    run_id text NOT NULL,
    updated_at text NOT NULL,
    PRIMARY KEY (workspace, namespace, key)
);
CREATE TABLE {s}.locks (
    workspace text PRIMARY KEY,
    lock_id text NOT NULL,
    run_id text NOT NULL,
    operation text NOT NULL,
    "user" text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    pid_start text NOT NULL,
    since text NOT NULL,
    backend_pid integer NOT NULL
);
"""

# Schema migrations, applied in order; meta.schema_version holds how many have run.
MIGRATIONS: list[str] = [_V1]


def quoted(schema: str) -> str:
    """The schema as an SQL identifier (settings allow only [a-z0-9_], so quoting suffices)."""
    return '"' + schema.replace('"', '""') + '"'


def schema_version(conn: psycopg.Connection[Any], schema: str) -> int:
    """How many migrations have run (0: no taskform tables in this schema yet)."""
    row = conn.execute("SELECT to_regclass(%s)", (f"{quoted(schema)}.meta",)).fetchone()
    if row is None or row[0] is None:
        return 0
    got = conn.execute(f"SELECT value FROM {quoted(schema)}.meta WHERE key = 'schema_version'"
                       ).fetchone()
    return int(got[0]) if got else 0


def migrate(conn: psycopg.Connection[Any], schema: str, where: str, lock_key: int) -> None:
    """Bring the schema to the latest version; refuse one newer than this taskform knows."""
    version = schema_version(conn, schema)
    _refuse_newer(version, where)
    if version == len(MIGRATIONS):
        return
    s = quoted(schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, "
                     "value text NOT NULL)")
        version = schema_version(conn, schema)  # another runner may have migrated meanwhile
        _refuse_newer(version, where)
        for step in MIGRATIONS[version:]:
            conn.execute(step.format(s=s).encode())
        conn.execute(f"INSERT INTO {s}.meta (key, value) VALUES ('schema_version', %s) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (str(len(MIGRATIONS)),))


def _refuse_newer(version: int, where: str) -> None:
    if version > len(MIGRATIONS):
        raise StateError(f"state {where} has schema version {version}, newer than this "
                         f"taskform understands ({len(MIGRATIONS)}): upgrade taskform")
