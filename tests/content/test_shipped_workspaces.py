"""The repository's default workspace and examples/task-pool apply offline, converge, and
publish tasks to local git. The default workspace is applied through a real `python -m runner`
process, as a user runs it; everything else here goes through CliRunner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from doubles.content import needs_git

from tests.conftest import REPO, Workspace, subprocess_env

pytestmark = needs_git


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", "-C", str(root), *args],
                          capture_output=True, text=True, env=subprocess_env(), timeout=300)


@pytest.mark.docker  # a plan evaluates excluded resources too: the image build asks the engine
def test_default_workspace_generates_and_publishes(tmp_path: Path) -> None:
    root = tmp_path / "default"
    root.mkdir()
    shutil.copy(REPO / "taskform.yaml", root)
    shutil.copytree(REPO / "specs", root / "specs")
    # the rubric pipelines need Docker; tests/examples covers the whole main command with it
    shutil.copytree(REPO / "examples" / "rubric-grading", root / "examples" / "rubric-grading")
    docker = ("-exclude", "pipeline.rubric-grading", "-exclude", "pipeline.task-grading")
    result = run(root, "apply", "-auto-approve", *docker)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("Complete: 11 created, 0 updated, 0 replaced, 0 "
                                           "destroyed.")
    # what the real apply left behind, read back in-process
    listing = Workspace(root).cli("tasks", "list").stdout
    assert listing.splitlines()[-1] == "3 task(s): 3 ready, 0 deployed, 0 failed"
    for repo in ("inventory-api", "inventory-api-answers", "fastapi-pool-0", "fastapi-pool-1"):
        assert (root / ".taskform/repos" / f"{repo}.git" / "HEAD").is_file()
    plan = Workspace(root).cli("plan", *docker).stdout
    assert "No changes. 11 resources match the specs." in plan


def test_task_pool_example(tmp_path: Path) -> None:
    root = tmp_path / "example"
    shutil.copytree(REPO / "examples" / "task-pool", root,
                    ignore=shutil.ignore_patterns(".taskform"))
    example = Workspace(root)
    result = example.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    listing = example.cli("tasks", "list", "--status", "ready").stdout.splitlines()
    assert listing[-1] == "4 task(s): 4 ready, 0 deployed, 0 failed"
    watched = example.cli("watch", "--cycles", "1", "--interval", "0s")
    assert watched.exit_code == 0
    assert "watch: cycle 1 done in" in watched.stdout and "no changes" in watched.stdout
