"""Fixtures for the grading tests (helpers live in grading_kit.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading_kit import free_uid


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir another user can enter (pytest's own tmp dirs are private to root)."""
    path = Path(subprocess.run(["mktemp", "-d", "/tmp/taskform-test.XXXXXX"], check=True,
                               capture_output=True, text=True).stdout.strip())
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def other_uid() -> int:
    """A uid nobody uses, for the command to run as; skips unless the tests run as root."""
    if os.geteuid() != 0:
        pytest.skip("switching the command to a non-root user needs root (run the tests as root)")
    return free_uid()
