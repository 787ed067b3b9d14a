"""The openai provider through the real `openai` client against an OpenAI-protocol server on
127.0.0.1: valid output, invalid JSON fed back then fixed, 429 then success, usage and cost,
errors that are failures with a clear message, and the key only from a secret variable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.openai_server import OpenAIServer, Reply, chat, error

from runner.connections import Connections
from runner.content.llm_choice import llm_for
from runner.content.models import Review
from runner.errors import StepFailed, WorkspaceError
from runner.providers.call import Call
from runner.providers.llm import InvalidReply, LLMPrices, LLMSettings, Request
from runner.workspace import Workspace, WorkspaceConfig

KEY = "sk-test-key"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(api_key=KEY) as s:
        yield s


def workspace(tmp_path: Path, server: OpenAIServer, **llm: object) -> Workspace:
    settings = LLMSettings(provider="openai", base_url=server.base_url, model="test-model",
                           api_key_variable="openai_key", backoff_seconds=0.01,
                           prices=LLMPrices(input_per_million=2.0, output_per_million=8.0),
                           **llm)  # type: ignore[arg-type]
    return Workspace(root=tmp_path, config=WorkspaceConfig(llm=settings),
                     variables={"openai_key": KEY}, secrets=[KEY])


def ask(ws: Workspace, logs: list[str] | None = None) -> object:
    llm = llm_for(ws, Connections())
    request = Request("task_review", ({"role": "user", "content": "review this"},), Review)
    return llm.complete(request, Call(log=(logs if logs is not None else []).append))


def test_valid_output_with_usage_and_cost(tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", chat({"pass": True, "issues": [], "feedback": "fine"},
                                      prompt_tokens=1000, completion_tokens=500))
    reply = ask(workspace(tmp_path, server))
    assert reply.value == Review(passed=True, issues=[], feedback="fine")  # type: ignore[attr-defined]
    assert reply.usage.as_dict() == {"calls": 1, "input_tokens": 1000,  # type: ignore[attr-defined]
                                     "output_tokens": 500, "cost_usd": 0.006}
    seen = server.requests("task_review")[0]
    assert seen.body["model"] == "test-model"
    assert seen.body["response_format"]["json_schema"]["schema"]["required"] == ["pass"]


def test_invalid_json_is_fed_back_then_fixed(tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", chat("Sure! Here is my review: pass"),
                  chat({"issues": ["x"]}), chat("```json\n{\"pass\": false, \"issues\": [\"x\"]}\n```"))
    logs: list[str] = []
    reply = ask(workspace(tmp_path, server), logs)
    assert reply.value.passed is False  # type: ignore[attr-defined]
    assert reply.usage.calls == 3  # type: ignore[attr-defined]
    second, third = server.requests("task_review")[1:]
    assert second.messages[-2] == {"role": "assistant", "content": "Sure! Here is my review: pass"}
    assert second.messages[-1]["content"] == (
        "That reply was not valid: the reply is not JSON (it starts with 'Sure! Here is my "
        "review: pass'). Answer again with only the corrected JSON object.")
    assert third.messages[-1]["content"].startswith("That reply was not valid: pass: Field "
                                                    "required.")
    assert logs[0] == ("task_review: the reply was not valid (the reply is not JSON (it starts "
                       "with 'Sure! Here is my review: pass')); asking again")


def test_still_invalid_after_the_fix_attempts(tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", *[chat("nope")] * 2)
    with pytest.raises(InvalidReply) as info:
        ask(workspace(tmp_path, server, fix_attempts=1))
    assert info.value.message == ("task_review: the model's reply was still not valid after 2 "
                                  "attempts: the reply is not JSON (it starts with 'nope')")
    assert info.value.retryable is False


def test_rate_limit_then_success(tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", error(429, "Rate limit reached", retry_after_ms=20),
                  error(503, "overloaded"), chat({"pass": True}))
    logs: list[str] = []
    reply = ask(workspace(tmp_path, server), logs)
    assert reply.value.passed is True  # type: ignore[attr-defined]
    assert logs == ["task_review: rate limited (HTTP 429: Rate limit reached); retrying in 0.0s",
                    "task_review: HTTP 503: overloaded; retrying in 0.0s"]
    assert len(server.requests("task_review")) == 3


def test_rate_limit_gives_up_after_the_retries(tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", *[error(429, "Rate limit reached", retry_after_ms=1)] * 3)
    with pytest.raises(StepFailed) as info:
        ask(workspace(tmp_path, server, retries=2))
    assert info.value.message == ("task_review: rate limited (HTTP 429: Rate limit reached); "
                                  "gave up after 3 attempts")


def test_a_client_error_is_not_retried(tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", error(400, "model 'test-model' does not exist"))
    with pytest.raises(StepFailed) as info:
        ask(workspace(tmp_path, server))
    assert info.value.message == "task_review: HTTP 400: model 'test-model' does not exist"
    assert len(server.requests("task_review")) == 1


def test_a_wrong_key_is_reported(tmp_path: Path, server: OpenAIServer) -> None:
    ws = workspace(tmp_path, server)
    ws.variables["openai_key"] = "sk-wrong"
    ws.secrets = ["sk-wrong"]
    with pytest.raises(StepFailed) as info:
        ask(ws)
    assert info.value.message == "task_review: HTTP 401: Incorrect API key provided"


def test_timeout_is_retried_like_a_dropped_connection(tmp_path: Path, server: OpenAIServer) -> None:
    import time

    def slow(seen: object) -> Reply:
        time.sleep(1.5)
        return chat({"pass": True})

    server.script("task_review", slow, chat({"pass": True}))
    logs: list[str] = []
    reply = ask(workspace(tmp_path, server, timeout_seconds=0.5), logs)
    assert reply.value.passed is True  # type: ignore[attr-defined]
    assert logs[0].startswith("task_review: cannot reach the endpoint: Request timed out")


@pytest.mark.parametrize("variables, secrets, message", [
    ({}, [], "llm.api_key_variable names 'openai_key', which is not declared under variables: "
             "in taskform.yaml"),
    ({"openai_key": KEY}, [], "variable 'openai_key' holds the API key: declare it with secret: "
                              "true so it is redacted everywhere"),
])
def test_the_key_comes_only_from_a_declared_secret(tmp_path: Path, server: OpenAIServer,
                                                   variables: dict[str, str], secrets: list[str],
                                                   message: str) -> None:
    ws = workspace(tmp_path, server)
    ws.variables, ws.secrets = variables, secrets
    with pytest.raises(WorkspaceError) as info:
        llm_for(ws, Connections())
    assert str(info.value) == message
