"""Checks that hold before and after your change."""

from fastapi.testclient import TestClient

from app.main import app, store


def test_health() -> None:
    assert TestClient(app).get("/health").json() == {"status": "ok"}


def test_a_valid_item_round_trips() -> None:
    store.clear()
    client = TestClient(app)
    created = client.post("/items", json={"name": "pen", "price": 1.5, "quantity": 3})
    assert created.status_code == 201
    assert client.get(f"/items/{created.json()['id']}").json()["name"] == "pen"
