"""TaskPool keeps at least min_available ready tasks, adds them in batches within max_total,
never restarts or reuses an id, and counts deployed and failed tasks right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from doubles.content import COMPETENCIES, SCENARIO, needs_git

from runner.address import parse_address
from runner.connections import Connections
from runner.kinds.base import Context, Expansion
from runner.kinds.task_pool import TaskPoolKind, TaskPoolSettings, census, to_add
from runner.state.base import MemoryFacts, Record
from runner.state.facts import POOL_NEXT_ID
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = needs_git

POOL = "task_pool.fastapi"


def record(address: str, kind: str = "task", status: str = "ok", parent: str | None = POOL,
           settings: Any = None, outputs: dict[str, Any] | None = None) -> Record:
    return Record(address=address, kind=kind, status=status, fingerprint={}, settings=settings,
                  outputs=outputs or {}, parent=parent)


def expand(tmp_path: Path, records: list[Record], facts: MemoryFacts | None = None,
           **settings: Any) -> list[int]:
    ws = Workspace(root=tmp_path, config=WorkspaceConfig())
    ctx = Context(workspace=ws, address=parse_address(POOL), connections=Connections(),
                  recorded={r.address: r for r in records}, facts=facts or MemoryFacts())
    base = {"competencies": ["python-fastapi"], "background": "shop", "min_available": 2,
            "max_total": 10, "batch": 1}
    written = {**base, **settings}
    children = TaskPoolKind().expand(ctx, TaskPoolSettings.model_validate(written),
                                     Expansion(raw=written))
    return [int(c.key[0]) for c in children]


@pytest.mark.parametrize("settings, ready, pending, existing, added", [
    ({"min_available": 3, "max_total": 10, "batch": 1}, 0, 0, 0, 3),
    ({"min_available": 3, "max_total": 10, "batch": 2}, 0, 0, 0, 4),
    ({"min_available": 3, "max_total": 10, "batch": 2}, 2, 0, 5, 2),
    ({"min_available": 3, "max_total": 4, "batch": 5}, 0, 0, 2, 2),
    ({"min_available": 3, "max_total": 10, "batch": 1}, 1, 2, 3, 0),
    ({"min_available": 0, "max_total": 10, "batch": 1}, 0, 0, 0, 0),
])
def test_to_add(settings: dict[str, int], ready: int, pending: int, existing: int,
                added: int) -> None:
    assert to_add(settings, existing, ready, pending) == added


def test_first_expansion(tmp_path: Path) -> None:
    assert expand(tmp_path, []) == [0, 1]


def test_deployed_tasks_do_not_count_as_ready(tmp_path: Path) -> None:
    records = [record(f"{POOL}[0]"), record(f"{POOL}[1]"),
               record("deployment.d1[0]", kind="deployment_replica", parent="deployment.d1",
                      settings={"task": f"{POOL}[0]"}),
               # a replica whose deploy failed deploys nothing
               record("deployment.d2[0]", kind="deployment_replica", parent="deployment.d2",
                      status="failed", settings={"task": f"{POOL}[1]"})]
    assert census(POOL, {r.address: r for r in records}) == {"ready": [1], "deployed": [0],
                                                              "failed": []}
    assert expand(tmp_path, records) == [0, 1, 2]


def test_ids_never_restart_after_a_child_is_gone(tmp_path: Path) -> None:
    pool = record(POOL, kind="task_pool", parent=None, outputs={"next_id": 5})
    records = [pool, record(f"{POOL}[3]")]  # 0-2 and 4 were destroyed
    assert expand(tmp_path, records) == [3, 5]


def test_ids_go_on_from_the_next_id_the_state_remembers(tmp_path: Path) -> None:
    facts = MemoryFacts()
    facts.next_id(POOL_NEXT_ID, POOL, count=0, floor=7)  # the pool was destroyed at 7
    facts.next_id(POOL_NEXT_ID, "task_pool.other", count=0, floor=30)
    assert expand(tmp_path, [], facts) == [7, 8]
    assert expand(tmp_path, [record(f"{POOL}[9]")], facts, min_available=3) == [9, 10, 11]


def test_failed_children_are_retried_not_multiplied(tmp_path: Path) -> None:
    records = [record(f"{POOL}[0]", status="failed"), record(f"{POOL}[1]", status="failed")]
    assert expand(tmp_path, records) == [0, 1]


def test_max_total_caps_the_pool(tmp_path: Path) -> None:
    records = [record(f"{POOL}[{i}]", status="failed") for i in range(3)]
    # a batch of 2 would make 5: the cap keeps it at 4
    assert expand(tmp_path, records, min_available=4, max_total=4, batch=2) == [0, 1, 2, 3]


SPEC = f"""
apiVersion: taskform/v1
kind: ScenarioSet
metadata: {{name: fastapi}}
spec:
  competencies: [python-fastapi]
  scenarios: ["{SCENARIO}", "{SCENARIO.replace("catalogue", "order")}"]
