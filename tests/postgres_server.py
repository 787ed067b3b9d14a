"""A real PostgreSQL server for the tests and the benchmarks: `initdb` on a temp dir, `pg_ctl
start` on a free loopback port (and a socket in the same dir), `pg_ctl stop` at the end.

initdb refuses to run as root, so as root the server runs as the `postgres` user that Debian's
package creates (else `nobody`), through `runuser`; its directory is handed to that user. The
binaries are the ones on PATH, else the newest under /usr/lib/postgresql/*/bin
(`scripts/setup.sh` installs Debian's `postgresql` package when they are missing).

pg_hba: every role is trusted on 127.0.0.1 except PASSWORD_ROLE, which must give its password
(scram-sha-256): the tests that check a password never leaks log in as it."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "taskform"
DATABASE = "taskform"
PASSWORD_ROLE = "taskform_pw"

_HBA = f"""local all all trust
host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
"""


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def binaries() -> Path | None:
    """The folder with initdb and pg_ctl, or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return versions[-1].parent if versions else None


def _server_user() -> str | None:
    """Who runs the server: None for the current user, else a system user (root may not)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise Unavailable("initdb refuses root and there is neither a postgres nor a nobody user")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server; `url()` for taskform.yaml, `connect()` for the tests' own SQL."""

    root: Path
    bin: Path
    user: str | None
    port: int = 0
    durable: bool = False  # fsync on, as a real server runs (the benchmark); tests need not
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, role: str = SUPERUSER, database: str = DATABASE) -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120,
                              cwd=self.root)

    def start(self) -> None:
        self._initdb()
        for _ in range(3):  # a free port can be taken between choosing and binding it
            self.port = free_port()
            options = (f"-k {self.root} -c listen_addresses=127.0.0.1 -p {self.port} "
                       f"-c fsync={'on' if self.durable else 'off'} -c max_connections=300")
            started = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                                str(self.root / "server.log"), "-w", "-t", "60", "-o", options,
                                "start")
            if started.returncode == 0:
                self._sql(f"CREATE DATABASE {DATABASE}", database="postgres")
                return
        log = (self.root / "server.log").read_text(errors="replace")[-2000:]
        raise Unavailable(f"pg_ctl start failed: {started.stderr.strip()} {log}")

    def _initdb(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        made = self._run(str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust",
                         "-U", SUPERUSER, "-E", "UTF8", "--no-instructions")
        if made.returncode != 0:
            raise Unavailable(f"initdb failed: {made.stderr.strip()[-2000:]}")
        (self.data / "pg_hba.conf").write_text(_HBA)

    def stop(self) -> None:
        if self.port:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                      "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _sql(self, statement: str, database: str = DATABASE) -> None:
        import psycopg

        with psycopg.connect(self.url(database=database), autocommit=True) as conn:
            conn.execute(statement.encode())

    def connect(self, database: str = DATABASE):  # type: ignore[no-untyped-def]
        """A superuser connection (autocommit) for what a test checks or breaks itself."""
        import psycopg

        return psycopg.connect(self.url(database=database), autocommit=True)

    def password_of(self, role: str = PASSWORD_ROLE) -> str:
        """Make `role` (once) with a fresh random password and return the password."""
        if role not in self.passwords:
            password = "pw-" + secrets.token_hex(12)
            self._sql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'; "
                      f"GRANT ALL ON DATABASE {DATABASE} TO {role}; "
                      f"GRANT CREATE ON SCHEMA public TO {role}")
            self.passwords[role] = password
        return self.passwords[role]


def start_server(prefix: str = "taskform-pg-", durable: bool = False) -> PostgresServer:
    """Start a new server in a new temp dir; raise Unavailable saying why it cannot. Tests
    run it without fsync (a crash of the machine is not what they test); `durable` keeps it."""
    found = binaries()
    if found is None:
        raise Unavailable("PostgreSQL is not installed (no initdb): run scripts/setup.sh, which "
                          "installs Debian's postgresql package")
    # not under pytest's tmp dirs: those are private to root, and the server may run as postgres
    server = PostgresServer(Path(tempfile.mkdtemp(prefix=prefix)), found, _server_user(),
                            durable=durable)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


_shared: PostgresServer | None = None


def shared_server() -> PostgresServer:
    """The one server of this test session, started on first use."""
    global _shared
    if _shared is None:
        _shared = start_server()
    return _shared


def stop_shared_server() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None
