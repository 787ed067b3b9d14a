"""The articles service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Header, HTTPException, Response
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


def etag_of(article: dict[str, Any]) -> str:
    return f'"v{article["version"]}"'


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/articles/{article_id}")
def get_article(article_id: int, response: Response,
                if_none_match: str | None = Header(None)) -> Any:
    article = find(article_id)
    etag = etag_of(article)
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return article


@app.put("/articles/{article_id}")
def put_article(article_id: int, article: ArticleIn, response: Response,
                if_match: str | None = Header(None)) -> dict[str, Any]:
    current = find(article_id)
    if if_match is None:
        raise HTTPException(428, "If-Match is required")
    if if_match != etag_of(current):
        raise HTTPException(412, "the article changed since you read it")
    saved = store.save(article_id, article.title, article.body)
    response.headers["ETag"] = etag_of(saved)
    return saved
