"""The items service."""

from __future__ import annotations

from typing import Any

from app.framework import App, HTTPException, Request
from app.store import Store

app = App()
store = Store()

MAX_LIMIT = 100


def _problem(field: str, message: str) -> dict[str, Any]:
    return {"loc": ["query" if field in ("limit", "offset") else "body", field], "msg": message,
            "type": "value_error"}


def _whole_number(query: dict[str, str], field: str, default: int, low: int, high: int) -> int:
    raw = query.get(field)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPException(422, [_problem(field, "must be a whole number")]) from None
    if not low <= value <= high:
        raise HTTPException(422, [_problem(field, f"must be between {low} and {high}")])
    return value


@app.get("/health")
def health(request: Request) -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items")
def list_items(request: Request) -> dict[str, Any]:
    limit = _whole_number(request.query, "limit", 20, 1, MAX_LIMIT)
    offset = _whole_number(request.query, "offset", 0, 0, 10**9)
    items = store.all()
    return {"items": items[offset:offset + limit], "total": len(items), "limit": limit,
            "offset": offset}


@app.get("/items/{item_id}")
def get_item(request: Request, item_id: str) -> dict[str, Any]:
    if not item_id.isdigit():
        raise HTTPException(422, [{"loc": ["path", "item_id"], "msg": "must be a whole number",
                                   "type": "value_error"}])
    try:
        return store.get(int(item_id))
    except KeyError:
        raise HTTPException(404, f"item {item_id} not found") from None


def _validate(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise HTTPException(422, [_problem("body", "expected a JSON object")])
    problems = []
    name, price, quantity = data.get("name"), data.get("price"), data.get("quantity", 0)
    if not isinstance(name, str) or not name.strip():
        problems.append(_problem("name", "must be a non-empty string"))
    if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
        problems.append(_problem("price", "must be a number of 0 or more"))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        problems.append(_problem("quantity", "must be a whole number of 0 or more"))
    if problems:
        raise HTTPException(422, problems)
    return {"name": name.strip(), "price": price, "quantity": quantity}


@app.post("/items")
def create_item(request: Request) -> tuple[int, dict[str, Any]]:
    return 201, store.add(_validate(request.json()))
