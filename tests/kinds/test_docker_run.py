"""docker_run against the real engine: deterministic names, drift (gone, stopped, changed
outside), locked-down flags that really apply, and never touching a container not ours."""

from __future__ import annotations

import pytest
from docker_fixtures import BASE_IMAGE

from runner.providers.docker.labels import object_name

pytestmark = pytest.mark.docker

LOCKED_DOWN = ('["--network none", "--memory 128m", "--pids-limit 64", "--cap-drop ALL", '
               '"--security-opt no-new-privileges", "--init", "--user 1000:1000", "--cpus 0.5"]')


def spec(dws, settings: str) -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: svc}}
        spec:
          steps:
            box:
              docker_run: {{{settings}}}
        """)


def name(dws, step: str = "box") -> str:
    from runner.workspace import open_workspace

    root = str(open_workspace(dws.root).root)
    return object_name(root, f"pipeline.svc.{step}", ["svc", step])


def test_create_no_op_and_a_container_removed_outside_is_replaced(dws):
    spec(dws, f"image_tag: {BASE_IMAGE}, keep_forever: true")
    dws.apply()
    out = dws.outputs("pipeline.svc.box")
    container = dws.client.containers.get(name(dws))
    assert out["container_id"] == container.id and out["container_name"] == name(dws)
    assert out["image_id"] == dws.client.images.get(BASE_IMAGE).id
    assert container.status == "running"
    assert container.labels["taskform.address"] == "pipeline.svc.box"
    assert container.labels["taskform.config-hash"] == out["config_hash"]
    assert dws.plan_lines() == ["No changes. 1 resource matches the specs."]

    dws.docker("rm", "-f", name(dws))
    assert dws.plan_lines() == [
        "  -/+ pipeline.svc.box  (docker_run, replace)",
        f"      # container {name(dws)} is gone",
        "Plan: 0 to create, 0 to update, 1 to replace, 0 to destroy, 0 unchanged.",
    ]
    dws.apply()
    assert dws.client.containers.get(name(dws)).id == dws.outputs("pipeline.svc.box")["container_id"]
    assert dws.plan_lines() == ["No changes. 1 resource matches the specs."]


def test_stopped_and_changed_outside_are_drift(dws):
    spec(dws, f"image_tag: {BASE_IMAGE}, keep_forever: true")
    dws.apply()
    dws.docker("stop", "-t", "1", name(dws))
    assert dws.plan_lines()[:2] == [
        "  -/+ pipeline.svc.box  (docker_run, replace)",
        f"      # container {name(dws)} is exited (exit code 143)",
    ]
    dws.apply()
    assert dws.client.containers.get(name(dws)).status == "running"
    # someone recreates it by hand under the same name, with taskform's labels copied
    old = dws.client.containers.get(name(dws))
    labels = {**old.labels, "taskform.config-hash": "edited"}
    old.remove(force=True)
    dws.client.containers.run(BASE_IMAGE, "sleep infinity", name=name(dws), labels=labels,
                              detach=True)
    assert dws.plan_lines()[1] == f"      # container {name(dws)} was recreated outside taskform"


def test_a_setting_change_replaces_the_container(dws):
    spec(dws, f"image_tag: {BASE_IMAGE}, keep_forever: true")
    dws.apply()
    first = dws.outputs("pipeline.svc.box")["container_id"]
    spec(dws, f'image_tag: {BASE_IMAGE}, keep_forever: true, parameters: ["-e", "MODE=x"]')
    assert dws.plan_lines()[:2] == ["  -/+ pipeline.svc.box  (docker_run, replace)",
                                    "      # setting parameters added"]
    dws.apply()
    container = dws.client.containers.get(name(dws))
    assert container.id != first and "MODE=x" in container.attrs["Config"]["Env"]


def test_locked_down_flags_really_apply(dws):
    spec(dws, f"image_tag: {BASE_IMAGE}, keep_forever: true, parameters: {LOCKED_DOWN}")
    dws.apply()
    container = dws.client.containers.get(name(dws))
    host = container.attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["Memory"] == 128 * 1024 * 1024
    assert host["PidsLimit"] == 64 and host["CapDrop"] == ["ALL"] and host["Init"] is True
    assert host["SecurityOpt"] == ["no-new-privileges"] and host["NanoCpus"] == 500_000_000
    code, out = container.exec_run(["sh", "-c", "id -u; grep CapEff /proc/self/status; "
                                    "ls /sys/class/net"])
    assert code == 0
    assert out.decode().split() == ["1000", "CapEff:", "0000000000000000", "lo"]


def test_a_command_runs_and_its_exit_is_not_drift_without_keep_forever(dws):
    spec(dws, f'image_tag: {BASE_IMAGE}, command: ["sh", "-c", "echo done"]')
    dws.apply()
    dws.client.containers.get(name(dws)).wait(timeout=30)
    assert dws.plan_lines() == ["No changes. 1 resource matches the specs."]
    assert dws.client.containers.get(name(dws)).logs() == b"done\n"


def test_keep_forever_dies_at_once_is_a_failure_with_its_output(dws):
    spec(dws, f'image_tag: {BASE_IMAGE}, keep_forever: true, command: "sh -c \\"echo bye; exit 4\\""')
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert ("pipeline.svc.box: FAILED [" in result.output or
            "pipeline.svc.box: FAILED:" in result.output)
    assert f"container {name(dws)} exited at once with code 4; it should keep running " \
        "(keep_forever)" in result.output
    assert "bye" in result.output


def test_an_unlabelled_container_with_the_same_name_is_never_removed(dws):
    spec(dws, f"image_tag: {BASE_IMAGE}, keep_forever: true")
    theirs = dws.client.containers.run(BASE_IMAGE, "sleep infinity", name=name(dws), detach=True)
    try:
        result = dws.cli("apply", "-auto-approve")
        assert result.exit_code == 1
        assert (f"a container named {name(dws)} already exists and it was not created by "
                "taskform; taskform will not remove it: remove or rename it yourself, or set "
                "container_name") in result.output
        theirs.reload()
        assert theirs.status == "running"
    finally:
        theirs.remove(force=True)


def test_missing_image_is_a_clear_failure(dws):
    spec(dws, "image_tag: tf-test-no-such-image:1")
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert ("FAILED: image tf-test-no-such-image:1 is not present on the engine; add a "
            "docker_pull or docker_build step that provides it") in result.output


def test_destroy_removes_the_container(dws):
    spec(dws, f"image_tag: {BASE_IMAGE}, keep_forever: true")
    dws.apply()
    result = dws.cli("destroy", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert dws.labelled("containers") == []
    assert dws.state().records() == {}


def test_unsupported_flag_is_a_load_error_naming_it(ws):
    ws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: svc}}
        spec:
          steps:
            box:
              docker_run:
                image_tag: {BASE_IMAGE}
                parameters: ["--gpus all"]
        """)
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: 1 error in the specs:\n  specs/main.yaml:9:21: spec.steps.box.docker_run."
        "parameters: unsupported docker run flag '--gpus'; supported: --add-host, ")


