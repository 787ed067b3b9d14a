"""LLM providers behind one narrow seam: a `Request` (a conversation, the answer's pydantic
schema, and the structured facts it was built from) in, a validated answer and its usage out.

`template` answers offline and deterministically from the scaffolds in `templates/`;
`openai` (`openai_llm.py`) talks to any OpenAI-compatible endpoint through the official client,
over Chat Completions or the Responses API, in one request or turn by turn, validates the JSON
it gets, feeds validation errors back, and backs off on 429/5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError, field_validator

from runner.errors import StepFailed
from runner.providers.call import Call
from runner.strict import StrictModel

PROVIDERS = ("template", "openai")


class LLMPrices(StrictModel):
    """US dollars per million tokens, to record the cost of each resource's calls."""

    input_per_million: float = Field(default=0.0, ge=0)
    output_per_million: float = Field(default=0.0, ge=0)


class HeaderFromVariable(StrictModel):
    """A header value read from a declared secret variable (a gateway key, say)."""

    variable: str = Field(min_length=1)


class LLMSettings(StrictModel):
    """Content generation. `template` is offline and deterministic; `openai` is any
    OpenAI-compatible endpoint, its key read from the declared secret variable `api_key_variable`."""

    provider: Literal["template", "openai"] = "template"
    base_url: str | None = None
    api: Literal["chat", "responses"] = Field(
        default="chat", description="Chat Completions, or the Responses API")
    conversation: Literal["single", "turns"] = Field(
        default="single", description="`single`: a question's prompts in one request; `turns`: "
        "each prompt sent in turn, the model's reply appended before the next, only the last "
        "reply parsed")
    headers: dict[str, str | HeaderFromVariable] = Field(
        default_factory=dict, description="extra request headers for gateways (`x-...`): a "
        "literal value, or {variable: NAME} naming a declared secret variable")
    model: str = "gpt-4o-mini"
    review_model: str | None = None
    api_key_variable: str | None = None
    timeout_seconds: float = Field(default=120, gt=0)
    retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0)
    fix_attempts: int = Field(default=2, ge=0, le=10)
    response_format: Literal["json_schema", "json_object", "text"] = "json_schema"
    prices: LLMPrices = Field(default_factory=LLMPrices)

    @field_validator("headers")
    @classmethod
    def _gateway_headers(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.fullmatch(r"[Xx]-[A-Za-z0-9-]+", name):
                raise ValueError(f"header {name!r}: extra headers are gateway headers named "
                                 "x-... (the API key goes in api_key_variable)")
        return value


class InvalidReply(StepFailed):
    """The model kept answering with something that does not fit the schema."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message, output=output, retryable=False)


@dataclass(frozen=True)
class Request:
    """One question: `purpose` names it (task, solution, task_review, scenarios,
    scenario_review, task_check); `facts` are the inputs the offline provider works from."""

    purpose: str
    messages: tuple[dict[str, str], ...]
    schema: type[BaseModel]
    facts: Mapping[str, Any] = field(default_factory=dict)
    review: bool = False  # answered by the review model when one is set


@dataclass
class Usage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd = round(self.cost_usd + other.cost_usd, 6)

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": self.cost_usd}


@dataclass
class Reply:
    value: Any
    usage: Usage
    model: str


class LLM(Protocol):
    name: str
    model: str
    deterministic: bool

    def complete(self, request: Request, call: Call) -> Reply: ...


class TemplateLLM:
    """Offline answers: `answer` (given by whoever knows the content: the scaffolds in
    `templates/`) makes the same answer from the same request."""

    name = "template"
    model = "template"
    deterministic = True

    def __init__(self, answer: Callable[[Request], Any]):
        self.answer = answer

    def complete(self, request: Request, call: Call) -> Reply:
        value = self.answer(request)
        try:
            return Reply(request.schema.model_validate(value), Usage(calls=1), self.model)
        except ValidationError as exc:
            raise InvalidReply(f"{request.purpose}: the template's answer does not fit the schema: "
                               f"{describe_invalid(exc)}") from None


def parse_json(text: str) -> Any:
    """The JSON in a reply, the seed's way: the whole text, a fenced ```json block, or the
    outermost braces (balanced, strings skipped; else first `{` to last `}`)."""
    candidates = [text]
    fenced = re.search(r"```(?:json|JSON)?\s*\n(.*?)```", text, re.S)
    if fenced:
        candidates.append(fenced.group(1))
    balanced = _balanced_object(text)
    if balanced:
        candidates.append(balanced)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    if not text.strip():
        raise ValueError("the reply was empty")
    raise ValueError(f"the reply is not JSON (it starts with {text.strip()[:60]!r})")


def _balanced_object(text: str) -> str:
    """The first `{...}` whose braces balance, outside JSON strings."""
    start = text.find("{")
    if start < 0:
        return ""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        char = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return ""


def describe_invalid(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:8]:
            where = ".".join(str(p) for p in err["loc"]) or "the object"
            parts.append(f"{where}: {err['msg']}")
        return "; ".join(parts)
    return str(exc)
