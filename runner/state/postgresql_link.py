"""How the PostgreSQL backend reaches its server: connection parameters, the name it shows
in messages (never a password), and psycopg's errors turned into StateErrors.

psycopg is imported inside the functions that use it: a SQLite workspace never loads it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from runner.errors import StateError
from runner.redact import Redactor

if TYPE_CHECKING:
    import psycopg

# libpq's client-side keepalives notice a dead server; the server-side ones (set per session,
# below) make the server drop a holder that vanished from the network, which releases its lock
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
              "keepalives_count": "3", "connect_timeout": "10"}
SERVER_KEEPALIVES = ("SELECT set_config('tcp_keepalives_idle', '10', false), "
                     "set_config('tcp_keepalives_interval', '5', false), "
                     "set_config('tcp_keepalives_count', '3', false), "
                     "set_config('tcp_user_timeout', '30000', false)")


@dataclass(frozen=True)
class Link:
    """Where the state database is and how to log in; `where` is what messages show."""

    url: str
    password: str | None = None  # from a secret variable; else libpq reads PGPASSWORD/.pgpass

    @property
    def where(self) -> str:
        return shown_url(self.url)

    def redactor(self) -> Redactor:
        return Redactor([s for s in (self.password, os.environ.get("PGPASSWORD")) if s])

    def connect(self, purpose: str) -> psycopg.Connection[Any]:
        """A new autocommit connection named `taskform <purpose>` in pg_stat_activity."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        try:
            given = conninfo_to_dict(self.url)
            params: dict[str, Any] = {k: v for k, v in KEEPALIVES.items() if k not in given}
            params.setdefault("application_name", f"taskform {purpose}")
            if self.password is not None:
                params["password"] = self.password
            return psycopg.connect(self.url, autocommit=True, **params)
        except psycopg.Error as exc:
            raise StateError(f"cannot connect to the state database {self.where}: "
                             f"{self.reason(exc)}") from None

    def reason(self, exc: BaseException) -> str:
        """psycopg's message on one line, with any password masked."""
        text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        return self.redactor().text(text) or type(exc).__name__


def shown_url(url: str) -> str:
    """The URL without a password or query (options may carry secrets too)."""
    parts = urlsplit(url)
    user, at, host = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}@{host}" if at else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Lost(StateError):
    """The connection to the state database broke: nothing more can be recorded."""


@contextmanager
def talking(link: Link, conn: psycopg.Connection[Any], doing: str,
            where: str | None = None) -> Iterator[None]:
    """Run database calls, turning psycopg's errors into StateErrors that say what was being
    done (and where: the URL, or the URL and workspace); a broken connection becomes `Lost`,
    which names what is safe."""
    import psycopg

    where = where or link.where
    try:
        yield
    except psycopg.Error as exc:
        if conn.broken or conn.closed or isinstance(exc, psycopg.OperationalError):
            raise Lost(f"lost the connection to the state database {where} while {doing}: "
                       f"{link.reason(exc)}. Everything finished before was recorded; run the "
                       "command again to go on") from None
        raise StateError(f"the state database {where} refused {doing}: "
                         f"{link.reason(exc)}") from None
