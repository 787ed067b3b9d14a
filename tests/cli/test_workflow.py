"""The tutorial loop through the CLI: plan, apply, change, plan, destroy; saved plans; JSON;
selection; secrets; confirmation."""

from __future__ import annotations

import json

PIPELINE = """
    apiVersion: taskform/v1
    kind: Pipeline
    metadata: {name: hello, labels: {team: core}}
    spec:
      steps:
        greeting:
          value: {input: "GREETING"}
        write:
          shell:
            command: echo "{{ steps.greeting.value }} world" > out.txt
            outputs: [out.txt]
        check:
          file_exists: out.txt
          depends_on: [write]
    """


def write(ws, greeting: str = "hello") -> None:
    ws.spec(PIPELINE.replace("GREETING", greeting))


def test_tutorial_loop(ws):
    write(ws)
    first = ws.cli("plan")
    assert first.exit_code == 0
    assert first.output == (
        "taskform will perform these actions:\n\n"
        "  + pipeline.hello.check  (file_exists, create)\n"
        "      # not yet created\n"
        "      settings = \"out.txt\"\n"
        "  + pipeline.hello.greeting  (value, create)\n"
        "      # not yet created\n"
        "      input = \"hello\"\n"
        "  + pipeline.hello.write  (shell, create)\n"
        "      # not yet created\n"
        "      command = (known after apply)\n"
        "      outputs = [\"out.txt\"]\n\n"
        "Plan: 3 to create, 0 to update, 0 to replace, 0 to destroy, 0 unchanged.\n")
    applied = ws.cli("apply", "-auto-approve")
    assert applied.exit_code == 0, applied.output
    assert applied.output.endswith("\nComplete: 3 created, 0 updated, 0 replaced, 0 destroyed.\n")
    assert (ws.root / "out.txt").read_text() == "hello world\n"
    assert ws.cli("plan").output == "No changes. 3 resources match the specs.\n"

    write(ws, "bonjour")
    changed = ws.cli("plan")
    assert changed.output == (
        "taskform will perform these actions:\n\n"
        "  ~ pipeline.hello.check  (file_exists, update)\n"
        "      # pipeline.hello.write will change\n"
        "  ~ pipeline.hello.greeting  (value, update)\n"
        "      # setting input changed\n"
        "      input: \"hello\" -> \"bonjour\"\n"
        "  ~ pipeline.hello.write  (shell, update)\n"
        "      # pipeline.hello.greeting will change\n"
        "      command: \"echo \\\"hello world\\\" > out.txt\" -> (known after apply)\n\n"
        "Plan: 0 to create, 3 to update, 0 to replace, 0 to destroy, 0 unchanged.\n")
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert (ws.root / "out.txt").read_text() == "bonjour world\n"

    (ws.root / "out.txt").unlink()
    drift = ws.cli("plan")
    assert "  ~ pipeline.hello.write  (shell, update)\n      # output file out.txt is missing\n" \
        in drift.output
    assert ws.cli("plan", "-refresh=false").output == "No changes. 3 resources match the specs.\n"

    destroyed = ws.cli("destroy", "-auto-approve")
    assert destroyed.exit_code == 0
    assert destroyed.output.endswith("Complete: 0 created, 0 updated, 0 replaced, 3 destroyed.\n")
    assert ws.cli("state", "list").output == "No resources recorded.\n"


def test_detailed_exitcode(ws):
    write(ws)
    assert ws.cli("plan", "-detailed-exitcode").exit_code == 2
    assert ws.cli("apply", "--auto-approve").exit_code == 0
    assert ws.cli("plan", "--detailed-exitcode").exit_code == 0
    ws.spec("kind: [")
    assert ws.cli("plan", "-detailed-exitcode").exit_code == 1


def test_plan_json_is_versioned_and_complete(ws):
    write(ws)
    data = json.loads(ws.cli("plan", "--json").output)
    assert data["format_version"] == "1"
    assert data["summary"] == {"create": 3, "update": 0, "replace": 0, "destroy": 0, "no-op": 0}
    write_change = next(c for c in data["changes"] if c["address"] == "pipeline.hello.write")
    assert write_change["action"] == "create"
    assert write_change["after"]["command"] == {"$unknown": True}
    assert write_change["depends_on"] == ["pipeline.hello.greeting"]


