"""Held-out: PUT requires a current If-Match (428 without it, 412 when stale)."""

from fastapi.testclient import TestClient

from app.main import app, store

client = TestClient(app, raise_server_exceptions=False)
EDIT = {"title": "Election night", "body": "Results at midnight."}


def test_put_without_if_match_is_428() -> None:
    store.reset()
    assert client.put("/articles/1", json=EDIT).status_code == 428
    assert store.get(1)["version"] == 1


def test_stale_if_match_is_412() -> None:
    store.reset()
    store.save(1, "Election night", "Another editor's change.")
    response = client.put("/articles/1", json=EDIT, headers={"If-Match": '"v1"'})
    assert response.status_code == 412
    assert store.get(1)["body"] == "Another editor's change."


def test_current_if_match_saves() -> None:
    store.reset()
    response = client.put("/articles/1", json=EDIT, headers={"If-Match": '"v1"'})
    assert response.status_code == 200
    assert response.headers.get("etag") == '"v2"'
    assert store.get(1)["body"] == "Results at midnight."
