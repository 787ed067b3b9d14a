"""Checks that hold before and after your change."""

from fastapi.testclient import TestClient

from app.main import app, store

client = TestClient(app)


def test_read_an_article() -> None:
    store.reset()
    assert client.get("/articles/1").json()["title"] == "Election night"


def test_unknown_article_is_404() -> None:
    assert client.get("/articles/99").status_code == 404