def test_no_image_is_a_load_error(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: svc}
        spec:
          steps:
            box:
              docker_run: {keep_forever: true}
        """)
    result = ws.cli("validate")
    assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:7:19: spec.steps."
                             "box.docker_run: set image_tag or image_id (e.g. image_id: "
                             "\"{{ steps.build.image_id }}\")\n")


def test_an_unreachable_engine_is_one_clear_error(ws, tmp_path):
    sock = tmp_path / "nothing.sock"
    ws.write("taskform.yaml", f"docker: {{host: unix://{sock}}}\n")
    for step in ("a", "b", "c"):
        ws.spec(f"""
            apiVersion: taskform/v1
            kind: Pipeline
            metadata: {{name: p{step}}}
            spec:
              steps:
                box:
                  docker_run: {{image_tag: {BASE_IMAGE}}}
            """, name=f"{step}.yaml")
    proc = ws.run("plan")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr == (
        f"Error: cannot reach the Docker engine at unix://{sock}: No such file or directory; "
        "start it with `dockerd &` as root (or `bash scripts/setup.sh`, which also starts the "
        "test registry), or point docker.host in taskform.yaml or DOCKER_HOST at a running "
        "engine\n")


def test_names_derived_from_addresses_that_read_alike_do_not_collide(dws):
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: a-b}}
        spec:
          steps:
            c: {{docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true}}}}
        ---
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: a}}
        spec:
          steps:
            b-c: {{docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true}}}}
        """)
    dws.apply()
    names = {dws.outputs(a)["container_name"] for a in ("pipeline.a-b.c", "pipeline.a.b-c")}
    assert len(names) == 2 and all(n.startswith("tf-a-b-c-") for n in names)
    assert {c.name for c in dws.labelled("containers")} == names
