"""Evaluate a desired resource against what is known so far: render its templates with the
recorded (or, during apply, fresh) outputs of its dependencies, validate, fingerprint, and
decide `when`. Fingerprints may read files and ask connections: this is I/O, not the pure plan."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from runner.address import Address
from runner.connections import Connections
from runner.errors import PlanError, ProviderError, StepFailed, TaskformError
from runner.fingerprint import OUTPUTS_MEMO, digest, settings_components
from runner.kinds.contract import Can, Context
from runner.kinds.registry import KINDS, kinds_that
from runner.lazy import made
from runner.plan import Evaluated, settled_by
from runner.planning.expansion_reuse import expansion_memos, reads_seen
from runner.planning.reuse import (
    MEMO,
    inputs_digest,
    is_exact,
    read_addresses,
    reads,
    rendering_code,
)
from runner.resource import Resource
from runner.spec.budget import Budget
from runner.spec.load import secret_variables
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
from runner.vocabulary import UNKNOWN, RecordStatus
from runner.workspace import Workspace

if TYPE_CHECKING:
    from pydantic import ValidationError

    from runner.planning.memobook import MemoBook


class RecordedOutputs:
    """The outputs a plan knows: each resource's as recorded, UNKNOWN for one not recorded or
    whose last apply failed."""

    def __init__(self, records: Mapping[str, Record]):
        self.records = records

    def __call__(self, address: str) -> Any:
        record = self.records.get(address)
        if record is None or record.status == RecordStatus.FAILED:
            return UNKNOWN
        return record.outputs

    def digest(self, address: str) -> str | None:
        """The digest of those outputs (`memo:outputs`: not even decoded), None when UNKNOWN."""
        record = self.records.get(address)
        if record is None or record.status == RecordStatus.FAILED:
            return None
        return record.outputs_memo() or digest(record.outputs)


class Evaluator:
    """Renders and fingerprints resources given the outputs known so far."""

    def __init__(self, ws: Workspace, connections: Connections, outputs: Callable[[str], Any],
                 redact: Callable[[Any], Any] = lambda value: value,
                 recorded: Mapping[str, Record] | None = None, facts: Facts | None = None,
                 always_render: Callable[[str], bool] = lambda address: False,
                 planning: bool = False, refresh: bool = True):
        self.ws = ws
        self.facts: Facts = facts if facts is not None else MemoryFacts()
        self.connections = connections
        self.outputs = outputs
        self.recorded: Mapping[str, Record] = recorded if recorded is not None else {}
        # outputs are the records' own: a dependency's digest is its record's memo, and its
        # outputs need not even be decoded (5,000 graded cells' outputs, for one parent's check)
        self._recorded = outputs if isinstance(outputs, RecordedOutputs) \
            and outputs.records is self.recorded else None
        # while planning the records stay as read: each one's digest is looked up once (a
        # dependency's is asked for by its dependents' memos and their fingerprints)
        self._recorded_digests: dict[str, str | None] | None = \
            {} if self._recorded is not None and planning else None
        # kinds whose fingerprint holds more than their settings and dependencies' outputs
        self._fingerprinting = kinds_that(Can.NARROW_DEPENDENCIES) | kinds_that(Can.FINGERPRINT)
        self.redact = redact  # dependency outputs are fingerprinted as the state stores them
        self.secret_names = secret_variables(ws)  # their values never enter a memo
        self.always_render = always_render  # e.g. what -replace names: shown freshly rendered
        # while planning nothing writes files: a file's digest is read once (Context.digests)
        self.digests: dict[tuple[Any, ...], Any] | None = {} if planning else None
        self.refresh = refresh  # False: `-refresh=false` (see Context.refresh)
        # digests of outputs by the identity of the outputs object: recorded outputs stay the
        # same objects for a whole plan, and fresh ones during apply are new objects
        self._digests: dict[int, tuple[Any, str]] = {}
        self._views: dict[str, str] = {}
        self._templates: dict[int, tuple[Any, list[str]]] = {}
        # the cancel and stop flags of a context that only plans (fingerprint, expand,
        # observe): never set, so one pair serves thousands of contexts
        self._idle = threading.Event()
        self.budget = Budget()  # what templates rendered for this plan (or apply) may spend
        # children taken from a recorded expansion: their records are their evaluation
        self.settled: dict[str, Record] = {}
        self.planning = planning
        # a plan's memos of the specs' own resources, known from the last plan or noted now:
        # set by `make_plan` alone, whose outputs are the records' (never during apply)
        self.book: MemoBook | None = None

    def scope(self, resource: Resource) -> Scope:
        return Scope(var=self.ws.variables, outputs=self.outputs,
                     step_address=resource.step_address, budget=self.budget)

    def context(self, resource: Resource, **extra: Any) -> Context:
        return self.context_at(resource.address, **extra)

    def context_at(self, address: Address, **extra: Any) -> Context:
        """A context for a kind's call about `address` (a resource, or a record only)."""
        given: dict[str, Any] = {"cancelled": self._idle, "stopping": self._idle, **extra}
        return Context(workspace=self.ws, address=address, connections=self.connections,
                       outputs=self.outputs, recorded=self.recorded, facts=self.facts,
                       digests=self.digests, refresh=self.refresh, **given)

    def render(self, resource: Resource) -> Any:
        if not self.templates(resource.settings):
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
        from pydantic import ValidationError  # here: a plan that validates nothing skips it

        try:
            return KINDS[resource.kind].kind.settings_model.model_validate(rendered)
        except ValidationError as exc:
            raise PlanError(f"{resource.address} ({resource.origin}): after rendering, "
                            f"{first_problem(exc)}") from None

    def fingerprint(self, resource: Resource, rendered: Any,
                    known: Mapping[str, str] | None = None) -> dict[str, str] | None:
        """`_fingerprint`, with what its expansion depended on when apply records it."""
        components = self._fingerprint(resource, rendered, known)
        if components is not None and resource.expansion_reads is not None \
                and not self.planning:  # a plan compares no memo: only a record needs it
            components.update(self.expansion_memo(resource))
        return components

    def expansion_memo(self, resource: Resource) -> dict[str, str]:
        """`memo:expansion` and `memo:expansion-reads` (runner/planning/expansion_reuse.py),
        when the files its expansion read are still as it read them and all else is known."""
        seen = resource.expansion_reads or ()
        paths = [path for path, _ in seen]
        if reads_seen(self.ws, paths) != seen:
            return {}  # changed since it expanded: the next plan must expand again
        return expansion_memos(self.ws, resource, self.memo(resource), self.output_digest)

    def _fingerprint(self, resource: Resource, rendered: Any,
                     known: Mapping[str, str] | None = None) -> dict[str, str] | None:
        """The fingerprint of `resource` rendered as `rendered`, with the memo of what decided
        the rendering when that rendering can stand for itself in the state; `known`: its
        `setting:` components and memo when already known (a reused record's)."""
        if known is None:
            if contains_unknown(rendered):
                return None
            components = settings_components(rendered)
            memo = self.memo(resource)
            if memo is not None and is_exact(rendered) and self.redact(rendered) == rendered:
                components[MEMO] = memo
        else:
            components = dict(known)
        entry = KINDS[resource.kind]
        narrows = entry.does(Can.NARROW_DEPENDENCIES)
        custom = entry.does(Can.FINGERPRINT)
        if not (narrows or custom):  # the kind's module is not even imported
            for dep in resource.depends_on:
                found = self.output_digest(dep.text)
                if found is None:
                    return None
                components["dep:" + dep.text] = found
            return components
        kind, model, ctx = entry.kind, self.model(resource, rendered), self.context(resource)
        try:
            for dep in resource.depends_on:
                outputs = self.outputs(str(dep))
                if outputs is UNKNOWN:
                    return None
                if narrows:  # the kind says which part of the outputs decides its result
                    view = kind.dependency_view(ctx, model, str(dep), outputs)
                    components[f"dep:{dep}"] = self.view_digest(self.redact(view)) \
                        if view is not outputs else self.output_digest(str(dep)) or ""
                else:
                    components[f"dep:{dep}"] = self.output_digest(str(dep)) or ""
            if custom:
                components.update(kind.fingerprint(ctx, model))
        except ProviderError:
            raise  # an unreachable engine is one error for the run, not one per resource
        except (StepFailed, TaskformError, OSError) as exc:
            message = exc.message if isinstance(exc, StepFailed) else str(exc)
            raise PlanError(f"{resource.address} ({resource.origin}): {message}") from None
        return components

    def evaluate(self, resource: Resource, reuse: bool = True) -> Evaluated:
        """Render, fingerprint and decide `when`; or, when what decides the rendering is what
        the record's memo says, take the recorded rendering (`reuse=False` never does)."""
        settled = self.settled.get(resource.address.text) if reuse else None
        if settled is not None:  # its record, as it is: nothing to compare
            return settled_by(resource, settled)
        record = self.reusable(resource) if reuse else None
        if record is not None and self.is_as_recorded(resource, record):
            # made without __init__: 5,000 in a no-op plan (tests/test_plan.py compares)
            return made(Evaluated, {"resource": resource, "rendered": record.settings,
                                    "fingerprint": record.fingerprint, "when": True,
                                    "reused": True, "settled": None})
        if record is not None:
            known = {k: v for k, v in record.fingerprint.items()
                     if k.startswith("setting:") or k == MEMO}
            # recorded `ok`, so `when` was true for these very inputs
            return Evaluated(resource, record.settings,
                             self.fingerprint(resource, record.settings, known), True,
                             reused=True)
        rendered = self.render(resource)
        return Evaluated(resource, rendered, self.fingerprint(resource, rendered),
                         self.when(resource))

    def is_as_recorded(self, resource: Resource, record: Record) -> bool:
        """Whether the fingerprint of a reusable record's rendering is the record's own: its kind
        adds nothing to it, and each dependency's outputs are as recorded (no dependency came or
        went). Then a plan keeps that fingerprint as it is (no copy, nothing to compare)."""
        if resource.kind in self._fingerprinting or resource.expansion_reads is not None:
            return False
        recorded, deps = record.fingerprint, resource.depends_on
        if len([key for key in recorded if key.startswith("dep:")]) != len(deps):
            return False
        for dep in deps:
            found = self.output_digest(dep.text)
            if found is None or recorded.get("dep:" + dep.text) != found:
                return False
        return True

    def reusable(self, resource: Resource) -> Record | None:
        """The record whose rendering stands for this resource's now, if there is one."""
        address = resource.address.text
        record = self.recorded.get(address)
        if record is None or record.status != RecordStatus.OK or record.kind != resource.kind \
                or resource.expansion_deferred or self.always_render(address):
            return None
        memo = record.fingerprint.get(MEMO)
        return record if memo is not None and memo == self.memo(resource) else None

    def templates(self, value: Any) -> list[str]:
        """`iter_templates(value)`, once per settings object of this plan (expansion asks for
        a child's, then its evaluation: the same object)."""
        found = self._templates.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        texts = iter_templates(value)
        self._templates[id(value)] = (value, texts)
        return texts

    def memo(self, resource: Resource) -> str | None:
        """The digest of what decides the resource's rendering (see `reuse`), or None; from
        the plan's memo book when it knows it (see `memobook`)."""
        book = self.book if resource.parent is None else None
        if book is not None:
            address = resource.address.text
            if address in book.known:
                return book.known[address]
            if address in book.noted:  # asked again this plan (a changed resource's fingerprint)
                return book.noted[address]
        refs = reads(resource, self.templates)
        addresses = [] if refs is None else read_addresses(resource, refs)
        memo = None if refs is None else inputs_digest(
            resource, refs, addresses, self.ws.variables, self.secret_names, self.ws.secrets,
            self.output_digest, rendering_code())
        if book is not None:
            book.note(resource.address.text, memo, addresses)
        return memo

    def output_digest(self, address: str) -> str | None:
        """`digest(redact(outputs))` of a resource's outputs known now; None when they are not
        known yet. Recorded outputs carry it in their record (`memo:outputs`)."""
        if self._recorded is not None:
            if self._recorded_digests is None:
                return self._recorded.digest(address)
            if address in self._recorded_digests:
                return self._recorded_digests[address]
            found = self._recorded_digests[address] = self._recorded.digest(address)
            return found
        record = self.recorded.get(address)
        outputs = self.outputs(address)
        if outputs is UNKNOWN:
            return None
        if record is not None and outputs is record.outputs:
            stored = record.fingerprint.get(OUTPUTS_MEMO)
            if stored is not None:
                return stored
        return self.digest_of(outputs)

    def view_digest(self, view: Any) -> str:
        """`digest(view)`, once per distinct view: 5,000 gradings see one pool's image ids."""
        key = repr(view)  # equal reprs of plain data mean equal JSON (not the other way round)
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = digest(view)
        return found

    def digest_of(self, outputs: Any) -> str:
        """`digest(redact(outputs))`, once per outputs object."""
        found = self._digests.get(id(outputs))
        if found is not None and found[0] is outputs:
            return found[1]
        value = digest(self.redact(outputs))
        self._digests[id(outputs)] = (outputs, value)
        return value


def first_problem(exc: ValidationError) -> str:
    """`field: what was expected`, for the first error pydantic found."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where or 'settings'}: {first['msg']}"
