"""Planning, the I/O half of a plan: load the specs, read the state, expand, evaluate (render,
fingerprint) and observe the real world, then hand all of it to the pure `plan.plan`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from runner.address import Address, parse_address
from runner.connections import Connections
from runner.errors import PlanError
from runner.kinds.contract import Can
from runner.kinds.registry import KINDS, kinds_that, replaces_on_change
from runner.plan import Change, Evaluated, Plan, PlanOptions, plan
from runner.planning.evaluate import Evaluator, RecordedOutputs
from runner.planning.expand import check_references, expand_all
from runner.planning.memobook import open_book
from runner.planning.observe import observe_all
from runner.planning.paths import linked_out
from runner.redact import Redactor
from runner.resource import Resource
from runner.spec.claims import claim_conflicts
from runner.spec.load import Specs, load_specs
from runner.state.base import INTENTS, Record, StateStore, holder_is_gone
from runner.state.facts import StoredFacts
from runner.vocabulary import Observation
from runner.workspace import Workspace


@dataclass
class Planned:
    """A plan with what it was made from, as apply needs it."""

    plan: Plan
    specs: Specs
    resources: dict[str, Resource]
    records: dict[str, Record]


def make_plan(ws: Workspace, state: StateStore, connections: Connections, options: PlanOptions,
              refresh: bool = True, specs: Specs | None = None) -> Planned:
    specs = specs or load_specs(ws)
    records = state.records()
    check_known_kinds(records)
    serial = state.serial()
    evaluator = Evaluator(ws, connections, RecordedOutputs(records), recorded=records,
                          facts=StoredFacts(state), planning=True, refresh=refresh,
                          always_render=lambda a: _matches(a, options.replace))
    book = evaluator.book = None if options.destroy_all else open_book(
        ws, specs, evaluator.output_digest)
    if options.destroy_all:
        resources = {str(a): r for a, r in specs.resources.items()}
    else:
        resources = expand_all(specs.resources, evaluator)
        check_references(resources)
    desired: dict[str, Evaluated] = {}
    errors: list[str] = []
    if not options.destroy_all:
        for address, resource in resources.items():
            try:
                desired[address] = evaluator.evaluate(resource)
            except PlanError as exc:
                errors.append(str(exc))
    # children of a recorded expansion: their paths were checked with its reads (not the parent's:
    # its report path is not read by the expansion)
    errors += linked_out(ws.root, desired, checked={
        a for a in evaluator.settled if desired[a].resource.parent is not None})
    claiming = kinds_that(Can.CLAIM)
    errors += [str(issue) for issue in claim_conflicts(
        (e.resource, e.rendered) for e in desired.values() if e.resource.kind in claiming)]
    if errors:
        raise PlanError("\n".join(errors))
    observed = {}
    if refresh and not options.destroy_all:
        observed = observe_all([r for a, r in records.items() if a in desired], evaluator,
                               resources, ws.parallelism)
        rerender_drifted(desired, observed, evaluator)
    def decide() -> Plan:
        return plan(desired, records, observed, options,
                    replace_on_change=replaces_on_change,
                    state_serial=serial, spec_digest=specs.digest, workspace=str(ws.root),
                    protected=frozenset(a for a, r in resources.items() if r.prevent_destroy),
                    interrupted=interrupted_changes(state, records))
    result = decide()
    if defer_stale_expansions(result, resources, desired, evaluator):
        result = decide()
    if book is not None:
        book.keep(ws, evaluator.output_digest)
    return Planned(plan=result, specs=specs, resources=resources, records=records)


def rerender_drifted(desired: dict[str, Evaluated], observed: Mapping[str, Observation],
                     evaluator: Evaluator) -> None:
    """What drifted will change: show it rendered now, not as recorded (the same settings when
    the memo matched, but a change is where a plan is read closely)."""
    for address, observation in observed.items():
        ev = desired.get(address)
        if ev is not None and ev.reused and not observation.in_sync:
            desired[address] = evaluator.evaluate(ev.resource, reuse=False)


def _matches(address: str, patterns: tuple[Address, ...]) -> bool:
    if not patterns:
        return False
    parsed = parse_address(address)
    return any(parsed.matches(p) for p in patterns)


def interrupted_changes(state: StateStore, records: dict[str, Record]) -> dict[str, str]:
    """Changes a run began (its intent is recorded) and never settled with a commit: that run
    was killed in the middle. Address -> the run's id. The run holding the lock now is alive."""
    intents = state.facts(INTENTS)
    if not intents:
        return {}
    lock = state.current_lock()
    live = lock.run_id if lock and not holder_is_gone(lock) else None
    out = {}
    for address, intent in intents.items():
        run = str(intent.get("run") or "")
        if not run or run == live:
            continue
        record = records.get(address)
        if record is None and intent.get("action") == "destroy":
            continue  # the destroy was committed: the record is gone
        if record is not None and record.updated_at >= str(intent.get("since") or ""):
            continue  # a result was committed after that run began it
        out[address] = run
    return out


