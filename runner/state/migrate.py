"""Moving a workspace's state: SQLite to PostgreSQL and back, or to another workspace name.
Records, runs, events, facts and the serial are copied as they are, under the locks of both
states, into an empty target, and the copy is read back and compared before it counts."""

from __future__ import annotations

import re
from typing import Any

from runner.errors import StateError
from runner.state.base import StateDump, StateStore, new_lock_info, new_run_id


def copy_state(source: StateStore, target: StateStore, *, lock_timeout: float) -> StateDump:
    """Copy everything of `source` into the empty `target`; return what was copied."""
    run_id = new_run_id()
    mine = new_lock_info(run_id, "state migrate")
    source.acquire_lock(mine, lock_timeout)
    try:
        theirs = new_lock_info(run_id, "state migrate")
        target.acquire_lock(theirs, lock_timeout)
        try:
            return _copy(source, target)
        finally:
            target.release_lock(theirs.lock_id)
    finally:
        source.release_lock(mine.lock_id)


def _copy(source: StateStore, target: StateStore) -> StateDump:
    there = target.dump()
    if not there.is_empty():
        raise StateError(f"the target already holds {there.counts()}: state migrate copies "
                         "only into an empty state (choose another workspace name)")
    dump = source.dump()
    target.restore(dump)
    if target.dump() != dump:
        raise StateError("the copy read back differs from the source; the source is unchanged "
                         "and taskform.yaml still points at it (the target keeps the bad copy: "
                         "remove it before trying again)")
    return dump


def state_block(settings: dict[str, Any]) -> str:
    """The `state:` block of taskform.yaml for these settings, in block style."""
    lines = ["state:"]
    for key in ("backend", "path", "url", "workspace", "schema", "password_variable"):
        if settings.get(key) is not None:
            lines.append(f"  {key}: {_scalar(str(settings[key]))}")
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    plain = re.fullmatch(r"[A-Za-z0-9_./@:\-]+", text) and not text.endswith(":")
    return text if plain else "'" + text.replace("'", "''") + "'"


_TOP_KEY = re.compile(r"^state\s*:")


def with_state_block(config: str, block: str) -> str:
    """`config` (taskform.yaml's text) with its top-level `state:` replaced by `block`, or
    `block` appended; every other line, comments included, is kept as it was."""
    lines = config.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _TOP_KEY.match(line)), None)
    if start is None:
        prefix = config if not config or config.endswith("\n") else config + "\n"
        return prefix + block
    end = start + 1
    while end < len(lines) and (lines[end][:1] in (" ", "\t") or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # blank lines belong to what follows
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])
