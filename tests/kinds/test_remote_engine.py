"""Docker steps on a droplet's engine: a second dockerd reached through one test droplet's SSH
sessions (tests/engine_fixtures.py). An image built on the workspace's own engine is sent there
by a streamed save/load and recorded by its id, which it keeps; a pool spans both engines; a
pipeline's engine is the default of its steps; destroy removes what was made there."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker_fixtures import BASE_IMAGE, DockerWorkspace
from droplet_fixtures import Lab
from engine_fixtures import RemoteEngine, remote_engine  # noqa: F401

pytestmark = [pytest.mark.ssh, pytest.mark.docker]


@pytest.fixture
def remote_lab(dws: DockerWorkspace, remote_engine: RemoteEngine  # noqa: F811
               ) -> Iterator[tuple[DockerWorkspace, Lab, RemoteEngine]]:
    remote = Path(f"/tmp/tf-lab-{uuid.uuid4().hex[:10]}")
    lab = Lab(dws.ws, remote_engine.fleet, remote)
    try:
        yield dws, lab, remote_engine
    finally:
        dws.cli("destroy", "-auto-approve")
        shutil.rmtree(remote, ignore_errors=True)


def app(dws: DockerWorkspace) -> None:
    dws.write("app/Dockerfile", f"FROM {BASE_IMAGE}\nCOPY . /app\nWORKDIR /app\n")
    dws.write("app/main.py", "print('hello from the app')\n")


def pipeline(tag: str, steps: str, engine: str = "") -> str:
    head = f"  engine: {engine}\n" if engine else ""
    return ("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: app}\nspec:\n" + head +
            "  steps:\n    image:\n      docker_build: {context: app, image_tag: " + tag +
            ", engine: local}\n" + steps)


def remote_containers(engine: RemoteEngine, dws: DockerWorkspace) -> list[Any]:
    return list(engine.engine.client().containers.list(
        all=True, filters={"label": f"taskform.workspace={dws.root}"}))


def test_a_container_runs_on_a_droplets_engine_from_an_image_sent_there(remote_lab) -> None:  # type: ignore[no-untyped-def]
    dws, lab, engine = remote_lab
    app(dws)
    box = ("    box:\n      docker_run:\n        image_id: \"{{ steps.image.image_id }}\"\n"
           "        keep_forever: true\n        parameters: [--network none]\n")
    dws.spec(lab.droplet(0, "lab-1", docker=True) + "---\n"
             + pipeline(dws.tag, box, engine="lab-1"))
    result = dws.apply("-v")
    image_id = dws.outputs("pipeline.app.image")["image_id"]
    box_out = dws.outputs("pipeline.app.box")
    assert box_out["engine"] == "lab-1" and box_out["image_id"] == image_id
    assert f"sending image {image_id} (" in result.output
    assert "sent image" in result.output
    remote = engine.engine.client()
    assert remote.images.get(image_id).id == image_id  # the same id on both engines
    assert [c.id for c in remote_containers(engine, dws)] == [box_out["container_id"]]
    assert dws.labelled("containers") == []  # nothing of it on the workspace's own engine
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]

    remote.containers.get(box_out["container_id"]).remove(force=True)
    assert dws.plan_lines()[:2] == ["  -/+ pipeline.app.box  (docker_run, replace)",
                                    f"      # container {box_out['container_name']} is gone"]
    again = dws.apply("-v")
    assert "creating container" in again.output
    assert "sending image" not in again.output  # it is there already
    assert dws.cli("destroy", "-auto-approve").exit_code == 0
    assert remote_containers(engine, dws) == []


def test_a_pool_spans_the_workspaces_engine_and_a_droplets(remote_lab) -> None:  # type: ignore[no-untyped-def]
    dws, lab, engine = remote_lab
    app(dws)
    pool = ("    pool:\n      docker_pool:\n        image_id: \"{{ steps.image.image_id }}\"\n"
            "        pool_size: 3\n        engines: [local, lab-1]\n"
            "        parameters: [--network none]\n")
    dws.spec(lab.droplet(0, "lab-1", docker=True) + "---\n" + pipeline(dws.tag, pool))
    plan = dws.cli("plan")
    assert "pipeline.app.pool[1]  (docker_pool_member, create)" in plan.output
    dws.apply()
    members = dws.outputs("pipeline.app.pool")["members"]
    assert [m.get("engine", "local") for m in members] == ["local", "lab-1", "local"]
    local = {c.name for c in dws.labelled("containers")}
    remote = {c.name for c in remote_containers(engine, dws)}
    assert local == {members[0]["container_name"], members[2]["container_name"]}
    assert remote == {members[1]["container_name"]}
    assert len({m["image_id"] for m in members}) == 1
    assert dws.plan_lines() == ["No changes. 6 resources match the specs."]
    assert dws.cli("destroy", "-auto-approve").exit_code == 0
    assert remote_containers(engine, dws) == [] and dws.labelled("containers") == []


def test_a_droplets_slots_change_nothing_of_the_steps_on_its_engine(remote_lab) -> None:  # type: ignore[no-untyped-def]
    """A deployment taking a slot changes the droplet's outputs (slots in use); the steps on its
    engine read only how to reach it."""
    dws, lab, engine = remote_lab
    app(dws)
    box = ("    box:\n      docker_run:\n        image_id: \"{{ steps.image.image_id }}\"\n"
           "        keep_forever: true\n        engine: lab-1\n")
    droplet = lab.droplet(0, "lab-1", docker=True, capacity=2)
    dws.spec(droplet + "---\n" + pipeline(dws.tag, box))
    dws.apply()
    lab.app("web")
    dws.spec(droplet + "---\n" + pipeline(dws.tag, box) + "---\napiVersion: taskform/v1\n"
             "kind: Deployment\nmetadata: {name: web}\nspec:\n  source: {dir: web}\n"
             "  droplet: lab-1\n")
    try:
        result = dws.apply()
        assert "pipeline.app.box" not in result.output
        assert dws.outputs("droplet.lab-1")["slots_in_use"] == 0  # recorded before the slot
        assert dws.plan_lines() == ["No changes. 5 resources match the specs."]
    finally:
        dws.cli("destroy", "-auto-approve")
        lab.stop_leftovers()
