"""LLM providers behind one narrow seam: a `Request` (a conversation, the answer's pydantic
schema, and the structured facts it was built from) in, a validated answer and its usage out.

`template` answers offline and deterministically from the scaffolds in `templates/`;
`openai` talks to any OpenAI-compatible endpoint through the official client, validates the
JSON it gets, feeds validation errors back, and backs off on 429/5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from runner.errors import Cancelled, StepFailed
from runner.providers.call import Call
from runner.strict import StrictModel

MAX_BACKOFF_SECONDS = 60.0
PROVIDERS = ("template", "openai")


class LLMPrices(StrictModel):
    """US dollars per million tokens, to record the cost of each resource's calls."""

    input_per_million: float = Field(default=0.0, ge=0)
    output_per_million: float = Field(default=0.0, ge=0)


class LLMSettings(StrictModel):
    """Content generation. `template` is offline and deterministic; `openai` is any
    OpenAI-compatible endpoint, its key read from the declared secret variable `api_key_variable`."""

    provider: Literal["template", "openai"] = "template"
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    review_model: str | None = None
    api_key_variable: str | None = None
    timeout_seconds: float = Field(default=120, gt=0)
    retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0)
    fix_attempts: int = Field(default=2, ge=0, le=10)
    response_format: Literal["json_schema", "json_object", "text"] = "json_schema"
    prices: LLMPrices = Field(default_factory=LLMPrices)


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


class OpenAILLM:
    """The official `openai` client, retries and validation around it."""

    name = "openai"
    deterministic = False

    def __init__(self, settings: LLMSettings, api_key: str, model: str | None = None):
        import openai

        self.settings = settings
        self.model = model or settings.model
        self.client = openai.OpenAI(api_key=api_key, base_url=settings.base_url,
                                    timeout=settings.timeout_seconds, max_retries=0)

    def close(self) -> None:
        self.client.close()

    def complete(self, request: Request, call: Call) -> Reply:
        model = (self.settings.review_model if request.review else None) or self.model
        messages = [dict(m) for m in request.messages]
        usage = Usage()
        problem = ""
        for _ in range(self.settings.fix_attempts + 1):
            text = self._send(messages, request, model, usage, call)
            try:
                value = request.schema.model_validate(parse_json(text))
                return Reply(value, usage, model)
            except (ValueError, ValidationError) as exc:
                problem = describe_invalid(exc)
            call.log(f"{request.purpose}: the reply was not valid ({problem}); asking again")
            messages += [{"role": "assistant", "content": text},
                         {"role": "user", "content": f"That reply was not valid: {problem}. Answer "
                          "again with only the corrected JSON object."}]
        raise InvalidReply(f"{request.purpose}: the model's reply was still not valid after "
                           f"{self.settings.fix_attempts + 1} attempts: {problem}",
                           output=f"usage: {json.dumps(usage.as_dict())}")

    def _send(self, messages: list[dict[str, str]], request: Request, model: str, usage: Usage,
              call: Call) -> str:
        import openai

        attempt = 0
        while True:
            if call.cancelled.is_set():
                _cancel()
            try:
                response = self.client.chat.completions.create(
                    model=model, messages=messages,  # type: ignore[arg-type]
                    **self._format(request))
                break
            except (openai.RateLimitError, openai.InternalServerError,
                    openai.APIConnectionError) as exc:
                attempt += 1
                if attempt > self.settings.retries:
                    raise StepFailed(f"{request.purpose}: {_what(exc)}; gave up after "
                                     f"{attempt} attempts") from None
                delay = self._delay(exc, attempt)
                call.log(f"{request.purpose}: {_what(exc)}; retrying in {delay:.1f}s")
                if call.cancelled.wait(delay):
                    _cancel()
            except openai.APIStatusError as exc:
                raise StepFailed(f"{request.purpose}: {_what(exc)}", retryable=False) from None
        usage.add(self._usage(response))
        content = response.choices[0].message.content if response.choices else None
        return content or ""

    def _format(self, request: Request) -> dict[str, Any]:
        kind = self.settings.response_format
        if kind == "json_schema":
            return {"response_format": {"type": "json_schema", "json_schema": {
                "name": request.purpose, "schema": request.schema.model_json_schema(by_alias=True)}}}
        if kind == "json_object":
            return {"response_format": {"type": "json_object"}}
        return {}

    def _delay(self, exc: Exception, attempt: int) -> float:
        response = getattr(exc, "response", None)
        headers = response.headers if response is not None else {}
        for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                return float(min(float(headers[header]) * scale, MAX_BACKOFF_SECONDS))
            except (KeyError, ValueError, TypeError):
                continue
        return float(min(self.settings.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))

    def _usage(self, response: Any) -> Usage:
        used = getattr(response, "usage", None)
        tokens_in = int(getattr(used, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(used, "completion_tokens", 0) or 0)
        prices = self.settings.prices
        cost = (tokens_in * prices.input_per_million + tokens_out * prices.output_per_million) / 1e6
        return Usage(calls=1, input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost)


def _cancel() -> None:
    raise Cancelled("llm call")


def _what(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    message = (body.get("message") if isinstance(body, dict) else None) or \
        getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if status == 429:
        return f"rate limited (HTTP 429: {message})"
    if status is not None:
        return f"HTTP {status}: {message}"
    return f"cannot reach the endpoint: {message}"


def parse_json(text: str) -> Any:
    """The JSON in a reply: the whole text, a fenced ```json block, or the outermost braces."""
    candidates = [text]
    fenced = re.search(r"```(?:json)?\s*\n(.*?)```", text, re.S)
    if fenced:
        candidates.append(fenced.group(1))
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


def describe_invalid(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:8]:
            where = ".".join(str(p) for p in err["loc"]) or "the object"
            parts.append(f"{where}: {err['msg']}")
        return "; ".join(parts)
    return str(exc)
