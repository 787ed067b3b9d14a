"""What reading one document gives: its resources, issues and references. Apart from
`documents`, so that the cache can hold it without the kinds that validation needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.address import Address, Selection
from runner.errors import SpecIssue
from runner.resource import Resource


@dataclass
class Loaded:
    """Resources from one document, with the references to check once all are loaded."""

    resources: list[Resource] = field(default_factory=list)
    issues: list[SpecIssue] = field(default_factory=list)
    # (resource address, referenced address, where the reference is written)
    references: list[tuple[Address, Address, SpecIssue]] = field(default_factory=list)
    # (resource address, the documents it selects by label, where the selection is written)
    selections: list[tuple[Address, Selection, SpecIssue]] = field(default_factory=list)
    document: tuple[str, str] | None = None  # (kind, name)
    name_place: SpecIssue | None = None     # where metadata.name is written
    variables: set[str] = field(default_factory=set)  # every variable its templates name