---
apiVersion: taskform/v1
kind: TaskPool
metadata: {{name: fastapi}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenarios: fastapi
  min_available: 2
  max_total: 5
"""


def test_pool_end_to_end(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SPEC, "pool.yaml")
    plan = ws.cli("plan")
    assert "+ task_pool.fastapi[0]  (task, create)" in plan.stdout
    assert "+ task_pool.fastapi[1]  (task, create)" in plan.stdout
    assert "task_pool.fastapi[2]" not in plan.stdout
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    records = ws.state().records()
    pool = records[POOL].outputs
    assert (pool["ids"], pool["ready"], pool["next_id"]) == ([0, 1], [0, 1], 2)
    first, second = (records[f"{POOL}[{i}]"].outputs for i in (0, 1))
    assert first["repo"] == "fastapi-0" and second["repo"] == "fastapi-1"
    assert first["scenario"] != second["scenario"]  # children take the scenarios in turn
    assert "No changes." in ws.cli("plan").stdout
    # a task taken out of the pool (forgotten) is replaced by a new id, never by id 0 again
    assert ws.cli("state", "rm", f"{POOL}[0]").exit_code == 0
    plan = ws.cli("plan")
    assert "+ task_pool.fastapi[2]  (task, create)" in plan.stdout
    assert "task_pool.fastapi[0]" not in plan.stdout
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert ws.state().records()[POOL].outputs["ids"] == [1, 2]


def test_ids_do_not_restart_when_the_pool_is_made_again(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SPEC, "pool.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert ws.cli("destroy", "-auto-approve").exit_code == 0
    assert (ws.root / ".taskform/repos/fastapi-0.git/HEAD").is_file()  # kept by default
    assert POOL not in ws.state().records()
    assert ws.state().fact(POOL_NEXT_ID, POOL) == 2  # in the state, not a side file
    assert not (ws.root / ".taskform/pools").exists()
    plan = ws.cli("plan")
    assert "+ task_pool.fastapi[2]  (task, create)" in plan.stdout
    assert "+ task_pool.fastapi[3]  (task, create)" in plan.stdout
    assert "task_pool.fastapi[0]" not in plan.stdout


def test_a_next_id_an_older_taskform_kept_in_a_side_file_is_kept(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SPEC, "pool.yaml")
    ws.write(".taskform/pools/fastapi.json", '{"next_id": 4}\n')  # as it wrote it
    plan = ws.cli("plan")
    assert "+ task_pool.fastapi[4]  (task, create)" in plan.stdout
    assert "+ task_pool.fastapi[5]  (task, create)" in plan.stdout
    assert "task_pool.fastapi[0]" not in plan.stdout
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert ws.state().fact(POOL_NEXT_ID, POOL) == 6


def test_adding_a_scenario_keeps_the_pool_s_tasks(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SPEC, "pool.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    ws.spec(SPEC.replace('"]\n---', f'", "{SCENARIO.replace("catalogue", "invoice")}"]\n---'),
            "pool.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0
    assert "task_pool.fastapi[0]: unchanged" in result.stdout
    assert "task_pool.fastapi[1]: unchanged" in result.stdout
