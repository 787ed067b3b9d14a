"""Articles in memory; every save bumps the article's version."""

from __future__ import annotations

from typing import Any

SEED = {1: {"title": "Election night", "body": "Polls close at 10pm."},
        2: {"title": "Weather", "body": "Rain all week."}}


class ArticleStore:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._articles = {key: {"id": key, **value, "version": 1} for key, value in SEED.items()}

    def get(self, article_id: int) -> dict[str, Any]:
        return dict(self._articles[article_id])  # KeyError for an unknown id

    def save(self, article_id: int, title: str, body: str) -> dict[str, Any]:
        current = self._articles[article_id]
        current.update(title=title, body=body, version=current["version"] + 1)
        return dict(current)
