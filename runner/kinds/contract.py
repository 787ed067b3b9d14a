"""The kind contract without the settings base class: what the core asks of a kind (the `Kind`
protocol and its declared capabilities, `Can`), the context each call receives, and the file
fingerprint helpers. Free of pydantic, so planning a workspace whose documents did not change
imports no settings model at all; `base.py` adds `Settings` and `BaseKind` for kind modules.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from runner.address import Address, Selection
from runner.errors import Cancelled
from runner.providers.call import Call
from runner.providers.docker.labels import Owner, object_name
from runner.state.base import Facts, MemoryFacts, Record
from runner.vocabulary import Observation

if TYPE_CHECKING:
    from pydantic import BaseModel

    from runner.connections import Connections
    from runner.providers.docker.engine import DockerEngine
    from runner.workspace import Workspace


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
    connections: Connections
    run_id: str = ""
    deadline: float | None = None
    timeout: float | None = None  # the step's `timeout` as written (seconds)
    cancelled: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)  # no new work may begin
    log: Callable[[str], None] = lambda line: None
    outputs: Callable[[str], Any] = lambda address: None
    recorded: Mapping[str, Record] = field(default_factory=dict)  # the state as planning saw it
    facts: Facts = field(default_factory=MemoryFacts)  # what kinds remember, in the state store
    # file digests (by path and stat) and workspace paths resolved, kept while planning (which
    # writes no file) so a file many resources fingerprint (a rubric's held-out tests) is read
    # and resolved once; None during apply
    digests: dict[tuple[Any, ...], Any] | None = None
    # False for `plan -refresh=false`: what a fingerprint would ask the real world (a base
    # image's id on the engine), it takes from the record when the record has it
    refresh: bool = True
    # while expanding: every path the kind resolves (`path`), so a plan can tell whether a
    # recorded expansion still stands (runner/planning/expansion_reuse.py); None otherwise
    reads: list[str] | None = None
    # during apply: how many of the run's changes under an expanding parent (its address) have
    # not begun yet, so a kind sharing something among siblings (a grading pool's warm spares)
    # prepares no more than they will take; None where no run is walking its changes
    not_begun: Callable[[str], int | None] = lambda parent: None

    def path(self, relative: str, what: str = "path") -> Path:
        """A path inside the workspace (paths escaping it are refused)."""
        if self.reads is not None:
            self.reads.append(relative)
        return self.workspace.resolve(relative, what)

    def labels(self) -> dict[str, str]:
        """The labels that mark an object as taskform's."""
        return self.owner().labels()

    def owner(self) -> Owner:
        """Whose the objects this resource creates are (their labels)."""
        return Owner(str(self.workspace.root), str(self.address), self.run_id)

    def call(self) -> Call:
        """This step's log, cancellation and deadline, for a door's long call."""
        return Call(log=self.log, cancelled=self.cancelled, deadline=self.deadline,
                    what=str(self.address))

    def docker(self) -> DockerEngine:
        """The workspace's Docker engine, connected on first use and shared by the run."""
        # imported here: a plan that meets no Docker step need not load the door
        from runner.providers.docker.engine import DockerEngine, engine_address

        # the plain settings, not the models: a plan that meets a Docker step need not load them
        address = engine_address(self.workspace.docker_host)
        size = max(10, self.workspace.parallelism + 4)
        return self.connections.get("docker", address, lambda: DockerEngine(address, size))

    def object_name(self, suffix: str = "") -> str:
        """A deterministic Docker name for this resource, unique to its workspace and address:
        `tf-<pipeline>-<step>[-<key>]-<hash>`."""
        address = self.address
        return object_name(str(self.workspace.root), str(address),
                           [*address.parts[1:], *address.key], suffix)

    def remaining(self) -> float | None:
        """Seconds left before the step's deadline (None: no timeout)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled(str(self.address))


class Can(StrEnum):
    """What a kind does beyond validating and applying its settings, declared in its table entry
    (the core asks the table, never the class, so it need not import a kind to plan it)."""

    OBSERVE = "observe"            # has a real thing to look at when refreshing
    DESTROY = "destroy"            # has a real thing to remove
    EXPAND = "expand"              # makes child resources
    DEFER_EXPANSION = "defer"      # its children may have to wait for a dependency's apply
    FINGERPRINT = "fingerprint"    # adds components (files, facts) beyond its settings
    NARROW_DEPENDENCIES = "narrow"  # only part of a dependency's outputs decides it
    REFERENCE = "reference"        # its settings name other resources (implicit edges)
    BUDGET = "budget"              # an attempt may take longer than `timeout` (a sum of parts)
    RETIRE = "retire"              # a replacement is made before what it replaces is removed
    CLAIM = "claim"                # takes names no other resource may take (container names)


# the method each capability stands for (the conformance test checks both directions)
METHODS: dict[Can, str] = {
    Can.OBSERVE: "observe", Can.DESTROY: "destroy", Can.EXPAND: "expand",
    Can.DEFER_EXPANSION: "expansion_reads", Can.FINGERPRINT: "fingerprint",
    Can.NARROW_DEPENDENCIES: "dependency_view", Can.REFERENCE: "references",
    Can.BUDGET: "time_budget", Can.RETIRE: "retire", Can.CLAIM: "claims",
}


@dataclass(frozen=True)
class Expansion:
    """What `expand` sees besides the validated settings: the settings as written (templates
    not yet rendered: children render them later), the names whose values are not known yet,
    and the addresses the parent depends on."""

    raw: Mapping[str, Any]
    late: frozenset[str] = frozenset()
    depends_on: tuple[str, ...] = ()


class Kind(Protocol):
    """The contract. Only `name`, `settings_model` and `apply` are always used; the other
    methods are called only when the kind's table entry declares the matching `Can`."""

    @property
    def name(self) -> str: ...
    @property
    def settings_model(self) -> type[BaseModel]: ...

    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]: ...
    def fingerprint(self, ctx: Context, settings: Any) -> dict[str, str]: ...
    def observe(self, ctx: Context, record: Record) -> Observation: ...
    def destroy(self, ctx: Context, record: Record) -> None: ...
    def expand(self, ctx: Context, settings: Any, expansion: Expansion) -> list[Child] | None: ...
    def references(self, settings: Any) -> Iterable[str | Selection]: ...
    def expansion_reads(self, settings: Any, dependency: str) -> bool: ...
    def dependency_view(self, ctx: Context, settings: Any, dependency: str, outputs: Any) -> Any: ...
    def time_budget(self, settings: Any, timeout: float) -> float: ...
    def retire(self, ctx: Context, old: Record, new: Record) -> str | None: ...
    def claims(self, settings: Any) -> Iterable[str]: ...


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
        fixed = _resolved(ctx, pattern.split("*")[0] or ".", what)  # must stay inside
        if not any(c in pattern for c in "*?["):
            out.update(_hash_literal(ctx, fixed, pattern))  # the common case, one file
            continue
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                _hash_one(ctx, ctx.path(str(path.relative_to(root)), what), pattern, out)
            elif not path.exists():
                out[f"file:{pattern}"] = "missing"
    return out


