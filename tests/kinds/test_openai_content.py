"""Task and ScenarioSet through the openai provider (the real `openai` client against an
OpenAI-protocol server on 127.0.0.1): the stack's prompts as one conversation, the solution
asked with the starter code in context, a rejecting review that triggers regeneration, and a
review call that errors, which fails the resource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.content import COMPETENCIES, SCENARIO, needs_git
from doubles.openai_server import OpenAIServer, chat, error

from runner.content import scaffold
from runner.state.facts import ACCEPTED_SCENARIOS
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = needs_git

KEY = "sk-test-secret-0123456789"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(api_key=KEY) as s:
        yield s


def configure(ws, server: OpenAIServer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", f"""
        llm:
          provider: openai
          base_url: {server.base_url}
          model: gpt-test
          review_model: gpt-test-mini
          api_key_variable: openai_key
          backoff_seconds: 0.01
          prices: {{input_per_million: 1.0, output_per_million: 4.0}}
        variables:
          openai_key: {{env: TEST_OPENAI_KEY, secret: true}}
        """)
    ws.spec(COMPETENCIES, "competencies.yaml")
    return {"TEST_OPENAI_KEY": KEY}


def generated(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A realistic task JSON and solution: what a good model would answer."""
    ws = Workspace(root=tmp_path / "render", config=WorkspaceConfig())
    rendered = scaffold.render(ws, "python-fastapi", "items-api", {
        "title": "Catalogue Paging", "slug": "catalogue-paging", "repo": "x",
        "competencies": [{"name": "Python - FastAPI", "proficiency": "BASIC"}],
        "competency_names": "Python - FastAPI", "proficiency": "BASIC", "minutes_range": "15-20",
        "scenario": "", "scenario_key": "", "background": {}, "stack": "", "category": ""})
    task = {**rendered.task, "code_files": rendered.starter}
    solution = {"files": rendered.solution, "steps": rendered.steps, "tests": rendered.tests,
                "rubric": rendered.rubric}
    return task, solution


TASK = f"""
apiVersion: taskform/v1
kind: Task
metadata: {{name: catalogue}}
spec:
  competencies: [python-fastapi]
  background: shop
  scenario: {{text: "{SCENARIO}"}}
  generator: {{provider: openai, regenerations: 1}}
"""


def test_task_through_the_openai_protocol(ws, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, server)
    task, solution = generated(tmp_path)
    server.script("task", chat(task, 3000, 2000))
    server.script("solution", chat(solution, 4000, 3000))
    server.script("task_review", chat({"pass": True, "issues": [], "feedback": "realistic"}))
    ws.spec(TASK, "task.yaml")
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 0, result.output
    out = ws.state().records()["task.catalogue"].outputs
    assert (out["provider"], out["model"], out["name"]) == ("openai", "gpt-test", "catalogue-paging")
    assert out["usage"] == {"calls": 3, "input_tokens": 7100, "output_tokens": 5050,
                            "cost_usd": 0.0273}
    assert out["review"] == "realistic"
    ask = server.requests("task")[0]
    assert [m["role"] for m in ask.messages] == ["system", "user", "user", "user"]
    context, inputs, instructions = (m["content"] for m in ask.messages[1:])
    assert "A start-up building e-commerce services." in context
    assert "The stack is Python with FastAPI" in context
    assert "- Python - FastAPI (BASIC)" in inputs and "12,000-item catalogue" in inputs
    assert '"code_files": an object mapping each starter file path' in instructions
    assert "Stack requirements (Python - FastAPI)" in instructions
    answer = server.requests("solution")[0].text
    assert "===== app/main.py =====" in answer and "def list_items" in answer
    assert server.requests("task_review")[0].body["model"] == "gpt-test-mini"
    assert KEY.encode() not in ws.stored_bytes()
    assert "No changes." in ws.cli("plan", env=env).stdout


def test_a_rejecting_review_regenerates_with_the_feedback(ws, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, server)
    task, solution = generated(tmp_path)
    server.script("task", chat(task), chat(task))
    server.script("solution", chat(solution), chat(solution))
    server.script("task_review",
                  chat({"pass": False, "issues": ["CALIBRATION: too easy for 15-20 minutes"]}),
                  chat({"pass": True, "feedback": "better"}))
    ws.spec(TASK, "task.yaml")
    result = ws.cli("apply", "-auto-approve", "-v", env=env)
    assert result.exit_code == 0, result.stdout
    assert "gates failed (review: CALIBRATION: too easy for 15-20 minutes); regenerating" \
        in result.stdout
    second = server.requests("task")[1].messages[-1]["content"]
    assert ("A previous attempt was rejected for these reasons; fix every one of them:\n"
            "- review: CALIBRATION: too easy for 15-20 minutes") in second
    assert ws.state().records()["task.catalogue"].outputs["review"] == "better"


def test_a_review_that_cannot_be_had_fails_the_task(ws, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, server)
    task, solution = generated(tmp_path)
    server.script("task", chat(task))
    server.script("solution", chat(solution))
    server.script("task_review", *[error(500, "upstream exploded")] * 5)
    ws.spec(TASK, "task.yaml")
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 1
    record = ws.state().records()["task.catalogue"]
    assert record.status == "failed"
    assert record.error == ("gate review: the review call failed: task_review: HTTP 500: "
                            "upstream exploded; gave up after 5 attempts")
    assert not (ws.root / ".taskform/repos").exists()


