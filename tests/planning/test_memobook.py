"""The memo book: a plan takes the memos of the specs' resources from the last plan's book
when the specs, the variables and the outputs the templates read are as they were, and
computes them when any of those moved; what it plans is the same either way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import runner.planning as planning
from runner.planning import evaluate
from runner.planning.memobook import outputs_key, specs_key
from tests.planning.test_reuse import PIPELINE  # the same six steps


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The addresses whose memo a plan computed (rather than took from the book)."""
    addresses: list[str] = []
    inputs_digest = evaluate.inputs_digest

    def counting(resource, *args, **kwargs):  # type: ignore[no-untyped-def]
        addresses.append(resource.address.text)
        return inputs_digest(resource, *args, **kwargs)

    monkeypatch.setattr(evaluate, "inputs_digest", counting)
    yield addresses


@pytest.fixture
def applied(ws):  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "variables: {suffix: '-1'}\n")
    ws.spec(PIPELINE)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert ws.cli("plan").exit_code == 0  # the records' outputs are new: this writes the book
    return ws


def books(ws) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.name for p in (ws.root / ".taskform/cache/specs").glob("*.memos.json"))


def without_book(ws, monkeypatch, *args: str) -> str:  # type: ignore[no-untyped-def]
    """What the plan says when every memo is computed."""
    with monkeypatch.context() as patch:
        patch.setattr(planning, "open_book", lambda *a, **k: None)
        return ws.cli("plan", *args).output


def test_a_no_op_plan_takes_every_memo_from_the_book(applied, computed):
    result = applied.cli("plan", "-detailed-exitcode")
    assert (result.exit_code, result.output) == (0, "No changes. 6 resources match the specs.\n")
    assert computed == []
    assert len(books(applied)) == 1


ALL = ["pipeline.p.a", "pipeline.p.b", "pipeline.p.c", "pipeline.p.d", "pipeline.p.x",
       "pipeline.p.y"]


