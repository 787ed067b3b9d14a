"""The PostgreSQL state lock: a session advisory lock held on a connection of its own, plus a
lock-info row that names the holder.

The advisory lock is the truth: the server holds it exactly as long as the holder's session
lives, so a holder killed by SIGKILL (its socket closes) or cut off from the network (the
server's keepalives give up after about 25 s) loses it without anyone's help, and the next
apply proceeds. The row only says who holds it: a row whose session no longer holds the lock
is stale and blocks nobody. The key is derived from (database, schema, workspace), so two
workspaces never wait for each other, unlike a constant key shared by everything in a
database (Terraform's pg backend, hashicorp/terraform#33217)."""

from __future__ import annotations

import hashlib
import select
import time
from typing import TYPE_CHECKING, Any

from runner.errors import StateError, StateLocked
from runner.state.base import LockInfo
from runner.state.postgresql_link import SERVER_KEEPALIVES, Link, talking
from runner.state.postgresql_schema import quoted

if TYPE_CHECKING:
    import psycopg

LOCK_POLL_SECONDS = 0.2   # -lock-timeout polls at this fixed interval
NAMING_SECONDS = 2.0      # a holder writes its row right after taking the lock: wait that long
UNLOCK_WAIT_SECONDS = 10.0

_FIELDS = "lock_id, run_id, operation, \"user\", host, pid, pid_start, since"


