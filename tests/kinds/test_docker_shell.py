"""docker_shell against the real engine: labelled commands in order, a failure stops the list
and says which command, a replaced container reruns it, and the deadline kills the command."""

from __future__ import annotations

import pytest
from docker_fixtures import BASE_IMAGE

pytestmark = pytest.mark.docker


def spec(dws, commands: str, extra: str = "") -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: s}}
        spec:
          steps:
            box:
              docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true}}
            check:
              docker_shell:
                container: "{{{{ steps.box.container_id }}}}"
                command: {commands}
              {extra}
        """)


def test_commands_run_in_order_and_rerun_only_when_the_container_is_replaced(dws):
    spec(dws, '[{make: "echo one > /tmp/f"}, {add: "echo two >> /tmp/f"}, {show: "cat /tmp/f"}]')
    dws.apply()
    results = dws.outputs("pipeline.s.check")["results"]
    assert [(r["label"], r["exit_code"]) for r in results] == [("make", 0), ("add", 0),
                                                                 ("show", 0)]
    assert results[2]["output"] == "one\ntwo\n"
    assert dws.plan_lines() == ["No changes. 2 resources match the specs."]

    box = dws.outputs("pipeline.s.box")["container_name"]
    dws.docker("rm", "-f", box)
    old_id = dws.outputs("pipeline.s.box")["container_id"][:12]
    assert dws.plan_lines() == [
        "  -/+ pipeline.s.box  (docker_run, replace)",
        f"      # container {box} is gone",
        "  ~ pipeline.s.check  (docker_shell, update)",
        f"      # container {old_id} changed",
        "      # pipeline.s.box will change",
        "Plan: 0 to create, 1 to update, 1 to replace, 0 to destroy, 0 unchanged.",
    ]
    dws.apply()
    rerun = dws.outputs("pipeline.s.check")
    assert rerun["container_id"] == dws.outputs("pipeline.s.box")["container_id"]
    assert rerun["results"][2]["output"] == "one\ntwo\n"  # a fresh container: the file is new


def test_a_failing_command_stops_the_list_and_is_named(dws):
    spec(dws, '[{first: "echo fine"}, {broken: "echo oops >&2; exit 7"}, {never: "touch /tmp/x"}]')
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    box = dws.outputs("pipeline.s.box")["container_name"]
    assert (f"  pipeline.s.check: command 'broken' exited with code 7 in container {box}\n"
            in result.output)
    assert "oops" in result.output
    code, _ = dws.client.containers.get(box).exec_run(["test", "-e", "/tmp/x"])
    assert code == 1  # the command after the failure never ran
    record = dws.state().records()["pipeline.s.check"]
    assert record.status == "failed"
    assert record.error.startswith(f"command 'broken' exited with code 7 in container {box}")
    event = next(e for e in dws.state().events("pipeline.s.check") if e.event == "failed")
    assert event.data["exit_code"] == 7 and event.data["command"] == "echo oops >&2; exit 7"
    assert dws.plan_lines()[:2] == [
        "  ~ pipeline.s.check  (docker_shell, update)",
        f"      # the last apply failed: command 'broken' exited with code 7 in container {box}",
    ]


def test_the_step_timeout_kills_the_command_inside_the_container(dws):
    spec(dws, '[{slow: "sleep 30; echo never"}]', extra="timeout: 2s")
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert "pipeline.s.check: FAILED" in result.output
    assert "timed out after" in result.output
    box = dws.client.containers.get(dws.outputs("pipeline.s.box")["container_id"])
    top = box.top()["Processes"]
    assert not any("sleep 30" in " ".join(p) for p in top)


def test_the_step_timeout_bounds_each_command_not_the_list(dws):
    spec(dws, '[{a: "sleep 1.5"}, {b: "sleep 1.5"}, {c: "sleep 1.5"}, {d: "sleep 30"}]',
         extra="timeout: 2s")
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    record = dws.state().records()["pipeline.s.check"]
    # a, b and c (4.5 s together) each ran within the 2 s; d was the one stopped
    assert record.status == "failed" and record.error.startswith("command 'd' timed out after 2."), \
        record.error


def test_task_sync_target_block_and_plain_strings(dws):
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: s}}
        spec:
          steps:
            box:
              docker_run: {{image_tag: {BASE_IMAGE}, keep_forever: true}}
            check:
              docker_shell:
                docker: {{container_name: "{{{{ steps.box.container_name }}}}"}}
                command: ["echo a", "echo b"]
                workdir: /tmp
                env: {{GREETING: hi}}
            env:
              docker_shell:
                container: "{{{{ steps.box.container_name }}}}"
                command: 'echo $GREETING in $(pwd)'
                workdir: /tmp
                env: {{GREETING: hi}}
        """)
    dws.apply()
    results = dws.outputs("pipeline.s.check")["results"]
    assert [(r["label"], r["output"]) for r in results] == [("command 1", "a\n"),
                                                              ("command 2", "b\n")]
    assert dws.outputs("pipeline.s.env")["results"][0]["output"] == "hi in /tmp\n"


def test_a_missing_container_is_a_clear_failure(dws):
    dws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: s}
        spec:
          steps:
            check:
              docker_shell: {container: tf-test-no-such-container, command: ["true"]}
        """)
    result = dws.cli("apply", "-auto-approve")
    assert "FAILED: container tf-test-no-such-container does not exist" in result.output


def test_bad_command_shapes_are_load_errors(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: s}
        spec:
          steps:
            check:
              docker_shell: {container: c, command: [{a: "true", b: "false"}]}
        """)
    result = ws.cli("validate")
    assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:7:45: spec.steps."
                             "check.docker_shell.command: command[0]: expected one `label: "
                             "command` pair, got 2 keys\n")