def test_saved_plan_applies_exactly_and_refuses_when_stale(ws):
    write(ws)
    plan_file = ws.root / "plan.json"
    saved = ws.cli("plan", "-out", str(plan_file))
    assert saved.output.endswith(f"Saved the plan to {plan_file}. Apply exactly it with: "
                                 f"taskform apply {plan_file}\n")
    write(ws, "changed")
    stale = ws.cli("apply", str(plan_file))
    assert stale.exit_code == 1
    assert stale.output == ("Error: saved plan is stale: the specs, taskform.yaml or variable "
                            "values changed since the plan was made. Run `taskform plan -out "
                            "FILE` again.\n")
    write(ws)
    applied = ws.cli("apply", str(plan_file))
    assert applied.exit_code == 0, applied.output
    assert "Complete: 3 created" in applied.output
    again = ws.cli("apply", str(plan_file))
    # 5: three records, and the intent recorded before each of the two shell steps
    assert again.output.startswith("Error: saved plan is stale: the state changed since the plan "
                                   "was made (state version 0 then, 5 now)")


def test_apply_without_tty_needs_auto_approve(ws):
    write(ws)
    result = ws.cli("apply")
    assert result.exit_code == 1
    assert result.output.endswith("Error: apply these changes needs confirmation, but stdin is "
                                  "not a terminal: pass -auto-approve (or apply a saved plan "
                                  "file)\n")
    assert ws.cli("state", "list").output == "No resources recorded.\n"


def test_selection_target_exclude_replace_label(ws):
    write(ws)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: other}
        spec:
          steps:
            x: {value: {input: 1}}
        """, "other.yaml")
    targeted = ws.cli("apply", "-auto-approve", "-target", "pipeline.hello.write")
    assert "Complete: 2 created" in targeted.output
    assert [line.split()[0] for line in ws.cli("state", "list").output.splitlines()] == [
        "pipeline.hello.greeting", "pipeline.hello.write"]
    excluded = ws.cli("apply", "-auto-approve", "-exclude=pipeline.hello.write")
    assert "Complete: 1 created" in excluded.output  # other.x; check depends on write
    labelled = ws.cli("plan", "-l", "team=core")
    assert "pipeline.other" not in labelled.output
    assert "+ pipeline.hello.check" in labelled.output
    replaced = ws.cli("plan", "-replace", "pipeline.hello.greeting")
    assert "  -/+ pipeline.hello.greeting  (value, replace)\n      # replacement requested " \
        "with -replace\n" in replaced.output


def test_removed_from_specs_is_destroyed(ws):
    write(ws)
    ws.cli("apply", "-auto-approve")
    ws.spec(PIPELINE.replace("GREETING", "hello").split("        write:")[0])
    result = ws.cli("apply", "-auto-approve")
    assert "  - pipeline.hello.check  (file_exists, destroy)\n      # removed from specs\n" \
        in result.output
    assert "Complete: 0 created, 0 updated, 0 replaced, 2 destroyed." in result.output


def test_prevent_destroy_blocks_destroy(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Competency
        metadata: {name: c}
        lifecycle: {prevent_destroy: true}
        spec: {name: Go, proficiency: BASIC}
        """)
    ws.cli("apply", "-auto-approve")
    result = ws.cli("destroy", "-auto-approve")
    assert result.exit_code == 1
    assert result.output.startswith("Error: competency.c has lifecycle.prevent_destroy set and "
                                    "would be destroyed (destroy requested)\n")
    assert "competency.c" in ws.cli("state", "list").output


def test_secrets_are_redacted_from_output_state_and_plan_files(backend_ws):
    ws = backend_ws
    ws.configure("variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: s}
        spec:
          steps:
            use:
              shell: {command: "echo token={{ var.token }}"}
        """)
    env = {"TF_TEST_TOKEN": "hunter2-very-secret"}
    plan_file = ws.root / "p.json"
    planned = ws.cli("plan", "-out", str(plan_file), env=env)
    applied = ws.cli("apply", "-auto-approve", "-v", env=env)
    assert applied.exit_code == 0
    shown = ws.cli("state", "show", "pipeline.s.use", env=env)
    for text in (planned.output, applied.output, shown.output, plan_file.read_text()):
        assert "hunter2-very-secret" not in text
    assert "token=(sensitive)" in shown.output
    stored = ws.stored_bytes()
    assert b"pipeline.s.use" in stored  # the record is there, only the secret is not
    assert b"hunter2-very-secret" not in stored


def test_unset_environment_variable_is_a_clear_error(ws):
    ws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_UNSET_VAR}\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: s}
        spec:
          steps:
            use: {value: {input: "{{ var.token }}"}}
        """)
    result = ws.cli("validate")
    assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:6:26: "
                             "spec.steps.use.value.input: variable 'token' reads environment "
                             "variable TF_TEST_UNSET_VAR, which is not set (and has no default)\n")


