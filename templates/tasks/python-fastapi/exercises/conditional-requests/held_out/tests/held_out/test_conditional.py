"""Held-out: GET sends an ETag and answers a matching If-None-Match with 304."""

from fastapi.testclient import TestClient

from app.main import app, store

client = TestClient(app, raise_server_exceptions=False)


def test_get_sends_the_etag() -> None:
    store.reset()
    response = client.get("/articles/1")
    assert response.status_code == 200
    assert response.headers.get("etag") == '"v1"'
    store.save(1, "Election night", "Counting continues.")
    assert client.get("/articles/1").headers.get("etag") == '"v2"'


def test_matching_if_none_match_is_304() -> None:
    store.reset()
    response = client.get("/articles/2", headers={"If-None-Match": '"v1"'})
    assert response.status_code == 304
    assert response.content == b""
    stale = client.get("/articles/2", headers={"If-None-Match": '"v0"'})
    assert stale.status_code == 200 and stale.json()["title"] == "Weather"
