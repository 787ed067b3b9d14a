"""Clients for the real parts (Docker engines, SSH hosts, LLM endpoints, git hosts), created
lazily on first use and shared by every kind in a run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from runner.workspace import Workspace

T = TypeVar("T")


class Providers:
    """One lazily created client per (part, endpoint)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, part: str, endpoint: str, factory: Callable[[], T]) -> T:
        key = (part, endpoint)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = factory()
            return self._clients[key]

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            close = getattr(client, "close", None)
            if callable(close):
                close()
