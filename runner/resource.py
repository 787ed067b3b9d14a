"""A desired resource, as loaded from the specs (or expanded from a parent at plan time)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.address import Address
from runner.lazy import LazyFields, may_wait


@dataclass(frozen=True)
class Origin:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@may_wait("settings")  # a recorded expansion's child's are its record's
@dataclass(frozen=True)
class Resource(LazyFields):
    """One thing taskform manages. `settings` may still hold templates that read outputs."""

    address: Address
    kind: str
    settings: Any
    origin: Origin
    depends_on: tuple[Address, ...] = ()
    when: str | None = None
    retries: int = 0
    retry_delay: float = 1.0
    timeout: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    prevent_destroy: bool = False
    pipeline: str | None = None
    parent: Address | None = None
    expansion_deferred: str | None = None  # why its children are known only during apply
    # (path, digest) of what its expansion read, for the record (planning/expansion_reuse.py)
    expansion_reads: tuple[tuple[str, str], ...] | None = None

    def step_address(self, step: str) -> str:
        """The address of a sibling step named in `{{ steps.<step> }}`."""
        return f"pipeline.{self.pipeline}.{step}"


def variant(resource: Resource, **changes: Any) -> Resource:
    """`dataclasses.replace(resource, **changes)` without calling `__init__` (which checks
    nothing): loading 5,000 steps or planning 5,000 recorded children makes one per resource."""
    unknown = changes.keys() - Resource.__dataclass_fields__.keys()
    if unknown:
        raise TypeError(f"Resource has no field {sorted(unknown)[0]!r}")
    copy = object.__new__(Resource)
    copy.__dict__.update(resource.__dict__, **changes)
    return copy
