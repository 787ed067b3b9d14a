"""State backends behind one protocol, chosen by `state.backend` in `taskform.yaml`."""

from __future__ import annotations

import importlib

from runner.errors import StateError
from runner.state.base import StateStore
from runner.workspace import Workspace

# backend name -> "module:function" taking the workspace and returning its StateStore; a
# backend is imported only when chosen (psycopg and the like stay unloaded otherwise)
BACKENDS: dict[str, str] = {
    "sqlite": "runner.state.sqlite:open_sqlite",
}


def open_state(ws: Workspace) -> StateStore:
    """The state store `taskform.yaml` names (SQLite by default), its schema migrated and the
    side files of older taskform versions imported."""
    from runner.state.facts import import_side_files

    name = ws.state_backend  # read without the settings models: see Workspace.settings
    target = BACKENDS.get(name)
    if target is None:  # the settings model refuses it first; this guards the table itself
        raise StateError(f"state backend {name!r} is not available; known backends: "
                         f"{', '.join(sorted(BACKENDS))}")
    module, _, function = target.partition(":")
    store: StateStore = getattr(importlib.import_module(module), function)(ws)
    try:
        import_side_files(store, ws.state_dir)
    except BaseException:
        store.close()
        raise
    return store
