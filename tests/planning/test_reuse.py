"""A plan renders only what may change: everything else takes the recorded rendering, decided by
the memo of what decides it (settings as written, variables read, outputs read).

Renders are counted through `templating.render_text` (every rendering, fast path or Jinja2,
goes through it) and Jinja2's work through its lexer (every parse or compile tokenises)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import jinja2.lexer
import pytest

from runner.planning.reuse import MEMO
from runner.spec import interpolate, templating

PIPELINE = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: p}
spec:
  steps:
    a: {value: {input: "A1"}}
    b: {value: {input: "{{ steps.a.value }}-b"}}
    c: {value: {input: "{{ steps.b.value | upper }}"}}
    d: {value: {input: "{{ steps.a.value }}{{ var.suffix }}"}}
    x: {value: {input: 1}}
    y:
      value: {input: "{{ steps.x.value }}"}
      when: steps.x.value == 1
"""


@dataclass
class Counts:
    renders: list[str] = field(default_factory=list)
    jinja: int = 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counts]:
    """Count renders and Jinja2 tokenisations, starting from caches as cold as a new process's
    (the spec cache on disk stays: it is what a new process finds)."""
    counts = Counts()
    render_text, tokeniter = templating.render_text, jinja2.lexer.Lexer.tokeniter

    def counting_render(text, scope):  # type: ignore[no-untyped-def]
        counts.renders.append(text)
        return render_text(text, scope)

    def counting_tokeniter(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counts.jinja += 1
        return tokeniter(self, *args, **kwargs)

    monkeypatch.setattr(templating, "render_text", counting_render)
    monkeypatch.setattr(jinja2.lexer.Lexer, "tokeniter", counting_tokeniter)
    for cached in (templating.analyse, templating._expression, templating._template,
                   interpolate.parse):
        cached.cache_clear()
    yield counts


@pytest.fixture
def applied(ws):  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "variables: {suffix: '-1'}\n")
    ws.spec(PIPELINE)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    return ws


def test_a_no_op_plan_renders_nothing_and_asks_jinja_nothing(applied, counted):
    result = applied.cli("plan", "-detailed-exitcode")
    assert result.output == "No changes. 6 resources match the specs.\n"
    assert result.exit_code == 0
    assert counted.renders == []
    assert counted.jinja == 0


def test_apply_records_a_memo_beside_each_fingerprint(applied):
    records = applied.state().records()
    assert sorted(a for a, r in records.items() if MEMO in r.fingerprint) == [
        "pipeline.p.a", "pipeline.p.b", "pipeline.p.c", "pipeline.p.d", "pipeline.p.x",
        "pipeline.p.y"]
    # what the plan reasons with is unchanged: a setting: component per setting; beside them
    # the memo, and the digest of the outputs dependents read (so plans need not redo it)
    assert sorted(records["pipeline.p.b"].fingerprint) == [
        "dep:pipeline.p.a", MEMO, "memo:outputs", "setting:input"]


def test_changing_a_variable_renders_exactly_what_reads_it(applied, counted):
    applied.write("taskform.yaml", "variables: {suffix: '-2'}\n")
    result = applied.cli("plan")
    assert counted.renders == ["{{ steps.a.value }}{{ var.suffix }}"]
    assert "~ pipeline.p.d  (value, update)\n      # setting input changed\n" \
           '      input: "A1-1" -> "A1-2"\n' in result.output
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to destroy, 5 unchanged." \
        in result.output


def test_a_changed_output_renders_exactly_its_dependents(applied, counted):
    applied.spec(PIPELINE.replace('"A1"', '"A2"'))
    assert applied.cli("apply", "-auto-approve", "-target", "pipeline.p.a").exit_code == 0
    counted.renders.clear()
    result = applied.cli("plan")
    # b and d read a's new output; c reads b, whose recorded output has not changed yet
    assert sorted(counted.renders) == ["{{ steps.a.value }}-b",
                                       "{{ steps.a.value }}{{ var.suffix }}"]
    assert "~ pipeline.p.b  (value, update)\n      # pipeline.p.a changed since this was " \
           'applied\n      # setting input changed\n      input: "A1-b" -> "A2-b"\n' \
        in result.output
    assert "~ pipeline.p.c  (value, update)\n      # pipeline.p.b will change\n" in result.output


