"""An OpenAI-protocol HTTP server on 127.0.0.1 for tests, driven through the real `openai` client.
It speaks both APIs taskform uses: POST /v1/chat/completions (a `chat.completion` object) and
POST /v1/responses (a `response` object with a message output item and `output_text`). Replies
come from per-purpose queues (the purpose is the JSON schema's name taskform sends:
`response_format.json_schema.name`, or `text.format.name` for the Responses API; a request
without one is "unnamed"), else from a `model` function that answers like a model would; every
request is recorded with its API, body and headers."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROUTES = {"/v1/chat/completions": "chat", "/v1/responses": "responses"}


@dataclass
class Reply:
    status: int = 200
    body: Any = None           # an error body (or any body sent as is)
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None   # sent as is (malformed bodies)
    content: str | None = None  # a successful answer, shaped for the API that was called
    usage: tuple[int, int] = (100, 50)


def chat(content: Any, prompt_tokens: int = 100, completion_tokens: int = 50) -> Reply:
    """A successful answer whose text is `content` (JSON-encoded unless a string), in the shape
    of whichever API was called."""
    text = content if isinstance(content, str) else json.dumps(content)
    return Reply(200, content=text, usage=(prompt_tokens, completion_tokens))


def error(status: int, message: str, retry_after_ms: int | None = None) -> Reply:
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    return Reply(status, {"error": {"message": message, "type": "test_error", "code": None}},
                 headers)


@dataclass
class Seen:
    purpose: str
    body: dict[str, Any]
    headers: dict[str, str]
    api: str = "chat"

    @property
    def messages(self) -> list[dict[str, str]]:
        """The conversation, the same for both APIs: Responses' instructions as a system turn."""
        if self.api == "chat":
            return self.body.get("messages") or []
        turns = self.body.get("input") or []
        if isinstance(turns, str):
            turns = [{"role": "user", "content": turns}]
        system = self.body.get("instructions")
        return [*([{"role": "system", "content": system}] if system else []), *turns]

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content")) for m in self.messages)

    @property
    def structured(self) -> bool:
        fmt = self.body.get("response_format") if self.api == "chat" else \
            (self.body.get("text") or {}).get("format")
        return bool(fmt)


def shaped(reply: Reply, api: str, model: str) -> dict[str, Any]:
    """A successful answer as the called API returns it."""
    prompt, completion = reply.usage
    text = reply.content or ""
    if api == "chat":
        return {"id": f"chatcmpl-{time.monotonic_ns()}", "object": "chat.completion",
                "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}
    return {"id": f"resp_{time.monotonic_ns()}", "object": "response",
            "created_at": int(time.time()), "status": "completed", "model": model,
            "output": [{"type": "message", "id": f"msg_{time.monotonic_ns()}",
                        "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": prompt, "output_tokens": completion,
                      "total_tokens": prompt + completion,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}}


def purpose_of(api: str, body: dict[str, Any]) -> str:
    if api == "chat":
        fmt = body.get("response_format") or {}
        return (fmt.get("json_schema") or {}).get("name") or "unnamed"
    return ((body.get("text") or {}).get("format") or {}).get("name") or "unnamed"


class OpenAIServer:
    """Start with `with OpenAIServer() as server:`; script with `server.script(purpose, ...)`,
    or answer everything not scripted with `server.model = function(seen) -> Reply`."""

    def __init__(self, api_key: str = "sk-test-key") -> None:
        self.api_key = api_key
        self.queues: dict[str, deque[Reply | Callable[[Seen], Reply]]] = defaultdict(deque)
        self.model: Callable[[Seen], Reply] | None = None
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # shutdown() waits for the serving loop to wake up: at the default 0.5 s poll
        # that was half a second of every test that starts a server
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def script(self, purpose: str, *replies: Reply | Callable[[Seen], Reply]) -> None:
        with self.lock:
            self.queues[purpose].extend(replies)

    def requests(self, purpose: str) -> list[Seen]:
        return [s for s in self.seen if s.purpose == purpose]

    def __enter__(self) -> OpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next(self, seen: Seen) -> Reply:
        with self.lock:
            self.seen.append(seen)
            queue = self.queues.get(seen.purpose)
            reply = queue.popleft() if queue else self.model
        if reply is None:
            return error(500, f"test server: no scripted reply left for {seen.purpose!r}")
        return reply(seen) if callable(reply) else reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test): no one to answer

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                api = ROUTES.get(self.path)
                if api is None:
                    return self._send(error(404, f"no route {self.path}"), api, body)
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send(error(401, "Incorrect API key provided"), api, body)
                seen = Seen(purpose_of(api, body), body, dict(self.headers), api)
                self._send(server._next(seen), api, body)

            def _send(self, reply: Reply, api: str | None, body: dict[str, Any]) -> None:
                if reply.raw is not None:
                    data = reply.raw
                elif reply.content is not None and api is not None:
                    data = json.dumps(shaped(reply, api, str(body.get("model")))).encode()
                else:
                    data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
