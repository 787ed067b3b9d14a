"""The offline scaffolds produce gradeable tasks: with real `git apply` and `python3 -m
unittest` (all the grading image has), the golden patch passes every rubric criterion and the
unmodified original fails every one."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from doubles.content import needs_git

from runner.content import scaffold
from runner.providers import git
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = needs_git


def variables(names: list[str]) -> dict[str, object]:
    return {"title": "Items Api", "slug": "items-api", "repo": "items-api",
            "competencies": [{"name": n, "proficiency": "BASIC"} for n in names],
            "competency_names": " and ".join(names), "proficiency": "BASIC",
            "minutes_range": "15-20", "scenario": "", "scenario_key": "", "feedback": [],
            "background": {"organization_background": "A shop.", "role_context": "Developer"},
            "stack": "x", "category": "BACKEND"}


def checkout(root: Path, files: dict[str, str], patches: list[str]) -> Path:
    root.mkdir()
    git.write_files(root, files)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "starter"]):
        git.git(args, root)
    for n, patch in enumerate(patches):
        (root.parent / f"{root.name}-{n}.patch").write_text(patch)
        git.git(["apply", str(root.parent / f"{root.name}-{n}.patch")], root)
    return root


@pytest.mark.parametrize("name, competencies", [
    ("python-fastapi", ["Python - FastAPI"]),
    ("generic", ["Java", "Kafka"]),
])
def test_golden_passes_and_original_fails(tmp_path: Path, name: str, competencies: list[str]
                                          ) -> None:
    ws = Workspace(root=tmp_path, config=WorkspaceConfig())
    rendered = scaffold.render(ws, name, variables(competencies))
    starter = rendered.starter
    golden = git.diff(starter, {**starter, **rendered.solution})
    held_out = git.diff(starter, {**starter, **rendered.tests})
    original = checkout(tmp_path / "original", starter, [held_out])
    solved = checkout(tmp_path / "golden", starter, [golden, held_out])
    for criterion in rendered.rubric:
        argv = [sys.executable if a == "python3" else a for a in shlex.split(criterion["command"])]
        on_original = subprocess.run(argv, cwd=original, capture_output=True, text=True)
        on_golden = subprocess.run(argv, cwd=solved, capture_output=True, text=True)
        assert on_original.returncode != 0, (criterion["id"], on_original.stderr)
        assert on_golden.returncode == 0, (criterion["id"], on_golden.stderr)
    visible = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t",
                              ".", "-p", "test_*.py"], cwd=solved, capture_output=True, text=True)
    assert visible.returncode == 0, visible.stderr


def test_unknown_scaffold_lists_the_known_ones(tmp_path: Path) -> None:
    from runner.errors import TaskformError

    ws = Workspace(root=tmp_path, config=WorkspaceConfig())
    with pytest.raises(TaskformError) as info:
        scaffold.render(ws, "cobol", variables(["COBOL"]))
    assert str(info.value) == ("no scaffold 'cobol': neither templates/tasks/cobol/scaffold.yaml "
                               "nor taskform's own exists; scaffolds: generic, python-fastapi")
