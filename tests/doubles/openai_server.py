"""An OpenAI-protocol HTTP server on 127.0.0.1 for tests, driven through the real `openai`
client: POST /v1/chat/completions answers from per-purpose queues of scripted replies (the
purpose is the json_schema name taskform sends), and every request is recorded."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is (malformed bodies)


def chat(content: Any, prompt_tokens: int = 100, completion_tokens: int = 50) -> Reply:
    """A successful completion whose message is `content` (JSON-encoded unless a string)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return Reply(200, {
        "id": f"chatcmpl-{time.monotonic_ns()}", "object": "chat.completion",
        "created": int(time.time()), "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens}})


def error(status: int, message: str, retry_after_ms: int | None = None) -> Reply:
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    return Reply(status, {"error": {"message": message, "type": "test_error", "code": None}},
                 headers)


@dataclass
class Seen:
    purpose: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body.get("messages") or []

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content")) for m in self.messages)


class OpenAIServer:
    """Start with `with OpenAIServer() as server:`; script with `server.script(purpose, ...)`."""

    def __init__(self, api_key: str = "sk-test-key") -> None:
        self.api_key = api_key
        self.queues: dict[str, deque[Reply | Callable[[Seen], Reply]]] = defaultdict(deque)
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
            if not queue:
                return error(500, f"test server: no scripted reply left for {seen.purpose!r}")
            reply = queue.popleft()
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
                if self.path != "/v1/chat/completions":
                    return self._send(error(404, f"no route {self.path}"))
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send(error(401, "Incorrect API key provided"))
                fmt = body.get("response_format") or {}
                purpose = (fmt.get("json_schema") or {}).get("name") or "unnamed"
                self._send(server._next(Seen(purpose, body, dict(self.headers))))

            def _send(self, reply: Reply) -> None:
                data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
