"""The pure plan function, table-driven on tiny graphs: every decision and its reasons."""

from __future__ import annotations

import pytest

from runner.address import parse_address
from runner.errors import PlanError
from runner.plan import Change, Evaluated, PlanOptions, dependencies_first, plan
from runner.resource import Origin, Resource
from runner.state.base import Record
from runner.vocabulary import UNKNOWN, Action, Observation

ORIGIN = Origin("specs/t.yaml", 1, 1)
REPLACE_KINDS = {"container"}


def res(address: str, deps: tuple[str, ...] = (), kind: str = "value", settings=None,
        when: bool | None = True, fp=None, prevent: bool = False, labels=None) -> Evaluated:
    settings = {"input": 1} if settings is None else settings
    resource = Resource(address=parse_address(address), kind=kind, settings=settings,
                        origin=ORIGIN, depends_on=tuple(parse_address(d) for d in deps),
                        prevent_destroy=prevent, labels=labels or {})
    fingerprint = {"setting:input": "h1"} if fp is None else fp
    return Evaluated(resource, settings, None if fp == "unknown" else fingerprint, when)


def rec(address: str, kind: str = "value", status: str = "ok", fp=None, deps=(),
        parent=None, prevent=False, error=None, labels=None) -> Record:
    return Record(address=address, kind=kind, status=status,
                  fingerprint={"setting:input": "h1"} if fp is None else fp,
                  settings={"input": 1}, outputs={"value": 1}, depends_on=tuple(deps),
                  parent=parent, prevent_destroy=prevent, error=error, labels=labels or {})


def run(desired, recorded=(), observed=None, **options):
    return plan({str(e.resource.address): e for e in desired},
                {r.address: r for r in recorded}, observed or {}, PlanOptions(**options),
                replace_on_change=lambda k: k in REPLACE_KINDS)


def decisions(p):
    return {c.address: (c.action.value, list(c.reasons)) for c in p.changes}


