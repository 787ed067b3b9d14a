"""The kind contract: what every kind module provides, and the context each call receives.

A kind validates its settings (a pydantic model), fingerprints them (the file contents and
facts that decide the result, beyond the settings themselves), observes the real thing, applies
and destroys it, and may expand into child resources at plan time. What it does beyond
applying is declared in its entry of the kind table (`registry.py`) as a set of `Can`.

Kind modules import everything from here; the core imports `contract` (the same names, without
pydantic) so that a plan that calls no kind loads no settings model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import BaseModel

from runner.address import Selection
from runner.kinds.contract import (
    METHODS,
    Can,
    Child,
    Context,
    Expansion,
    ExpansionDeferred,
    Kind,
    cached_digest,
    file_digest,
    hash_files,
)
from runner.state.base import Record
from runner.strict import StrictModel
from runner.vocabulary import IN_SYNC, Observation

__all__ = ["METHODS", "BaseKind", "Can", "Child", "Context", "Expansion", "ExpansionDeferred",
           "Kind", "Settings", "cached_digest", "file_digest", "hash_files"]


class Settings(StrictModel):
    """Base of every kind's settings model: unknown keys are errors."""


class BaseKind:
    """Neutral defaults for every method, so a kind writes only what it declares."""

    name: ClassVar[str] = ""
    settings_model: ClassVar[type[BaseModel]] = Settings

    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]:
        raise NotImplementedError(f"kind {self.name} does not implement apply")

    def fingerprint(self, ctx: Context, settings: Any) -> dict[str, str]:
        return {}

    def observe(self, ctx: Context, record: Record) -> Observation:
        return IN_SYNC

    def destroy(self, ctx: Context, record: Record) -> None:
        return None

    def expand(self, ctx: Context, settings: Any, expansion: Expansion) -> list[Child] | None:
        return None

    def references(self, settings: Any) -> Iterable[str | Selection]:
        """Addresses the settings name outside templates, and label selections of documents
        (`Selection`): each becomes a dependency edge, checked when the specs load."""
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

    def retire(self, ctx: Context, old: Record, new: Record) -> str | None:
        """Remove what the record `old` stood for and `new` replaced, now that the resources
        that used it in this apply have finished; a message when something had to stay."""
        return None

    def claims(self, settings: Any) -> Iterable[str]:
        """Names the user gave that no other resource may also take, in words
        (`container name web`); two resources claiming one are refused before apply."""
        return ()
