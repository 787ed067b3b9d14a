"""The notes service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel

app = FastAPI(title="Notes service")
NOTES: dict[int, dict[str, Any]] = {}


class NoteIn(BaseModel):
    title: str
    body: str = ""


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/notes")
def list_notes() -> list[dict[str, Any]]:
    return [NOTES[key] for key in sorted(NOTES)]


@app.get("/notes/{note_id}")
def get_note(note_id: int) -> dict[str, Any]:
    if note_id not in NOTES:
        raise HTTPException(404, f"note {note_id} not found")
    return NOTES[note_id]


@app.post("/notes", status_code=201)
def create_note(note: NoteIn) -> dict[str, Any]:
    note_id = max(NOTES, default=0) + 1
    NOTES[note_id] = {"id": note_id, **note.dict()}
    return NOTES[note_id]


@app.delete("/notes/{note_id}", status_code=204)
def delete_note(note_id: int) -> Response:
    NOTES.pop(note_id, None)
    return Response(status_code=204)
