"""The cache key of one grading: the same key means the same result, so a rerun is a no-op."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from runner.rubric.status import NO_MARKERS, Markers


def text_hash(text: str | None) -> str:
    """sha256 of a patch's bytes; `none` for no patch (the original)."""
    return "none" if text is None else hashlib.sha256(text.encode()).hexdigest()


def cache_key(*, image_id: str, patch: str | None, tests_patch: str, command: str,
              timeout: float, setup: Sequence[str] = (), markers: Markers = NO_MARKERS) -> str:
    """sha256 over (image id, patch hash, test patch hash, command, timeout), plus the setup
    commands and markers, which decide the result just as much."""
    parts = {"image": image_id, "patch": text_hash(patch), "tests_patch": text_hash(tests_patch),
             "command": command, "timeout": float(timeout), "setup": list(setup),
             "markers": [markers.pass_marker, markers.fail_marker, markers.timeout_marker]}
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
