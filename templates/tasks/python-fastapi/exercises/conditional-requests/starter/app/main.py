"""The articles service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from app.store import ArticleStore

app = FastAPI(title="Articles service")
store = ArticleStore()


class ArticleIn(BaseModel):
    title: str
    body: str


def find(article_id: int) -> dict[str, Any]:
    try:
        return store.get(article_id)
    except KeyError:
        raise HTTPException(404, f"article {article_id} not found") from None


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/articles/{article_id}")
def get_article(article_id: int) -> dict[str, Any]:
    return find(article_id)


@app.put("/articles/{article_id}")
def put_article(article_id: int, article: ArticleIn) -> dict[str, Any]:
    find(article_id)
    return store.save(article_id, article.title, article.body)
