"""Held-out: the notes routes authenticate by X-API-Key (401 when missing or unknown)."""

from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app, raise_server_exceptions=False)


def test_missing_key_is_401() -> None:
    for method, path in (("GET", "/notes"), ("GET", "/notes/1"), ("POST", "/notes"),
                         ("DELETE", "/notes/1")):
        response = client.request(method, path, json={"title": "x"})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json() == {"detail": "missing API key"}


def test_health_needs_no_key() -> None:
    assert client.get("/health").status_code == 200


def test_unknown_key_is_401() -> None:
    response = client.get("/notes", headers={"X-API-Key": "reader-key-9"})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}


def test_known_key_is_accepted() -> None:
    assert client.get("/notes", headers={"X-API-Key": "reader-key-2"}).status_code == 200
    assert client.get("/notes", headers={"X-API-Key": "nope"}).status_code == 401
