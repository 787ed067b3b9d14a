"""The kind contract: what every kind module provides, and the context each call receives.

A kind validates its settings (a pydantic model), fingerprints them (the file contents and
facts that decide the result, beyond the settings themselves), observes the real thing, applies
and destroys it, and may expand into child resources at plan time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from runner.address import Address
from runner.errors import Cancelled
from runner.state.base import Facts, MemoryFacts, Record
from runner.vocabulary import IN_SYNC, Observation

if TYPE_CHECKING:
    from runner.providers import Providers
    from runner.workspace import Workspace


class Settings(BaseModel):
    """Base of every settings model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")




class ExpansionDeferred(Exception):
    """Raised by `expand` when an input it needs (a file, an output) exists only once a
    dependency has been applied: the children are then planned and applied during apply."""


@dataclass(frozen=True)
class Child:
    """A resource a kind expands into: `key` indexes it under the parent's address.
    `depends_on`: addresses it waits for besides its parent's dependencies and what its
    settings' templates reference (a rubric step waiting for its sibling pool, say)."""

    key: tuple[str | int, ...]
    kind: str
    settings: Any
    depends_on: tuple[str, ...] = ()


@dataclass
class Context:
    """Everything a kind may touch. Kinds reach the world only through this."""

    workspace: Workspace
    address: Address
    providers: Providers
    run_id: str = ""
    deadline: float | None = None
    timeout: float | None = None  # the step's `timeout` as written (seconds)
    cancelled: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)  # no new work may begin
    log: Callable[[str], None] = lambda line: None
    outputs: Callable[[str], Any] = lambda address: None
    recorded: Mapping[str, Record] = field(default_factory=dict)  # the state as planning saw it
    raw_settings: Any = None  # for expand: the settings as written, templates not yet rendered
    depends_on: tuple[str, ...] = ()  # for expand: the addresses this resource depends on
    facts: Facts = field(default_factory=MemoryFacts)  # what kinds remember, in the state store

    def path(self, relative: str, what: str = "path") -> Path:
        """A path inside the workspace (paths escaping it are refused)."""
        return self.workspace.resolve(relative, what)

    def labels(self) -> dict[str, str]:
        """The labels that mark an object as taskform's."""
        return {"taskform.workspace": str(self.workspace.root),
                "taskform.address": str(self.address),
                "taskform.run": self.run_id}

    def remaining(self) -> float | None:
        """Seconds left before the step's deadline (None: no timeout)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled(str(self.address))


class Kind(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def settings_model(self) -> type[BaseModel]: ...
    @property
    def replace_on_change(self) -> bool: ...
    @property
    def fails_with_children(self) -> bool: ...

    def fingerprint(self, ctx: Context, settings: Any) -> dict[str, str]: ...
    def observe(self, ctx: Context, record: Record) -> Observation: ...
    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]: ...
    def destroy(self, ctx: Context, record: Record) -> None: ...
    def expand(self, ctx: Context, settings: Any) -> list[Child] | None: ...
    def references(self, settings: Any) -> Iterable[str]: ...
    def expansion_reads(self, settings: Any, dependency: str) -> bool: ...
    def dependency_view(self, ctx: Context, settings: Any, dependency: str, outputs: Any) -> Any: ...
    def time_budget(self, settings: Any, timeout: float) -> float: ...


class BaseKind:
    """Defaults: nothing outside the state to observe or destroy, no expansion."""

    name: ClassVar[str] = ""
    settings_model: ClassVar[type[BaseModel]] = Settings
    replace_on_change: ClassVar[bool] = False
    # True: its children are parts of it, so a child that failed (or was not applied) makes it
    # fail with the child's error, recorded like its own failure, instead of only blocking it
    fails_with_children: ClassVar[bool] = False

    def fingerprint(self, ctx: Context, settings: Any) -> dict[str, str]:
        return {}

    def observe(self, ctx: Context, record: Record) -> Observation:
        return IN_SYNC

    def destroy(self, ctx: Context, record: Record) -> None:
        return None

    def expand(self, ctx: Context, settings: Any) -> list[Child] | None:
        return None

    def references(self, settings: Any) -> Iterable[str]:
        return ()

    def expansion_reads(self, settings: Any, dependency: str) -> bool:
        """True when a change of `dependency` can change what `expand` returns (its children
        are then planned during apply, once the dependency is applied)."""
        return False

    def dependency_view(self, ctx: Context, settings: Any, dependency: str, outputs: Any) -> Any:
        """The part of a dependency's outputs that decides this resource (default: all of it)."""
        return outputs

    def time_budget(self, settings: Any, timeout: float) -> float:
        """How long one attempt may take, given the step's `timeout` (default: that timeout; a
        kind whose timeout bounds each of several parts gives the sum)."""
        return timeout


def file_digest(path: Path) -> str:
    """sha256 of a file's content, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_files(ctx: Context, patterns: Iterable[str], what: str) -> dict[str, str]:
    """`file:<path>` fingerprint components for every file the glob patterns match."""
    out: dict[str, str] = {}
    root = ctx.workspace.root
    for pattern in patterns:
        ctx.path(pattern.split("*")[0] or ".", what)  # the fixed part must stay inside
        matches = sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        for path in matches:
            if path.is_file():
                rel = ctx.workspace.relative(ctx.path(str(path.relative_to(root)), what))
                out[f"file:{rel}"] = file_digest(path)
            elif not path.exists():
                out[f"file:{pattern}"] = "missing"
    return out
