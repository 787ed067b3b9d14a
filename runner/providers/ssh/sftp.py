"""File operations over one SFTP session (the `RemoteFiles` of the SSH door)."""

from __future__ import annotations

import posixpath
import uuid
from pathlib import Path
from typing import Any


def _temporary(path: str) -> str:
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}.tf-{uuid.uuid4().hex[:8]}")


class SftpFiles:
    """`RemoteFiles` over a paramiko `SFTPClient`."""

    def __init__(self, sftp: Any):
        self.sftp = sftp

    def read(self, path: str) -> bytes | None:
        try:
            with self.sftp.open(path, "rb") as fh:
                return bytes(fh.read())
        except FileNotFoundError:
            return None

    def write(self, path: str, data: bytes, mode: int = 0o644) -> None:
        tmp = _temporary(path)
        with self.sftp.open(tmp, "wb") as fh:
            fh.write(data)
        self._settle(tmp, path, mode)

    def upload(self, local: Path, path: str, mode: int) -> None:
        tmp = _temporary(path)
        self.sftp.put(str(local), tmp)
        self._settle(tmp, path, mode)

    def _settle(self, tmp: str, path: str, mode: int) -> None:
        try:
            self.sftp.chmod(tmp, mode)
            self.sftp.posix_rename(tmp, path)
        except OSError:
            self.remove(tmp)
            raise

    def mkdirs(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            try:
                self.sftp.mkdir(current)
            except OSError:
                if not self.is_dir(current):  # not there and not made: say why
                    raise

    def is_dir(self, path: str) -> bool:
        import stat

        try:
            return stat.S_ISDIR(self.sftp.stat(path).st_mode or 0)
        except FileNotFoundError:
            return False

    def listdir(self, path: str) -> list[str] | None:
        try:
            return sorted(self.sftp.listdir(path))
        except FileNotFoundError:
            return None

    def exists(self, path: str) -> bool:
        try:
            self.sftp.stat(path)
            return True
        except FileNotFoundError:
            return False

    def rename(self, old: str, new: str) -> bool:
        try:
            self.sftp.posix_rename(old, new)
            return True
        except OSError:
            if not self.exists(old):
                raise
            return False

    def remove(self, path: str) -> None:
        try:
            self.sftp.remove(path)
        except FileNotFoundError:
            pass

    def rmdir(self, path: str) -> None:
        try:
            self.sftp.rmdir(path)
        except FileNotFoundError:
            pass
