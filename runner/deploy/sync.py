"""The files a deployment puts on its droplet: read here, compared with what the droplet holds
(sha256sum there), and only the ones whose content differs are sent."""

from __future__ import annotations

import hashlib
import os
import posixpath
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.ssh import Host, RemoteFiles

SKIPPED = {".git", "__pycache__"}


@dataclass(frozen=True)
class LocalFile:
    path: Path
    digest: str
    mode: int


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def local_files(roots: Iterable[Path]) -> dict[str, LocalFile]:
    """Every file under the roots by its path relative to its root; a later root's file wins
    (an overlay's run.sh over the task's). Symbolic links are refused: what they point at
    would leave the workspace."""
    found: dict[str, LocalFile] = {}
    for root in roots:
        if not root.is_dir():
            raise StepFailed(f"{root} is not a folder", retryable=False)
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part in SKIPPED for part in rel.parts) or path.is_dir():
                continue
            if path.is_symlink():
                raise StepFailed(f"{path} is a symbolic link: deployments copy files only",
                                 retryable=False)
            executable = os.access(path, os.X_OK) or path.suffix == ".sh"
            found[rel.as_posix()] = LocalFile(path, file_digest(path),
                                              0o755 if executable else 0o644)
    return dict(sorted(found.items()))


def remote_digests(host: Host, directory: str, names: list[str], call: Call) -> dict[str, str]:
    """sha256 of each named file in `directory` on the host (missing files are left out)."""
    if not names:
        return {}
    command = (f"cd {shlex.quote(directory)} 2>/dev/null || exit 0; "
               "xargs -0 sha256sum -- 2>/dev/null; true")
    result = host.run(command, Call(deadline=call.deadline, cancelled=call.cancelled,
                                    what=call.what), stdin=b"\0".join(n.encode() for n in names))
    if not result.ok:
        raise StepFailed(f"could not read the files in {directory}: {result.tail()}")
    digests = {}
    for line in result.stdout.splitlines():
        digest, sep, name = line.partition("  ")
        if sep and not digest.startswith("\\"):  # escaped names (a newline in one) re-upload
            digests[name] = digest
    return digests


def changed(local: Mapping[str, LocalFile], remote: Mapping[str, str]) -> list[str]:
    return [name for name, f in local.items() if remote.get(name) != f.digest]


def push(files: RemoteFiles, directory: str, local: Mapping[str, LocalFile],
         names: list[str]) -> None:
    """Send the named files, each written whole."""
    for folder in sorted({posixpath.dirname(n) for n in names}):
        files.mkdirs(posixpath.join(directory, folder) if folder else directory)
    for name in names:
        entry = local[name]
        files.upload(entry.path, posixpath.join(directory, name), entry.mode)


def remove_stale(files: RemoteFiles, directory: str, previous: Iterable[str],
                 local: Mapping[str, LocalFile]) -> list[str]:
    """Remove what an earlier deploy sent and the source no longer has (never other files:
    what run wrote, logs, data)."""
    gone = sorted(set(previous) - set(local))
    for name in gone:
        files.remove(posixpath.join(directory, name))
    return gone
