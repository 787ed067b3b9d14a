"""Every shipped exercise is graded for real, through the pipeline `verify: docker` runs: its
grading image (the base image plus its toolchain from Debian packages), a locked-down container,
a fresh sandbox per grading, and a rubric step that must find the golden patch passing every
criterion and the unmodified starter failing every one, by the results its test runner wrote. Go, Node.js and SQL included: the SQL tests start PostgreSQL inside
the grading container."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from doubles.content import needs_git

from runner.content import scaffold
from runner.content.taskdir import RUBRIC_NAMESPACE
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = [needs_git, pytest.mark.docker]

COMPETENCY = {"python-fastapi": "Python - FastAPI", "node-express": "Node.js", "go": "Go",
              "sql-postgresql": "PostgreSQL"}
SHIPPED = Workspace(root=Path("/nonexistent-workspace"), config=WorkspaceConfig())


def catalogue() -> list[tuple[str, str]]:
    return [(name, exercise) for name in COMPETENCY
            for exercise in scaffold.exercises(SHIPPED, name)]


def specs() -> str:
    docs = [f"apiVersion: taskform/v1\nkind: Competency\nmetadata: {{name: {name}}}\n"
            f"spec: {{name: {competency!r}, proficiency: BASIC}}\n"
            for name, competency in COMPETENCY.items()]
    docs.append("apiVersion: taskform/v1\nkind: Background\nmetadata: {name: shop}\n"
                "spec: {organization_background: A start-up building e-commerce solutions, "
                "role_context: Backend Developer}\n")
    # a Go compile or a PostgreSQL start on a busy 2-core machine can take a while
    docs += [f"apiVersion: taskform/v1\nkind: Task\nmetadata: {{name: {exercise}}}\n"
             f"spec: {{competencies: [{name}], background: shop, generator: {{exercise: "
             f"{exercise}}}, verify: {{docker: {{pool_size: 1, timeout_seconds: 180}}}}}}\n"
             for name, exercise in catalogue()]
    return "---\n".join(docs)


def gradings(records: dict[str, Any], task: str) -> dict[tuple[str, str], Any]:
    prefix = f'task.{task}["grade",'
    return {(r.outputs["criterion"]["id"], r.outputs["solution"]): r for a, r in records.items()
            if a.startswith(prefix) and r.kind == "rubric_shell"}


def test_every_exercise_golden_passes_and_starter_fails_every_criterion(dws) -> None:  # type: ignore[no-untyped-def]
    dws.write("taskform.yaml", "parallelism: 6\n")
    dws.spec(specs(), "exercises.yaml")
    dws.apply()
    records = dws.state().records()
    for name, exercise in catalogue():
        out = records[f"task.{exercise}"].outputs
        verification = out["verification"]
        assert verification["gates"]["ok"] is True, (exercise, verification["gates"])
        golden, original = verification["golden"], verification["original"]
        assert (golden["earned"], golden["failed"], golden["verdict"]) == (
            golden["total"], [], "pass"), exercise
        assert (original["earned"], original["passed"], original["verdict"]) == (
            0, [], "fail"), exercise
        cells = gradings(records, exercise)
        criteria = {str(uuid.uuid5(RUBRIC_NAMESPACE, f"task.{exercise}/{c.id}"))
                    for c in scaffold.exercise_spec(SHIPPED, name, exercise).rubric}
        assert set(cells) == {(c, s) for c in criteria for s in ("golden", "original")}, exercise
        for (criterion, solution), record in cells.items():
            want = "PASS" if solution == "golden" else "FAIL"
            assert record.outputs["status"] == want, (exercise, criterion, solution,
                                                      record.outputs["output"][-2000:])
            # decided by the results the test runner wrote (pytest, go test -json, node --test),
            # not by an exit code: a golden cell's tests passed (node --test reports the ones
            # its name pattern leaves out as skipped), an original cell's failed
            assert record.outputs["evidence"] == "results", (exercise, criterion, solution)
            outcomes = {t["outcome"] for t in record.outputs["tests"]}
            if solution == "golden":
                assert "passed" in outcomes and outcomes <= {"passed", "skipped"}, (
                    exercise, criterion, record.outputs["tests"])
            else:
                assert "failed" in outcomes, (exercise, criterion, record.outputs["tests"])
        assert out["grading"]["toolchain"] == {"python-fastapi": "python", "sql-postgresql":
                                               "python", "node-express": "node", "go": "go"}[name]
