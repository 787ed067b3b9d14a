"""The Docker door: DockerEngine implements every method of the Engine protocol, and importing
the door does not import the Docker SDK (only a call does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_docker_engine_implements_the_door() -> None:
    from runner.providers.docker.engine import DockerEngine, Engine

    door = {n for n in dir(Engine) if not n.startswith("_")}
    assert len(door) > 20
    assert sorted(n for n in door if not hasattr(DockerEngine, n)) == []
    assert "address" in DockerEngine.__init__.__code__.co_names


def test_importing_the_door_and_the_kinds_imports_no_sdk() -> None:
    code = ("import sys, runner.providers.docker.containers, runner.kinds.docker_run, "
            "runner.kinds.docker_build, runner.rubric.lease; "
            "print(sorted(m for m in ('docker', 'requests', 'openai', 'github') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True).stdout
    assert out == "[]\n"