CASES = [
    ("new resource is created",
     [res("pipeline.p.a")], [], {},
     {"pipeline.p.a": ("create", ["not yet created"])}),
    ("recorded and unchanged is a no-op",
     [res("pipeline.p.a")], [rec("pipeline.p.a")], {},
     {"pipeline.p.a": ("no-op", [])}),
    ("changed setting is an update with the setting named",
     [res("pipeline.p.a", fp={"setting:input": "h2"})], [rec("pipeline.p.a")], {},
     {"pipeline.p.a": ("update", ["setting input changed"])}),
    ("changed setting of a replace kind is a replace",
     [res("pipeline.p.c", kind="container", fp={"setting:input": "h2"})],
     [rec("pipeline.p.c", kind="container")], {},
     {"pipeline.p.c": ("replace", ["setting input changed"])}),
    ("changed file is named",
     [res("pipeline.p.a", fp={"setting:input": "h1", "file:app/main.py": "x2"})],
     [rec("pipeline.p.a", fp={"setting:input": "h1", "file:app/main.py": "x1"})], {},
     {"pipeline.p.a": ("update", ["file app/main.py changed"])}),
    ("missing file is named",
     [res("pipeline.p.a", fp={"setting:input": "h1", "file:a.txt": "missing"})],
     [rec("pipeline.p.a", fp={"setting:input": "h1", "file:a.txt": "x1"})], {},
     {"pipeline.p.a": ("update", ["file a.txt is missing"])}),
    ("dependents of a change follow it, known after apply",
     [res("pipeline.p.a", fp={"setting:input": "h2"}), res("pipeline.p.b", deps=("pipeline.p.a",))],
     [rec("pipeline.p.a"), rec("pipeline.p.b")], {},
     {"pipeline.p.a": ("update", ["setting input changed"]),
      "pipeline.p.b": ("update", ["pipeline.p.a will change"])}),
    ("an unrelated branch stays a no-op",
     [res("pipeline.p.a", fp={"setting:input": "h2"}), res("pipeline.p.z")],
     [rec("pipeline.p.a"), rec("pipeline.p.z")], {},
     {"pipeline.p.a": ("update", ["setting input changed"]), "pipeline.p.z": ("no-op", [])}),
    ("gone real thing is replaced with the kind's reason",
     [res("pipeline.p.c", kind="container")], [rec("pipeline.p.c", kind="container")],
     {"pipeline.p.c": Observation(exists=False, reasons=("container tf-c is gone",))},
     {"pipeline.p.c": ("replace", ["container tf-c is gone"])}),
    ("drift is replaced with its reasons",
     [res("pipeline.p.c", kind="container")], [rec("pipeline.p.c", kind="container")],
     {"pipeline.p.c": Observation(reasons=("container tf-c is stopped",))},
     {"pipeline.p.c": ("replace", ["container tf-c is stopped"])}),
    ("a failed record is retried, saying why",
     [res("pipeline.p.a")], [rec("pipeline.p.a", status="failed", error="boom\nmore")], {},
     {"pipeline.p.a": ("update", ["the last apply failed: boom"])}),
    ("a kind change replaces",
     [res("pipeline.p.a", kind="shell")], [rec("pipeline.p.a", kind="value")], {},
     {"pipeline.p.a": ("replace", ["kind changed from value to shell"])}),
    ("removed from specs is destroyed",
     [], [rec("pipeline.p.old")], {},
     {"pipeline.p.old": ("destroy", ["removed from specs"])}),
    ("a child its parent no longer produces is destroyed saying so",
     [res("pipeline.p.pool"), res("pipeline.p.pool[0]")],
     [rec("pipeline.p.pool"), rec("pipeline.p.pool[0]", parent="pipeline.p.pool"),
      rec("pipeline.p.pool[1]", parent="pipeline.p.pool")], {},
     {"pipeline.p.pool": ("no-op", []), "pipeline.p.pool[0]": ("no-op", []),
      "pipeline.p.pool[1]": ("destroy", ["no longer produced by pipeline.p.pool"])}),
    ("a skipped record with `when` now true runs",
     [res("pipeline.p.a", when=True)], [rec("pipeline.p.a", status="skipped")], {},
     {"pipeline.p.a": ("update", ["was skipped by `when`, which may now be true"])}),
    ("a skipped record with `when` still false is a no-op",
     [res("pipeline.p.a", when=False)], [rec("pipeline.p.a", status="skipped")], {},
     {"pipeline.p.a": ("no-op", [])}),
    ("a new resource with `when` false says it will be skipped",
     [res("pipeline.p.a", when=False)], [], {},
     {"pipeline.p.a": ("create", ["not yet created",
                                  "`when` is false: it will be recorded as skipped"])}),
    ("new dependency edge is named",
     [res("pipeline.p.a"), res("pipeline.p.b", deps=("pipeline.p.a",),
                               fp={"setting:input": "h1", "dep:pipeline.p.a": "o1"})],
     [rec("pipeline.p.a"), rec("pipeline.p.b")], {},
     {"pipeline.p.a": ("no-op", []),
      "pipeline.p.b": ("update", ["now depends on pipeline.p.a"])}),
    ("dependency re-applied elsewhere since this was applied",
     [res("pipeline.p.a"), res("pipeline.p.b", deps=("pipeline.p.a",),
                               fp={"setting:input": "h1", "dep:pipeline.p.a": "o2"})],
     [rec("pipeline.p.a"), rec("pipeline.p.b",
                               fp={"setting:input": "h1", "dep:pipeline.p.a": "o1"})], {},
     {"pipeline.p.a": ("no-op", []),
      "pipeline.p.b": ("update", ["pipeline.p.a changed since this was applied"])}),
]