def test_an_invalid_task_json_is_a_failed_schema_gate(ws, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, server)
    task, _ = generated(tmp_path)
    bad = {**task, "name": "Catalogue Paging!"}
    server.script("task", *[chat(bad)] * 6)
    ws.spec(TASK, "task.yaml")
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 1
    record = ws.state().records()["task.catalogue"]
    assert record.error == "1 quality gate(s) failed (schema); the task was not published"
    assert ("schema: task: the model's reply was still not valid after 3 attempts: name: Value "
            "error, name must be kebab-case") in record.output
    assert "attempts: 2;" in record.output  # one regeneration, each with two fix attempts
    assert len(server.requests("task")) == 6


SET = """
apiVersion: taskform/v1
kind: ScenarioSet
metadata: {name: fastapi}
spec:
  competencies: [python-fastapi]
  generate: {count: 2, provider: openai}
"""


SCENARIOS = [
    "**Current Implementation:** The invoice API built with Python - FastAPI returns 500 for 3% "
    "of requests when its database pool of 10 connections is exhausted at month end.\n\n"
    "**Your Task:** Bound the pool and answer 503 with Retry-After when it is full.\n\n"
    "**Success Criteria:** No 500s under 200 concurrent requests.",
    "**Current Implementation:** A parcel-tracking service on Python - FastAPI stores webhook "
    "payloads synchronously, so carriers see 8-second responses and resend, creating duplicate "
    "events.\n\n**Your Task:** Acknowledge webhooks at once, process them in the background and "
    "drop duplicates by delivery id.\n\n**Success Criteria:** Webhooks answer in under 100 ms "
    "and no event is stored twice.",
    "**Current Implementation:** The room-booking endpoint of a Python - FastAPI app checks "
    "availability and inserts the booking in two steps; about 12 double bookings happen every "
    "week.\n\n**Your Task:** Make the check and the insert one atomic operation and report a "
    "409 conflict clearly.\n\n**Success Criteria:** 0 double bookings in a test with 50 "
    "parallel requests for 1 room.",
]


def scenario(n: int) -> str:
    return SCENARIOS[n]


def test_scenario_review_rejects_then_a_regenerated_one_passes(ws, server) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, server)
    server.script("scenarios", chat({"scenarios": [scenario(0), scenario(1)]}),
                  chat({"scenarios": [scenario(2)]}))
    server.script("scenario_review",
                  chat({"evaluations": [{"index": 0, "pass": True},
                                        {"index": 1, "pass": False, "failed_criteria": ["SCOPE"],
                                         "reason": "too big for 20 minutes"}]}),
                  chat({"evaluations": [{"index": 0, "pass": True}]}))
    ws.spec(SET, "set.yaml")
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 0, result.stdout
    out = ws.state().records()["scenario_set.fastapi"].outputs
    assert out["generated"] == [scenario(0), scenario(2)]
    assert out["rejected"] == [{"stage": "review", "reasons": ["failed SCOPE",
                                                                "too big for 20 minutes"],
                                "text": scenario(1)}]
    again = server.requests("scenarios")[1].text
    assert "(review: failed SCOPE; too big for 20 minutes)" in again
    assert out["usage"]["calls"] == 4


def test_a_scenario_review_call_that_errors_fails_the_set(ws, server) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, server)
    server.script("scenarios", chat({"scenarios": [scenario(0), scenario(1)]}))
    server.script("scenario_review", chat("I think they are both fine!"), chat("Still fine."),
                  chat("Yes."))
    ws.spec(SET, "set.yaml")
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 1
    record = ws.state().records()["scenario_set.fastapi"]
    assert record.status == "failed"
    assert record.error.startswith(
        "the scenario review failed, so nothing was accepted: scenario_review: the model's reply "
        "was still not valid after 3 attempts: the reply is not JSON (it starts with 'Yes.')")
    assert ws.state().fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi") is None  # none accepted


def test_scenarios_accepted_before_a_shortfall_are_not_paid_for_again(ws, server) -> None:  # type: ignore[no-untyped-def]
    env = configure(ws, server)
    server.script("scenarios", chat({"scenarios": [scenario(0), scenario(1)]}),
                  chat({"scenarios": [scenario(2)]}))
    server.script("scenario_review",
                  chat({"evaluations": [{"index": 0, "pass": True},
                                        {"index": 1, "pass": False, "reason": "vague"}]}),
                  chat({"evaluations": [{"index": 0, "pass": True}]}))
    ws.spec(SET.replace("provider: openai}", "provider: openai, regenerations: 0}"), "set.yaml")
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 1
    kept = ws.state().fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi")
    assert kept["accepted"] == [scenario(0)]
    result = ws.cli("apply", "-auto-approve", env=env)
    assert result.exit_code == 0, result.output
    assert ws.state().records()["scenario_set.fastapi"].outputs["generated"] == [scenario(0),
                                                                                scenario(2)]
    assert (len(server.requests("scenarios")), len(server.requests("scenario_review"))) == (2, 2)
