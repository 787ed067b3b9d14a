"""An in-memory item store (a stand-in for the database)."""

from __future__ import annotations

from typing import Any


class ItemStore:
    def __init__(self) -> None:
        self._items: dict[int, dict[str, Any]] = {}
        self._next_id = 1

    def add(self, item: dict[str, Any]) -> dict[str, Any]:
        stored = {"id": self._next_id, **item}
        self._items[self._next_id] = stored
        self._next_id += 1
        return stored

    def get(self, item_id: int) -> dict[str, Any]:
        return self._items[item_id]  # KeyError for an unknown id

    def all(self) -> list[dict[str, Any]]:
        return [self._items[key] for key in sorted(self._items)]

    def count(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._next_id = 1
