"""`verify: docker` on a Task (and through a TaskPool to its children): the task expands into its
grading pipeline (draft, grading image, locked-down pool, rubric step over golden + original
with the gates), graded on the real engine before anything is published. A task whose golden
patch fails a criterion is recorded failed naming it, is never published, and apply exits 1; a
changed scenario regenerates and re-verifies only its own task; a second plan is quiet."""

from __future__ import annotations

import re
import shutil
import uuid
from typing import Any

import pytest
from doubles.content import COMPETENCIES, SCENARIO, clone, files_of, needs_git

from runner.address import parse_address
from runner.content.taskdir import RUBRIC_NAMESPACE
from runner.content.templates import SHIPPED

pytestmark = needs_git

CRITERIA = ("validation", "pagination", "errors")


def task(name: str, scenario: str = SCENARIO, verify: str = "docker") -> str:
    return f"""
apiVersion: taskform/v1
kind: Task
metadata: {{name: {name}}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenario: {{text: "{scenario}"}}
  verify: {verify}
"""


def rubric_id(task_address: str, criterion: str) -> str:
    return str(uuid.uuid5(RUBRIC_NAMESPACE, f"{task_address}/{criterion}"))


def gradings(ws: Any, step: str) -> dict[tuple[str, str], Any]:
    """The recorded gradings of a rubric step that is itself a child, by (criterion, solution)."""
    parent = parse_address(step)
    out = {}
    for address, record in ws.state().records().items():
        found = parse_address(address)
        if record.kind == "rubric_shell" and (found.parts, found.key[:-2]) == (parent.parts,
                                                                               parent.key):
            out[tuple(str(k) for k in found.key[-2:])] = record
    return out


def statuses(ws: Any, task_address: str, step: str) -> dict[tuple[str, str], str]:
    """Each grading's status, criteria named by their scaffold id instead of the rubric's UUID."""
    names = {rubric_id(task_address, c): c for c in CRITERIA}
    return {(names[c], s): (r.outputs.get("status") if r.status == "ok" else "ERROR")
            for (c, s), r in gradings(ws, step).items()}


ALL_GOOD = {**{(c, "golden"): "PASS" for c in CRITERIA},
            **{(c, "original"): "FAIL" for c in CRITERIA}}


