"""Checks that hold before and after your change (they send an admin key)."""

from fastapi.testclient import TestClient

from app.main import NOTES, app

ADMIN = {"X-API-Key": "admin-key-1"}


def test_health() -> None:
    assert TestClient(app).get("/health").json() == {"status": "ok"}


def test_create_read_delete() -> None:
    NOTES.clear()
    client = TestClient(app)
    created = client.post("/notes", json={"title": "on call", "body": "rota"}, headers=ADMIN)
    assert created.status_code == 201
    note_id = created.json()["id"]
    assert client.get(f"/notes/{note_id}", headers=ADMIN).json()["title"] == "on call"
    assert client.delete(f"/notes/{note_id}", headers=ADMIN).status_code == 204