def test_state_show_and_history_and_rm(ws):
    write(ws)
    ws.cli("apply", "-auto-approve")
    shown = json.loads(ws.cli("state", "show", "pipeline.hello.greeting", "--json").output)
    assert shown["outputs"] == {"value": "hello"}
    assert shown["events"][0]["event"] == "done"
    history = ws.cli("state", "history").output.splitlines()
    assert len(history) == 1 and " apply    ok " in history[0]
    assert ws.cli("state", "rm", "pipeline.hello.check").output == \
        "Forgot pipeline.hello.check (nothing was destroyed).\n"
    assert (ws.root / "out.txt").exists()
    missing = ws.cli("state", "show", "nope.x")
    assert missing.exit_code == 1
    assert missing.output == "Error: nope.x is not in the state (see `taskform state list`)\n"


def test_graph_formats(ws):
    write(ws)
    dot = ws.cli("graph").output
    assert '"pipeline.hello.greeting" -> "pipeline.hello.write";' in dot
    assert '"pipeline.hello.write" -> "pipeline.hello.check";' in dot
    mermaid = ws.cli("graph", "--format", "mermaid").output
    assert mermaid.startswith("flowchart LR\n")
    assert "  n1 --> n2\n" in mermaid  # greeting -> write (sorted ids: check, greeting, write)


def test_schema_covers_every_kind(ws):
    schema = json.loads(ws.cli("schema").output)
    from runner.kinds.registry import DOCUMENTS, STEP_TYPES

    kinds = {v["properties"]["kind"]["const"] for v in schema["oneOf"]}
    assert kinds == {"Pipeline", *DOCUMENTS} and {"Background", "Competency"} <= kinds
    pipeline = next(v for v in schema["oneOf"] if v["properties"]["kind"]["const"] == "Pipeline")
    steps = pipeline["properties"]["spec"]["properties"]["steps"]["additionalProperties"]["oneOf"]
    types = {s["required"][0] for s in steps}
    assert types == set(STEP_TYPES) and {"file_exists", "shell", "value"} <= types


def test_version_and_help_through_a_real_process(ws):
    proc = ws.run("--version")
    assert proc.returncode == 0 and proc.stdout == "taskform, version 0.1.0\n"
    helped = ws.run("plan", "--help")
    assert "-detailed-exitcode" in helped.stdout and "-target, --target ADDR" in helped.stdout


def test_state_with_an_unknown_kind_is_a_clear_error(ws):
    from runner.state.base import Event, Record

    ws.state().commit(Record(address="pipeline.p.x", kind="from_the_future", status="ok",
                             fingerprint={}, settings={}, outputs={}),
                      Event("r-1", "done", "pipeline.p.x"))
    result = ws.cli("plan")
    assert result.exit_code == 1
    assert result.output == ("Error: the state records resources of kinds this taskform (0.1.0) "
                             "does not know:\n  pipeline.p.x has kind 'from_the_future'\nupgrade "
                             "taskform, or forget them with `taskform state rm ADDR`\n")
    assert ws.cli("state", "rm", "pipeline.p.x").exit_code == 0
    assert ws.cli("plan").output == "No changes. 0 resources match the specs.\n"


def test_a_variable_holding_template_text_is_used_verbatim(ws):
    ws.write("taskform.yaml", "variables:\n  text: 'literal {{ braces }} and {% endraw %} too'\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: v}
        spec:
          steps:
            a: {value: {input: "{{ var.text }}"}}
            b: {value: {input: "{{ steps.a.value }}!"}}
        """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    records = ws.state().records()
    assert records["pipeline.v.a"].outputs == {"value": "literal {{ braces }} and {% endraw %} too"}
    assert records["pipeline.v.b"].outputs == {"value": "literal {{ braces }} and {% endraw %} "
                                                        "too!"}
    assert ws.cli("plan").output == "No changes. 2 resources match the specs.\n"