def lock_key(purpose: str, database: str, schema: str, workspace: str) -> int:
    """A signed 64-bit advisory-lock key: the first 8 bytes of sha256 over what the lock
    guards. Advisory locks are per database already; the database name is hashed in too so
    the key names the whole identity. A collision needs 2^32 workspaces in one database."""
    text = "\0".join(("taskform", purpose, database, schema, workspace))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def _halves(key: int) -> tuple[int, int]:
    """How pg_locks shows a bigint advisory key: classid (high 32 bits), objid (low 32)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


def locked_error(held: LockInfo | None, timeout: float) -> StateLocked:
    waited = f" (waited {timeout:g}s)" if timeout else ""
    if held is None:
        return StateLocked(f"state is locked{waited} by a session that has not said who it is "
                           "yet. Retry in a moment, or with -lock-timeout")
    return StateLocked(f"state is locked{waited}: {held.describe()}. Wait for it to finish, "
                       f"retry with -lock-timeout, or if it is certainly dead run "
                       f"`taskform force-unlock {held.lock_id}`")


class AdvisoryLock:
    """The lock of one workspace; holds its own connection while the lock is held."""

    def __init__(self, link: Link, schema: str, workspace: str, key: int):
        self.link, self.schema, self.workspace, self.key = link, schema, workspace, key
        self.where = f"{link.where} (workspace {workspace})"
        self.table = f"{quoted(schema)}.locks"
        self.conn: psycopg.Connection[Any] | None = None
        self.info: LockInfo | None = None

    # -- holding ---------------------------------------------------------------------------

    def acquire(self, info: LockInfo, timeout: float) -> LockInfo | None:
        """Take the lock, polling up to `timeout` seconds; return a stale holder's row that
        was replaced (its session is gone)."""
        if self.info is not None and self._still_held():
            raise locked_error(self.info, 0)
        conn = self._connection()
        started = time.monotonic()
        while True:
            with talking(self.link, conn, "taking the state lock", self.where):
                got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                if got and got[0]:
                    return self._claim(conn, info)
                held = self.holder(conn)
            waited = time.monotonic() - started
            if waited >= timeout and (held is not None or waited >= NAMING_SECONDS):
                raise locked_error(held, timeout)
            time.sleep(LOCK_POLL_SECONDS)

    def _claim(self, conn: psycopg.Connection[Any], info: LockInfo) -> LockInfo | None:
        with conn.transaction():
            row = conn.execute(f"SELECT {_FIELDS} FROM {self.table} WHERE workspace = %s "
                               "FOR UPDATE", (self.workspace,)).fetchone()
            conn.execute(
                f"INSERT INTO {self.table} (workspace, {_FIELDS}, backend_pid) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, pg_backend_pid()) ON CONFLICT (workspace) "
                "DO UPDATE SET lock_id = excluded.lock_id, run_id = excluded.run_id, "
                "operation = excluded.operation, \"user\" = excluded.\"user\", host = "
                "excluded.host, pid = excluded.pid, pid_start = excluded.pid_start, since = "
                "excluded.since, backend_pid = excluded.backend_pid",
                (self.workspace, info.lock_id, info.run_id, info.operation, info.user,
                 info.host, info.pid, info.pid_start, info.since))
        self.info = info
        return LockInfo(*row) if row else None

    def release(self, lock_id: str) -> None:
        """Let go of the lock this store holds, if `lock_id` names it. A broken connection
        needs nothing more: the server released the lock when the session ended."""
        if self.info is None or self.info.lock_id != lock_id or self.conn is None:
            return
        import psycopg

        try:
            self.conn.execute(f"DELETE FROM {self.table} WHERE workspace = %s AND lock_id = %s",
                              (self.workspace, lock_id))
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        except psycopg.Error:
            pass
        self.close()

    def is_lost(self) -> bool:
        """True when this store held the lock and its session has ended (force-unlock, a
        dropped connection). Costs no round trip while all is well: an idle session's socket
        turns readable only when the server says something, such as that it is terminating."""
        if self.info is None or self.conn is None:
            return False
        readable, _, _ = select.select([self.conn.fileno()], [], [], 0)
        return bool(readable) and not self._still_held()

    def _still_held(self) -> bool:
        import psycopg

        if self.conn is None:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self.close()
            return False

    def _connection(self) -> psycopg.Connection[Any]:
        if self.conn is None:
            self.conn = self.link.connect(f"lock {self.workspace}")
            with talking(self.link, self.conn, "setting up the lock session", self.where):
                self.conn.execute(SERVER_KEEPALIVES)
        return self.conn

    def close(self) -> None:
        conn, self.conn, self.info = self.conn, None, None
        if conn is not None:
            conn.close()

    # -- looking at it from any connection ---------------------------------------------------

    def holder(self, conn: psycopg.Connection[Any]) -> LockInfo | None:
        """The row of the session that holds the advisory lock now, or None."""
        high, low = _halves(self.key)
        row = conn.execute(
            f"SELECT {_FIELDS} FROM {self.table} WHERE workspace = %s AND backend_pid IN "
            "(SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) AND "
            "classid::bigint = %s AND objid::bigint = %s AND objsubid = 1)",
            (self.workspace, high, low)).fetchone()
        return LockInfo(*row) if row else None

    def holder_pids(self, conn: psycopg.Connection[Any]) -> list[int]:
        high, low = _halves(self.key)
        rows = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) AND "
            "classid::bigint = %s AND objid::bigint = %s AND objsubid = 1", (high, low))
        return [int(r[0]) for r in rows.fetchall()]

    def force_unlock(self, conn: psycopg.Connection[Any], lock_id: str) -> LockInfo:
        """End the holder's session (which releases its lock) and remove its row, when
        `lock_id` names the current lock; a stale row is only removed."""
        row = conn.execute(f"SELECT {_FIELDS} FROM {self.table} WHERE workspace = %s",
                           (self.workspace,)).fetchone()
        pids = self.holder_pids(conn)
        if row is None and not pids:
            raise StateError("the state is not locked")
        if row is None:
            raise locked_error(None, 0)
        held = LockInfo(*row)
        if held.lock_id != lock_id:
            raise StateError(f"lock ID {lock_id!r} does not match the current lock: "
                             f"{held.describe()}")
        for pid in pids:
            self._terminate(conn, pid)
        deadline = time.monotonic() + UNLOCK_WAIT_SECONDS
        while self.holder_pids(conn) and time.monotonic() < deadline:
            time.sleep(0.05)
        conn.execute(f"DELETE FROM {self.table} WHERE workspace = %s AND lock_id = %s",
                     (self.workspace, lock_id))
        return held

    def _terminate(self, conn: psycopg.Connection[Any], pid: int) -> None:
        import psycopg

        try:
            ended = conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        except psycopg.errors.InsufficientPrivilege:
            ended = None
        if not ended or not ended[0]:
            raise StateError(f"cannot end the lock holder's database session (server process "
                             f"{pid}): this role may not. Ask the database owner to run "
                             f"SELECT pg_terminate_backend({pid})")
