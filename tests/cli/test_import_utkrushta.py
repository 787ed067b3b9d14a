"""`taskform import utkrushta`: the seed's JSON files become spec YAML that validates and
applies; a missing scenario key and malformed files are clear errors with file:line."""

from __future__ import annotations

import json

from doubles.content import needs_git

pytestmark = needs_git

COMPETENCIES = [
    {"competency_id": "c9bd828d", "proficiency": "BASIC", "name": "Java",
     "scope": "A person with BASIC proficiency level in Java..."},
    {"competency_id": "50f5e386", "proficiency": "BASIC", "name": "Kafka",
     "scope": "A person with BASIC proficiency level in Kafka..."},
]
BACKGROUND = {"organization": {"organization_background": "Tech startup focused on e-commerce"},
              "role_context": "Backend Developer", "yoe": "3-5 years",
              "questions_prompt": "Focus on practical implementation scenarios"}
SCENARIO = ("**Current Implementation:** Orders are published with {{ key }} placeholders.\n\n"
            "**Your Task:** Fix it.\n\n**Success Criteria:** 0 lost orders.")


def inputs(ws, scenarios: dict | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    ws.write("in/competencies.json", json.dumps(COMPETENCIES, indent=2))
    ws.write("in/background.json", json.dumps(BACKGROUND, indent=2))
    args = ["--competencies", str(ws.root / "in/competencies.json"),
            "--background", str(ws.root / "in/background.json")]
    if scenarios is not None:
        ws.write("in/scenarios.json", json.dumps(scenarios, indent=2))
        args += ["--scenarios", str(ws.root / "in/scenarios.json")]
    return args


def test_converts_and_the_result_applies(ws) -> None:  # type: ignore[no-untyped-def]
    args = inputs(ws, {"Python (BASIC)": ["no"], "JAVA (BASIC), KAFKA (BASIC)": [SCENARIO, "b"]})
    result = ws.cli("import", "utkrushta", *args)
    assert result.exit_code == 0, result.stderr
    folder = ws.root / "specs/imported"
    assert result.stdout == (
        f"Wrote {folder}/java-kafka-basic.yaml: 5 documents, 2 scenario(s).\n"
        f"Wrote {folder}/java-kafka-basic.scenarios.json: scenarios that look like templates are "
        "kept in a file.\nNext: taskform validate && taskform plan\n")
    text = (folder / "java-kafka-basic.yaml").read_text()
    assert "# Scenario key: Java (BASIC), Kafka (BASIC)\n" in text
    assert "competency_id: c9bd828d" in text
    assert "files:\n  - specs/imported/java-kafka-basic.scenarios.json\n" in text
    assert json.loads((folder / "java-kafka-basic.scenarios.json").read_text()) == {
        "Java (BASIC), Kafka (BASIC)": [SCENARIO, "b"]}
    validate = ws.cli("validate")
    assert validate.stdout == "Valid: 5 documents, 5 resources in 1 file.\n", validate.stderr
    applied = ws.cli("apply", "-auto-approve")
    assert applied.exit_code == 0, applied.stdout
    records = ws.state().records()
    assert records["scenario_set.java-kafka-basic"].outputs["scenarios"][0] == SCENARIO
    task = records["task.java-kafka-basic"].outputs
    assert task["stack"] == "java-kafka" and task["scenario"] == SCENARIO
    again = ws.cli("import", "utkrushta", *args)
    assert again.exit_code == 1
    assert "java-kafka-basic.yaml exists; pass --force to overwrite it" in again.stderr


def test_plain_scenarios_are_written_inline(ws) -> None:  # type: ignore[no-untyped-def]
    args = inputs(ws, {"Java(BASIC),Kafka(BASIC)": ["line one\nline two", "plain"]})
    assert ws.cli("import", "utkrushta", *args, "--name", "streams").exit_code == 0
    text = (ws.root / "specs/imported/streams.yaml").read_text()
    assert "  scenarios:\n  - |-\n    line one\n    line two\n  - plain\n" in text
    assert "name: streams-background" in text
    assert ws.cli("validate").exit_code == 0


def test_a_missing_scenario_key_is_an_error(ws) -> None:  # type: ignore[no-untyped-def]
    args = inputs(ws, {"Java (BASIC), Redis (BASIC)": ["x"]})
    result = ws.cli("import", "utkrushta", *args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {ws.root}/in/scenarios.json has no scenarios for 'Java (BASIC), Kafka (BASIC)' "
        "(keys are matched ignoring case, spacing and order); its keys: 'Java (BASIC), Redis "
        "(BASIC)'\n")
    assert not (ws.root / "specs/imported").exists()


def test_malformed_json_names_line_and_column(ws) -> None:  # type: ignore[no-untyped-def]
    args = inputs(ws)
    ws.write("in/background.json", '{\n  "role_context": "dev",\n}\n')
    result = ws.cli("import", "utkrushta", *args)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: 1 error in the specs:\n  {ws.root}/in/background.json:3:1: "
                             "invalid JSON: Expecting property name enclosed in double quotes\n")
    assert "Traceback" not in result.stderr


def test_every_problem_of_every_file_with_its_place(ws) -> None:  # type: ignore[no-untyped-def]
    args = inputs(ws, {"Java (BASIC), Kafka (BASIC)": ["fine", 3]})
    broken = [dict(COMPETENCIES[0], proficiency="EXPERT"), {"proficiency": "BASIC"}]
    ws.write("in/competencies.json", json.dumps(broken, indent=2))
    ws.write("in/background.json", json.dumps({"role_context": "dev"}, indent=2))
    result = ws.cli("import", "utkrushta", *args)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 4 errors in the specs:\n"
        f"  {ws.root}/in/background.json:1:1: expected organization.organization_background (or "
        "organization_background)\n"
        f"  {ws.root}/in/competencies.json:4:20: [0].proficiency: expected 'BEGINNER', 'BASIC', "
        "'INTERMEDIATE' or 'ADVANCED', got \"EXPERT\"\n"
        f"  {ws.root}/in/competencies.json:8:3: [1].name: required key is missing\n"
        f"  {ws.root}/in/scenarios.json:4:5: Java (BASIC), Kafka (BASIC)[1]: expected a valid "
        "string, got 3\n")
