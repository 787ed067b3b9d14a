"""A failure reads like one: its error once, then one line per group of changes it kept back
(the addresses under -v, or in --json), root causes first."""

from __future__ import annotations

import json


def chain(ws, width: int = 30) -> None:
    steps = ["    image: {shell: {command: 'echo no space left >&2; exit 2'}}",
             "    side: {shell: {command: 'exit 5'}}"]
    steps += [f"    use{i}: {{value: {{input: {i}}}, depends_on: [image]}}" for i in range(width)]
    steps += ["    last: {value: {input: 1}, depends_on: [use0, side]}",
              "    fine: {value: {input: ok}}"]
    ws.spec("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  steps:\n"
            + "\n".join(steps) + "\n")


def test_dependents_of_a_failure_are_one_line_not_thirty(ws):
    chain(ws)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    progress, summary = result.output.split("\nFailed: ")
    assert "not applied" not in progress
    assert progress.count("  | no space left") == 1  # the error, once
    assert summary == (
        "1 created, 0 updated, 0 replaced, 0 destroyed; 2 failed, 31 not applied (a dependency "
        "failed).\n"
        "  pipeline.p.image: command exited with code 2\n"
        "    31 resources not applied because pipeline.p.image failed (-v lists them)\n"
        "  pipeline.p.side: command exited with code 5\n")


def test_json_names_every_outcome_and_its_root_cause(ws):
    chain(ws, width=3)
    result = ws.cli("apply", "-auto-approve", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["status"] == "failed"
    assert data["summary"]["blocked"] == 4 and data["summary"]["failed"] == 2
    assert data["not_applied_because"] == {
        "pipeline.p.image": ["pipeline.p.last", "pipeline.p.use0", "pipeline.p.use1",
                             "pipeline.p.use2"]}
    last = next(o for o in data["outcomes"] if o["address"] == "pipeline.p.last")
    assert (last["status"], last["blocked_by"], last["root_cause"]) == \
        ("blocked", "pipeline.p.use0", "pipeline.p.image")
    assert data["plan"]["summary"]["create"] == 7


def test_json_asks_no_question(ws):
    chain(ws, width=1)
    result = ws.cli("apply", "--json")
    assert result.exit_code == 1
    assert result.output == ("Error: apply these changes with --json asks no question: pass "
                             "-auto-approve (or apply a saved plan file)\n")