def _rewrite_outputs(ws, address: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """What another user's apply through a shared state does to a record's outputs."""
    import sqlite3

    with sqlite3.connect(ws.root / ".taskform" / "state.db") as db:
        db.execute("""UPDATE resources SET outputs = json_object('value', ?),
                      fingerprint = json_set(fingerprint, '$."memo:outputs"', ?)
                      WHERE address = ?""", (value, f"digest-of-{value}", address))


@pytest.mark.parametrize(("change", "recomputed"), [
    ("variable", ALL), ("one step", ["pipeline.p.b"]), ("output read", ALL),
    ("output nothing reads", [])])
def test_what_decides_a_memo_moved_and_the_plan_is_the_one_without_a_book(
        applied, computed, monkeypatch, change, recomputed):
    if change == "variable":
        applied.write("taskform.yaml", "variables: {suffix: '-2'}\n")
    elif change == "one step":  # the others' memos read nothing of it
        applied.spec(PIPELINE.replace("-b", "-B"))
    elif change == "output read":
        _rewrite_outputs(applied, "pipeline.p.a", "A9")  # b and d read it
    else:
        _rewrite_outputs(applied, "pipeline.p.c", "C9")
    planned = applied.cli("plan").output
    assert sorted(computed) == recomputed
    assert planned == without_book(applied, monkeypatch)
    assert ("No changes" in planned) is (not recomputed)
    computed.clear()
    assert applied.cli("plan").output == planned  # and the next plan takes the new book
    assert computed == []


def test_a_tampered_book_reads_as_none(applied, computed, monkeypatch):
    (book,) = (applied.root / ".taskform/cache/specs").glob("*.memos.json")
    sealed = book.read_bytes()
    book.write_bytes(sealed.replace(b'"memos":[', b'"memos":["forged",', 1))
    result = applied.cli("plan")
    assert result.output == "No changes. 6 resources match the specs.\n"
    assert sorted(computed) == ALL  # computed again
    assert book.read_bytes() != sealed.replace(b'"memos":[', b'"memos":["forged",', 1)


def test_specs_that_alternate_are_never_planned_from_the_other_book(applied, computed,
                                                                     monkeypatch):
    applied.spec(PIPELINE.replace("-b", "-B"))
    other = applied.cli("plan").output
    assert len(books(applied)) == 1  # one slot: a book is replaced, never accumulated
    applied.spec(PIPELINE)
    computed.clear()
    assert applied.cli("plan").output == "No changes. 6 resources match the specs.\n"
    assert sorted(computed) == ALL
    applied.spec(PIPELINE.replace("-b", "-B"))
    assert applied.cli("plan").output == other == without_book(applied, monkeypatch)


def test_a_workspace_with_a_secret_keeps_no_book(ws, computed):
    ws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: s}
        spec:
          steps:
            a: {value: {input: "x"}}
            d: {value: {input: "{{ steps.a.value }}-d"}}
    """)
    env = {"TF_TEST_TOKEN": "s3cr3t-value"}
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 0
    for _ in range(2):
        computed.clear()
        assert ws.cli("plan", env=env).output == "No changes. 2 resources match the specs.\n"
        assert computed == ["pipeline.s.a", "pipeline.s.d"]  # never from a book
    assert books(ws) == []


def test_an_expansion_child_is_never_in_the_book(applied):
    from runner.connections import Connections
    from runner.planning.evaluate import Evaluator, RecordedOutputs
    from runner.planning.memobook import open_book
    from runner.resource import variant
    from runner.spec.load import load_specs
    from runner.workspace import open_workspace

    work = open_workspace(applied.root)
    specs, records = load_specs(work), applied.state().records()
    evaluator = Evaluator(work, Connections(), RecordedOutputs(records), recorded=records,
                          planning=True)
    book = evaluator.book = open_book(work, specs, evaluator.output_digest)
    assert book is not None and len(book.known) == 6
    b = next(r for r in specs.resources.values() if r.address.text == "pipeline.p.b")
    child = variant(b, parent=b.address)  # a child with its parent's very address and settings
    book.known["pipeline.p.b"] = "what the book says"
    assert evaluator.memo(b) == "what the book says"
    assert evaluator.memo(child) == records["pipeline.p.b"].fingerprint["memo:inputs"]
    assert book.noted == {}


def test_the_keys_tell_apart_what_json_would_not():
    assert specs_key("d", {1: "x"}) != specs_key("d", {"1": "x"})
    assert specs_key("d", {"v": 1}) != specs_key("d", {"v": 1.0}) != specs_key("d", {"v": True})
    digests = {"a": "1", "b": None}
    assert outputs_key(["a", "b"], digests.get) != outputs_key(["a"], digests.get)
    assert outputs_key(["a", "b"], digests.get) != outputs_key(["a", "b"], {"a": "1", "b": "-"}.get)


def test_a_book_kept_before_a_variable_was_declared_secret_is_removed(applied, computed):
    assert len(books(applied)) == 1
    applied.write("taskform.yaml", "variables: {suffix: {value: '-1', secret: true}}\n")
    assert "No changes" in applied.cli("plan").output
    assert books(applied) == []  # its digests were of a value now secret


def test_one_changed_step_computes_its_own_memo_alone(applied, computed, monkeypatch):
    applied.spec(PIPELINE.replace('"A1"', '"A2"'))  # read apart from the rest of its file
    planned = applied.cli("plan").output
    assert computed == ["pipeline.p.a"]
    assert planned == without_book(applied, monkeypatch)
    assert '~ pipeline.p.a  (value, update)' in planned
    computed.clear()
    assert applied.cli("plan").output == planned and computed == []


def test_two_changed_steps_compute_every_memo(applied, computed, monkeypatch):
    applied.spec(PIPELINE.replace('"A1"', '"A2"').replace("input: 1}", "input: 2}"))
    planned = applied.cli("plan").output
    assert sorted(computed) == ALL
    assert planned == without_book(applied, monkeypatch)


def test_two_plans_at_once_write_whole_entries_and_the_next_plan_is_right(applied, monkeypatch):
    """Two users planning one workspace at the same moment, each writing the book and the
    workspace entry (a temp file renamed over the slot): each plan is right, and so is the plan
    that reads what the last rename left."""
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    applied.spec(PIPELINE.replace("-b", "-B").replace("A1", "A0"))  # two steps: nothing kept
    cache = applied.root / ".taskform/cache/specs"
    for entry in cache.glob("*.workspace-*.json"):
        entry.unlink()
    runs = [subprocess.Popen([sys.executable, "-m", "runner", "-C", str(applied.root), "plan"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=subprocess_env(), cwd=applied.root) for _ in range(4)]
    outputs = [run.communicate(timeout=120) for run in runs]
    expected = without_book(applied, monkeypatch)
    assert [(run.returncode, out, err) for run, (out, err) in zip(runs, outputs, strict=True)] == \
        [(0, expected, "")] * 4
    assert len(books(applied)) == 1 and len(list(cache.glob("*.workspace-desired.json"))) == 1
    assert not list(cache.glob(".*.tmp"))  # no temp file left behind
    assert applied.cli("plan").output == expected
