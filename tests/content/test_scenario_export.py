"""`taskform scenarios export` writes the accepted scenarios to the seed's files (by proficiency
and category, keys normalised, --append merging), which a ScenarioSet reads back; `taskform plan`
previews the scenarios a set would generate (the seed's --dry-run), and apply records the same."""

from __future__ import annotations

import json

from doubles.content import COMPETENCIES, needs_git

pytestmark = needs_git

WRITTEN = ("**Current Implementation:** The refund queue of a shop built with {names} drops 3% "
           "of messages when a consumer restarts.\n\n**Your Task:** Commit offsets after the "
           "write.\n\n**Success Criteria:** 0 lost refunds in 10 restarts.")
SETS = f"""
apiVersion: taskform/v1
kind: Competency
metadata: {{name: prompts}}
spec: {{name: Prompt Engineering, proficiency: BASIC}}
---
apiVersion: taskform/v1
kind: ScenarioSet
metadata: {{name: fastapi}}
spec:
  competencies: [python-fastapi]
  generate: {{count: 2}}
---
apiVersion: taskform/v1
kind: ScenarioSet
metadata: {{name: streams}}
spec:
  competencies: [java, kafka]
  proficiency: INTERMEDIATE
  scenarios: [{json.dumps(WRITTEN.format(names="Java and Kafka"))}]
---
apiVersion: taskform/v1
kind: ScenarioSet
metadata: {{name: prompts}}
spec:
  competencies: [prompts]
  generate: {{count: 1}}
"""


def applied(ws):  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SETS, "sets.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout + result.stderr
    return {a: r.outputs for a, r in ws.state().records().items() if r.kind == "scenario_set"}


def test_export_writes_the_seed_s_files_by_proficiency(ws) -> None:  # type: ignore[no-untyped-def]
    sets = applied(ws)
    result = ws.cli("scenarios", "export")
    assert result.exit_code == 0, result.output
    folder = ws.root / "task_input_files/task_scenarios"
    assert result.output == (
        "Wrote task_input_files/task_scenarios/task_sceanrio_no_code.json: 1 key(s), 1 "
        "scenario(s), 1 new (scenario_set.prompts).\n"
        "Wrote task_input_files/task_scenarios/task_scenarios.json: 1 key(s), 2 scenario(s), 2 "
        "new (scenario_set.fastapi).\n"
        "Wrote task_input_files/task_scenarios/task_scenarios_intermediate.json: 1 key(s), 1 "
        "scenario(s), 1 new (scenario_set.streams).\n")
    assert json.loads((folder / "task_scenarios.json").read_text()) == {
        "Python - FastAPI (BASIC)": sets["scenario_set.fastapi"]["generated"]}
    assert json.loads((folder / "task_scenarios_intermediate.json").read_text()) == {
        "Java (INTERMEDIATE), Kafka (INTERMEDIATE)": [WRITTEN.format(names="Java and Kafka")]}
    assert list(json.loads((folder / "task_sceanrio_no_code.json").read_text())) == [
        "Prompt Engineering (BASIC)"]
    only = ws.cli("scenarios", "export", "--proficiency", "intermediate", "-o", "out", "--json")
    assert [row["file"].rsplit("/", 1)[1] for row in json.loads(only.output)] == [
        "task_scenarios_intermediate.json"]


def test_append_merges_under_normal_keys_without_repeating(ws) -> None:  # type: ignore[no-untyped-def]
    sets = applied(ws)
    ours = sets["scenario_set.fastapi"]["generated"]
    folder = ws.root / "task_input_files/task_scenarios"
    folder.mkdir(parents=True)
    (folder / "task_scenarios.json").write_text(json.dumps({
        "PYTHON - FASTAPI(basic)": ["an older scenario", ours[1]],
        "Java(BASIC),Redis(BASIC)": ["a cache scenario"]}))
    result = ws.cli("scenarios", "export", "--append", "--proficiency", "BASIC")
    assert result.output.splitlines()[-1] == (
        "Wrote task_input_files/task_scenarios/task_scenarios.json: 2 key(s), 4 scenario(s), 1 "
        "new (scenario_set.fastapi).")
    assert json.loads((folder / "task_scenarios.json").read_text()) == {
        "Python - FastAPI (BASIC)": ["an older scenario", ours[1], ours[0]],
        "Java (BASIC), Redis (BASIC)": ["a cache scenario"]}
    # the seed's format both ways: a scenario set reads the exported file back
    ws.spec("""
        apiVersion: taskform/v1
        kind: ScenarioSet
        metadata: {name: again}
        spec: {competencies: [python-fastapi], files: [task_input_files/task_scenarios/task_scenarios.json]}
        """, "again.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert ws.state().records()["scenario_set.again"].outputs["scenarios"] == [
        "an older scenario", ours[1], ours[0]]


def test_nothing_to_export(ws) -> None:  # type: ignore[no-untyped-def]
    assert ws.cli("scenarios", "export").output == "No applied scenario sets with scenarios.\n"


def test_plan_previews_what_apply_then_records(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SETS, "sets.yaml")
    plan = ws.cli("plan")
    assert plan.exit_code == 0, plan.output
    preview = plan.output.split("Generated scenarios (a preview: nothing is recorded until "
                                "apply):\n", 1)[1]
    assert preview.startswith("  scenario_set.fastapi  (template, 2 of 2 accepted)\n    1. "
                              "**Current Implementation:** ")
    assert "  scenario_set.prompts  (template, 1 of 1 accepted)\n" in preview
    assert "scenario_set.streams" not in preview  # it generates nothing
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    generated = ws.state().records()["scenario_set.fastapi"].outputs["generated"]
    for n, text in enumerate(generated, 1):
        first, *rest = text.replace("\n\n", "\n").splitlines()
        assert f"    {n}. {first}\n" + "".join(f"       {line}\n" for line in rest) in preview
    assert "Generated scenarios" not in ws.cli("plan").output  # nothing changes: no preview


def test_a_model_is_asked_for_a_preview_only_on_request(ws) -> None:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "llm: {provider: openai, api_key_variable: key, base_url: "
                              "'http://127.0.0.1:9/v1', retries: 0}\n"
                              "variables: {key: {value: sk-x, secret: true}}\n")
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SETS, "sets.yaml")
    plan = ws.cli("plan")
    assert ("  scenario_set.fastapi  (openai): generated by openai at apply; `taskform plan "
            "--preview-scenarios` asks the model now\n") in plan.output
    asked = ws.cli("plan", "--preview-scenarios")
    assert asked.exit_code == 0
    assert ("  scenario_set.fastapi  (openai): no preview: scenarios: cannot reach the endpoint: "
            "Connection error.; gave up after 1 attempts\n") in asked.output
