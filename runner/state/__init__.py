"""State backends behind one protocol."""

from __future__ import annotations

from runner.state.base import StateStore
from runner.workspace import Workspace


def open_state(ws: Workspace) -> StateStore:
    """The state store `taskform.yaml` names (SQLite by default)."""
    from runner.state.sqlite import SqliteState

    return SqliteState(ws.resolve(ws.config.state.path, "state.path"))
