"""A generated task deployed onto a droplet: its starter files (with run and reset scripts laid
over them) on the droplet, the task counted as deployed, and its pool topped up."""

from __future__ import annotations

import pytest
from doubles.content import COMPETENCIES, SCENARIO, needs_git
from droplet_fixtures import Lab

pytestmark = [pytest.mark.ssh, needs_git]

POOL = f"""
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
  min_available: 1
  max_total: 3
"""
DEPLOY = """
apiVersion: taskform/v1
kind: Deployment
metadata: {name: exam, labels: {competency: python-fastapi}}
spec:
  task: task_pool.fastapi[0]
  overlay: {dir: deploy}
  pool: {labels: {region: lab}}
  health: {command: "test -f README.md && test -f app.pid"}
  timeout: 30s
"""


def test_a_deployed_task_leaves_its_pool_and_the_pool_tops_up(lab: Lab) -> None:
    lab.app("deploy")
    (lab.root / "deploy" / "index.html").unlink()
    lab.spec(COMPETENCIES, "competencies.yaml")
    lab.spec(POOL, "pool.yaml")
    lab.spec(lab.droplet(0, "lab-1") + "---\n" + DEPLOY, "deploy.yaml")
    result = lab.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    records = lab.state().records()
    task = records["task_pool.fastapi[0]"].outputs
    replica = records["deployment.exam[0]"].outputs
    starter = sorted(task["files"]["starter"])
    assert replica["task"] == "task_pool.fastapi[0]"
    assert sorted(replica["files"]) == sorted({*starter, "kill.sh", "run.sh"})
    listed = lab.cli("tasks", "list", "--json").output
    assert '"status": "deployed"' in listed and '"status": "ready"' not in listed
    # the pool keeps one task ready, not deployed: the next plan adds one
    plan = lab.cli("plan").output
    assert "  + task_pool.fastapi[1]  (task, create)" in plan
    assert "task_pool.fastapi[2]" not in plan
    result = lab.cli("apply", "-auto-approve", "-target", "task_pool.fastapi")
    assert result.exit_code == 0, result.output
    pool = lab.state().records()["task_pool.fastapi"].outputs
    assert (pool["ready"], pool["deployed"]) == ([1], [0])
    # the seed's `deploy_task --competency-id` is a label selection
    plan = lab.cli("plan", "-l", "competency=python-fastapi").output
    assert "No changes." in plan
