"""A run's connections to the real parts (Docker engines, SSH hosts, LLM endpoints, git hosts),
each created on first use and shared by every kind in the run. The core hands this along
without knowing what is inside; kinds ask for the door they need through their `Context`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Connections:
    """One lazily created client per (part, endpoint), closed together at the end of a run."""

    def __init__(self) -> None:
        # reentrant: a factory may ask for the connections it builds on (a grading pool that
        # spans engines connects to each engine while it is being made)
        self._lock = threading.RLock()
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, part: str, endpoint: str, factory: Callable[[], T]) -> T:
        key = (part, endpoint)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = factory()
            return self._clients[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Newest first: what was built on a connection (a grading pool's sandboxes on the
        Docker engine) is closed while that connection still works."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in reversed(clients):
            close = getattr(client, "close", None)
            if callable(close):
                close()
