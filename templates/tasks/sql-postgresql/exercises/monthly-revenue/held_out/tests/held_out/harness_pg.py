"""Held-out copy of the test harness: a throwaway PostgreSQL server: initdb into a temporary folder, listening only on
a Unix socket there, stopped and deleted afterwards. Needs initdb, pg_ctl and psql on the PATH."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Database:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pg-"))
        data = self.dir / "data"
        subprocess.run(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                        "--locale=C", "--no-sync"], check=True, capture_output=True)
        options = f"-k {self.dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        subprocess.run(["pg_ctl", "-D", str(data), "-o", options, "-l", str(self.dir / "log"),
                        "-w", "start"], check=True, capture_output=True)

    def run(self, sql: str) -> subprocess.CompletedProcess[str]:
        """Run SQL; the result carries psql's exit code and messages (ON_ERROR_STOP is set)."""
        return subprocess.run(["psql", "-h", str(self.dir), "-U", "postgres", "-d", "postgres",
                               "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
                               "-c", sql], capture_output=True, text=True)

    def load(self, *files: str) -> None:
        for name in files:
            result = self.run((ROOT / name).read_text())
            assert result.returncode == 0, f"{name}: {result.stderr}"

    def rows(self, sql: str) -> list[tuple[str, ...]]:
        result = self.run(sql)
        assert result.returncode == 0, result.stderr
        return [tuple(line.split("|")) for line in result.stdout.splitlines() if line]

    def stop(self) -> None:
        subprocess.run(["pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
