"""docker_pool against the real engine: the size asked for, scaling plans only the difference,
members are locked down and kept alive without a shell, and destroy leaves nothing."""

from __future__ import annotations

import pytest
from docker_fixtures import BASE_IMAGE

pytestmark = pytest.mark.docker

LOCKED_DOWN = ('["--network none", "--memory 128m", "--pids-limit 64", "--cap-drop ALL", '
               '"--security-opt no-new-privileges", "--init", "--user 1000:1000", "--cpus 0.5"]')


def pool(dws, size: int, extra: str = "") -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: p}}
        spec:
          steps:
            workers:
              docker_pool: {{image_tag: {BASE_IMAGE}, pool_size: {size}{extra}}}
        """)


def running(dws) -> list[str]:
    return sorted(c.name for c in dws.labelled("containers") if c.status == "running")


def test_pool_scales_3_5_2_touching_only_the_difference(dws):
    pool(dws, 3, f", parameters: {LOCKED_DOWN}")
    dws.apply()
    members = dws.outputs("pipeline.p.workers")["members"]
    assert [m["index"] for m in members] == [0, 1, 2]
    assert sorted(m["container_name"] for m in members) == running(dws)
    ids = {m["container_name"]: m["container_id"] for m in members}
    assert dws.plan_lines() == ["No changes. 4 resources match the specs."]

    pool(dws, 5, f", parameters: {LOCKED_DOWN}")
    assert dws.plan_lines() == [
        "  ~ pipeline.p.workers  (docker_pool, update)",
        "      # pipeline.p.workers[3] will change",
        "      # pipeline.p.workers[4] will change",
        "  + pipeline.p.workers[3]  (docker_pool_member, create)",
        "      # not yet created",
        "  + pipeline.p.workers[4]  (docker_pool_member, create)",
        "      # not yet created",
        "Plan: 2 to create, 1 to update, 0 to replace, 0 to destroy, 3 unchanged.",
    ]
    dws.apply()
    members = dws.outputs("pipeline.p.workers")["members"]
    assert len(members) == 5 and len(running(dws)) == 5
    assert all(ids[m["container_name"]] == m["container_id"] for m in members[:3])

    pool(dws, 2, f", parameters: {LOCKED_DOWN}")
    lines = dws.plan_lines()
    assert lines[-1] == "Plan: 0 to create, 1 to update, 0 to replace, 3 to destroy, 2 unchanged."
    assert "  - pipeline.p.workers[2]  (docker_pool_member, destroy)" in lines
    assert "      # no longer produced by pipeline.p.workers" in lines
    dws.apply()
    members = dws.outputs("pipeline.p.workers")["members"]
    assert [m["container_id"] for m in members] == [ids[m["container_name"]] for m in members]
    assert running(dws) == sorted(m["container_name"] for m in members)


def test_members_are_locked_down_and_alive_without_a_shell_entrypoint(dws):
    pool(dws, 2, f", parameters: {LOCKED_DOWN}")
    dws.apply()
    for member in dws.outputs("pipeline.p.workers")["members"]:
        container = dws.client.containers.get(member["container_id"])
        assert container.attrs["Config"]["Entrypoint"] == ["sleep"]
        assert container.attrs["Config"]["Cmd"] == ["infinity"]
        assert container.attrs["HostConfig"]["NetworkMode"] == "none"
        code, out = container.exec_run(["id", "-u"])
        assert (code, out) == (0, b"1000\n")


def test_a_member_removed_outside_is_replaced_alone(dws):
    pool(dws, 3)
    dws.apply()
    gone = dws.outputs("pipeline.p.workers[1]")["container_name"]
    dws.docker("rm", "-f", gone)
    assert dws.plan_lines() == [
        "  ~ pipeline.p.workers  (docker_pool, update)",
        "      # pipeline.p.workers[1] will change",
        "  -/+ pipeline.p.workers[1]  (docker_pool_member, replace)",
        f"      # container {gone} is gone",
        "Plan: 0 to create, 1 to update, 1 to replace, 0 to destroy, 2 unchanged.",
    ]
    dws.apply()
    assert len(running(dws)) == 3


def test_pool_size_must_be_known_at_plan_time(dws):
    dws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            n:
              value: {input: 2}
            workers:
              docker_pool: {image_tag: x, pool_size: "{{ steps.n.value }}"}
        """)
    result = dws.cli("plan")
    assert result.exit_code == 1
    assert result.output.startswith("Error: pipeline.p.workers (specs/main.yaml:8:5): pool_size "
                                    "must be known at plan time, not an output of another "
                                    "step\n")


def test_destroy_leaves_no_labelled_container(dws):
    pool(dws, 3)
    dws.apply()
    result = dws.cli("destroy", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert "Complete: 0 created, 0 updated, 0 replaced, 4 destroyed." in result.output
    assert dws.labelled("containers") == []


def test_a_member_replaced_in_place_stays_in_sync_and_is_destroyed_with_the_pool(dws):
    from runner.providers.docker.containers import recreate
    from runner.providers.docker.engine import DockerEngine, engine_address
    from runner.providers.docker.labels import Owner

    pool(dws, 2, f", parameters: {LOCKED_DOWN}")
    dws.apply()
    recorded = dws.outputs("pipeline.p.workers[1]")
    engine = DockerEngine(engine_address(None))
    owner = Owner(str(dws.root.resolve()), 'pipeline.p.grade["c","s"]', "r-test")
    for _ in range(2):  # a replacement of a replacement still stands for the recorded one
        replaced = recreate(engine, owner, recorded["container_name"], lambda line: None)
    fresh = dws.client.containers.get(replaced.id)
    old = dws.client.containers.list(all=True, filters={"id": recorded["container_id"]})
    assert old == [] and fresh.id != recorded["container_id"]
    assert fresh.labels["taskform.replaces"] == recorded["container_id"]
    assert fresh.labels["taskform.address"] == "pipeline.p.workers[1]"
    assert fresh.attrs["HostConfig"]["NetworkMode"] == "none"
    assert fresh.attrs["HostConfig"]["CapDrop"] == ["ALL"]
    assert fresh.exec_run(["id", "-u"]) == (0, b"1000\n")
    assert dws.plan_lines() == ["No changes. 3 resources match the specs."]
    assert dws.cli("gc").output.startswith("No unowned objects")
    assert dws.cli("destroy", "-auto-approve").exit_code == 0
    assert dws.labelled("containers") == []
