"""Expansion: the children of kinds that make them, at plan time when their inputs are known,
else during apply (deferred)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from runner.address import Address, parse_address
from runner.errors import PlanError, StepFailed, TaskformError
from runner.kinds.contract import Can, Expansion, ExpansionDeferred
from runner.kinds.registry import KINDS, KindEntry, kinds_that
from runner.planning.evaluate import Evaluator, first_problem
from runner.planning.expansion_reuse import reads_seen, recorded_children
from runner.planning.reuse import refs_in
from runner.resource import Resource
from runner.spec.templating import contains_unknown


def expand_all(resources: Mapping[Address, Resource], evaluator: Evaluator) -> dict[str, Resource]:
    """Every resource plus the children of expanding kinds; a parent depends on its children."""
    out: dict[str, Resource] = {}
    expanding = kinds_that(Can.EXPAND)
    for resource in resources.values():
        if resource.kind in expanding:
            _expand_into(resource, evaluator, out, at_apply=False)
        else:
            out[resource.address.text] = resource
    return out


def expand_now(resource: Resource, evaluator: Evaluator) -> dict[str, Resource]:
    """During apply: the expansion that had to wait; the parent (with its children as
    dependencies) and every child. Raise PlanError if it still cannot be made."""
    out: dict[str, Resource] = {}
    _expand_into(replace(resource, expansion_deferred=None), evaluator, out, at_apply=True)
    return out


def _expand_into(resource: Resource, evaluator: Evaluator, out: dict[str, Resource],
                 at_apply: bool) -> None:
    entry = KINDS[resource.kind]
    if not entry.does(Can.EXPAND):
        out[resource.address.text] = resource
        return
    reusable = entry.reuse_expansion and not evaluator.templates(resource.settings)
    if reusable and not at_apply and _take_recorded(resource, evaluator, out):
        return
    ctx = evaluator.context(resource, reads=[] if reusable else None)
    try:
        model, expansion = _expansion_input(resource, evaluator, entry)
        children = entry.kind.expand(ctx, model, expansion)
    except ExpansionDeferred as exc:
        if at_apply:
            raise PlanError(f"{resource.address} ({resource.origin}): {exc}") from None
        out[str(resource.address)] = replace(resource, expansion_deferred=str(exc))
        return
    except (StepFailed, TaskformError, OSError) as exc:
        if isinstance(exc, PlanError):
            raise
        message = exc.message if isinstance(exc, StepFailed) else str(exc)
        raise PlanError(f"{resource.address} ({resource.origin}): {message}") from None
    if children is None:
        out[str(resource.address)] = resource
        return
    child_addresses = []
    for child in children:
        address = resource.address.child(*child.key)
        child_addresses.append(address)
        _expand_into(Resource(address=address, kind=child.kind, settings=child.settings,
                              origin=resource.origin,
                              depends_on=_child_deps(resource, child.settings,
                                                     child.depends_on, evaluator),
                              when=resource.when,
                              retries=resource.retries, retry_delay=resource.retry_delay,
                              timeout=resource.timeout, labels=resource.labels,
                              prevent_destroy=resource.prevent_destroy,
                              pipeline=resource.pipeline, parent=resource.address), evaluator, out,
                     at_apply)
    seen = reads_seen(evaluator.ws, ctx.reads) if ctx.reads is not None else None
    out[str(resource.address)] = replace(resource, expansion_reads=seen,
                                         depends_on=resource.depends_on + tuple(child_addresses))


def _take_recorded(resource: Resource, evaluator: Evaluator, out: dict[str, Resource]) -> bool:
    """The recorded children of `resource`, when its recorded expansion stands for a new one
    (planning/expansion_reuse.py): their records are their evaluation, and the parent's too
    when its children's outputs are what it last saw."""
    found = recorded_children(resource, evaluator.recorded, evaluator.memo(resource),
                              evaluator.output_digest, evaluator.always_render, evaluator.ws)
    if found is None:
        return False
    children, seen = found
    for child in children:
        address = str(child.address)
        out[address] = child
        evaluator.settled[address] = evaluator.recorded[address]
    parent = str(resource.address)
    record = evaluator.recorded[parent]
    if all(record.fingerprint.get("dep:" + c.address.text) == evaluator.output_digest(
            c.address.text) for c in children):
        evaluator.settled[parent] = record
    out[parent] = replace(resource, expansion_reads=seen, depends_on=resource.depends_on + tuple(
        c.address for c in children))
    return True


def _expansion_input(resource: Resource, evaluator: Evaluator, entry: KindEntry
                     ) -> tuple[Any, Expansion]:
    """The validated settings `expand` works from. A setting that reads an output not known
    yet is validated as written (its template: children render it later) and named in
    `Expansion.late`; when its written form does not validate either, the expansion waits for
    the dependency (a kind that can defer) or the plan says it must be known now."""
    rendered = evaluator.render(resource)
    raw = resource.settings if isinstance(resource.settings, dict) else {}
    late = frozenset(k for k, v in rendered.items() if contains_unknown(v)) \
        if isinstance(rendered, dict) else frozenset()
    known = {k: (raw.get(k) if k in late else v) for k, v in rendered.items()} \
        if isinstance(rendered, dict) else rendered
    from pydantic import ValidationError  # here: only an expanding kind needs it

    try:
        model = entry.kind.settings_model.model_validate(known)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if fields and fields <= late:
            names = ", ".join(sorted(fields))
            if entry.does(Can.DEFER_EXPANSION):
                raise ExpansionDeferred(f"{names} read outputs not known yet") from None
            raise PlanError(f"{resource.address} ({resource.origin}): {names} must be known at "
                            "plan time, not an output of another step") from None
        raise PlanError(f"{resource.address} ({resource.origin}): {first_problem(exc)}"
                        ) from None
    depends_on = tuple(str(d) for d in resource.depends_on)
    return model, Expansion(raw=raw, late=late, depends_on=depends_on)


def _child_deps(parent: Resource, settings: Any, extra: tuple[str, ...],
                evaluator: Evaluator) -> tuple[Address, ...]:
    """A child waits for what its parent waits for, for what its own settings reference (a
    sibling's outputs, say), and for what its parent's kind names in `Child.depends_on`."""
    refs = refs_in(evaluator.templates(settings))
    named = [parse_address(a) for a in [*refs.addresses, *extra]]
    named += [parse_address(parent.step_address(s)) for s in refs.steps]
    return tuple(dict.fromkeys([*parent.depends_on, *named]))


def check_references(resources: Mapping[str, Resource]) -> None:
    """After expansion every referenced child must exist."""
    waiting = {r.address.text for r in resources.values() if r.expansion_deferred}
    problems = [f"{r.address} ({r.origin}) references {dep}, which {dep.parent} does not produce"
                for r in resources.values() for dep in r.depends_on
                if dep.text not in resources and str(dep.parent) not in waiting]
    if problems:
        raise PlanError("\n".join(problems))