@pytest.mark.parametrize("desired,recorded,observed,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decisions(desired, recorded, observed, expected):
    assert decisions(run(desired, recorded, observed)) == expected


def test_values_reading_a_changing_resource_are_unknown():
    a = res("pipeline.p.a", fp={"setting:input": "h2"})
    b_resource = Resource(address=parse_address("pipeline.p.b"), kind="value",
                          settings={"input": "{{ steps.a.value }}", "other": 2}, origin=ORIGIN,
                          depends_on=(parse_address("pipeline.p.a"),), pipeline="p")
    b = Evaluated(b_resource, {"input": 1, "other": 2}, {"setting:input": "h1"}, True)
    p = plan({"pipeline.p.a": a, "pipeline.p.b": b},
             {"pipeline.p.a": rec("pipeline.p.a"), "pipeline.p.b": rec("pipeline.p.b")}, {},
             PlanOptions(), replace_on_change=lambda k: False)
    change = next(c for c in p.changes if c.address == "pipeline.p.b")
    assert change.after == {"input": UNKNOWN, "other": 2}
    assert change.deferred is True


def test_unknown_fingerprint_without_changing_deps_is_deferred():
    p = run([res("pipeline.p.a", fp="unknown")], [rec("pipeline.p.a")])
    assert decisions(p) == {"pipeline.p.a": ("update", ["inputs are known only after apply"])}
    assert p.changes[0].deferred


def test_replace_request():
    p = run([res("pipeline.p.a"), res("pipeline.p.b")], [rec("pipeline.p.a"), rec("pipeline.p.b")],
            replace=(parse_address("pipeline.p.a"),))
    assert decisions(p)["pipeline.p.a"] == ("replace", ["replacement requested with -replace"])
    assert decisions(p)["pipeline.p.b"] == ("no-op", [])


def chain():
    return [res("pipeline.p.a"), res("pipeline.p.b", deps=("pipeline.p.a",)),
            res("pipeline.p.c", deps=("pipeline.p.b",)), res("pipeline.q.x", labels={"t": "1"})]


def test_target_includes_what_it_depends_on():
    p = run(chain(), targets=(parse_address("pipeline.p.b"),))
    assert sorted(decisions(p)) == ["pipeline.p.a", "pipeline.p.b"]


def test_target_prefix_selects_a_whole_pipeline():
    p = run(chain(), targets=(parse_address("pipeline.p"),))
    assert sorted(decisions(p)) == ["pipeline.p.a", "pipeline.p.b", "pipeline.p.c"]


def test_exclude_leaves_out_dependents_too():
    p = run(chain(), excludes=(parse_address("pipeline.p.b"),))
    assert sorted(decisions(p)) == ["pipeline.p.a", "pipeline.q.x"]


def test_label_selection():
    p = run(chain(), labels=(("t", "1"),))
    assert sorted(decisions(p)) == ["pipeline.q.x"]


def test_unknown_target_is_an_error():
    with pytest.raises(PlanError, match=r"^-target pipeline.nope: no resource has this address$"):
        run(chain(), targets=(parse_address("pipeline.nope"),))


def test_destroy_all_and_targeted_destroy_takes_dependents():
    recorded = [rec("pipeline.p.a"), rec("pipeline.p.b", deps=["pipeline.p.a"]),
                rec("pipeline.q.x")]
    everything = run([], recorded, destroy_all=True)
    assert {a: d[0] for a, d in decisions(everything).items()} == {
        "pipeline.p.a": "destroy", "pipeline.p.b": "destroy", "pipeline.q.x": "destroy"}
    targeted = run([], recorded, destroy_all=True, targets=(parse_address("pipeline.p.a"),))
    assert sorted(decisions(targeted)) == ["pipeline.p.a", "pipeline.p.b"]
    assert decisions(targeted)["pipeline.p.a"] == ("destroy", ["destroy requested"])


def test_prevent_destroy_blocks_removal_and_replace():
    with pytest.raises(PlanError) as err:
        run([res("pipeline.p.c", kind="container", fp={"setting:input": "h2"}, prevent=True)],
            [rec("pipeline.p.c", kind="container"), rec("pipeline.p.gone", prevent=True)])
    assert str(err.value).splitlines() == [
        "pipeline.p.c has lifecycle.prevent_destroy set and would be replaced (setting input "
        "changed)",
        "pipeline.p.gone has lifecycle.prevent_destroy set and would be destroyed (removed from "
        "specs)",
        "if this is really meant, set prevent_destroy to false in the spec and apply first (for a "
        "resource already removed from the specs: `taskform state rm ADDR` forgets it without "
        "destroying it)",
    ]


def test_plan_is_a_pure_value():
    desired = chain()
    first, second = run(desired), run(desired)
    assert first == second
    assert first.counts() == {"create": 4, "update": 0, "replace": 0, "destroy": 0, "no-op": 0}
    assert first.has_changes and [c.action for c in first.actionable] == [Action.CREATE] * 4


def test_notes_ride_on_the_change_and_change_nothing():
    from runner.plan_json import from_json, to_json
    from runner.report.plan_text import render_plan

    note = "tag app:dev now points to another image (3f2c); this workspace goes on using its own"
    observed = {"pipeline.p.a": Observation(notes=(note,)),
                "pipeline.p.b": Observation(reasons=("it is gone",), notes=("and a note",))}
    p = run([res("pipeline.p.a"), res("pipeline.p.b")], [rec("pipeline.p.a"), rec("pipeline.p.b")],
            observed)
    assert decisions(p) == {"pipeline.p.a": ("no-op", []),
                            "pipeline.p.b": ("update", ["it is gone"])}
    assert [(c.address, c.notes) for c in p.noted] == [("pipeline.p.a", (note,)),
                                                       ("pipeline.p.b", ("and a note",))]
    assert from_json(to_json(p)) == p
    quiet = run([res("pipeline.p.a")], [rec("pipeline.p.a")], {"pipeline.p.a": observed[
        "pipeline.p.a"]})
    assert render_plan(quiet) == ("Notes (nothing to change for these):\n"
                                  f"  pipeline.p.a: {note}\n\n"
                                  "No changes. 1 resource matches the specs.\n")


@pytest.mark.parametrize("desired,recorded,observed,expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_the_no_op_shortcut_makes_the_change_the_full_decision_makes(
        desired, recorded, observed, expected, monkeypatch):
    """`_is_unchanged`/`_unchanged` skip `_decide`'s reading for the common no-op: with the
    shortcut and without it, every change of every case is the same, field by field."""
    import runner.plan

    fast = run(desired, recorded, observed)
    monkeypatch.setattr(runner.plan, "_is_unchanged", lambda *args: False)
    full = run(desired, recorded, observed)
    assert fast == full
    fields = list(Change.__dataclass_fields__)
    assert [[getattr(c, f) for f in fields] for c in fast.changes] == \
        [[getattr(c, f) for f in fields] for c in full.changes]
    assert [repr(c) for c in fast.changes] == [repr(c) for c in full.changes]


def test_the_no_op_shortcut_is_taken_for_a_plain_no_op(monkeypatch):
    import runner.plan

    taken = []
    monkeypatch.setattr(runner.plan, "_unchanged",
                        lambda ev, record, real=runner.plan._unchanged: taken.append(ev) or
                        real(ev, record))
    p = run([res("pipeline.p.a"), res("pipeline.p.b", deps=("pipeline.p.a",))],
            [rec("pipeline.p.a"), rec("pipeline.p.b")])
    assert decisions(p) == {"pipeline.p.a": ("no-op", []), "pipeline.p.b": ("no-op", [])}
    assert len(taken) == 2


def test_the_no_op_shortcut_keeps_before_after_and_parent_apart(monkeypatch):
    import runner.plan

    child = Resource(address=parse_address('pipeline.p.pool[1]'), kind="value",
                     settings={"input": "{{ x }}"}, origin=ORIGIN,
                     depends_on=(parse_address("pipeline.p.a"),),
                     parent=parse_address("pipeline.p.pool"))
    desired = [Evaluated(child, {"input": 2}, {"setting:input": "h1"}, True), res("pipeline.p.a")]
    recorded = [rec("pipeline.p.pool[1]", parent="pipeline.p.pool"), rec("pipeline.p.a")]
    fast = run(desired, recorded)
    monkeypatch.setattr(runner.plan, "_is_unchanged", lambda *args: False)
    full = run(desired, recorded)
    change = next(c for c in fast.changes if c.address == "pipeline.p.pool[1]")
    assert (change.before, change.after, change.parent, change.depends_on) == \
        ({"input": 1}, {"input": 2}, "pipeline.p.pool", ("pipeline.p.a",))
    assert vars(change).keys() == Change.__dataclass_fields__.keys()  # each field its own
    assert fast == full


@pytest.mark.parametrize("deps", [
    {},
    {"a": []},
    {"a": ["b"], "b": ["c"], "c": []},
    {"a": ["b", "b", "c"], "b": ["c"], "c": []},  # a dependency named twice
    {"a": ["outside"], "b": ["a", "gone"]},  # dependencies that are not planned
    {"d": ["b", "c"], "c": ["a"], "b": ["a"], "a": [], "e": []},
])
def test_dependencies_come_first(deps):
    order = dependencies_first(deps)
    assert sorted(order) == sorted(deps)
    for address, address_deps in deps.items():
        assert all(order.index(d) < order.index(address) for d in address_deps if d in deps)


@pytest.mark.parametrize("deps", [{"a": ["a"]}, {"a": ["b"], "b": ["a"], "c": []},
                                  {"a": ["b"], "b": ["c"], "c": ["a"]}])
def test_dependencies_first_refuses_a_cycle(deps):
    with pytest.raises(ValueError, match="the graph has a cycle"):
        dependencies_first(deps)