def _resolved(ctx: Context, relative: str, what: str) -> Path:
    """`ctx.path(relative)`, resolved once per plan (while planning nothing moves files; a
    refusal is never kept, so it is raised each time)."""
    if ctx.digests is None:
        return ctx.path(relative, what)
    key = ("path", relative)
    found = ctx.digests.get(key)
    if found is None:
        found = ctx.digests[key] = ctx.path(relative, what)
    return found


def _hash_literal(ctx: Context, resolved: Path, pattern: str) -> dict[str, str]:
    """The component of one file named without wildcards; once per plan while planning."""
    key = ("hash", str(resolved), pattern)
    found = ctx.digests.get(key) if ctx.digests is not None else None
    if found is None:
        found = {}
        _hash_one(ctx, resolved, pattern, found)
        if ctx.digests is not None:
            ctx.digests[key] = found
    return found


def _hash_one(ctx: Context, resolved: Path, pattern: str, out: dict[str, str]) -> None:
    try:
        info = resolved.stat()
    except OSError:
        out[f"file:{pattern}"] = "missing"
        return
    if stat.S_ISREG(info.st_mode):
        rel = str(resolved)[len(str(ctx.workspace.root)) + 1:]  # resolved: inside the root
        out[f"file:{rel}"] = cached_digest(ctx, resolved, info)


def cached_digest(ctx: Context, path: Path, info: os.stat_result | None = None) -> str:
    """`file_digest(path)`, read once per plan for a file that did not change meanwhile."""
    if ctx.digests is None:
        return file_digest(path)
    info = info or path.stat()
    key = (str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    found = ctx.digests.get(key)
    if found is None:
        found = ctx.digests[key] = file_digest(path)
    return found
