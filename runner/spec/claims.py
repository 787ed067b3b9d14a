"""Names two resources would both take: explicit container names, volume bases, image tags.
Derived names never collide (they carry a hash of the address); a name the user wrote twice
would make one resource fight the other at apply, so it is refused before anything runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runner.errors import SpecIssue
from runner.kinds.contract import Can
from runner.kinds.registry import KINDS
from runner.resource import Resource
from runner.spec.templating import contains_unknown, iter_templates


def claim_conflicts(resources: Iterable[tuple[Resource, Any]]) -> list[SpecIssue]:
    """For (resource, its settings as known), one issue per name claimed twice, placed at the
    later resource and naming the earlier. Settings not known yet claim nothing yet."""
    first: dict[str, Resource] = {}
    issues = []
    for resource, settings in resources:
        for claim in _claims(resource, settings):
            other = first.setdefault(claim, resource)
            if other is not resource:
                origin = resource.origin
                issues.append(SpecIssue(origin.file, origin.line, origin.col, "",
                                        f"{resource.address} claims {claim}, which "
                                        f"{other.address} ({other.origin}) claims too"))
    return issues


def makes_claims(kind: str) -> bool:
    """Whether resources of `kind` may claim names (others' settings need not be read)."""
    entry = KINDS.get(kind)
    return entry is not None and entry.does(Can.CLAIM)


def _claims(resource: Resource, settings: Any) -> list[str]:
    if not makes_claims(resource.kind):
        return []
    entry = KINDS[resource.kind]
    if contains_unknown(settings) or iter_templates(settings):
        return []
    from pydantic import ValidationError

    try:
        model = entry.kind.settings_model.model_validate(settings)
    except ValidationError:
        return []  # reported by validation itself
    return list(entry.kind.claims(model))
