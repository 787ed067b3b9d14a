"""The words every layer shares: a value not known yet, what the real world looked like, how a
change ended, and what a record and a run are. Imports nothing from the rest of taskform, so
any module may import it without dragging a layer along."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class _Unknown:
    """A value known only after apply (shown as `(known after apply)`)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Observation:
    """What the real thing looks like: gone, drifted (with reasons), or in sync. `notes` are
    worth saying but change nothing (a tag someone else moved, say)."""

    exists: bool = True
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return self.exists and not self.reasons


IN_SYNC = Observation()


class Action(StrEnum):
    """What a plan does to one address."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DESTROY = "destroy"
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "-/+", "destroy": "-",
                "no-op": " "}[self.value]


class StepStatus(StrEnum):
    """How one change of an apply ended."""

    DONE = "done"
    UNCHANGED = "unchanged"      # deferred, and its inputs turned out the same
    SKIPPED = "skipped"          # `when` was false
    FAILED = "failed"
    BLOCKED = "blocked"          # a dependency failed or was not applied
    CANCELLED = "cancelled"      # second interrupt
    NOT_STARTED = "not-started"  # the run stopped before it began

    @property
    def is_failure(self) -> bool:
        """Ends the apply non-zero."""
        return self in (StepStatus.FAILED, StepStatus.BLOCKED, StepStatus.CANCELLED,
                        StepStatus.NOT_STARTED)


class RecordStatus(StrEnum):
    """What the state says of one resource."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class RunStatus(StrEnum):
    """What the history says of one run."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Outcome:
    """How one change of an apply ended."""

    address: str
    action: Action
    status: StepStatus
    seconds: float = 0.0
    message: str = ""
    output: str = ""
    attempts: int = 1
    cause: str | None = None  # blocked: the dependency that failed or was not applied
    kind: str = ""  # the kind the change was of (a destroy: the record's)
