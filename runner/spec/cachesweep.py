"""Keeping the spec cache from growing without end.

Entry names digest what decided them (a file's bytes, taskform's code), so every edit of a spec
file and every upgrade of taskform leaves the old entries behind, never read again: the
benchmarks' workspace of 5,000 steps gathered 223 MB in a day of runs. An entry that is read
has its modified time moved forward (at most once a day); an entry not read for `KEEP_DAYS`
days is removed by the next command that writes an entry, at most once a day per workspace. A
removed entry that is wanted again costs one parse. Only files named as taskform names its
entries (and the temp files of its interrupted writes) are removed; anything else in the folder
is left alone.
"""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

KEEP_DAYS = 30
DAY = 86400.0
MARKER = ".swept"  # beside the folder (`specs.swept`); its modified time: the last sweep
_ENTRY = re.compile(r"^[0-9a-f]{64}\.[a-z0-9-]+\.json$")
_TEMP = re.compile(r"^\..+\.tmp$")  # `_write_private_file`'s, left by a killed process


def keep_fresh(fd: int, modified: float, now: float | None = None) -> None:
    """Mark an entry just read as in use: its modified time moves to now, once a day at most."""
    now = time.time() if now is None else now
    if modified < now - DAY:
        try:
            os.utime(fd)
        except OSError:
            pass  # not ours to touch (planted by another user): it ages out


def sweep_if_due(directory: Path, now: float | None = None) -> int:
    """Remove the entries of `directory` not read for `KEEP_DAYS` days, unless a sweep ran in
    the last day; the number removed."""
    now = time.time() if now is None else now
    try:  # never through a planted link: O_NOFOLLOW, and the time set on the file itself
        fd = os.open(marker_of(directory), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK,
                     0o600)
    except OSError:
        return 0
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or abs(now - info.st_mtime) < DAY:
            return 0  # swept within a day (a marker more than a day ahead is a clock's error)
        os.utime(fd, (now, now))  # first, so a second process at the same moment does not sweep
    except OSError:
        return 0
    finally:
        os.close(fd)
    return sweep(directory, now)


def marker_of(directory: Path) -> Path:
    """Kept outside the folder, whose every file is an entry or an entry being written."""
    return directory.parent / (directory.name + MARKER)


def sweep(directory: Path, now: float) -> int:
    """Remove the entries older than `KEEP_DAYS` days and temp files older than a day."""
    removed = 0
    try:
        listing = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in listing:
        if _ENTRY.match(entry.name):
            cutoff = now - KEEP_DAYS * DAY
        elif _TEMP.match(entry.name):
            cutoff = now - DAY
        else:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if info.st_mtime < cutoff:
                os.unlink(entry.path)  # a symlink itself, never what it points to
                removed += 1
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed
