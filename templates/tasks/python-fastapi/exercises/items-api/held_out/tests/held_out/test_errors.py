"""Held-out: unknown ids are 404 with a detail, malformed ids 422, never 500."""

from fastapi.testclient import TestClient

from app.main import app, store

client = TestClient(app, raise_server_exceptions=False)


def test_unknown_item_is_404_with_detail() -> None:
    store.clear()
    response = client.get("/items/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "item 999 not found"}


def test_non_numeric_id_is_422() -> None:
    assert client.get("/items/abc").status_code == 422
