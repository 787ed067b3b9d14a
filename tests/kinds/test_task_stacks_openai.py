"""Every stack of the table generates a task through the OpenAI protocol (the real `openai`
client against the test server), over both APIs and both ways of sending the prompts, and the
task passes every gate: the seed's way of talking to the model end to end. The model double
reads the prompts to know the stack, answers earlier turns in prose and, without structured
output, fences its JSON inside chatter; the gateway headers reach the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from doubles.content import needs_git
from doubles.openai_server import OpenAIServer
from doubles.task_model import answer

from runner.content import stacks
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = needs_git

KEY, GATEWAY_KEY = "sk-stacks-0123456789", "pk-gateway-9876543210"
# the competencies each stack is asked with (the seed's names, alone or as its keys pair them)
COMPETENCIES = {
    "redis": ["Redis"], "docker": ["Docker"], "mongodb": ["MongoDB"],
    "sql-postgresql": ["SQL", "PostgreSQL"], "python-fastapi": ["Python - FastAPI"],
    "java-kafka": ["Java", "Kafka"], "go": ["Golang", "Redis"],
    "nodejs-express": ["Node.js", "Express"], "typescript": ["TypeScript"], "reactjs": ["ReactJs"],
    "nextjs": ["NextJs", "TypeScript"], "react-native": ["React Native"],
    "non-code": ["Prompt Engineering"], "mixed-stack": ["Go", "Kafka"]}


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(api_key=KEY) as s:
        s.model = answer
        yield s


def specs() -> str:
    names = sorted({n for group in COMPETENCIES.values() for n in group})
    docs = [f"apiVersion: taskform/v1\nkind: Competency\nmetadata: {{name: {slug(n)}}}\n"
            f"spec: {{name: {n!r}, proficiency: BASIC}}\n" for n in names]
    docs.append("apiVersion: taskform/v1\nkind: Background\nmetadata: {name: shop}\n"
                "spec: {organization_background: A start-up building e-commerce solutions, "
                "role_context: Backend Developer}\n")
    docs += [f"apiVersion: taskform/v1\nkind: Task\nmetadata: {{name: {stack}}}\n"
             f"spec: {{competencies: [{', '.join(slug(n) for n in group)}], background: shop}}\n"
             for stack, group in COMPETENCIES.items()]
    return "---\n".join(docs)


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def test_the_table_is_the_list_above() -> None:
    table, _ = stacks.load_table(Workspace(root=__import__("pathlib").Path("/nonexistent"),
                                           config=WorkspaceConfig()))
    assert [s.name for s in table.stacks] == list(COMPETENCIES)


@pytest.mark.parametrize("api, conversation, response_format", [
    ("chat", "single", "json_schema"),
    pytest.param("chat", "turns", "text", marks=pytest.mark.slow),
    pytest.param("responses", "single", "text", marks=pytest.mark.slow),
    pytest.param("responses", "turns", "json_schema", marks=pytest.mark.slow),
])
def test_every_stack_generates_a_task_that_passes_the_gates(
        ws, server: OpenAIServer, api: str, conversation: str,  # type: ignore[no-untyped-def]
        response_format: str) -> None:
    ws.write("taskform.yaml", f"""
        llm:
          provider: openai
          base_url: {server.base_url}
          model: gpt-test
          api: {api}
          conversation: {conversation}
          response_format: {response_format}
          api_key_variable: openai_key
          headers:
            x-portkey-api-key: {{variable: portkey_key}}
            x-portkey-provider: openai
        variables:
          openai_key: {{env: TEST_OPENAI_KEY, secret: true}}
          portkey_key: {{env: TEST_PORTKEY_KEY, secret: true}}
        """)
    ws.spec(specs(), "stacks.yaml")
    result = ws.cli("apply", "-auto-approve", env={"TEST_OPENAI_KEY": KEY,
                                                   "TEST_PORTKEY_KEY": GATEWAY_KEY})
    assert result.exit_code == 0, result.output
    records = ws.state().records()
    for stack in COMPETENCIES:
        out = records[f"task.{stack}"].outputs
        assert (out["stack"], out["provider"]) == (stack, "openai"), stack
        assert set(out["gates"].values()) == {"passed"}, (stack, out["gates"])
    assert records["task.non-code"].outputs["grading"]["mode"] == "review"
    assert records["task.go"].outputs["grading"]["toolchain"] == "go"
    assert {s.api for s in server.seen} == {api}
    # turns: three requests for a task's prompts, only the last one asked for JSON
    asks = [s for s in server.seen if "Now write the task." in s.messages[-1]["content"]]
    assert len(asks) == len(COMPETENCIES)
    assert {len([m for m in s.messages if m["role"] == "assistant"]) for s in asks} == (
        {2} if conversation == "turns" else {0})
    assert {s.structured for s in asks} == {response_format != "text"}
    for seen in server.seen:
        headers = {k.lower(): v for k, v in seen.headers.items()}
        assert (headers["x-portkey-api-key"], headers["x-portkey-provider"]) == (
            GATEWAY_KEY, "openai")
    state = (ws.root / ".taskform/state.db").read_bytes()
    assert GATEWAY_KEY.encode() not in state and KEY.encode() not in state
