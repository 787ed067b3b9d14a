"""The items service."""

from __future__ import annotations

from typing import Any

from app.framework import App, Request
from app.store import Store

app = App()
store = Store()


@app.get("/health")
def health(request: Request) -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items")
def list_items(request: Request) -> dict[str, Any]:
    # TODO: page the list with ?limit= (1-100, default 20) and ?offset= (0 or more, default 0)
    return {"items": store.all(), "total": store.count()}


@app.get("/items/{item_id}")
def get_item(request: Request, item_id: str) -> dict[str, Any]:
    # TODO: an unknown id must answer 404, an id that is not a number 422
    return store.get(int(item_id))


@app.post("/items")
def create_item(request: Request) -> tuple[int, dict[str, Any]]:
    data = request.json()
    # TODO: validate the body before storing it (see README.md, Objectives)
    return 201, store.add(data)
