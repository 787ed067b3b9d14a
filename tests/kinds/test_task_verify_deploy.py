"""`verify: deploy` on a Task: before it is published, the generated task is deployed to a leased
droplet (real sshd, this machine's Docker engine), its health check waited for, its kill.sh run,
and nothing of it may be left: its folder and its labelled containers gone, its slot free. A
kill.sh that leaves its container, or a health check that never passes, fails the Task naming
what went wrong, nothing is published, and taskform clears away what the check left.

The shipped scaffold's run.sh/kill.sh use `docker compose` and a build that downloads packages;
the workspace lays its own over them: a labelled container of the local base image."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from docker_fixtures import BASE_IMAGE
from doubles.content import COMPETENCIES, SCENARIO, needs_git
from droplet_fixtures import Lab

from runner.content.templates import SHIPPED
from runner.deploy import claims
from runner.deploy.identity import STATE_KEY, WORKSPACE_ID
from runner.deploy.layout import deployment_name, lease_id
from runner.deploy.slots import Holder
from runner.state.facts import StoredFacts

pytestmark = [pytest.mark.ssh, pytest.mark.docker, needs_git]

RUN = f"""#!/bin/sh
# start the task: one small container labelled for this deployment
set -eu
docker run -d --label "$TASKFORM_LABEL" --network none {BASE_IMAGE} sleep 600 > container.id
echo "{{{{ title }}}} started"
"""
KILL = """#!/bin/sh
# remove what run.sh made and nothing else: this deployment's containers, then this directory
DIR="$(cd "$(dirname "$0")" && pwd)"
c=$(docker ps -aq --filter "label=$TASKFORM_LABEL")
[ -z "$c" ] || docker rm -f $c
cd / && rm -rf -- "$DIR"
"""
LEAVES_CONTAINER = """#!/bin/sh
# forgets the container
DIR="$(cd "$(dirname "$0")" && pwd)"
cd / && rm -rf -- "$DIR"
"""
# as `docker compose -p tf-<slug> up` labels what it starts from the folder (no compose here)
RUN_OWN_PROJECT = f"""#!/bin/sh
set -eu
docker run -d --label com.docker.compose.project=tf-{{{{ slug }}}} \\
  --label "com.docker.compose.project.working_dir=$(pwd)" --network none {BASE_IMAGE} \\
  sleep 600 > container.id
"""
HEALTHY = ("{command: 'docker ps -q --filter id=$(cat container.id) --filter status=running "
           "| grep -q .', retries: 5, interval: 1s}")
CHECK = 'task.items-api["deploy"]'
NEVER = "{command: 'test -f never-there', retries: 2, interval: 0.2s}"


def task(health: str) -> str:
    return f"""
