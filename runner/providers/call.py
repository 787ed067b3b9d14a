"""How one long call to a real part may behave: where its progress goes, when it must stop.
Every door that runs something long (a build, an exec, a model's answer) takes one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.errors import Cancelled


@dataclass(frozen=True)
class Call:
    """`deadline` is a `time.monotonic()` instant (None: no deadline); `what` names the work
    in a cancellation."""

    log: Callable[[str], None] = lambda line: None
    cancelled: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None
    what: str = ""

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled(self.what)
