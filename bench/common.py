"""What the benchmarks share: where the repository is, the base image, and one timed
`taskform` command in a fresh process (a failure ends the benchmark with its output)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE_IMAGE = "taskform/base:bookworm"
sys.path.insert(0, str(REPO))  # `runner` without an install, as the commands below run it


def taskform(ws: Path, *args: str) -> float:
    """Run `taskform -C ws ARGS...`; its wall time in seconds."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "runner", "-C", str(ws), *args],
                          capture_output=True, text=True, env=env, cwd=REPO)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"taskform {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds
