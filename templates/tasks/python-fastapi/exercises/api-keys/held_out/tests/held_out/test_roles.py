"""Held-out: only the admin role creates and deletes notes (403 for reader keys)."""

from fastapi.testclient import TestClient

from app.main import NOTES, app

client = TestClient(app, raise_server_exceptions=False)
READER, ADMIN = {"X-API-Key": "reader-key-1"}, {"X-API-Key": "admin-key-1"}


def test_reader_cannot_write() -> None:
    NOTES.clear()
    NOTES[1] = {"id": 1, "title": "keep", "body": ""}
    created = client.post("/notes", json={"title": "x"}, headers=READER)
    assert created.status_code == 403
    assert created.json() == {"detail": "admin role required"}
    assert client.delete("/notes/1", headers=READER).status_code == 403
    assert list(NOTES) == [1]


def test_admin_can_write() -> None:
    NOTES.clear()
    created = client.post("/notes", json={"title": "x"}, headers=ADMIN)
    assert created.status_code == 201
    assert client.delete(f"/notes/{created.json()['id']}", headers=ADMIN).status_code == 204
    assert client.get("/notes", headers=READER).json() == []
