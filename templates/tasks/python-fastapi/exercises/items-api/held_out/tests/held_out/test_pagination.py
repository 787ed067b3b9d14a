"""Held-out: GET /items pages with limit and offset and keeps the total."""

import pytest
from fastapi.testclient import TestClient

from app.main import app, store

client = TestClient(app, raise_server_exceptions=False)


@pytest.fixture(autouse=True)
def twenty_five_items() -> None:
    store.clear()
    for n in range(25):
        store.add({"name": f"item-{n + 1}", "price": n, "quantity": 1})


def test_default_page_is_twenty_items() -> None:
    body = client.get("/items").json()
    assert len(body["items"]) == 20
    assert body["total"] == 25


def test_limit_and_offset_select_a_page() -> None:
    body = client.get("/items?limit=5&offset=20").json()
    assert [item["id"] for item in body["items"]] == [21, 22, 23, 24, 25]
    assert body["total"] == 25


def test_out_of_range_values_are_rejected() -> None:
    for query in ("limit=0", "limit=101", "limit=abc", "offset=-1"):
        assert client.get(f"/items?{query}").status_code == 422, query
