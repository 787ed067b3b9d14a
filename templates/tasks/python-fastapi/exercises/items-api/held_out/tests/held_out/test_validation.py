"""Held-out: POST /items validates its body (422 naming every invalid field) and stores nothing
invalid."""

from fastapi.testclient import TestClient

from app.main import app, store

client = TestClient(app, raise_server_exceptions=False)


def invalid_fields(body: dict) -> set:
    response = client.post("/items", json=body)
    assert response.status_code == 422, response.text
    return {problem["loc"][-1] for problem in response.json()["detail"]}


def test_valid_item_is_created_with_default_quantity() -> None:
    store.clear()
    response = client.post("/items", json={"name": "pen", "price": 1.5})
    assert response.status_code == 201
    assert response.json() == {"id": 1, "name": "pen", "price": 1.5, "quantity": 0}


def test_each_bad_field_is_named() -> None:
    assert "name" in invalid_fields({"price": 2})
    assert "price" in invalid_fields({"name": "pen", "price": -1})
    assert "quantity" in invalid_fields({"name": "pen", "price": 1, "quantity": 1.5})
    assert {"name", "price"} <= invalid_fields({"name": "", "price": "free"})


def test_rejected_items_are_not_stored() -> None:
    store.clear()
    client.post("/items", json={"price": -1})
    client.post("/items", json={"name": "pen", "price": 1, "quantity": True})
    assert store.count() == 0
