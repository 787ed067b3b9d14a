"""Evaluate desired resources against the recorded state: expand, render with the recorded
outputs of dependencies, validate, fingerprint, and observe the real world. This is the I/O
half of planning; `plan.plan` is the pure half."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from runner.address import Address, parse_address
from runner.errors import PlanError, ProviderError, StepFailed, TaskformError
from runner.fingerprint import digest, settings_components
from runner.kinds.base import BaseKind, Context, ExpansionDeferred
from runner.kinds.registry import KINDS
from runner.providers import Providers
from runner.resource import Resource
from runner.spec.templating import (
    UNKNOWN,
    Scope,
    TemplateProblem,
    contains_unknown,
    evaluate,
    iter_templates,
    refs_of,
    render,
)
from runner.state.base import Facts, MemoryFacts, Record
from runner.vocabulary import Observation
from runner.workspace import Workspace


@dataclass(frozen=True)
class Evaluated:
    """A desired resource as far as it is known before apply."""

    resource: Resource
    rendered: Any
    fingerprint: dict[str, str] | None  # None: some input is known only after apply
    when: bool | None                   # None: not known before apply


class Evaluator:
    """Renders and fingerprints resources given the outputs known so far."""

    def __init__(self, ws: Workspace, providers: Providers, outputs: Callable[[str], Any],
                 redact: Callable[[Any], Any] = lambda value: value,
                 recorded: Mapping[str, Record] | None = None, facts: Facts | None = None):
        self.ws = ws
        self.facts: Facts = facts if facts is not None else MemoryFacts()
        self.providers = providers
        self.outputs = outputs
        self.recorded: Mapping[str, Record] = recorded if recorded is not None else {}
        self.redact = redact  # dependency outputs are fingerprinted as the state stores them

    def scope(self, resource: Resource) -> Scope:
        return Scope(var=self.ws.variables, outputs=self.outputs,
                     step_address=resource.step_address)

    def context(self, resource: Resource, **extra: Any) -> Context:
        return Context(workspace=self.ws, address=resource.address, providers=self.providers,
                       outputs=self.outputs, recorded=self.recorded, facts=self.facts, **extra)

    def render(self, resource: Resource) -> Any:
        if not iter_templates(resource.settings):
            return resource.settings
        try:
            return render(resource.settings, self.scope(resource))
        except TemplateProblem as exc:
            raise PlanError(f"{resource.address} ({resource.origin}): {exc}") from None

    def when(self, resource: Resource) -> bool | None:
        if resource.when is None:
            return True
        try:
            value = evaluate(resource.when, self.scope(resource))
        except TemplateProblem as exc:
            raise PlanError(f"{resource.address} ({resource.origin}): when: {exc}") from None
        return None if value is UNKNOWN else bool(value)

    def model(self, resource: Resource, rendered: Any) -> Any:
        """The validated settings model; raise PlanError naming what is wrong."""
        try:
            return KINDS[resource.kind].kind.settings_model.model_validate(rendered)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PlanError(f"{resource.address} ({resource.origin}): after rendering, "
                            f"{where or 'settings'}: {first['msg']}") from None

    def fingerprint(self, resource: Resource, rendered: Any) -> dict[str, str] | None:
        if contains_unknown(rendered):
            return None
        components = settings_components(rendered)
        kind = KINDS[resource.kind].kind
        narrows = type(kind).dependency_view is not BaseKind.dependency_view
        custom = type(kind).fingerprint is not BaseKind.fingerprint
        model = self.model(resource, rendered) if narrows or custom else None
        try:
            for dep in resource.depends_on:
                outputs = self.outputs(str(dep))
                if outputs is UNKNOWN:
                    return None
                if narrows:  # the kind says which part of the outputs decides its result
                    outputs = kind.dependency_view(self.context(resource), model, str(dep), outputs)
                components[f"dep:{dep}"] = digest(self.redact(outputs))
            if custom:
                components.update(kind.fingerprint(self.context(resource), model))
        except ProviderError:
            raise  # an unreachable engine is one error for the run, not one per resource
        except (StepFailed, TaskformError, OSError) as exc:
            message = exc.message if isinstance(exc, StepFailed) else str(exc)
            raise PlanError(f"{resource.address} ({resource.origin}): {message}") from None
        return components

    def evaluate(self, resource: Resource) -> Evaluated:
        rendered = self.render(resource)
        return Evaluated(resource, rendered, self.fingerprint(resource, rendered),
                         self.when(resource))


def expand_all(resources: Mapping[Address, Resource], evaluator: Evaluator) -> dict[str, Resource]:
    """Every resource plus the children of expanding kinds; a parent depends on its children."""
    out: dict[str, Resource] = {}
    for resource in resources.values():
        _expand_into(resource, evaluator, out, at_apply=False)
    return out


def expand_now(resource: Resource, evaluator: Evaluator) -> dict[str, Resource]:
    """During apply: the expansion that had to wait; the parent (with its children as
    dependencies) and every child. Raise PlanError if it still cannot be made."""
    out: dict[str, Resource] = {}
    _expand_into(replace(resource, expansion_deferred=None), evaluator, out, at_apply=True)
    return out


def _expand_into(resource: Resource, evaluator: Evaluator, out: dict[str, Resource],
                 at_apply: bool) -> None:
    kind = KINDS[resource.kind].kind
    if type(kind).expand is BaseKind.expand:
        out[str(resource.address)] = resource
        return
    rendered = evaluator.render(resource)
    try:
        ctx = evaluator.context(resource, raw_settings=resource.settings,
                                depends_on=tuple(str(d) for d in resource.depends_on))
        children = kind.expand(ctx, rendered)
    except ExpansionDeferred as exc:
        if at_apply:
            raise PlanError(f"{resource.address} ({resource.origin}): {exc}") from None
        out[str(resource.address)] = replace(resource, expansion_deferred=str(exc))
        return
    except (StepFailed, TaskformError, OSError) as exc:
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
                                                     child.depends_on),
                              when=resource.when,
                              retries=resource.retries, retry_delay=resource.retry_delay,
                              timeout=resource.timeout, labels=resource.labels,
                              prevent_destroy=resource.prevent_destroy,
                              pipeline=resource.pipeline, parent=resource.address), evaluator, out,
                     at_apply)
    out[str(resource.address)] = replace(resource,
                                         depends_on=resource.depends_on + tuple(child_addresses))


def _child_deps(parent: Resource, settings: Any, extra: tuple[str, ...] = ()
                ) -> tuple[Address, ...]:
    """A child waits for what its parent waits for, for what its own settings reference (a
    sibling's outputs, say), and for what its parent's kind names in `Child.depends_on`."""
    refs = refs_of(settings)
    named = [parse_address(a) for a in [*refs.addresses, *extra]]
    named += [parse_address(parent.step_address(s)) for s in refs.steps]
    return tuple(dict.fromkeys([*parent.depends_on, *named]))


def check_references(resources: Mapping[str, Resource]) -> None:
    """After expansion every referenced child must exist."""
    waiting = {str(r.address) for r in resources.values() if r.expansion_deferred}
    problems = [f"{r.address} ({r.origin}) references {dep}, which {dep.parent} does not produce"
                for r in resources.values() for dep in r.depends_on
                if str(dep) not in resources and str(dep.parent) not in waiting]
    if problems:
        raise PlanError("\n".join(problems))


def observe_all(records: Iterable[Record], evaluator: Evaluator, resources: Mapping[str, Resource],
                parallelism: int) -> dict[str, Observation]:
    """Ask each kind what the real thing looks like (refresh), in parallel."""
    todo = [r for r in records if r.kind in KINDS
            and type(KINDS[r.kind].kind).observe is not BaseKind.observe]

    def one(record: Record) -> tuple[str, Observation]:
        resource = resources.get(record.address)
        address = resource.address if resource else parse_address(record.address)
        ctx = Context(workspace=evaluator.ws, address=address, providers=evaluator.providers,
                      outputs=evaluator.outputs, recorded=evaluator.recorded,
                      facts=evaluator.facts)
        return record.address, KINDS[record.kind].kind.observe(ctx, record)

    if not todo:
        return {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(todo)))) as pool:
            return dict(pool.map(one, todo))
    except ProviderError:
        raise
    except (TaskformError, OSError) as exc:
        raise ProviderError(f"refresh failed: {exc}") from None
