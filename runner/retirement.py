"""Create before destroy: what a replacement superseded is removed only once the resources that
used it in the same apply have finished (Terraform's `create_before_destroy`, decided by the
kind's table entry, `Can.RETIRE`). A rebuilt image stays until the containers that ran it have
been replaced; removing it first fails while they still run it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from runner.errors import TaskformError
from runner.kinds.contract import Context
from runner.kinds.registry import KINDS
from runner.plan import Change
from runner.state.base import Record


@dataclass
class Retiring:
    """A record a change superseded, waiting for the changes that depend on it."""

    address: str
    old: Record
    new: Record
    waiting: set[str] = field(default_factory=set)


class Retirements:
    """The superseded records of one apply and what each still waits for."""

    def __init__(self) -> None:
        self.pending: list[Retiring] = []

    def add(self, address: str, old: Record, new: Record, changes: Mapping[str, Change],
            is_finished: Callable[[str], bool]) -> list[Retiring]:
        """Register `old`, superseded by `new`; returned at once when nothing waits for it."""
        waiting = {a for a, c in changes.items() if address in c.depends_on and not is_finished(a)}
        retiring = Retiring(address, old, new, waiting)
        if not waiting:
            return [retiring]
        self.pending.append(retiring)
        return []

    def finished(self, address: str) -> list[Retiring]:
        """`address` finished (however it ended): what no longer waits for anything."""
        ready = []
        for retiring in list(self.pending):
            retiring.waiting.discard(address)
            if not retiring.waiting:
                self.pending.remove(retiring)
                ready.append(retiring)
        return ready


def retire(ctx: Context, retiring: Retiring) -> str | None:
    """Let the kind remove what `retiring.old` stood for; what stayed, and why, in words. A
    failure leaves it in place (for `taskform gc`) and fails nothing: the apply itself is done."""
    try:
        return KINDS[retiring.new.kind].kind.retire(ctx, retiring.old, retiring.new)
    except TaskformError as exc:
        return f"could not remove what it replaced: {exc}"
