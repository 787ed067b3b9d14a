"""Evaluate a desired resource against what is known so far: render its templates with the
recorded (or, during apply, fresh) outputs of its dependencies, validate, fingerprint, and
decide `when`. Fingerprints may read files and ask connections: this is I/O, not the pure plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from runner.address import Address
from runner.connections import Connections
from runner.errors import PlanError, ProviderError, StepFailed, TaskformError
from runner.fingerprint import digest, settings_components
from runner.kinds.base import Can, Context
from runner.kinds.registry import KINDS
from runner.plan import Evaluated
from runner.resource import Resource
from runner.spec.budget import Budget
from runner.spec.taint import derived_values
from runner.spec.templating import (
    Scope,
    TemplateProblem,
    contains_unknown,
    evaluate,
    iter_templates,
    render,
)
from runner.state.base import Facts, MemoryFacts, Record
from runner.vocabulary import UNKNOWN
from runner.workspace import Workspace


class Evaluator:
    """Renders and fingerprints resources given the outputs known so far."""

    def __init__(self, ws: Workspace, connections: Connections, outputs: Callable[[str], Any],
                 redact: Callable[[Any], Any] = lambda value: value,
                 recorded: Mapping[str, Record] | None = None, facts: Facts | None = None):
        self.ws = ws
        self.facts: Facts = facts if facts is not None else MemoryFacts()
        self.connections = connections
        self.outputs = outputs
        self.recorded: Mapping[str, Record] = recorded if recorded is not None else {}
        self.redact = redact  # dependency outputs are fingerprinted as the state stores them
        self.budget = Budget()  # what templates rendered for this plan (or apply) may spend

    def scope(self, resource: Resource) -> Scope:
        return Scope(var=self.ws.variables, outputs=self.outputs,
                     step_address=resource.step_address, budget=self.budget)

    def context(self, resource: Resource, **extra: Any) -> Context:
        return self.context_at(resource.address, **extra)

    def context_at(self, address: Address, **extra: Any) -> Context:
        """A context for a kind's call about `address` (a resource, or a record only)."""
        return Context(workspace=self.ws, address=address, connections=self.connections,
                       outputs=self.outputs, recorded=self.recorded, facts=self.facts,
                       **extra)

    def render(self, resource: Resource) -> Any:
        if not iter_templates(resource.settings):
            return resource.settings
        scope = self.scope(resource)
        try:
            rendered = render(resource.settings, scope)
        except TemplateProblem as exc:
            raise PlanError(f"{resource.address} ({resource.origin}): {exc}") from None
        for value in derived_values(resource.settings, scope, self.ws.secret_names):
            if value not in self.ws.secrets:
                self.ws.secrets.append(value)  # masked from here on, like the secret
        return rendered

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
            raise PlanError(f"{resource.address} ({resource.origin}): after rendering, "
                            f"{first_problem(exc)}") from None

    def fingerprint(self, resource: Resource, rendered: Any) -> dict[str, str] | None:
        if contains_unknown(rendered):
            return None
        components = settings_components(rendered)
        entry = KINDS[resource.kind]
        kind = entry.kind
        narrows = entry.does(Can.NARROW_DEPENDENCIES)
        custom = entry.does(Can.FINGERPRINT)
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


def first_problem(exc: ValidationError) -> str:
    """`field: what was expected`, for the first error pydantic found."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where or 'settings'}: {first['msg']}"
