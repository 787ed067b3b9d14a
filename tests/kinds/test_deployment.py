"""Deployments onto real sshd droplets (tests/droplet_fixtures.py): deploy and health, a no-op
re-apply, a changed file, reset on destroy, drift, capacity, and scripts refused."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from droplet_fixtures import HEALTH, Lab

pytestmark = pytest.mark.ssh


def web(lab: Lab, *, replicas: int = 1, where: str = "pool: {labels: {region: lab}}",
        extra: str = "") -> str:
    return (f"apiVersion: taskform/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n"
            f"  source: {{dir: app}}\n  {where}\n  replicas: {replicas}\n"
            f"  health: {{command: {json.dumps(HEALTH)}, retries: 40, interval: 0.1s}}\n"
            f"  timeout: 30s\n  env: {{RESETS: {lab.resets_log}}}\n{extra}")


def resets(lab: Lab) -> list[str]:
    log = lab.resets_log
    return log.read_text().splitlines() if log.exists() else []


def apply(lab: Lab, *args: str) -> str:
    result = lab.cli("apply", "-auto-approve", *args)
    assert result.exit_code == 0, result.output
    return str(result.output)


def plan_lines(lab: Lab, *args: str) -> list[str]:
    result = lab.cli("plan", *args)
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines()
            if line.startswith(("  + ", "  ~ ", "  - ", "  -/+ ", "      # ", "Plan:", "No "))]


def outputs(lab: Lab, address: str) -> dict:  # type: ignore[type-arg]
    return dict(lab.state().records()[address].outputs)


def folder(lab: Lab, address: str = "deployment.web[0]") -> Path:
    return Path(outputs(lab, address)["directory"])


@pytest.fixture
def deployed(lab: Lab) -> Lab:
    lab.app()
    lab.spec(lab.droplet(0, "lab-1", capacity=2) + "---\n" + web(lab))
    apply(lab)
    return lab


def test_apply_deploys_runs_and_waits_for_health(deployed: Lab) -> None:
    out = outputs(deployed, "deployment.web[0]")
    assert (out["droplet"], out["slot"], out["uploaded"], out["ran"], out["ready"]) == \
        ("lab-1", 0, ["index.html", "kill.sh", "run.sh"], True, True)
    assert out["run_output"] == "started in slot 0"
    assert out["directory"] == f"{deployed.remote}/lab-1/deployments/{out['name']}"
    assert (folder(deployed) / "runs.log").read_text() == "run 0\n"
    assert deployed.running() == 1
    holder = json.loads((deployed.remote / "lab-1/.taskform/slots/0/holder.json").read_text())
    run = deployed.state().records()["deployment.web[0]"].run_id
    assert holder == {"lease": out["lease"], "address": "deployment.web[0]",
                      "workspace": str(deployed.root), "host": socket.gethostname(),
                      "run": run, "since": holder["since"], "directory": out["name"]}
    assert out["lease"].endswith("/deployment.web[0]") and holder["since"] <= out["deployed_at"]


def test_a_reapply_with_nothing_changed_sends_and_runs_nothing(deployed: Lab) -> None:
    names = ("index.html", "kill.sh", "run.sh")
    sent = {n: (folder(deployed) / n).stat().st_mtime_ns for n in names}
    assert plan_lines(deployed) == ["No changes. 3 resources match the specs."]
    result = deployed.cli("apply", "-auto-approve")
    assert (result.exit_code, result.output) == (
        0, "Notes (nothing to change for these):\n"
           "  droplet.lab-1: 1 of 2 slot(s) in use, 1 by this workspace\n\n"
           "No changes. 3 resources match the specs.\n")
    assert {n: (folder(deployed) / n).stat().st_mtime_ns for n in names} == sent
    assert (folder(deployed) / "runs.log").read_text() == "run 0\n"


def test_a_changed_file_is_the_only_one_sent_and_run_runs_again(deployed: Lab) -> None:
    scripts = {n: (folder(deployed) / n).stat().st_mtime_ns for n in ("run.sh", "kill.sh")}
    deployed.write("app/index.html", "hello again\n")
    assert plan_lines(deployed) == [
        "  ~ deployment.web  (deployment, update)",
        "      # deployment.web[0] will change",
        "  ~ deployment.web[0]  (deployment_replica, update)",
        "      # file index.html changed",
        "Plan: 0 to create, 2 to update, 0 to replace, 0 to destroy, 1 unchanged."]
    apply(deployed)
    out = outputs(deployed, "deployment.web[0]")
    assert (out["uploaded"], out["ran"]) == (["index.html"], True)
    assert {n: (folder(deployed) / n).stat().st_mtime_ns for n in scripts} == scripts
    assert (folder(deployed) / "index.html").read_text() == "hello again\n"
    # what run started was stopped (by kill.sh) before it ran again
    assert ((folder(deployed) / "runs.log").read_text(), resets(deployed)) == \
        ("run 0\nrun 0\n", ["reset"])
    assert deployed.running() == 1


def test_destroy_resets_and_leaves_the_droplet_as_it_was(lab: Lab) -> None:
    lab.app()
    lab.spec(lab.droplet(0, "lab-1", capacity=2))
    apply(lab)
    before = lab.tree()
    lab.spec(lab.droplet(0, "lab-1", capacity=2) + "---\n" + web(lab, replicas=2))
    apply(lab)
    assert lab.running() == 2
    assert len(lab.tree()) > len(before)
    lab.spec(lab.droplet(0, "lab-1", capacity=2))
    assert plan_lines(lab) == [
        "  - deployment.web  (deployment, destroy)", "      # removed from specs",
        "  - deployment.web[0]  (deployment_replica, destroy)", "      # removed from specs",
        "  - deployment.web[1]  (deployment_replica, destroy)", "      # removed from specs",
        "Plan: 0 to create, 0 to update, 0 to replace, 3 to destroy, 1 unchanged."]
    apply(lab)
    assert (lab.tree(), lab.running(), resets(lab)) == (before, 0, ["reset", "reset"])


def test_drift_a_folder_gone_or_a_failing_health_check_deploys_again(deployed: Lab) -> None:
    gone = folder(deployed)
    deployed.stop_leftovers()
    shutil.rmtree(gone)
    assert plan_lines(deployed) == [
        "  ~ deployment.web  (deployment, update)",
        "      # deployment.web[0] will change",
        "  ~ deployment.web[0]  (deployment_replica, update)",
        f"      # remote directory {gone} on droplet lab-1 is gone",
        "Plan: 0 to create, 2 to update, 0 to replace, 0 to destroy, 1 unchanged."]
    apply(deployed)
    assert (outputs(deployed, "deployment.web[0]")["uploaded"], deployed.running()) == \
        (["index.html", "kill.sh", "run.sh"], 1)
    deployed.stop_leftovers()
    lines = plan_lines(deployed)
    assert lines[3].startswith(f"      # health check `{HEALTH}` fails on droplet lab-1: ")
    apply(deployed)
    out = outputs(deployed, "deployment.web[0]")
    assert (out["uploaded"], out["ran"], deployed.running()) == ([], True, 1)


def test_a_pool_without_enough_free_slots_is_a_plan_error(lab: Lab) -> None:
    lab.app()
    droplets = lab.droplet(0, "lab-1") + "---\n" + lab.droplet(1, "lab-2")
    lab.spec(droplets + "---\n" + web(lab, replicas=2))
    apply(lab)
    assert sorted(outputs(lab, f"deployment.web[{i}]")["droplet"] for i in (0, 1)) == \
        ["lab-1", "lab-2"]
    lab.spec(droplets + "---\n" + web(lab, replicas=4))
    result = lab.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        "Error: deployment.web (specs/main.yaml:25:1): pool {region: lab} has 0 free slot(s) "
        "for 2 new replica(s) of deployment.web: 2 slot(s) missing (lab-1: 1 of 1 in use; "
        "lab-2: 1 of 1 in use)\n"))


def test_scripts_that_reach_beyond_their_deployment_are_refused_at_plan(lab: Lab) -> None:
    lab.app(kill="#!/bin/sh\ndocker system prune -f\n")
    lab.spec(lab.droplet(0, "lab-1") + "---\n" + web(lab))
    apply(lab, "-target", "droplet.lab-1")
    before = lab.tree()
    result = lab.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        "Error: deployment.web[0] (specs/main.yaml:13:1): kill.sh is refused before anything "
        "is sent: kill.sh:2: `docker system prune -f` prunes Docker on the whole machine "
        "(every tenant's stopped containers, images, volumes or networks). scripts act only on "
        "what their deployment made: its own folder ($TASKFORM_DIR, the working directory) and "
        "containers labelled $TASKFORM_LABEL (or the compose project $COMPOSE_PROJECT_NAME)\n"))
    assert lab.tree() == before


def test_a_droplet_holding_deployments_is_not_forgotten(lab: Lab) -> None:
    lab.app()
    lab.spec(lab.droplet(0, "lab-1") + "---\n" + lab.droplet(1, "lab-2") + "---\n" + web(lab))
    apply(lab)
    assert outputs(lab, "deployment.web[0]")["droplet"] == "lab-1"
    lab.spec(lab.droplet(1, "lab-2") + "---\n" + web(lab))
    result = lab.cli("apply", "-auto-approve", "-target", "droplet.lab-1")
    assert result.exit_code == 1
    assert "droplet.lab-1: FAILED" in result.output
    assert ("droplet lab-1 still holds deployments of this workspace: deployment.web[0] "
            "(slot 0); destroy them or move them to other droplets first, then apply again"
            ) in result.output
    apply(lab, "-target", "deployment.web")  # moves off lab-1: its pool no longer has it
    assert (outputs(lab, "deployment.web[0]")["droplet"], resets(lab)) == ("lab-2", ["reset"])
    apply(lab)
    assert "droplet.lab-1" not in lab.state().records()


def test_replace_resets_and_deploys_again_in_its_slot(deployed: Lab) -> None:
    """The seed's reset_task: reset with kill.sh, then a fresh deploy; the slot is kept."""
    before = outputs(deployed, "deployment.web[0]")
    apply(deployed, "-replace", "deployment.web[0]")
    after = outputs(deployed, "deployment.web[0]")
    assert (after["droplet"], after["slot"], after["uploaded"], resets(deployed)) == \
        ("lab-1", before["slot"], ["index.html", "kill.sh", "run.sh"], ["reset"])
    assert after["generation"] != before["generation"]
    assert ((folder(deployed) / "runs.log").read_text(), deployed.running()) == ("run 0\n", 1)


def test_a_change_of_the_health_check_alone_neither_sends_nor_runs(deployed: Lab) -> None:
    deployed.spec(deployed.droplet(0, "lab-1", capacity=2) + "---\n" +
                  web(deployed).replace("retries: 40", "retries: 30"))
    assert plan_lines(deployed) == [
        "  ~ deployment.web  (deployment, update)", "      # setting health changed",
        "      # deployment.web[0] will change",
        "  ~ deployment.web[0]  (deployment_replica, update)", "      # setting health changed",
        "Plan: 0 to create, 2 to update, 0 to replace, 0 to destroy, 1 unchanged."]
    apply(deployed)
    out = outputs(deployed, "deployment.web[0]")
    assert (out["uploaded"], out["ran"], out["health_tries"]) == ([], False, 1)
    assert (folder(deployed) / "runs.log").read_text() == "run 0\n"


def test_a_failed_first_deploy_is_reset_and_its_slot_given_back(lab: Lab) -> None:
    # the environment is not kept for a reset without a record (it may hold secrets): this
    # kill.sh names its log itself
    lab.app(run="#!/bin/sh\necho broken >&2\nexit 3\n",
            kill=f"#!/bin/sh\necho reset >> {lab.resets_log}\n")
    lab.spec(lab.droplet(0, "lab-1") + "---\n" + web(lab))
    result = lab.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    name = lab.state().records()["deployment.web[0]"]
    assert name.status == "failed" and name.error is not None
    assert name.error.startswith("run.sh exited with code 3 on droplet lab-1 (")
    assert name.output == "broken"
    assert [p.name for p in (lab.remote / "lab-1/.taskform/slots").iterdir()] == ["0"]
    lab.spec(lab.droplet(0, "lab-1"))
    apply(lab)
    assert (lab.tree(), resets(lab)) == (["lab-1", "lab-1/.taskform", "lab-1/.taskform/slots",
                                          "lab-1/.taskform/tmp", "lab-1/deployments"], ["reset"])
