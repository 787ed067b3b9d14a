"""State backends behind one protocol, chosen by `state.backend` in `taskform.yaml`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from runner.errors import StateError
from runner.state.base import StateStore

if TYPE_CHECKING:
    from runner.workspace import Workspace
    from runner.workspace_config import StateSettings

# backend name -> "module:function" taking the workspace and its state settings and returning
# its StateStore; a backend is imported only when chosen (psycopg stays unloaded otherwise)
BACKENDS: dict[str, str] = {
    "sqlite": "runner.state.sqlite:open_sqlite",
    "postgresql": "runner.state.postgresql:open_postgresql",
}


def open_store(ws: Workspace, settings: StateSettings) -> StateStore:
    """The state store `settings` name, its schema migrated; nothing else is brought in."""
    module, _, function = _backend(settings.backend).partition(":")
    store: StateStore = getattr(importlib.import_module(module), function)(ws, settings)
    return store


def _backend(name: str) -> str:
    target = BACKENDS.get(name)
    if target is None:  # the settings model refuses it first; this guards the table itself
        raise StateError(f"state backend {name!r} is not available; known backends: "
                         f"{', '.join(sorted(BACKENDS))}")
    return target


def open_state(ws: Workspace) -> StateStore:
    """The state store `taskform.yaml` names (SQLite by default), its schema migrated and the
    side files of older taskform versions imported."""
    from runner.state.facts import import_side_files

    _backend(ws.state_backend)
    if ws.state_backend == "sqlite":  # read without the settings models: see Workspace.settings
        from runner.state.sqlite import SqliteState

        store: StateStore = SqliteState(ws.resolve(str(ws.settings["state"]["path"]),
                                                   "state.path"))
    else:
        store = open_store(ws, ws.config.state)
    try:
        import_side_files(store, ws.state_dir)
    except BaseException:
        store.close()
        raise
    return store


def describe(settings: StateSettings, workspace_name: str) -> str:
    """Where a state lives, for messages: never a password."""
    if settings.backend == "sqlite":
        return f"sqlite {settings.path}"
    from runner.state.postgresql_link import shown_url

    return (f"postgresql {shown_url(settings.url or '')} (workspace "
            f"{settings.workspace or workspace_name}, schema {settings.db_schema})")
