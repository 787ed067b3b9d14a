"""Facts kinds remember, as the state store keeps them: the view a kind's context holds, the
namespaces taskform uses, and the import of the side files older versions kept instead."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from runner.errors import StateError
from runner.state.base import Event, StateStore

# the namespaces of the facts kinds keep (each keyed by the full address of its resource)
POOL_NEXT_ID = "task_pool.next_id"          # int: the next id a task pool hands out
ACCEPTED_SCENARIOS = "scenario_set.accepted"  # {"generation", "accepted"}: not paid for twice
IMPORTED_FILES = "taskform.imported_file"   # key: a side file's path; value: its sha256

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")
_Bring = Callable[[StateStore, str, dict[str, Any], Event], None]


class StoredFacts:
    """`Facts` over a state store. Without a run id it only reads: planning changes nothing."""

    def __init__(self, store: StateStore, run_id: str | None = None):
        self.store, self.run_id = store, run_id

    def get(self, namespace: str, key: str) -> Any | None:
        return self.store.fact(namespace, key)

    def put(self, namespace: str, key: str, value: Any | None) -> None:
        verb = "forgotten" if value is None else "set"
        self.store.set_fact(namespace, key, value, self._event(key, f"{namespace} {verb}"))

    def next_id(self, namespace: str, key: str, *, count: int = 1, floor: int = 0) -> int:
        return self.store.next_id(namespace, key, self._event(key, ""), count=count, floor=floor)

    def _event(self, key: str, message: str) -> Event:
        if self.run_id is None:
            raise StateError(f"{key} tried to change a fact while planning: facts change only "
                             "during apply")
        return Event(run_id=self.run_id, event="fact", address=key, message=message)


def import_side_files(store: StateStore, state_dir: Path) -> None:
    """Bring the facts taskform kept in `.taskform/pools/` and `.taskform/scenarios/` (named by
    the last part of the address) into the state. Each file is imported once per content: its
    digest is recorded per path, so two workspaces sharing one state each bring their own.
    A pool's next id is merged by `next_id` (never lowered); scenarios already in the state win."""
    for path in _side_files(state_dir / "pools"):
        _import(store, path, f"task_pool.{path.stem}", _import_next_id)
    for path in _side_files(state_dir / "scenarios"):
        _import(store, path, f"scenario_set.{path.stem}", _import_scenarios)


def _side_files(folder: Path) -> list[Path]:
    if not folder.is_dir():  # the common case: one stat, nothing to read
        return []
    return sorted(p for p in folder.glob("*.json") if _NAME.match(p.stem) and p.is_file())


def _import(store: StateStore, path: Path, address: str, bring: _Bring) -> None:
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError):
        return  # half-written or unreadable: nothing trustworthy to bring
    digest = hashlib.sha256(raw).hexdigest()
    if store.fact(IMPORTED_FILES, str(path)) == digest:
        return
    name = f"{path.parent.name}/{path.name}"
    event = Event(run_id="", event="imported", address=address, message=f"from {name}")
    if isinstance(data, dict):
        bring(store, address, data, event)
    store.set_fact(IMPORTED_FILES, str(path), digest, replace(
        event, message=f"imported {name} into the state; the file is no longer read"))


def _import_next_id(store: StateStore, address: str, data: dict[str, Any], event: Event) -> None:
    next_id = data.get("next_id")
    if isinstance(next_id, int) and not isinstance(next_id, bool) and next_id >= 0:
        store.next_id(POOL_NEXT_ID, address, event, count=0, floor=next_id)


def _import_scenarios(store: StateStore, address: str, data: dict[str, Any],
                      event: Event) -> None:
    if store.fact(ACCEPTED_SCENARIOS, address) is None and isinstance(data.get("accepted"), list):
        value = {"generation": data.get("generation"), "accepted": data["accepted"]}
        store.set_fact(ACCEPTED_SCENARIOS, address, value,
                       replace(event, message=f"{ACCEPTED_SCENARIOS} {event.message}"))
