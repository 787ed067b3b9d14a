"""Fixtures the spec tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG cache folder for the spec cache's key, seen in-process and by
    subprocesses."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder
