"""`taskform deployments`: candidates claim ready replicas, release them, and the next apply
deploys them again; claims never hand one replica to two holders, also from two processes."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest
from droplet_fixtures import HEALTH, Lab

from runner.deploy.replicas import claim
from runner.errors import TaskformError
from runner.state.base import Event, Record
from runner.state.facts import StoredFacts


def web(lab: Lab, replicas: int) -> str:
    return (f"apiVersion: taskform/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n"
            f"  source: {{dir: app}}\n  pool: {{labels: {{region: lab}}}}\n"
            f"  replicas: {replicas}\n  timeout: 30s\n"
            f"  health: {{command: {json.dumps(HEALTH)}, retries: 40, interval: 0.1s}}\n")


@pytest.mark.ssh
def test_claim_release_and_the_next_apply(lab: Lab) -> None:
    lab.app()
    lab.spec(lab.droplet(0, "lab-1", capacity=2) + "---\n" + web(lab, 2))
    assert lab.cli("apply", "-auto-approve").exit_code == 0
    records = lab.state().records()
    folders = [records[f"deployment.web[{i}]"].outputs["directory"] for i in (0, 1)]
    listed = lab.cli("deployments", "list")
    assert (listed.exit_code, listed.output) == (0, (
        f"deployment.web[0]  ready     lab-1:0  {folders[0]}  -\n"
        f"deployment.web[1]  ready     lab-1:1  {folders[1]}  -\n"
        "2 replica(s): 2 ready, 0 claimed, 0 released, 0 failed\n"))

    first = lab.cli("deployments", "claim", "web", "--holder", "cand-1", "--json")
    got = json.loads(first.output)
    again = json.loads(lab.cli("deployments", "claim", "deployment.web", "--holder", "cand-1",
                               "--json").output)
    assert (got["address"], got["status"], got["holder"], again["address"]) == \
        ("deployment.web[0]", "claimed", "cand-1", "deployment.web[0]")
    sshd = lab.fleet[0]
    second = lab.cli("deployments", "claim", "web", "--holder", "cand-2")
    assert second.output.splitlines()[:5] == [
        "deployment.web[1] claimed by cand-2", "  task        -",
        f"  droplet     lab-1 (root@{sshd.address}:{sshd.port})", f"  directory   {folders[1]}",
        "  slot        1"]
    none = lab.cli("deployments", "claim", "web", "--holder", "cand-3")
    assert (none.exit_code, none.output) == (1, (
        "Error: deployment.web has no unclaimed ready replica (2 replica(s): 2 claimed); raise "
        "its replicas, or release one, and apply (or watch)\n"))

    # a change waits for the release: nothing is sent to a claimed replica
    lab.write("app/index.html", "changed\n")
    assert lab.cli("apply", "-auto-approve").exit_code == 0
    assert (Path(folders[0]) / "index.html").read_text() == "hello\n"
    assert lab.state().records()["deployment.web[0]"].outputs["held_by"] == "cand-1"

    wrong = lab.cli("deployments", "release", "deployment.web[0]", "--holder", "cand-2")
    assert (wrong.exit_code, wrong.output) == (1, (
        f"Error: deployment.web[0] is not claimed by cand-2: it is claimed by cand-1 since "
        f"{got['since']}\n"))
    released = lab.cli("deployments", "release", "web", "--holder", "cand-1")
    assert (released.exit_code, released.output) == (0, (
        "deployment.web[0] released by cand-1: reset on droplet lab-1 (its folder removed, "
        "slot 0 kept); the next apply deploys it again\n"))
    assert not Path(folders[0]).exists()
    assert lab.cli("deployments", "list", "--json").output.count('"released"') == 1
    plan = lab.cli("plan").output
    assert "      # released by cand-1 at " in plan
    assert lab.cli("apply", "-auto-approve").exit_code == 0
    assert (Path(folders[0]) / "index.html").read_text() == "changed\n"
    rows = json.loads(lab.cli("deployments", "list", "--json").output)
    assert [(r["address"], r["status"], r["holder"]) for r in rows] == [
        ("deployment.web[0]", "ready", None), ("deployment.web[1]", "claimed", "cand-2")]


def fake_replicas(state, count: int, generation: str) -> None:  # type: ignore[no-untyped-def]
    """Replica records as an apply leaves them (claims read only the state)."""
    for i in range(count):
        state.commit(Record(address=f"deployment.web[{i}]", kind="deployment_replica",
                            status="ok", fingerprint={}, settings={"source": {"dir": "app"}},
                            outputs={"generation": f"{generation}-{i}", "ready": True,
                                     "droplet": "lab-1", "slot": i},
                            parent="deployment.web"), Event(run_id="r", event="done"))


def race(states, holders):  # type: ignore[no-untyped-def]
    """Each holder claims at once through its own connection to the state."""
    results: dict[str, str] = {}
    start = threading.Barrier(len(holders))

    def one(state, holder: str) -> None:  # type: ignore[no-untyped-def]
        facts = StoredFacts(state, "r-claim")
        records = state.records()
        start.wait()
        try:
            results[holder] = claim(records, facts, "web", holder).address
        except TaskformError:
            results[holder] = "none"

    threads = [threading.Thread(target=one, args=pair) for pair in zip(states, holders,
                                                                          strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("replicas", [1, 2])
def test_two_claims_at_once_never_get_the_same_replica(ws, replicas) -> None:  # type: ignore[no-untyped-def]
    states = [ws.state(), ws.state()]
    try:
        for _ in range(50):
            fake_replicas(states[0], replicas, uuid.uuid4().hex)
            got = race(states, ["a", "b"])
            taken = [address for address in got.values() if address != "none"]
            assert len(taken) == replicas and len(set(taken)) == replicas, got
    finally:
        for state in states:
            state.close()


@pytest.mark.slow
def test_two_claim_commands_at_once_never_get_the_same_replica(ws) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(repo)}
    state = ws.state()
    argv = [sys.executable, "-m", "runner", "-C", str(ws.root), "deployments", "claim", "web",
            "--json", "--holder"]
    try:
        for _ in range(50):
            fake_replicas(state, 2, uuid.uuid4().hex)
            procs = [subprocess.Popen([*argv, holder], stdout=subprocess.PIPE, text=True,
                                      env=env) for holder in ("a", "b")]
            got = [json.loads(p.communicate(timeout=120)[0])["address"] for p in procs]
            assert sorted(got) == ["deployment.web[0]", "deployment.web[1]"], got
    finally:
        state.close()
