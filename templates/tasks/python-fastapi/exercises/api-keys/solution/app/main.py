"""The notes service."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Response
from pydantic import BaseModel

from app.keys import KEYS

app = FastAPI(title="Notes service")
NOTES: dict[int, dict[str, Any]] = {}


class NoteIn(BaseModel):
    title: str
    body: str = ""


def role_of_key(api_key: str | None = Header(None, alias="X-API-Key")) -> str:
    """The caller's role; 401 when the key is missing or unknown."""
    if api_key is None:
        raise HTTPException(401, "missing API key")
    if api_key not in KEYS:
        raise HTTPException(401, "invalid API key")
    return KEYS[api_key]


def require_admin(role: str = Depends(role_of_key)) -> str:
    if role != "admin":
        raise HTTPException(403, "admin role required")
    return role


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/notes", dependencies=[Depends(role_of_key)])
def list_notes() -> list[dict[str, Any]]:
    return [NOTES[key] for key in sorted(NOTES)]


@app.get("/notes/{note_id}", dependencies=[Depends(role_of_key)])
def get_note(note_id: int) -> dict[str, Any]:
    if note_id not in NOTES:
        raise HTTPException(404, f"note {note_id} not found")
    return NOTES[note_id]


@app.post("/notes", status_code=201, dependencies=[Depends(require_admin)])
def create_note(note: NoteIn) -> dict[str, Any]:
    note_id = max(NOTES, default=0) + 1
    NOTES[note_id] = {"id": note_id, **note.dict()}
    return NOTES[note_id]


@app.delete("/notes/{note_id}", status_code=204, dependencies=[Depends(require_admin)])
def delete_note(note_id: int) -> Response:
    NOTES.pop(note_id, None)
    return Response(status_code=204)
