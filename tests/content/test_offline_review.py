"""The offline review checks that a task's scenario, its README objectives and its held-out
tests name the same behaviour: a scenario about something else, or none at all, is rejected.
A task graded by review is judged by rules that filler and text about no system in particular
do not pass, while the golden plan passes every criterion."""

from __future__ import annotations

import json
from pathlib import Path

from doubles.content import COMPETENCIES, needs_git

from runner.connections import Connections
from runner.content import exercises, review_grading, scaffold
from runner.content.llm_choice import llm_for
from runner.content.models import Criterion, TaskDraft
from runner.providers.call import Call
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = needs_git

PAYMENTS = ("**Current Implementation:** Checkout calls the payment provider on every POST and "
            "the app retries after 3 seconds, so about 2% of orders are charged twice.\\n\\n"
            "**Your Task:** Make payment calls idempotent with a per-order key and return a clear "
            "pending status while a payment is retried.\\n\\n**Success Criteria:** No order is "
            "charged twice when the provider fails for up to 10 seconds.")


def task(scenario: str) -> str:
    return f"""
apiVersion: taskform/v1
kind: Task
metadata: {{name: items}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenario: {{text: "{scenario}"}}
  generator: {{exercise: items-api}}
"""


def test_a_scenario_that_contradicts_the_objectives_is_rejected(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(task(PAYMENTS), "task.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 1
    record = ws.state().records()["task.items"]
    assert record.error == "1 quality gate(s) failed (review); the task was not published"
    lines = record.output.splitlines()
    assert lines[:3] == [
        "  review: CONSISTENCY: criterion 'validation' checks validat, invalid, 422, which the "
        "scenario never mentions: the scenario describes another problem than the task grades",
        "  review: CONSISTENCY: criterion 'pagination' checks paging, paginat, page, limit, "
        "offset, which the scenario never mentions: the scenario describes another problem than "
        "the task grades",
        'attempts: 1; usage: {"calls": 3, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}']
    assert not (ws.root / ".taskform/repos").exists()


def test_an_empty_scenario_is_rejected(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(task(""), "task.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 1
    record = ws.state().records()["task.items"]
    assert record.output.splitlines()[0] == (
        "  review: SCENARIO: the task has no scenario, so nothing situates its objectives")


def test_without_a_scenario_a_task_shows_its_exercise_s_own(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(COMPETENCIES, "competencies.yaml")
    ws.spec(task("").replace('  scenario: {text: ""}\n', ""), "task.yaml")
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    out = ws.state().records()["task.items"].outputs
    assert out["scenario"].startswith("**Current Implementation:** ")
    assert out["scenario"] in json.loads((ws.root / ".taskform/tasks/items/task.json").read_text()
                                         )["code_files"]["README.md"]


def plan_task(tmp_path: Path) -> tuple[Workspace, TaskDraft, list[Criterion], dict[str, str], str]:
    ws = Workspace(root=tmp_path, config=WorkspaceConfig())
    competencies = [{"name": "Java", "proficiency": "BASIC"}, {"name": "Kafka",
                                                               "proficiency": "BASIC"}]
    variables = exercises.scenario_variables(competencies, "BASIC")
    scenario = exercises.offline_bank(ws, "BACKEND", None, variables)[2]
    rendered = scaffold.render(ws, "generic", "change-plan", {
        "title": "Plan", "slug": "plan", "repo": "plan", "competencies": competencies,
        "competency_names": "Java and Kafka", "proficiency": "BASIC", "minutes_range": "15-20",
        "scenario": scenario, "scenario_key": "", "feedback": [], "stack": "java-kafka",
        "category": "BACKEND", "exercise_id": "change-plan",
        "background": {"organization_background": "A bank", "role_context": "Engineer"}})
    draft = TaskDraft.model_validate({**rendered.task, "code_files": rendered.starter})
    rubric = [Criterion.model_validate(c) for c in rendered.rubric]
    return ws, draft, rubric, rendered.solution, scenario


def verdicts(tmp_path: Path, plan: str | None) -> dict[str, tuple[bool, str]]:
    ws, draft, rubric, solution, scenario = plan_task(tmp_path)
    files = {"deliverable/PLAN.md": plan if plan is not None else solution["deliverable/PLAN.md"]}
    found, _ = review_grading.review_submission(
        ws, llm_for(ws, Connections()), Call(), draft=draft, rubric=rubric, files=files,
        scenario=scenario, competencies=[{"name": "Java"}, {"name": "Kafka"}])
    return {k: (v.passed, v.reason) for k, v in found.items()}


SECTIONS = ("Current State", "Proposed Change", "Verification Plan", "Risks")


def test_the_golden_plan_passes_every_criterion(tmp_path: Path) -> None:
    assert {k: passed for k, (passed, _) in verdicts(tmp_path, None).items()} == {
        "sections-filled": True, "addresses-scenario": True, "names-technologies": True,
        "measurable-targets": True}


def test_filler_passes_no_criterion(tmp_path: Path) -> None:
    lorem = "# Change plan\n\n" + "".join(f"## {t}\n\n{' '.join(['lorem'] * 40)}\n\n"
                                          for t in SECTIONS)
    assert set(verdicts(tmp_path, lorem).values()) == {
        (False, "section 'Current State' is placeholder text (40 lorem-ipsum words)")}
    repeated = "# Change plan\n\n" + "".join(
        f"## {t}\n\n{' '.join(['Java Kafka message consumer offsets 200 ms'] * 10)}\n\n"
        for t in SECTIONS)
    assert set(verdicts(tmp_path, repeated).values()) == {
        (False, "section 'Current State' repeats the same words (6 distinct of 60)")}


def test_a_plan_about_no_system_in_particular_fails(tmp_path: Path) -> None:
    generic = ("We will improve the system with Java and Kafka, following good engineering "
               "practice: small steps, careful reviews, automated tests, monitoring dashboards, "
               "alerts for the team on call, and a rollback plan for every release we make. "
               "Targets: p95 under 200 ms and errors under 1 percent across every service.")
    plan = "# Change plan\n\n" + "".join(f"## {t}\n\n{generic}\n\n" for t in SECTIONS)
    found = verdicts(tmp_path, plan)
    assert {k: passed for k, (passed, _) in found.items()} == {
        "sections-filled": False, "addresses-scenario": False, "names-technologies": False,
        "measurable-targets": False}
    assert found["names-technologies"][1].startswith(
        "the deliverable could be about any system: it shares ")


def test_the_offline_task_check_finds_tests_named_by_go_and_node_commands() -> None:
    from runner.content import offline
    from runner.providers.llm import Request

    patch = ("diff --git a/inventory/x_test.go b/inventory/x_test.go\n--- /dev/null\n"
             "+++ b/inventory/x_test.go\n@@ -0,0 +1,2 @@\n+package inventory\n"
             "+func TestHiddenRelease(t *testing.T) {}\n")
    rubric = [{"rubricItemId": "a", "criterion": "release", "forms": {"default": {
                   "criterion_test_command": "go test -run '^TestHiddenRelease$' ./inventory"}}},
              {"rubricItemId": "b", "criterion": "other", "forms": {"default": {
                   "criterion_test_command": "go test -run '^TestHiddenOversell$' ./inventory"}}}]
    found = offline.answer(Workspace(root=Path("/x"), config=WorkspaceConfig()), Request(
        "task_check", (), dict, {"rubric": json.dumps(rubric), "patch": patch, "prompt": "x"}))
    assert found["issues"] == ["criterion b runs the test TestHiddenOversell, which the "
                               "held-out patch does not add"]
