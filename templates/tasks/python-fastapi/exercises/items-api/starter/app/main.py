"""The items service: FastAPI routes over an in-memory store."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.store import ItemStore

app = FastAPI(title="Items service")
store = ItemStore()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/items", status_code=201)
def create_item(item: dict[str, Any]) -> dict[str, Any]:
    return store.add(item)


@app.get("/items")
def list_items() -> dict[str, Any]:
    items = store.all()
    return {"items": items, "total": len(items)}


@app.get("/items/{item_id}")
def get_item(item_id: str) -> dict[str, Any]:
    return store.get(int(item_id))