apiVersion: taskform/v1
kind: Task
metadata: {{name: items-api}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenario: {{text: "{SCENARIO}"}}
  verify: {{deploy: {{droplet: lab-1, health: {health}, timeout: 60s}}}}
"""


def setup(lab: Lab, *, run: str = RUN, kill: str = KILL, health: str = HEALTHY) -> None:
    scaffold = lab.root / "templates/tasks/python-fastapi"
    shutil.copytree(SHIPPED / "tasks/python-fastapi", scaffold)
    (scaffold / "common/run.sh.j2").write_text(run)
    (scaffold / "common/kill.sh.j2").write_text(kill)
    lab.spec(COMPETENCIES, "competencies.yaml")
    lab.spec(lab.droplet(0, "lab-1", docker=True) + "---\n" + task(health), "task.yaml")


def labelled(label: str) -> list[str]:
    return subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"],
                          capture_output=True, text=True, timeout=60, check=True).stdout.split()


def label_of(lab: Lab) -> str:
    """The label of the check's containers: from the state's id and the check's address."""
    wsid = lab.state().facts(WORKSPACE_ID)[STATE_KEY]
    return f"taskform.deployment={deployment_name(wsid, CHECK)}"


def deployments(lab: Lab) -> list[str]:
    return [p for p in lab.tree() if p.startswith("lab-1/deployments/")]


def slots(lab: Lab) -> list[str]:
    return [p for p in lab.tree() if p.startswith("lab-1/.taskform/slots/")]


def test_a_task_that_deploys_and_leaves_nothing_is_published(lab: Lab) -> None:
    setup(lab)
    plan = lab.cli("plan").output
    assert '  + task.items-api["deploy"]  (task_deploy, create)' in plan
    assert '"task.items-api[\\"draft\\"]" -> "task.items-api[\\"deploy\\"]";' in \
        lab.cli("graph").output
    result = lab.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    records = lab.state().records()
    checked = records['task.items-api["deploy"]'].outputs
    assert checked["droplet"] == "lab-1" and checked["slot"] == 0
    assert checked["health_tries"] >= 1
    name = label_of(lab).partition("=")[2]
    folder = f"{lab.remote}/lab-1/deployments/{name}"
    assert checked["label"] == label_of(lab)
    assert checked["checked"] == {"directory": folder, "container_labels": [
        label_of(lab), f"com.docker.compose.project={name}",
        f"com.docker.compose.project.working_dir={folder}"]}
    assert records["task.items-api"].outputs["verification"]["deploy"] == {
        "step": 'task.items-api["deploy"]', "droplet": "lab-1", "slot": 0,
        "health_tries": checked["health_tries"], "checked": checked["checked"]}
    assert records["task.items-api"].outputs["published"]
    assert labelled(checked["label"]) == []
    assert deployments(lab) == [] and slots(lab) == []
    assert "No changes." in lab.cli("plan").output


def test_a_kill_sh_that_leaves_its_container_fails_the_task(lab: Lab) -> None:
    setup(lab, kill=LEAVES_CONTAINER)
    result = lab.cli("apply", "-auto-approve")
    assert result.exit_code == 1, result.output
    record = lab.state().records()['task.items-api["deploy"]']
    label = label_of(lab)
    assert re.fullmatch(r"kill\.sh left on droplet lab-1: container \S+ \(Up [^)]*\) labelled "
                        + re.escape(label) + r" \(taskform removed them; kill\.sh must "
                        r"remove its containers and its own directory\)", record.error or "")
    task = lab.state().records()["task.items-api"]
    assert task.status == "failed"
    assert task.error == f'task.items-api["deploy"] failed: {record.error}'
    assert not task.outputs.get("published")
    assert not (lab.root / ".taskform/repos").exists()
    assert labelled(label) == []  # cleared away after the check
    assert deployments(lab) == [] and slots(lab) == []


def test_a_container_compose_started_from_the_folder_is_seen_under_its_own_project(
        lab: Lab) -> None:
    setup(lab, run=RUN_OWN_PROJECT, kill=LEAVES_CONTAINER)
    assert lab.cli("apply", "-auto-approve").exit_code == 1
    error = lab.state().records()['task.items-api["deploy"]'].error or ""
    folder = f"{lab.remote}/lab-1/deployments/{label_of(lab).partition('=')[2]}"
    left = f"com.docker.compose.project.working_dir={folder}"
    assert re.fullmatch(r"kill\.sh left on droplet lab-1: container \S+ \(Up [^)]*\) labelled "
                        + re.escape(left) + r" \(taskform removed them; .*\)", error), error
    assert labelled(left) == [] and deployments(lab) == [] and slots(lab) == []
    assert not (lab.root / ".taskform/repos").exists()


def test_a_health_check_that_never_passes_fails_the_task_and_is_cleared_away(lab: Lab) -> None:
    setup(lab, health=NEVER)
    result = lab.cli("apply", "-auto-approve")
    assert result.exit_code == 1, result.output
    record = lab.state().records()['task.items-api["deploy"]']
    assert record.error == ("health check `test -f never-there` failed 3 time(s) on droplet "
                            "lab-1; last: exited with code 1")
    assert lab.state().records()["task.items-api"].status == "failed"
    assert not (lab.root / ".taskform/repos").exists()
    assert labelled(label_of(lab)) == []  # the container run.sh started was removed
    assert deployments(lab) == [] and slots(lab) == []


def test_destroy_frees_what_an_interrupted_check_still_holds(lab: Lab) -> None:
    setup(lab)
    assert lab.cli("apply", "-auto-approve").exit_code == 0
    # as an apply killed between run.sh and kill.sh leaves it: slot held, folder, a container
    wsid = lab.state().facts(WORKSPACE_ID)[STATE_KEY]
    name, lease = deployment_name(wsid, CHECK), lease_id(wsid, CHECK)
    slot = lab.remote / "lab-1/.taskform/slots/0"
    slot.mkdir(parents=True)
    (slot / "holder.json").write_bytes(Holder(0, lease, CHECK, directory=name).as_json())
    (lab.remote / "lab-1/deployments" / name).mkdir(parents=True)
    subprocess.run(["docker", "run", "-d", "--label", f"taskform.deployment={name}",
                    "--network", "none", BASE_IMAGE, "sleep", "600"], check=True,
                   capture_output=True, timeout=120)
    StoredFacts(lab.state(), "test").put(claims.PLACEMENT, CHECK, {
        "droplet": "lab-1", "slot": 0, "name": name, "lease": lease})
    assert lab.cli("deployments", "leases").output.startswith(
        'lab-1:0  task.items-api["deploy"]  this workspace  since ')
    refused = lab.cli("deployments", "free", "lab-1", "0", "--yes")
    assert "is held by task.items-api[\"deploy\"], recorded in this workspace: destroy it" in \
        refused.stderr
    result = lab.cli("destroy", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert labelled(label_of(lab)) == []
    assert deployments(lab) == [] and slots(lab) == []
