"""An in-memory item store. Ids start at 1 and are never reused."""

from __future__ import annotations

import threading
from typing import Any


class Store:
    def __init__(self) -> None:
        self._items: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            item = {"id": self._next_id, **fields}
            self._items[self._next_id] = item
            self._next_id += 1
            return item

    def get(self, item_id: int) -> dict[str, Any]:
        """The item; KeyError when there is none."""
        return self._items[item_id]

    def all(self) -> list[dict[str, Any]]:
        return [self._items[k] for k in sorted(self._items)]

    def count(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._next_id = 1
