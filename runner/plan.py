"""The plan, pure: a function of desired (evaluated), recorded and observed state that returns
an immutable value; plan output, `--json`, saved plan files and apply all share it. No I/O
here: `planning/` gathers the inputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from runner.address import Address, parse_address
from runner.errors import PlanError
from runner.fingerprint import reasons as fingerprint_reasons
from runner.graph import Graph
from runner.lazy import LazyFields, lazily, made, may_wait
from runner.resource import Resource
from runner.spec.templating import refs_of
from runner.state.base import Record
from runner.vocabulary import UNKNOWN, Action, Observation, RecordStatus


@may_wait("rendered", "fingerprint")
@dataclass(frozen=True)
class Evaluated(LazyFields):
    """A desired resource as far as it is known before apply."""

    resource: Resource
    rendered: Any
    fingerprint: dict[str, str] | None  # None: some input is known only after apply
    when: bool | None                   # None: not known before apply
    reused: bool = False                # `rendered` is the record's: nothing was rendered
    settled: Record | None = None       # the record that is its evaluation (`settled_by`)


def settled_by(resource: Resource, record: Record) -> Evaluated:
    """The evaluation of a recorded expansion's child: its record's, whose settings and
    fingerprint are read only if something asks (a no-op plan of 5,000 graded cells does not)."""
    return lazily(Evaluated, {"rendered": lambda: record.settings,
                              "fingerprint": lambda: record.fingerprint},
                  resource=resource, when=True, reused=True, settled=record)


@may_wait("before", "after", "fingerprint")
@dataclass(frozen=True)
class Change(LazyFields):
    """What apply will do to one address, and why."""

    address: str
    kind: str
    action: Action
    reasons: tuple[str, ...] = ()
    before: Any = None
    after: Any = None
    depends_on: tuple[str, ...] = ()
    fingerprint: Mapping[str, str] | None = None
    deferred: bool = False  # decided by dependencies: apply re-checks and may find nothing to do
    parent: str | None = None
    expands: bool = False   # its children are planned and applied during apply
    notes: tuple[str, ...] = ()  # worth saying, changes nothing (a tag someone else moved)


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[Address, ...] = ()
    excludes: tuple[Address, ...] = ()
    replace: tuple[Address, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    destroy_all: bool = False


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    state_serial: int
    spec_digest: str
    workspace: str
    options: PlanOptions = field(default_factory=PlanOptions)

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NOOP]

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)

    @property
    def noted(self) -> list[Change]:
        """The changes, no-ops included, that carry notes."""
        return [c for c in self.changes if c.notes]

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Action}
        for change in self.changes:
            out[change.action.value] += 1
        return out


def plan(desired: Mapping[str, Evaluated], recorded: Mapping[str, Record],
         observed: Mapping[str, Observation], options: PlanOptions, *,
         replace_on_change: Callable[[str], bool], state_serial: int = 0, spec_digest: str = "",
         workspace: str = "", protected: frozenset[str] = frozenset(),
         interrupted: Mapping[str, str] | None = None) -> Plan:
    """Decide create/update/replace/destroy/no-op, with reasons, for every address in scope.
    `interrupted`: addresses whose change a run began and never recorded (address -> run id):
    they are done again."""
    interrupted = interrupted or {}
    deps = {a: [d.text for d in e.resource.depends_on] for a, e in desired.items()}
    in_scope = _scope(desired, recorded, deps, options)
    _check_requests(desired, recorded, options)
    changing: set[str] = set()
    changes: list[Change] = []
    replace = {str(a) for a in options.replace}
    if not options.destroy_all:
        for address in dependencies_first(deps):
            if address not in in_scope or address not in desired:
                continue
            change = _decide(desired[address], recorded.get(address), observed.get(address),
                             address in replace, changing, replace_on_change,
                             interrupted.get(address))
            if change.action is not Action.NOOP:
                changing.add(address)
            changes.append(change)
    waiting = {a for a, e in desired.items() if e.resource.expansion_deferred}
    for address, record in recorded.items():
        if record.parent in waiting and not options.destroy_all:
            continue  # its parent decides during apply whether it still exists
        if address in in_scope and (options.destroy_all or address not in desired):
            again = (_interrupted(interrupted[address]),) if address in interrupted else ()
            changes.append(Change(address=address, kind=record.kind, action=Action.DESTROY,
                                  reasons=(_destroy_reason(record, desired, options), *again),
                                  before=record.settings, depends_on=record.depends_on,
                                  parent=record.parent))
    _check_prevent_destroy(changes, desired, recorded, protected)
    changes.sort(key=attrgetter("address"))
    return Plan(tuple(changes), state_serial, spec_digest, workspace, options)


def _decide(ev: Evaluated, record: Record | None, observation: Observation | None,
            requested: bool, changing: set[str],
            replace_on_change: Callable[[str], bool], interrupted_by: str | None = None) -> Change:
    resource = ev.resource
    if record is not None and _is_unchanged(ev, record, observation, requested, changing,
                                            interrupted_by):
        return _unchanged(ev, record)
    address = resource.address.text
    changed_deps = [d.text for d in resource.depends_on if d.text in changing]
    mode = Action.REPLACE if replace_on_change(resource.kind) else Action.UPDATE
    reasons: list[str] = []
    action = Action.NOOP
    if requested:
        action, reasons = (Action.REPLACE if record else Action.CREATE), ["replacement requested with -replace"]
    elif record is None:
        action, reasons = Action.CREATE, ["not yet created"]
        if interrupted_by:
            reasons.append(_interrupted(interrupted_by))
    elif record.kind != resource.kind:
        action, reasons = Action.REPLACE, [f"kind changed from {record.kind} to {resource.kind}"]
    elif record.status == RecordStatus.FAILED:
        first = (record.error or "unknown error").strip().splitlines()[0]
        action, reasons = mode, [f"the last apply failed: {first}"]
    elif interrupted_by:
        action, reasons = mode, [_interrupted(interrupted_by)]
    elif observation is not None and not observation.in_sync:
        action = mode
        reasons = list(observation.reasons) or ["it no longer exists"]
    elif record.status == RecordStatus.SKIPPED and ev.when is not False:
        action, reasons = mode, ["was skipped by `when`, which may now be true"]
    elif not changed_deps and (ev.settled is record or (
            ev.fingerprint is not None and ev.fingerprint == record.fingerprint)):
        pass  # the record's own evaluation or fingerprint: nothing to explain
    elif ev.fingerprint is not None:
        skip = {f"dep:{d}" for d in changed_deps}
        if resource.expansion_deferred:  # a parent expanding during apply has no children yet
            skip |= {k for k in record.fingerprint if k.startswith(f"dep:{address}[")}
        old = {k: v for k, v in record.fingerprint.items() if k not in skip}
        new = {k: v for k, v in ev.fingerprint.items() if k not in skip}
        reasons = fingerprint_reasons(old, new)
        action = mode if reasons else Action.NOOP
    deferred = False
    if changed_deps:
        if action is not Action.CREATE:
            reasons += [f"{d} will change" for d in changed_deps]
        if action is Action.NOOP:
            action, deferred = mode, True
    elif action is Action.NOOP and ev.settled is None and ev.fingerprint is None:
        action, deferred, reasons = mode, True, ["inputs are known only after apply"]
    if resource.expansion_deferred:
        reasons.append(f"its children are known only during apply: {resource.expansion_deferred}")
        if action is Action.NOOP:
            action, deferred = mode, True
    if action is Action.REPLACE and record is None:
        action = Action.CREATE
    if action is not Action.NOOP and ev.when is False:
        reasons.append("`when` is false: it will be recorded as skipped")
    depends_on = tuple([d.text for d in resource.depends_on])
    parent = resource.parent.text if resource.parent else None
    settled = ev.settled
    if action is Action.NOOP and settled is not None and settled is record \
            and observation is None and not resource.expansion_deferred and not reasons:
        # a recorded expansion's child: its settings and fingerprint read only if asked
        return lazily(Change, _settled_values(settled), address=address, kind=resource.kind,
                      action=action, reasons=(), depends_on=depends_on, deferred=False,
                      parent=parent, expands=False, notes=())
    return Change(address=address, kind=resource.kind, action=action, reasons=tuple(reasons),
                  before=record.settings if record else None,
                  after=_after(ev, changing) if action is not Action.NOOP else ev.rendered,
                  depends_on=depends_on, fingerprint=ev.fingerprint, deferred=deferred,
                  parent=parent, expands=bool(resource.expansion_deferred),
                  notes=observation.notes if observation is not None else ())


def _is_unchanged(ev: Evaluated, record: Record, observation: Observation | None,
                  requested: bool, changing: set[str], interrupted_by: str | None) -> bool:
    """The common case `_decide` would find a no-op with nothing to say, told by the fewest
    reads: recorded `ok` with this kind and this very fingerprint, nothing observed, asked for
    or interrupted, and no dependency changing."""
    resource = ev.resource
    return not requested and interrupted_by is None \
        and observation is None and record.status == RecordStatus.OK \
        and record.kind == resource.kind and not resource.expansion_deferred \
        and ev.settled is None and ev.fingerprint is not None \
        and (ev.fingerprint is record.fingerprint or ev.fingerprint == record.fingerprint) \
        and not (changing and any(d.text in changing for d in resource.depends_on))


def _unchanged(ev: Evaluated, record: Record) -> Change:
    """The no-op change `_decide` makes for what `_is_unchanged` says, made without `__init__`
    (5,000 of them in a no-op plan; a test compares them with `_decide`'s, field by field)."""
    resource = ev.resource
    return made(Change, {
        "address": resource.address.text, "kind": resource.kind, "action": Action.NOOP,
        "reasons": (), "before": record.settings, "after": ev.rendered,
        "depends_on": tuple([d.text for d in resource.depends_on]),
        "fingerprint": ev.fingerprint, "deferred": False,
        "parent": resource.parent.text if resource.parent else None, "expands": False,
        "notes": ()})


def _settled_values(record: Record) -> dict[str, Any]:
    """A settled child's no-op change takes its record's settings, before and after."""
    return {"before": lambda: record.settings, "after": lambda: record.settings,
            "fingerprint": lambda: record.fingerprint}


def _interrupted(run_id: str) -> str:
    return f"interrupted during run {run_id}; will run again"


def _after(ev: Evaluated, changing: set[str]) -> Any:
    """Rendered settings, with values that read a changing resource's outputs as UNKNOWN."""
    raw, rendered = ev.resource.settings, ev.rendered
    if not isinstance(raw, dict) or not isinstance(rendered, dict):
        return rendered
    out = {}
    for key, value in rendered.items():
        refs = refs_of(raw.get(key))
        reads = {ev.resource.step_address(s) for s in refs.steps} | set(refs.addresses)
        if any(a in changing or str(parse_address(a).parent) in changing for a in reads):
            value = UNKNOWN
        out[key] = value
    return out


def dependencies_first(deps: Mapping[str, list[str]]) -> list[str]:
    """The addresses of `deps`, each after those of its dependencies that are among them. Any
    such order decides the same plan (a decision reads only its dependencies' decisions, and
    the changes are sorted afterwards), so unlike `Graph.topological` it breaks no ties by
    name; a plan of 5,000 resources spent a fifth of its decisions' time on those."""
    waiting: dict[str, int] = {}
    dependents: dict[str, list[str]] = {}
    ready: list[str] = []
    for address, address_deps in deps.items():
        count = 0
        for dep in address_deps:
            if dep in deps:
                count += 1
                dependents.setdefault(dep, []).append(address)
        if count:
            waiting[address] = count
        else:
            ready.append(address)
    order: list[str] = []
    while ready:
        address = ready.pop()
        order.append(address)
        for dependent in dependents.get(address, ()):
            waiting[dependent] -= 1
            if not waiting[dependent]:
                ready.append(dependent)
    if len(order) != len(deps):
        raise ValueError("the graph has a cycle")
    return order


def _scope(desired: Mapping[str, Evaluated], recorded: Mapping[str, Record],
           deps: Mapping[str, list[str]], options: PlanOptions) -> set[str]:
    everything = set(desired) | set(recorded)
    selected = everything
    if not (options.targets or options.labels or options.excludes):
        return selected
    graph = Graph(deps)
    if options.targets or options.labels:
        selected = {a for a in everything if _selected(a, desired, recorded, options)}
        if options.destroy_all:
            selected = _recorded_descendants(selected, recorded)
        else:
            selected = graph.ancestors(a for a in selected if a in desired) | \
                {a for a in selected if a not in desired}
    if options.excludes:
        excluded = {a for a in everything if _matches(a, options.excludes)}
        excluded = graph.descendants(a for a in excluded if a in desired) | excluded
        if options.destroy_all:
            excluded = _recorded_ancestors(excluded, recorded)
        selected = selected - excluded
    return selected


def _selected(address: str, desired: Mapping[str, Evaluated], recorded: Mapping[str, Record],
              options: PlanOptions) -> bool:
    if _matches(address, options.targets):
        return True
    if not options.labels:
        return False
    labels = desired[address].resource.labels if address in desired else recorded[address].labels
    return all(labels.get(k) == v for k, v in options.labels)


def _matches(address: str, patterns: tuple[Address, ...]) -> bool:
    parsed = parse_address(address)
    return any(parsed.matches(p) for p in patterns)


def _recorded_descendants(selected: set[str], recorded: Mapping[str, Record]) -> set[str]:
    graph = Graph({a: r.depends_on for a, r in recorded.items()})
    return graph.descendants(selected & set(recorded))


def _recorded_ancestors(selected: set[str], recorded: Mapping[str, Record]) -> set[str]:
    graph = Graph({a: r.depends_on for a, r in recorded.items()})
    return graph.ancestors(selected & set(recorded)) | selected


def _check_requests(desired: Mapping[str, Evaluated], recorded: Mapping[str, Record],
                    options: PlanOptions) -> None:
    known = set(desired) | set(recorded)
    problems = []
    for flag, patterns in (("-target", options.targets), ("-exclude", options.excludes),
                           ("-replace", options.replace)):
        for pattern in patterns:
            if not any(parse_address(a).matches(pattern) for a in known):
                problems.append(f"{flag} {pattern}: no resource has this address")
    if problems:
        raise PlanError("\n".join(problems))


def _destroy_reason(record: Record, desired: Mapping[str, Evaluated], options: PlanOptions) -> str:
    if options.destroy_all:
        return "destroy requested"
    if record.parent and record.parent in desired:
        return f"no longer produced by {record.parent}"
    return "removed from specs"


def _check_prevent_destroy(changes: list[Change], desired: Mapping[str, Evaluated],
                           recorded: Mapping[str, Record], protected: frozenset[str]) -> None:
    blocked = []
    for change in changes:
        if change.action not in (Action.DESTROY, Action.REPLACE):
            continue
        ev, record = desired.get(change.address), recorded.get(change.address)
        if change.address in protected or (ev.resource.prevent_destroy if ev else
                                           bool(record and record.prevent_destroy)):
            blocked.append(f"{change.address} has lifecycle.prevent_destroy set and would be "
                           f"{'destroyed' if change.action is Action.DESTROY else 'replaced'} "
                           f"({change.reasons[0]})")
    if blocked:
        raise PlanError("\n".join(blocked + [
            "if this is really meant, set prevent_destroy to false in the spec and apply first "
            "(for a resource already removed from the specs: `taskform state rm ADDR` forgets it "
            "without destroying it)"]))
