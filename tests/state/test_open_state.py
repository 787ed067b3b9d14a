"""open_state picks the backend `state.backend` names, and says so when it cannot."""

from __future__ import annotations

from typing import get_args

import pytest

from runner import state as state_module
from runner.errors import StateError
from runner.state import open_state
from runner.state.sqlite import SqliteState
from runner.workspace import StateSettings, open_workspace


def test_the_default_backend_is_sqlite_at_its_path(ws) -> None:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "state: {path: .taskform/elsewhere.db}\n")
    store = open_state(open_workspace(ws.root))
    assert isinstance(store, SqliteState) and store.path == ws.root / ".taskform/elsewhere.db"


def test_an_unknown_backend_is_a_settings_error(ws) -> None:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "state: {backend: etcd}\n")
    result = ws.cli("state", "list")
    assert (result.exit_code, result.output) == (1, (
        "Error: 1 error in the specs:\n"
        "  taskform.yaml:1:18: state.backend: expected 'sqlite' or 'postgresql', got \"etcd\"\n"))


def test_a_backend_the_settings_allow_but_the_table_lacks_is_named(ws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(state_module, "BACKENDS", {"other": "x:y"})
    with pytest.raises(StateError) as err:
        open_state(open_workspace(ws.root))
    assert str(err.value) == "state backend 'sqlite' is not available; known backends: other"


def test_the_settings_allow_exactly_the_backends_the_table_has() -> None:
    allowed = get_args(StateSettings.model_fields["backend"].annotation)
    assert sorted(allowed) == sorted(state_module.BACKENDS)
