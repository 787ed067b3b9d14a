"""The `openai` provider: any OpenAI-compatible endpoint through the official `openai` client.

Two APIs (`api: chat` → Chat Completions, `api: responses` → the Responses API) and two ways
to send a question's prompts (`conversation: single` → in one request; `turns` → the seed's way:
each prompt in turn, the model's reply appended before the next, only the last reply parsed).
The last reply is asked for in the answer's JSON schema where the endpoint can; its JSON is
then extracted (whole reply, fenced block, outermost braces) and validated by the request's
pydantic model, and an invalid reply is sent back with the errors. 429, 5xx, timeouts and
dropped connections are retried with backoff; extra headers reach gateways (Portkey)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from runner.errors import Cancelled, StepFailed
from runner.providers.call import Call
from runner.providers.llm import (
    InvalidReply,
    LLMSettings,
    Reply,
    Request,
    Usage,
    describe_invalid,
    parse_json,
)

MAX_BACKOFF_SECONDS = 60.0
Messages = list[dict[str, str]]


class OpenAILLM:
    """The official `openai` client, retries and validation around it."""

    name = "openai"
    deterministic = False

    def __init__(self, settings: LLMSettings, api_key: str, model: str | None = None,
                 headers: Mapping[str, str] | None = None):
        import openai

        self.settings = settings
        self.model = model or settings.model
        self.client = openai.OpenAI(api_key=api_key, base_url=settings.base_url,
                                    timeout=settings.timeout_seconds, max_retries=0,
                                    default_headers=dict(headers or {}))
        self.structured = settings.response_format != "text"

    def close(self) -> None:
        self.client.close()

    def complete(self, request: Request, call: Call) -> Reply:
        model = (self.settings.review_model if request.review else None) or self.model
        usage = Usage()
        messages = self._earlier_turns(request, model, usage, call)
        problem = ""
        for _ in range(self.settings.fix_attempts + 1):
            text = self._send(messages, request, model, usage, call, final=True)
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

    def _earlier_turns(self, request: Request, model: str, usage: Usage, call: Call) -> Messages:
        """With `conversation: turns`, every user prompt but the last is sent on its own and
        answered (in free text) before the next; returns the conversation for the last one."""
        messages = [dict(m) for m in request.messages]
        if self.settings.conversation != "turns":
            return messages
        history: Messages = []
        users = [n for n, m in enumerate(messages) if m["role"] == "user"]
        for n, message in enumerate(messages):
            history.append(message)
            if n in users[:-1] and messages[n + 1]["role"] == "user":
                call.log(f"{request.purpose}: turn {users.index(n) + 1} of {len(users)}")
                reply = self._send(history, request, model, usage, call, final=False)
                history.append({"role": "assistant", "content": reply})
        return history

    def _send(self, messages: Messages, request: Request, model: str, usage: Usage, call: Call,
              final: bool) -> str:
        import openai

        attempt = 0
        while True:
            if call.cancelled.is_set():
                raise Cancelled("llm call")
            try:
                text, used = self._create(messages, request, model, final and self.structured)
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
                    raise Cancelled("llm call") from None
            except openai.BadRequestError as exc:
                if not (final and self.structured and _refuses_structure(exc)):
                    raise StepFailed(f"{request.purpose}: {_what(exc)}", retryable=False) from None
                call.log(f"{request.purpose}: the endpoint does not support structured output "
                         f"({_what(exc)}); extracting the JSON from plain replies instead")
                self.structured = False
            except openai.APIStatusError as exc:
                raise StepFailed(f"{request.purpose}: {_what(exc)}", retryable=False) from None
        usage.add(used)
        return text

    def _create(self, messages: Messages, request: Request, model: str,
                structured: bool) -> tuple[str, Usage]:
        if self.settings.api == "responses":
            system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
            extra: dict[str, Any] = {"instructions": system} if system else {}
            if structured:
                extra["text"] = {"format": self._format(request, responses=True)}
            response = self.client.responses.create(
                model=model, input=[m for m in messages if m["role"] != "system"],  # type: ignore[misc]
                **extra)
            used = getattr(response, "usage", None)
            return response.output_text or "", self._usage(
                getattr(used, "input_tokens", 0), getattr(used, "output_tokens", 0))
        extra = {"response_format": self._format(request, responses=False)} if structured else {}
        completion = self.client.chat.completions.create(
            model=model, messages=messages, **extra)  # type: ignore[arg-type]
        used = getattr(completion, "usage", None)
        content = completion.choices[0].message.content if completion.choices else None
        return content or "", self._usage(getattr(used, "prompt_tokens", 0),
                                          getattr(used, "completion_tokens", 0))

    def _format(self, request: Request, responses: bool) -> dict[str, Any]:
        if self.settings.response_format == "json_object":
            return {"type": "json_object"}
        schema = request.schema.model_json_schema(by_alias=True)
        if responses:  # the Responses API puts name and schema beside the type
            return {"type": "json_schema", "name": request.purpose, "schema": schema,
                    "strict": False}
        return {"type": "json_schema", "json_schema": {"name": request.purpose, "schema": schema}}

    def _delay(self, exc: Exception, attempt: int) -> float:
        response = getattr(exc, "response", None)
        headers = response.headers if response is not None else {}
        for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                return float(min(float(headers[header]) * scale, MAX_BACKOFF_SECONDS))
            except (KeyError, ValueError, TypeError):
                continue
        return float(min(self.settings.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))

    def _usage(self, tokens_in: Any, tokens_out: Any) -> Usage:
        tokens_in, tokens_out = int(tokens_in or 0), int(tokens_out or 0)
        prices = self.settings.prices
        cost = (tokens_in * prices.input_per_million + tokens_out * prices.output_per_million) / 1e6
        return Usage(calls=1, input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost)


def _refuses_structure(exc: Exception) -> bool:
    """A 400 that names the structured-output parameter: the endpoint does not support it."""
    text = _what(exc).lower()
    return any(word in text for word in ("response_format", "json_schema", "text.format",
                                         "structured output"))


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
