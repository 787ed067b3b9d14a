"""A small FastAPI-style framework on the Python standard library: routes with path
parameters, query parameters, JSON bodies, HTTPException and a test client.

It mirrors FastAPI's conventions (decorated routes, `{"detail": ...}` error bodies, 422 for
invalid input) so the service reads like a FastAPI app while needing no packages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class HTTPException(Exception):
    """Raise from a route to answer with `status_code` and `{"detail": detail}`."""

    def __init__(self, status_code: int, detail: Any):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class Request:
    def __init__(self, method: str, path: str, query: dict[str, str], body: bytes):
        self.method, self.path, self.query, self.body = method, path, query, body

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            raise HTTPException(422, [{"loc": ["body"], "msg": f"invalid JSON: {exc.msg}",
                                       "type": "json_invalid"}]) from None


class Response:
    def __init__(self, status_code: int, payload: Any):
        self.status_code, self.payload = status_code, payload

    def json(self) -> Any:
        return self.payload


Handler = Callable[..., Any]


class App:
    """Routes requests to the functions registered with `@app.get(...)` and friends."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

        def register(handler: Handler) -> Handler:
            self.routes.append((method, pattern, handler))
            return handler
        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("POST", path)

    def handle(self, method: str, url: str, body: bytes = b"") -> Response:
        parts = urlsplit(url)
        request = Request(method, parts.path, dict(parse_qsl(parts.query)), body)
        for route_method, pattern, handler in self.routes:
            match = pattern.match(parts.path)
            if match and route_method == method:
                return self._call(handler, request, match.groupdict())
        return Response(404, {"detail": "Not Found"})

    def _call(self, handler: Handler, request: Request, params: dict[str, str]) -> Response:
        try:
            result = handler(request, **params)
        except HTTPException as exc:
            return Response(exc.status_code, {"detail": exc.detail})
        except Exception:  # what an unhandled error looks like to a client
            return Response(500, {"detail": "Internal Server Error"})
        if isinstance(result, tuple):
            return Response(result[0], result[1])
        return Response(200, result)


class Client:
    """Calls an App in-process, like FastAPI's TestClient."""

    def __init__(self, app: App):
        self.app = app

    def get(self, url: str) -> Response:
        return self.app.handle("GET", url)

    def post(self, url: str, json_body: Any = None) -> Response:
        return self.app.handle("POST", url, json.dumps(json_body).encode())
