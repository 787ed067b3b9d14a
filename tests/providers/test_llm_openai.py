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


def conversation() -> tuple[dict[str, str], ...]:
    """A task question as generate.py makes it: a system turn and the stack's three prompts."""
    return ({"role": "system", "content": "You write tasks."},
            {"role": "user", "content": "CONTEXT: a shop; summarise what you understand."},
            {"role": "user", "content": "INPUT_AND_ASK: Go (BASIC); confirm your understanding."},
            {"role": "user", "content": "INSTRUCTIONS: now write the task as JSON."})


def ask_task_review(ws: Workspace, messages: tuple[dict[str, str], ...],
                    logs: list[str] | None = None) -> object:
    llm = llm_for(ws, Connections())
    return llm.complete(Request("task_review", messages, Review),
                        Call(log=(logs if logs is not None else []).append))


def test_the_responses_api_with_structured_output(tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", chat({"pass": True, "feedback": "fine"}, prompt_tokens=1000,
                                      completion_tokens=500))
    reply = ask_task_review(workspace(tmp_path, server, api="responses"),
                            ({"role": "system", "content": "Be strict."},
                             {"role": "user", "content": "review this"}))
    assert reply.value == Review(passed=True, feedback="fine")  # type: ignore[attr-defined]
    assert reply.usage.as_dict() == {"calls": 1, "input_tokens": 1000,  # type: ignore[attr-defined]
                                     "output_tokens": 500, "cost_usd": 0.006}
    seen = server.requests("task_review")[0]
    assert seen.api == "responses"
    assert seen.body["instructions"] == "Be strict."
    assert seen.body["input"] == [{"role": "user", "content": "review this"}]
    fmt = seen.body["text"]["format"]
    assert (fmt["type"], fmt["name"], fmt["strict"]) == ("json_schema", "task_review", False)
    assert fmt["schema"]["required"] == ["pass"]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_turns_answer_each_prompt_before_the_next(tmp_path: Path, server: OpenAIServer,
                                                  api: str) -> None:
    server.script("unnamed", chat("I understand: a shop hiring a Go developer."),
                  chat("Confirmed: Go at BASIC level."))
    server.script("task_review", chat({"pass": False, "issues": ["SCOPE: too big"]}))
    logs: list[str] = []
    reply = ask_task_review(workspace(tmp_path, server, api=api, conversation="turns"),
                            conversation(), logs)
    assert reply.value.passed is False  # type: ignore[attr-defined]
    assert reply.usage.calls == 3  # type: ignore[attr-defined]
    first, second, last = server.seen
    system, context, inputs, instructions = conversation()
    assert [first.messages, first.structured] == [[system, context], False]
    assert [second.messages, second.structured] == [
        [system, context, {"role": "assistant", "content": "I understand: a shop hiring a Go "
                           "developer."}, inputs], False]
    assert last.messages[-2:] == [{"role": "assistant", "content": "Confirmed: Go at BASIC "
                                   "level."}, instructions]
    assert (len(last.messages), last.structured, last.purpose) == (6, True, "task_review")
    assert logs == ["task_review: turn 1 of 3", "task_review: turn 2 of 3"]


def test_single_sends_the_three_prompts_in_one_request(tmp_path: Path,
                                                       server: OpenAIServer) -> None:
    server.script("task_review", chat({"pass": True}))
    ask_task_review(workspace(tmp_path, server, api="responses"), conversation())
    assert len(server.seen) == 1
    assert [m["role"] for m in server.seen[0].messages] == ["system", "user", "user", "user"]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_without_structured_output_the_json_is_extracted_from_the_reply(
        tmp_path: Path, server: OpenAIServer, api: str) -> None:
    fenced = ("Here is the review you asked for.\n\n```json\n{\"pass\": true, \"issues\": [], "
              "\"feedback\": \"ok {braces} inside\"}\n```\nLet me know if you need more.")
    server.script("unnamed", chat(fenced))
    reply = ask_task_review(workspace(tmp_path, server, api=api, response_format="text"),
                            ({"role": "user", "content": "review this"},))
    assert reply.value == Review(passed=True, feedback="ok {braces} inside")  # type: ignore[attr-defined]
    assert server.seen[0].structured is False


def test_the_outermost_braces_when_there_is_no_fence(tmp_path: Path,
                                                     server: OpenAIServer) -> None:
    server.script("unnamed", chat('Sure. {"pass": false, "issues": ["x}"]} Hope that helps {:'))
    reply = ask_task_review(workspace(tmp_path, server, response_format="text"),
                            ({"role": "user", "content": "review this"},))
    assert reply.value == Review(passed=False, issues=["x}"])  # type: ignore[attr-defined]


def test_an_endpoint_that_refuses_structured_output_gets_plain_json(
        tmp_path: Path, server: OpenAIServer) -> None:
    server.script("task_review", error(400, "response_format json_schema is not supported by "
                                            "this model"))
    server.script("unnamed", chat('```json\n{"pass": true}\n```'))
    logs: list[str] = []
    reply = ask_task_review(workspace(tmp_path, server),
                            ({"role": "user", "content": "review this"},), logs)
    assert reply.value.passed is True  # type: ignore[attr-defined]
    assert [s.structured for s in server.seen] == [True, False]
    assert logs == ["task_review: the endpoint does not support structured output (HTTP 400: "
                    "response_format json_schema is not supported by this model); extracting the "
                    "JSON from plain replies instead"]


def test_gateway_headers_are_sent_with_the_secret_from_its_variable(
        tmp_path: Path, server: OpenAIServer) -> None:
    from runner.providers.llm import HeaderFromVariable

    ws = workspace(tmp_path, server, api="responses", headers={
        "x-portkey-api-key": HeaderFromVariable(variable="portkey_key"),
        "x-portkey-provider": "openai"})
    ws.variables["portkey_key"] = "pk-gateway-secret"
    ws.secrets.append("pk-gateway-secret")
    server.script("task_review", chat({"pass": True}))
    ask_task_review(ws, ({"role": "user", "content": "review this"},))
    headers = {k.lower(): v for k, v in server.seen[0].headers.items()}
    assert (headers["x-portkey-api-key"], headers["x-portkey-provider"]) == (
        "pk-gateway-secret", "openai")
    assert headers["authorization"] == f"Bearer {KEY}"
    ws.secrets.remove("pk-gateway-secret")
    with pytest.raises(WorkspaceError) as info:
        llm_for(ws, Connections())
    assert str(info.value) == ("variable 'portkey_key' holds the value of header "
                               "x-portkey-api-key: declare it with secret: true so it is "
                               "redacted everywhere")


def test_extra_headers_are_gateway_headers_only() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        LLMSettings(headers={"Authorization": "Bearer x"})
    assert info.value.errors()[0]["msg"] == (
        "Value error, header 'Authorization': extra headers are gateway headers named x-... (the "
        "API key goes in api_key_variable)")