def test_the_plan_lists_the_grading_pipeline_and_a_pool_passes_verify_on(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(task("items-api", verify="{docker: {pool_size: 3}}") + """---
apiVersion: taskform/v1
kind: TaskPool
metadata: {name: pool}
spec: {competencies: [python-fastapi], background: shop, min_available: 1, max_total: 1,
       verify: docker}
""", "tasks.yaml")
    lines = [line for line in ws.cli("plan").output.splitlines()
             if line.startswith(("  + task", "      # its"))]
    assert lines == [
        "  + task.items-api  (task, create)",
        '  + task.items-api["draft"]  (task_draft, create)',
        '  + task.items-api["grade"]  (rubric_set, create)',
        "      # its children are known only during apply: task_dir read outputs not known yet",
        '  + task.items-api["image"]  (docker_build, create)',
        '  + task.items-api["pool",0]  (docker_pool_member, create)',
        '  + task.items-api["pool",1]  (docker_pool_member, create)',
        '  + task.items-api["pool",2]  (docker_pool_member, create)',
        '  + task.items-api["pool"]  (docker_pool, create)',
        "  + task_pool.pool  (task_pool, create)",
        '  + task_pool.pool[0,"draft"]  (task_draft, create)',
        '  + task_pool.pool[0,"grade"]  (rubric_set, create)',
        "      # its children are known only during apply: task_dir read outputs not known yet",
        '  + task_pool.pool[0,"image"]  (docker_build, create)',
        '  + task_pool.pool[0,"pool",0]  (docker_pool_member, create)',
        '  + task_pool.pool[0,"pool",1]  (docker_pool_member, create)',
        '  + task_pool.pool[0,"pool"]  (docker_pool, create)',
        "  + task_pool.pool[0]  (task, create)"]
    graph = ws.cli("graph").output
    assert '"task.items-api[\\"pool\\"]" -> "task.items-api[\\"grade\\"]";' in graph
    assert '"task.items-api[\\"draft\\"]" -> "task.items-api[\\"image\\"]";' in graph


def test_a_draft_failing_a_quality_gate_fails_the_task_and_nothing_is_built(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(task("items-api"), "task.yaml")
    scaffold = ws.root / "templates/tasks/python-fastapi"
    shutil.copytree(SHIPPED / "tasks/python-fastapi", scaffold)
    (scaffold / "exercises/items-api/starter/SOLUTION.md").write_text("the answer\n")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    failure = "1 quality gate(s) failed (leaks); the task was not published"
    assert re.search(r'\ntask.items-api\["draft"\]: FAILED \[[0-9.]+s\]: ' + re.escape(failure),
                     result.stdout)
    assert '    5 resources not applied because task.items-api["draft"] failed (-v lists them)' \
        in result.stdout  # image, pool, its members and grade
    assert f'task.items-api: FAILED: task.items-api["draft"] failed: {failure}' in result.stdout
    record = ws.state().records()["task.items-api"]
    assert record.status == "failed"
    assert record.error == f'task.items-api["draft"] failed: {failure}'
    assert record.output == (
        "  leaks: starter file SOLUTION.md looks like solution or grading material\n"
        'attempts: 1; usage: {"calls": 2, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}\n'
        "the rejected generation is kept in .taskform/tasks/items-api.failed")
    assert not (ws.root / ".taskform/repos").exists()
    listing = ws.cli("tasks", "list").output.splitlines()
    assert listing[0].startswith("task.items-api  failed    Python - FastAPI")
    assert listing[1] == f'    task.items-api["draft"] failed: {failure}'


@pytest.mark.docker
def test_a_verified_task_is_graded_then_published(dws) -> None:  # type: ignore[no-untyped-def]
    dws.spec(COMPETENCIES, "competencies.yaml")
    dws.spec(task("items-api", verify="{docker: {report: reports/items-api.html}}"), "task.yaml")
    result = dws.apply()
    assert "Complete: 17 created, 0 updated, 0 replaced, 0 destroyed." in result.output
    assert 'task.items-api["grade"]: planned 6 children during apply (6 to apply)' in result.output
    assert statuses(dws, "task.items-api", 'task.items-api["grade"]') == ALL_GOOD
    # the rubric's commands really ran the held-out tests with python3 -m pytest from /app,
    # decided by the results pytest wrote, beside a canary that failed as it must
    cells = gradings(dws, 'task.items-api["grade"]')
    validation = rubric_id("task.items-api", "validation")
    named = ["tests/held_out/test_validation.py::test_valid_item_is_created_with_default_quantity",
             "tests/held_out/test_validation.py::test_each_bad_field_is_named",
             "tests/held_out/test_validation.py::test_rejected_items_are_not_stored"]
    for solution, outcome in (("golden", "passed"), ("original", "failed")):
        graded = cells[validation, solution].outputs
        assert graded["evidence"] == "results", solution
        assert [(t["id"], t["outcome"]) for t in graded["tests"]] == [
            (name, outcome) for name in named], solution
    assert re.search(r"\n1 failed, 3 passed in [0-9.]+s\n",
                     cells[validation, "golden"].outputs["output"])  # the canary's failure
    out = dws.outputs("task.items-api")
    verification = out["verification"]
    assert (verification["golden"]["earned"], verification["golden"]["verdict"]) == (100, "pass")
    assert (verification["original"]["earned"], verification["original"]["verdict"]) == (0, "fail")
    assert verification["gates"]["ok"] is True
    assert verification["image_id"] == dws.outputs('task.items-api["image"]')["image_id"]
    assert verification["report"] == "reports/items-api.html"
    assert (dws.root / "reports/items-api.html").is_file()
    # the published starter is exactly the project the grading image was built from
    starter = clone(dws.root / out["published"]["starter"]["path"], dws.root.parent / "starter")
    assert files_of(starter) == files_of(dws.root / out["grading"]["project"])
    assert f'task.items-api["grade"]  (3 criteria × 2 solutions · rubric ' \
           f'{out["grading"]["rubrics"]})' in dws.cli("report", "task.items-api").output
    assert dws.cli("tasks", "list").output.splitlines()[0].startswith(
        "task.items-api  ready     Python - FastAPI")
    assert dws.plan_lines() == ["No changes. 17 resources match the specs."]
    assert len(dws.labelled("containers")) == 2
    destroyed = dws.cli("destroy", "-auto-approve")
    assert destroyed.exit_code == 0, destroyed.output
    assert dws.labelled("containers") == [] and dws.labelled("images") == []
    assert not (dws.root / "reports/items-api.html").exists()


@pytest.mark.docker
def test_a_task_whose_golden_patch_fails_is_failed_naming_the_criterion(dws) -> None:  # type: ignore[no-untyped-def]
    dws.spec(COMPETENCIES, "competencies.yaml")
    dws.spec(task("items-api"), "task.yaml")
    # a scaffold whose reference solution pages 10 items by default where the tests want 20
    scaffold = dws.root / "templates/tasks/python-fastapi"
    shutil.copytree(SHIPPED / "tasks/python-fastapi", scaffold)
    main = scaffold / "exercises/items-api/solution/app/main.py"
    main.write_text(main.read_text().replace("Query(20, ge=1", "Query(10, ge=1"))
    pagination = rubric_id("task.items-api", "pagination")
    for _ in range(2):  # and again: still failed, still nothing published
        result = dws.cli("apply", "-auto-approve")
        assert result.exit_code == 1, result.output
        record = dws.state().records()["task.items-api"]
        assert record.status == "failed"
        assert record.error == (
            'task.items-api["grade"] failed: validation gates failed: the golden patch fails 1 '
            f"criterion: {pagination} (FAIL)")
        assert record.output == (
            f"the golden patch fails 1 criterion: {pagination} (FAIL)\ncriteria:\n"
            f"  #2 {pagination}: GET /items pages with limit (1-100, default 20) and offset "
            "(>= 0), reports the total, and rejects out-of-range values with 422.")
        assert not (dws.root / ".taskform/repos").exists()
    assert statuses(dws, "task.items-api", 'task.items-api["grade"]') == {
        **ALL_GOOD, ("pagination", "golden"): "FAIL"}
    listing = dws.cli("tasks", "list").output.splitlines()
    assert listing[0].startswith("task.items-api  failed    Python - FastAPI")
    assert listing[-1] == "1 task(s): 0 ready, 0 deployed, 1 failed"
    # the scaffold fixed: generated again, graded again, published
    main.write_text(main.read_text().replace("Query(10, ge=1", "Query(20, ge=1"))
    dws.apply()
    assert statuses(dws, "task.items-api", 'task.items-api["grade"]') == ALL_GOOD
    assert (dws.root / ".taskform/repos/items-api.git").is_dir()
    assert dws.state().records()["task.items-api"].status == "ok"


@pytest.mark.docker
def test_a_changed_scenario_regenerates_and_reverifies_only_its_task(dws) -> None:  # type: ignore[no-untyped-def]
    dws.spec(COMPETENCIES, "competencies.yaml")
    pool = """---
apiVersion: taskform/v1
kind: TaskPool
metadata: {name: pool}
spec: {competencies: [python-fastapi], background: shop, min_available: 1, max_total: 1,
       generator: {exercise: items-api}, verify: {docker: {pool_size: 1}}}
"""
    dws.spec(task("orders-api", verify="{docker: {pool_size: 1}}") + pool, "tasks.yaml")
    dws.apply()
    assert statuses(dws, "task_pool.pool[0]", 'task_pool.pool[0,"grade"]') == ALL_GOOD
    assert dws.outputs("task_pool.pool[0]")["verification"]["gates"]["ok"] is True
    before = {a: r.run_id for a, r in dws.state().records().items()}
    dws.spec(task("orders-api", SCENARIO.replace("catalogue API", "orders API"),
                  verify="{docker: {pool_size: 1}}") + pool, "tasks.yaml")
    changed = [line.split("  (")[0].strip() for line in dws.plan_lines()
               if line.startswith(("  ~ ", "  -/+ "))]
    assert changed == ["~ task.orders-api", '~ task.orders-api["draft"]',
                       '~ task.orders-api["grade"]', '~ task.orders-api["image"]',
                       '-/+ task.orders-api["pool",0]', '~ task.orders-api["pool"]']
    result = dws.apply()
    assert "task.orders-api: updated" in result.output
    assert "task_pool" not in result.output.split("\n\n", 1)[1].split("Complete:")[0]
    after = {a: r.run_id for a, r in dws.state().records().items()}
    regraded = {a for a in after if a.startswith('task.orders-api["grade",')
                and after[a] != before[a]}
    assert len(regraded) == 6  # a new image: every grading of this task ran again
    assert all(after[a] == before[a] for a in after if a.startswith("task_pool."))
    assert "orders API" in dws.outputs("task.orders-api")["scenario"]
    assert statuses(dws, "task.orders-api", 'task.orders-api["grade"]') == ALL_GOOD
    assert dws.plan_lines() == ["No changes. 29 resources match the specs."]


@pytest.mark.docker
def test_verify_added_to_a_published_task_grades_what_it_has_and_removed_drops_it(dws) -> None:  # type: ignore[no-untyped-def]
    # another exercise of the catalogue, with its own scenario
    spec = """
apiVersion: taskform/v1
kind: Task
metadata: {name: streams}
spec: {competencies: [python-fastapi], background: shop, generator: {exercise: api-keys}}
"""
    dws.spec(COMPETENCIES, "competencies.yaml")
    dws.spec(spec, "task.yaml")
    dws.apply()
    commit = dws.outputs("task.streams")["published"]["starter"]["commit"]
    dws.spec(spec.replace("api-keys}}", "api-keys},\n       verify: {docker: {pool_size: 1}}}"),
             "task.yaml")
    result = dws.apply("-v")
    assert 'task.streams["draft"]: | reusing the task generated earlier from the same inputs' \
        in result.output
    assert "Complete: 11 created, 1 updated, 0 replaced, 0 destroyed." in result.output
    graded = sorted((s, r.outputs["status"]) for (_, s), r in
                    gradings(dws, 'task.streams["grade"]').items())
    assert graded == [("golden", "PASS")] * 3 + [("original", "FAIL")] * 3
    out = dws.outputs("task.streams")
    assert out["published"]["starter"]["commit"] == commit and not out["published"]["starter"][
        "changed"]
    assert out["verification"]["golden"]["verdict"] == "pass"
    assert dws.plan_lines() == ["No changes. 16 resources match the specs."]
    dws.spec(spec, "task.yaml")
    result = dws.apply()
    assert "Complete: 0 created, 1 updated, 0 replaced, 11 destroyed." in result.output
    assert dws.labelled("containers") == [] and dws.labelled("images") == []
    assert "verification" not in dws.outputs("task.streams")
    assert dws.outputs("task.streams")["published"]["starter"]["commit"] == commit
    assert dws.plan_lines() == ["No changes. 5 resources match the specs."]


def test_verify_docker_is_refused_for_a_task_graded_by_review(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec("""
apiVersion: taskform/v1
kind: Task
metadata: {name: streams}
spec: {competencies: [java, kafka], background: shop, verify: docker}
""", "task.yaml")
    result = ws.cli("validate")
    assert (result.exit_code, result.stderr) == (1, (
        "Error: 1 error in the specs:\n  specs/task.yaml:1:1: task.streams: verify: docker runs "
        "held-out tests, but this task is graded by review (scaffold generic): remove verify\n"))
    applied = ws.cli("apply", "-auto-approve")
    assert applied.exit_code == 1
    assert ('task.streams: FAILED: task.streams["draft"] failed: task.streams is graded by review '
            "(java-kafka, scaffold generic): it has no held-out tests for `verify: docker` to "
            "run; remove verify") in applied.stdout
