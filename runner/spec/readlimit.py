"""The size limit on a spec file or taskform.yaml, read before anything parses it (in a
module of its own: reading taskform.yaml when its settings are cached must not load YAML)."""

from __future__ import annotations

from pathlib import Path

from runner.errors import SpecIssue

MAX_FILE_BYTES = 2 * 1024 * 1024


def read_limited(path: Path, display: str) -> tuple[bytes, SpecIssue | None]:
    """The file's bytes, or an issue when it is larger than MAX_FILE_BYTES (then not read:
    a spec that is a gigabyte, or a never-ending device, must not be read into memory)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return b"", SpecIssue(display, 1, 1, "", f"cannot read the file: {exc.strerror}")
    if len(data) <= MAX_FILE_BYTES:
        return data, None
    return b"", SpecIssue(display, 1, 1, "", f"the file is larger than {MAX_FILE_BYTES // 1024} "
                          "KiB, the limit for a spec file; split it into several files")
