"""`taskform tasks list`: the catalogue from the state, filtered, as text or JSON, with the
reasons of failed tasks."""

from __future__ import annotations

import json

from doubles.content import COMPETENCIES, needs_git

pytestmark = needs_git

SPECS = """
apiVersion: taskform/v1
kind: Task
metadata: {name: items-api}
spec: {competencies: [python-fastapi], background: shop}
---
apiVersion: taskform/v1
kind: Task
metadata: {name: streams}
spec: {competencies: [java, kafka], background: shop}
---
apiVersion: taskform/v1
kind: Task
metadata: {name: blank}
spec: {competencies: [python-fastapi], background: shop, scenario: {text: ""}}
---
apiVersion: taskform/v1
kind: TaskPool
metadata: {name: pool}
spec: {competencies: [python-fastapi], background: shop, min_available: 1, max_total: 2}
"""


def test_list_filters_and_json(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SPECS, "tasks.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 1  # blank has an empty scenario
    result = ws.cli("tasks", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    repos = ws.root / ".taskform" / "repos"
    assert lines[0] == "task.blank         failed    Python - FastAPI              -"
    assert lines[1] == ("    1 quality gate(s) failed (review); the task was not published")
    assert lines[2] == (f"task.items-api     ready     Python - FastAPI              "
                        f"{(repos / 'items-api.git').as_uri()}")
    assert lines[3] == (f"task.streams       ready     Java, Kafka                   "
                        f"{(repos / 'streams.git').as_uri()}  (graded by review)")
    assert lines[4].startswith("task_pool.pool[0]  ready     Python - FastAPI ")
    assert lines[-1] == "4 task(s): 3 ready, 0 deployed, 1 failed"
    failed = ws.cli("tasks", "list", "--status", "failed", "--json")
    rows = json.loads(failed.output)
    assert [r["address"] for r in rows] == ["task.blank"]
    assert rows[0]["competency_refs"] == ["python-fastapi"] and rows[0]["starter"] is None
    assert rows[0]["gates"] == {}  # failed before recording outputs: the reasons are its error
    kafka = json.loads(ws.cli("tasks", "list", "--competency", "KAFKA", "--json").output)
    assert [r["address"] for r in kafka] == ["task.streams"]
    by_ref = json.loads(ws.cli("tasks", "list", "-c", "python-fastapi", "--json").output)
    assert [r["address"] for r in by_ref] == ["task.blank", "task.items-api", "task_pool.pool[0]"]
    assert by_ref[2]["pool"] == "task_pool.pool"
    assert by_ref[1]["gates"]["review"] == "passed"
    assert (by_ref[1]["grading"], kafka[0]["grading"]) == ("tests", "review")
    none = ws.cli("tasks", "list", "--status", "deployed")
    assert none.output == "No tasks recorded that match.\n"


def test_empty_state(ws) -> None:  # type: ignore[no-untyped-def]
    assert ws.cli("tasks", "list").output == "No tasks recorded.\n"
