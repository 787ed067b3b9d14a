"""ScenarioSet: written scenarios, scenario files of the seed's format looked up by normalised
key (a missing key is an error, never an empty list), and offline generation through the
quality pipeline, deduplicated against every existing scenario."""

from __future__ import annotations

import json

from doubles.content import COMPETENCIES, SCENARIO

from runner.state.facts import ACCEPTED_SCENARIOS

SET = """
apiVersion: taskform/v1
kind: ScenarioSet
metadata: {name: java-kafka}
spec:
  competencies: [java, kafka]
  files: [scenarios/task_scenarios.json]
"""


def test_a_file_key_in_other_case_and_spacing_is_found(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SET, "set.yaml")
    ws.write("scenarios/task_scenarios.json", json.dumps({
        "Python (BASIC)": ["not this"],
        "JAVA (BASIC), KAFKA (BASIC)": ["scenario one", "scenario two"]}))
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    out = ws.state().records()["scenario_set.java-kafka"].outputs
    assert out["key"] == "Java (BASIC), Kafka (BASIC)"
    assert out["scenarios"] == ["scenario one", "scenario two"]
    assert (out["from_files"], out["stack"], out["category"]) == (2, "java-kafka", "BACKEND")


def test_a_missing_key_is_an_error_not_an_empty_list(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SET, "set.yaml")
    ws.write("scenarios/task_scenarios.json", json.dumps({"Java (BASIC), Redis (BASIC)": ["x"]}))
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert result.stdout.endswith(
        "  scenario_set.java-kafka: scenarios/task_scenarios.json has no scenarios for 'Java "
        "(BASIC), Kafka (BASIC)' (keys are matched ignoring case, spacing and order); its keys: "
        "'Java (BASIC), Redis (BASIC)'\n")


def test_a_malformed_scenario_file_names_its_line(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(SET, "set.yaml")
    ws.write("scenarios/task_scenarios.json", '{\n  "Java (BASIC), Kafka (BASIC)": ["x",]\n}\n')
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert "  scenario_set.java-kafka: scenarios/task_scenarios.json:2:39: invalid JSON: " \
        "Expecting value\n" in result.stdout


def test_offline_generation_passes_the_pipeline_and_is_kept(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(f"""
        apiVersion: taskform/v1
        kind: ScenarioSet
        metadata: {{name: fastapi}}
        spec:
          competencies: [python-fastapi]
          scenarios: ["{SCENARIO}"]
          generate: {{count: 3}}
        """, "set.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    out = ws.state().records()["scenario_set.fastapi"].outputs
    assert len(out["generated"]) == 3 and out["static"] == 1 and len(out["scenarios"]) == 4
    assert out["scenarios"][0].startswith("**Current Implementation:** The catalogue API")
    assert all("Python - FastAPI" in s for s in out["generated"])
    assert out["usage"]["calls"] == 2  # one generation, one review: every entry passed
    # re-apply: same inputs, the generated scenarios are not regenerated
    assert "No changes." in ws.cli("plan").stdout
    # a higher count keeps the three and generates one more
    ws.spec(ws.root.joinpath("specs/set.yaml").read_text().replace("count: 3", "count: 4"),
            "set.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0
    again = ws.state().records()["scenario_set.fastapi"].outputs
    assert again["generated"][:3] == out["generated"] and len(again["generated"]) == 4
    assert again["usage"]["calls"] == 2


def test_generated_duplicates_of_other_sets_are_rejected(ws) -> None:  # type: ignore[no-untyped-def]
    from runner.content.exercises import SCENARIO_BANK
    from runner.content.templates import SHIPPED

    ws.spec(COMPETENCIES, "competencies.yaml")
    # Java and Kafka have no offline exercises: their offline scenarios are the bank's BACKEND ones
    bank = SHIPPED / SCENARIO_BANK
    import yaml

    first = yaml.safe_load(bank.read_text())["BACKEND"][0].replace("{{ names }}", "Java and Kafka")
    ws.spec(f"""
        apiVersion: taskform/v1
        kind: ScenarioSet
        metadata: {{name: written}}
        spec:
          competencies: [java, kafka]
          scenarios: [{json.dumps(first)}]
        ---
        apiVersion: taskform/v1
        kind: ScenarioSet
        metadata: {{name: generated}}
        spec:
          competencies: [java, kafka]
          generate: {{count: 1}}
        """, "sets.yaml")
    assert ws.cli("apply", "-auto-approve", "-target", "scenario_set.written").exit_code == 0
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.stdout
    out = ws.state().records()["scenario_set.generated"].outputs
    assert [r["stage"] for r in out["rejected"]] == ["duplicate"]
    assert out["rejected"][0]["reasons"][0].startswith("1.00 similar to an existing scenario")
    assert out["generated"][0] != first


def test_a_shortfall_fails_and_keeps_what_was_accepted(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.write("templates/scenarios/bank.yaml", "BACKEND:\n  - |-\n    **Current Implementation:** "
             "A service in {{ names }} is slow for 3 of 10 requests, which customers notice every "
             "day in the morning rush and complain about.\n\n    **Your Task:** Find and fix the "
             "slow path in the service code.\n\n    **Success Criteria:** 95% of requests finish "
             "in under 100 ms.\n  - too short\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: ScenarioSet
        metadata: {name: fastapi}
        spec:
          competencies: [java, kafka]
          generate: {count: 2, regenerations: 1}
        """, "set.yaml")
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    record = ws.state().records()["scenario_set.fastapi"]
    assert record.error == (
        "only 1 of 2 generated scenario(s) passed the quality pipeline in 2 round(s); the "
        "accepted ones are kept for the next apply")
    assert record.output.startswith(
        "rejected:\n"
        "  [structure] 9 characters; expected 200 to 3000; no **Current Implementation:** "
        "section; no **Your Task:** section; no **Success Criteria:** section: 'too short'\n"
        "  [duplicate] 1.00 similar to an existing scenario")
    kept = ws.state().fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi")
    assert [s.split(" is slow")[0] for s in kept["accepted"]] == [
        "**Current Implementation:** A service in Java and Kafka"]
    assert not (ws.root / ".taskform/scenarios").exists()  # in the state, not a side file
