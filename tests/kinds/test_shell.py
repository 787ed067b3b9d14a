"""`shell`, `value`, `file_exists` through real subprocesses: failures carry their output,
timeouts kill the process group, retries back off, `when` skips and records."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest


def pipeline(ws, steps: str, name: str = "main.yaml") -> None:
    body = "\n".join("        " + line for line in steps.strip("\n").splitlines())
    ws.write(f"specs/{name}", "apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\n"
             "spec:\n  steps:\n" + "\n".join(line[4:] for line in body.splitlines()) + "\n")


def test_failure_shows_output_skips_dependents_and_continues_elsewhere(ws):
    pipeline(ws, """
    bad:
      shell: {command: "echo starting; echo oops >&2; exit 3"}
    after_bad:
      value: {input: 1}
      depends_on: [bad]
    after_after:
      value: {input: 1}
      depends_on: [after_bad]
    independent:
      shell: {command: "echo fine > fine.txt"}
    """)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    out = result.output
    # a step that takes 50 ms or more (a loaded machine) shows its time: `FAILED [0.1s]:`
    assert re.search(r"pipeline\.p\.bad: FAILED( \[[0-9.]+s\])?: command exited with code 3\n"
                     r"  \| starting\n  \| oops\n", out)
    assert "not applied" not in out.split("Failed:")[0]  # said once, in the summary
    assert out.endswith("Failed: 1 created, 0 updated, 0 replaced, 0 destroyed; 1 failed, 2 not "
                        "applied (a dependency failed).\n  pipeline.p.bad: command exited with "
                        "code 3\n    2 resources not applied because pipeline.p.bad failed (-v "
                        "lists them)\n")
    verbose = ws.cli("apply", "-auto-approve", "-v").output
    assert "pipeline.p.after_bad: not applied: dependency pipeline.p.bad failed\n" in verbose
    assert "pipeline.p.after_after: not applied: dependency pipeline.p.after_bad was not " \
        "applied\n" in verbose
    assert verbose.endswith("    2 resources not applied because pipeline.p.bad failed:\n"
                            "      pipeline.p.after_after\n      pipeline.p.after_bad\n")
    assert (ws.root / "fine.txt").exists()
    state = ws.state()
    records = state.records()
    assert records["pipeline.p.bad"].status == "failed"
    assert records["pipeline.p.bad"].error == "command exited with code 3"
    assert records["pipeline.p.bad"].output == "starting\noops"
    shown = ws.cli("state", "show", "pipeline.p.bad").output
    assert "\nerror:\n  command exited with code 3\noutput:\n  starting\n  oops\nhistory:\n" in shown
    assert "pipeline.p.after_bad" not in records
    assert ws.cli("plan").output.splitlines()[2:4] == [
        "  + pipeline.p.after_after  (value, create)", "      # not yet created"]


@pytest.mark.parametrize("fail_fast", [False, True])
def test_fail_fast_lets_running_steps_finish_and_starts_nothing_new(ws, fail_fast):
    pipeline(ws, """
    bad:
      shell: {command: "exit 3"}
    slow:
      shell: {command: "sleep 1; touch slow.done"}
    later:
      shell: {command: "touch later.done"}
      depends_on: [slow]
    """)
    flags = ["--fail-fast"] if fail_fast else []
    result = ws.cli("apply", "-auto-approve", "-parallelism", "2", *flags)
    assert result.exit_code == 1
    assert (ws.root / "slow.done").exists()  # running when `bad` failed: it finishes
    assert (ws.root / "later.done").exists() is not fail_fast
    records = ws.state().records()
    assert records["pipeline.p.slow"].status == "ok"
    if fail_fast:
        assert "--fail-fast: no new work will start." in result.output
        assert result.output.endswith("Failed: 1 created, 0 updated, 0 replaced, 0 destroyed; "
                                      "1 failed, 1 not started.\n  pipeline.p.bad: command "
                                      "exited with code 3\n")
        assert "pipeline.p.later" not in records
        assert ws.cli("apply", "-auto-approve").exit_code == 1  # `bad` still fails...
        assert (ws.root / "later.done").exists()  # ...and the rest converges


def is_running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is dead, only not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_timeout_kills_the_whole_process_group(ws, tmp_path):
    pid_file = tmp_path / "child.pid"
    pipeline(ws, f"""
    slow:
      shell: {{command: "sh -c 'echo $$ > {pid_file}; exec sleep 30' & sleep 30"}}
      timeout: 1s
    """)
    started = time.monotonic()
    result = ws.cli("apply", "-auto-approve")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert "pipeline.p.slow: FAILED" in result.output
    assert "timed out after 1." in result.output
    assert elapsed < 10
    # the background child sleeps 30 s: still running once the kill had time to land, it
    # survived the deadline (asked directly instead of waiting for it to leave a mark)
    recorded = pid_file.read_text().strip() if pid_file.exists() else ""
    assert recorded, "the background child had not started when the timeout struck"
    child = int(recorded)
    deadline = time.monotonic() + 5
    while is_running(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    survived = is_running(child)
    if survived:
        os.kill(child, 9)  # not left behind for the rest of the run
    assert not survived, "a child of the timed-out command survived the deadline"


def test_retries_with_backoff_then_success(ws):
    pipeline(ws, """
    flaky:
      shell: {command: "n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ $n -ge 2 ]"}
      retries: 3
      retry_delay: 0.1
    """)
    result = ws.cli("apply", "-auto-approve", "-v")
    assert result.exit_code == 0, result.output
    assert (ws.root / "n").read_text() == "3\n"
    assert "attempt 1 failed (command exited with code 1); retrying in 0.1s" in result.output
    assert "attempt 2 failed (command exited with code 1); retrying in 0.2s" in result.output
    assert "pipeline.p.flaky: created after 3 attempts" in result.output


def test_retries_exhausted(ws):
    pipeline(ws, """
    never:
      shell: {command: "exit 1"}
      retries: 1
      retry_delay: 0
    """)
    result = ws.cli("apply", "-auto-approve")
    assert re.search(r"pipeline\.p\.never: FAILED( \[[0-9.]+s\])?: command exited with code 1 "
                     r"\(after 2 attempts\)", result.output)


def test_when_false_is_skipped_and_recorded(ws):
    ws.write("taskform.yaml", "variables:\n  enabled: false\n")
    pipeline(ws, """
    maybe:
      shell: {command: "touch ran"}
      when: var.enabled
    """)
    result = ws.cli("apply", "-auto-approve")
    assert "pipeline.p.maybe: skipped: when: var.enabled is false" in result.output
    assert not (ws.root / "ran").exists()
    assert ws.state().records()["pipeline.p.maybe"].status == "skipped"
    assert ws.cli("plan").output == "No changes. 1 resource matches the specs.\n"
    ws.write("taskform.yaml", "variables:\n  enabled: true\n")
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert (ws.root / "ran").exists()


def test_inputs_enter_the_fingerprint_and_cwd_stays_inside(ws):
    ws.write("src/a.txt", "one")
    pipeline(ws, """
    build:
      shell: {command: "cat a.txt > ../built.txt", cwd: src, inputs: ["src/*.txt"], outputs: [built.txt]}
    """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    ws.write("src/a.txt", "two")
    plan = ws.cli("plan").output
    assert "  ~ pipeline.p.build  (shell, update)\n      # file src/a.txt changed\n" in plan
    ws.write("src/b.txt", "new")
    assert "      # file src/b.txt added\n" in ws.cli("plan").output


def test_paths_outside_the_workspace_are_refused(ws):
    pipeline(ws, """
    escape:
      shell: {command: "true", cwd: ".."}
    """)
    result = ws.cli("apply", "-auto-approve")  # refused before anything runs
    assert (result.exit_code, result.output) == (1, (
        "Error: 1 error in the specs:\n  specs/main.yaml:7:41: spec.steps.escape.shell.cwd: "
        "expected a path inside the workspace, got \"..\" (it climbs out of the workspace "
        "with ..)\n"))


def test_file_exists_shapes_and_missing_files(ws):
    ws.write("a.txt", "")
    pipeline(ws, """
    one: {file_exists: a.txt}
    many: {file_exists: [a.txt, b.txt, c.txt]}
    mapped: {file_exists: {files: {a.txt: ignored}}}
    """)
    result = ws.cli("apply", "-auto-approve")
    assert "pipeline.p.many: FAILED: file not found: b.txt; file not found: c.txt" in result.output
    records = ws.state().records()
    assert list(records["pipeline.p.one"].outputs["files"]) == ["a.txt"]
    assert list(records["pipeline.p.mapped"].outputs["files"]) == ["a.txt"]
    os.remove(ws.root / "a.txt")
    assert "      # file a.txt is missing\n" in ws.cli("plan").output


def test_value_outputs_feed_templates_and_refs(ws):
    pipeline(ws, """
    a: {value: {input: {n: 2, names: [x, y]}}}
    b: {value: {input: "{{ steps.a.value.n * 10 }}"}}
    c: {value: {input: "{{ ref('pipeline.p.b').value }}-{{ steps.a.value.names | join(',') }}"}}
    """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    records = ws.state().records()
    assert records["pipeline.p.b"].outputs == {"value": 20}
    assert records["pipeline.p.c"].outputs == {"value": "20-x,y"}


@pytest.mark.parametrize("bad,message", [
    ("{{ steps.a.value.nope }}", "'dict object' has no attribute 'nope'"),
    ("{{ steps.a.value.__class__ }}", "access to attribute '__class__' of 'dict' object is unsafe"),
])
def test_template_errors_at_apply_are_failures_with_the_reason(ws, bad, message):
    pipeline(ws, f"""
    a: {{value: {{input: {{n: 1}}}}}}
    b: {{value: {{input: "{bad}"}}}}
    """)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert message in result.output