def test_replace_renders_what_it_names(applied, counted):
    result = applied.cli("plan", "-replace", "pipeline.p.c")
    assert counted.renders == ["{{ steps.b.value | upper }}"]
    assert "-/+ pipeline.p.c  (value, replace)\n      # replacement requested with -replace\n" \
        in result.output


def test_a_secret_never_enters_a_memo_and_is_rendered_each_time(ws, counted):
    ws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: s}
        spec:
          steps:
            a: {value: {input: "x"}}
            b: {value: {input: "{{ steps.a.value }}:{{ var.token }}"}}
            c: {value: {input: "{{ var.token }}"}}
            d: {value: {input: "{{ steps.a.value }}-d"}}
    """)
    env = {"TF_TEST_TOKEN": "s3cr3t-value"}
    assert ws.cli("apply", "-auto-approve", env=env).exit_code == 0
    records = ws.state().records()
    assert MEMO not in records["pipeline.s.b"].fingerprint  # reads the secret through a template
    assert MEMO in records["pipeline.s.d"].fingerprint
    assert "s3cr3t" not in repr(records)
    counted.renders.clear()
    result = ws.cli("plan", env=env)
    assert result.output == "No changes. 4 resources match the specs.\n"
    # c is rendered at load: a file that reads a secret is never cached, so it is read afresh;
    # what reads a secret is rendered whole and each of its expressions alone (to mask what it
    # derives from the secret); d, which reads none, is not rendered
    assert set(counted.renders) == {"{{ var.token }}", "{{ steps.a.value }}:{{ var.token }}",
                                    "{{ steps.a.value }}"}


def test_files_a_kind_fingerprints_are_read_even_when_nothing_renders(ws, counted):
    ws.write("data.txt", "one\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: f}
        spec:
          steps:
            a: {value: {input: "data.txt"}}
            copy:
              shell:
                command: "cat {{ steps.a.value }} > /dev/null"
                inputs: [data.txt]
    """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    ws.write("data.txt", "two\n")
    counted.renders.clear()
    result = ws.cli("plan")
    assert counted.renders == []
    assert "~ pipeline.f.copy  (shell, update)\n      # file data.txt changed\n" in result.output


def test_an_apply_without_changes_gives_back_memos_an_upgrade_made_stale(applied, counted):
    import sqlite3

    # what an upgrade of the rendering code does to every record: its memo no longer matches
    with sqlite3.connect(applied.root / ".taskform" / "state.db") as db:
        db.execute("""UPDATE resources SET fingerprint = json_set(fingerprint, '$."memo:inputs"',
                      'from-older-code')""")
    assert applied.cli("plan", "-detailed-exitcode").exit_code == 0
    assert len(counted.renders) == 5  # every templated setting and `when` renders again
    result = applied.cli("apply", "-auto-approve")
    assert (result.exit_code, result.output) == (
        0, "No changes. 6 resources match the specs.\n")
    records = applied.state().records()
    assert {r.fingerprint[MEMO] == "from-older-code" for r in records.values()} == {False}
    events = [e.event for e in applied.state().events() if e.event == "memo-refreshed"]
    assert len(events) == 6
    counted.renders.clear()
    assert applied.cli("plan", "-detailed-exitcode").exit_code == 0
    assert counted.renders == []  # taken from the records again
    assert applied.cli("apply", "-auto-approve").exit_code == 0
    assert len([e for e in applied.state().events() if e.event == "memo-refreshed"]) == 6


def test_a_reused_evaluation_is_the_one_init_would_make(applied):
    """The evaluation a reused record gives is made without `__init__`: it holds every field,
    and equals the one `__init__` makes from the same values."""
    from runner.connections import Connections
    from runner.plan import Evaluated
    from runner.planning.evaluate import Evaluator, RecordedOutputs
    from runner.spec.load import load_specs
    from runner.state import open_state
    from runner.workspace import open_workspace

    ws = open_workspace(applied.root)
    state = open_state(ws)
    records = state.records()
    evaluator = Evaluator(ws, Connections(), RecordedOutputs(records), recorded=records,
                          planning=True)
    resource = next(r for a, r in load_specs(ws).resources.items() if str(a) == "pipeline.p.b")
    found = evaluator.evaluate(resource)
    record = records["pipeline.p.b"]
    assert found.reused and found.rendered is record.settings
    assert found.fingerprint is record.fingerprint  # the record's own: `is_as_recorded`
    assert set(vars(found)) == set(Evaluated.__dataclass_fields__)
    assert found == Evaluated(resource, record.settings, record.fingerprint, True, reused=True)
    state.close()
