"""The items service: FastAPI routes over an in-memory store."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, confloat, conint, constr

from app.store import ItemStore

app = FastAPI(title="Items service")
store = ItemStore()


class ItemIn(BaseModel):
    name: constr(strip_whitespace=True, min_length=1)  # type: ignore[valid-type]
    price: confloat(ge=0)  # type: ignore[valid-type]
    quantity: conint(strict=True, ge=0) = 0  # type: ignore[valid-type]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/items", status_code=201)
def create_item(item: ItemIn) -> dict[str, Any]:
    return store.add(item.dict())


@app.get("/items")
def list_items(limit: int = Query(20, ge=1, le=100),
               offset: int = Query(0, ge=0)) -> dict[str, Any]:
    items = store.all()
    return {"items": items[offset:offset + limit], "total": len(items), "limit": limit,
            "offset": offset}


@app.get("/items/{item_id}")
def get_item(item_id: int) -> dict[str, Any]:
    try:
        return store.get(item_id)
    except KeyError:
        raise HTTPException(404, f"item {item_id} not found") from None
