"""How many fresh sandboxes a run's gradings will still ask a supplier for, so it keeps warm
spares ahead of them but starts none that no grading will take: a spare started and removed
unused at the end of a run costs a container's start and removal (~0.3 s of the engine's CPU
each on a small machine), taken from the gradings still running.

Gradings still to come are those waiting for a sandbox now, and those of the run that have
not begun: the children of each rubric step grading on the pool, as the run counts them
(`Context.not_begun`). Where no run counts them (a supplier used on its own), the demand is
unknown and the supplier keeps a spare per pool member, as many as can grade at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

NotBegun = Callable[[str], int | None]  # Context.not_begun: a parent's children not begun


class Demand:
    """The gradings a supplier will still serve. Not thread-safe: its supplier's lock guards
    it."""

    def __init__(self) -> None:
        self._parents: dict[str, NotBegun] = {}
        self.waiting = 0  # gradings waiting in `acquire`, not served yet
        self.stopping: threading.Event | None = None  # the run's: set, nothing more begins

    def expect(self, parent: str, not_begun: NotBegun) -> None:
        """The children of `parent` will grade here; `not_begun` counts those yet to begin."""
        self._parents[parent] = not_begun

    def spares(self, size: int, asking: int) -> int:
        """How many sandboxes to keep ready or starting: `size` when the gradings to come are
        not known, else no more than them (`asking`: those wanting one now)."""
        if self.stopping is not None and self.stopping.is_set():
            return 0  # the run is stopping: gradings waiting give up when they find none ready
        counts = [count(parent) for parent, count in self._parents.items()]
        if not counts or any(c is None for c in counts):
            return size
        return min(size, asking + sum(c for c in counts if c is not None))