def defer_stale_expansions(result: Plan, resources: dict[str, Resource],
                           desired: dict[str, Evaluated], evaluator: Evaluator) -> bool:
    """An expansion made from what a changing dependency will rewrite is stale: plan those
    children during apply instead. Returns True when something was deferred."""
    changing = {c.address for c in result.actionable}
    stale = []
    deferring = kinds_that(Can.DEFER_EXPANSION)
    for address, resource in resources.items():
        if resource.kind not in deferring or resource.expansion_deferred:
            continue
        kind = KINDS[resource.kind].kind
        children = {a for a, r in resources.items() if r.parent == resource.address}
        if not children:
            continue
        rendered = desired[address].rendered if address in desired else resource.settings
        reads = [str(d) for d in resource.depends_on if str(d) not in children
                 and str(d) in changing and kind.expansion_reads(rendered, str(d))]
        if reads:
            stale.append((address, children, reads))
    for address, children, reads in stale:
        for child in children:
            resources.pop(child, None)
            desired.pop(child, None)
        parent = resources[address]
        own = tuple(d for d in parent.depends_on if str(d) not in children)
        resources[address] = replace(parent, depends_on=own, expansion_deferred=(
            f"{', '.join(reads)} changes in this plan"))
        desired[address] = evaluator.evaluate(resources[address])
    return bool(stale)


def check_known_kinds(records: dict[str, Record]) -> None:
    """A state written by a newer taskform (or with a kind since removed) cannot be planned."""
    from runner import __version__

    unknown = sorted((r.address, r.kind) for r in records.values() if r.kind not in KINDS)
    if unknown:
        lines = [f"{address} has kind {kind!r}" for address, kind in unknown]
        raise PlanError("the state records resources of kinds this taskform "
                        f"({__version__}) does not know:\n  " + "\n  ".join(lines) +
                        "\nupgrade taskform, or forget them with `taskform state rm ADDR`")


def redacted(plan: Plan, redactor: Redactor) -> Plan:
    """The plan with secret values masked, for printing and saving."""
    if not redactor.secrets:
        return plan
    changes = tuple(replace(c, before=redactor.value(c.before), after=redactor.value(c.after),
                            reasons=tuple(redactor.text(r) for r in c.reasons),
                            notes=tuple(redactor.text(n) for n in c.notes))
                    for c in plan.changes)
    return replace(plan, changes=changes)


def change_of(plan: Plan, address: str) -> Change | None:
    return next((c for c in plan.changes if c.address == address), None)


def load_saved(ws: Workspace, state: StateStore, connections: Connections, saved: Plan) -> Planned:
    """A saved plan with the resources it acts on; refused when stale."""
    from runner.plan_json import check_fresh

    specs = load_specs(ws)
    check_fresh(saved, state.serial(), specs.digest)
    records = state.records()
    check_known_kinds(records)
    evaluator = Evaluator(ws, connections, RecordedOutputs(records), recorded=records,
                          facts=StoredFacts(state))
    resources = expand_all(specs.resources, evaluator)
    return Planned(plan=saved, specs=specs, resources=resources, records=records)
