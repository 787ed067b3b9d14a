"""A changed spec file read again one step at a time (runner/spec/splice.py) loads exactly as
reading it whole would, and reads it whole whenever the step cannot be told apart."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.spec import load, splice, yamlbuild
from runner.spec.load import load_specs
from runner.workspace import open_workspace

BASE = """\
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: p, labels: {team: a}}
spec:
  steps:
    s0:
      value: {input: 0}
    s1: {value: {input: "{{ steps.s0.value }}-1"}}
    # a comment between steps
    s2:
      shell:
        command: |
          echo one
          echo {{ var.greeting }}
      depends_on: [s1]
    s3:
      value:
        input: "a
          b"
      when: var.enabled
# a comment at the left edge, inside the steps
    s4:
      value: {input: [1, 2, {k: v}]}
      retries: 2
      timeout: 30s
  engine: local
---
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: q}
lifecycle: {prevent_destroy: true}
spec:
  steps:
    t0: {value: {input: "{{ ref('pipeline.p.s4').value }}"}}
    t1:
      value: {input: "{{ var.greeting }} {{ steps.t0.value }}"}
      description: the last step of the file
"""

CONFIG = "variables: {greeting: {value: hello}, enabled: {value: true}}\n"



@pytest.fixture
def spliced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of each step read apart (a splice that served)."""
    served: list[str] = []
    real = splice._splice

    def counting(previous, entry, addresses, lines, text, *args):  # type: ignore[no-untyped-def]
        found = real(previous, entry, addresses, lines, text, *args)
        if found is not None:
            served.append(text[lines.begin:lines.end + len(text) - len(previous.text)])
        return found

    monkeypatch.setattr(splice, "_splice", counting)
    return served


def outcome(root: Path, cached: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every resource as loaded (all of its fields, and its dependencies in order), or the
    whole error message; with the workspace's cache, or with none."""
    real = load.open_store
    if not cached:
        monkeypatch.setattr(load, "open_store", lambda *args: None)
    try:
        specs = load_specs(open_workspace(root))
    except SpecError as exc:
        return str(exc)
    finally:
        monkeypatch.setattr(load, "open_store", real)
    return [repr(r) for r in specs.resources.values()], \
        {str(a): [str(d) for d in ds] for a, ds in specs.dependencies.items()}


@pytest.fixture
def spec(ws, user_cache) -> Path:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", CONFIG)
    path: Path = ws.spec(BASE, name="main.yaml")
    path.write_text(BASE)  # as written, not dedented
    return path


EDITS = ["x", "1", " ", "\n", "\n      retries: 1", "\n      retries: 1\n", "# note",
         "\n    s9: {value: {input: 9}}", "\n  engine: local", "\n---\n", "*a", "&a ",
         ": ", "{", '"', "\t", "\r", "|", "- ", "\n    ", "\n        ", "steps.s0.value",
         "{{ var.nope }}", "{{ var.greeting }}", ", x: 1", "<<: {input: 5}", "!!str ",
         "\n      depends_on: [s0]", "\n      when: var.enabled"]


def test_random_edits_load_exactly_as_a_whole_read(ws, spec, spliced, monkeypatch):
    """300 seeded edits anywhere in the file (a character, a line, a key, a step, a document,
    an alias, a tab, a carriage return, a template): each is loaded through the cache and with
    no cache at all, and both say the same, to the line of every resource and issue."""
    rng = random.Random(int(os.environ.get("TASKFORM_FUZZ_SEED", "20261201")))  # to fuzz more
    good = BASE
    assert outcome(ws.root, True, monkeypatch) == outcome(ws.root, False, monkeypatch)
    for i in range(300):
        if i % 20 == 0:
            good = BASE  # edits pile up into texts no one writes; start again now and then
        at = rng.randrange(len(good) + 1)
        if rng.random() < 0.3:
            text = good[:at] + good[at + rng.randrange(1, 12):]
        else:
            text = good[:at] + rng.choice(EDITS) + good[at:]
        spec.write_text(text)
        cached = outcome(ws.root, True, monkeypatch)
        assert cached == outcome(ws.root, False, monkeypatch), text
        assert cached == outcome(ws.root, True, monkeypatch), text  # from the entry kept now
        if not isinstance(cached, str) and "\r" not in text:  # a CR ends every splice after it
            good = text
    assert len(spliced) >= 30 or "TASKFORM_FUZZ_SEED" in os.environ  # 36 of 300 here


def test_an_edited_step_is_read_alone_and_later_lines_move(ws, spec, spliced, monkeypatch):
    outcome(ws.root, True, monkeypatch)
    text = BASE.replace("      value: {input: 0}\n", "      value:\n        input: 7\n")
    spec.write_text(text)
    found = outcome(ws.root, True, monkeypatch)
    assert spliced == ["    s0:\n      value:\n        input: 7\n"]
    assert found == outcome(ws.root, False, monkeypatch)
    specs = load_specs(open_workspace(ws.root))
    lines = {str(a): r.origin.line for a, r in specs.resources.items()}
    assert lines == {"pipeline.p.s0": 6, "pipeline.p.s1": 9, "pipeline.p.s2": 11,
                     "pipeline.p.s3": 17, "pipeline.p.s4": 23, "pipeline.q.t0": 35,
                     "pipeline.q.t1": 36}  # one line more than in BASE from s1 on


@pytest.mark.parametrize("old, new", [
    ("    s1: {value", "    r1: {value"),  # a step renamed
    ("      depends_on: [s1]\n", "      depends_on: [s1]\n    s9: {value: {input: 9}}\n"),
    ("      timeout: 30s\n", "      timeout: 30s\n  other: 1\n"),  # left of the step's key
    ("    t0: {value: {input:", "    t0: {value: {input: *x,"),  # an alias
    ("      value: {input: 0}\n", "      value: {input: 0}\r\n"),
    ("      value: {input: 0}\n", "      value: {input: 0}\n---\n"),
    ("          echo one\n", "          echo one\n\techo two\n"),
    ("    s1: {value: {input: \"{{ steps.s0.value }}-1\"}}",
     "    s1: {value: {input: \"{{ steps.s0.value }}-1\"}, retries: -1}"),  # an issue
    ("    s0:\n      value: {input: 0}\n", "    s0:\n      value: {<<: {input: 0}}\n"),
])
def test_what_cannot_be_read_apart_is_read_whole(ws, spec, spliced, monkeypatch, old, new):
    outcome(ws.root, True, monkeypatch)
    assert old in BASE
    spec.write_text(BASE.replace(old, new))
    cached = outcome(ws.root, True, monkeypatch)
    assert spliced == []
    assert cached == outcome(ws.root, False, monkeypatch)


def test_what_loading_checks_across_files_is_still_checked(ws, spec, spliced, monkeypatch):
    outcome(ws.root, True, monkeypatch)
    spec.write_text(BASE.replace("ref('pipeline.p.s4')", "ref('pipeline.p.s5')"))
    cached = outcome(ws.root, True, monkeypatch)
    assert len(spliced) == 1  # the step reads alone without an issue; the reference dangles
    assert cached == outcome(ws.root, False, monkeypatch) == (
        "1 error in the specs:\n  specs/main.yaml:34:25: spec.steps.t0.value.input: references "
        "pipeline.p.s5, which is not defined")


def test_steps_written_as_a_flow_mapping_are_read_whole(ws, user_cache, spliced, monkeypatch):
    # in a flow mapping `a,b` is two keys, in a block one text: a step's lines alone would lie
    text = ("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  steps: {\n"
            "    s0: {value: {input: 0}},\n    s1: {value: {input: 1}}\n  }\n")
    path = ws.spec(text, name="main.yaml")
    path.write_text(text)
    outcome(ws.root, True, monkeypatch)
    path.write_text(text.replace("    s1: {value: {input: 1}}", "    s1: a,b"))
    cached = outcome(ws.root, True, monkeypatch)
    assert spliced == []
    assert cached == outcome(ws.root, False, monkeypatch)
    assert "s1" in str(cached) and "b" in str(cached)


def test_the_values_limit_counts_the_whole_file(ws, spec, spliced, monkeypatch):
    outcome(ws.root, True, monkeypatch)
    whole = outcome(ws.root, False, monkeypatch)
    monkeypatch.setattr(yamlbuild, "MAX_VALUES", 40)  # the file holds fewer, the edit more
    spec.write_text(BASE.replace("{input: 0}", "{input: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}"))
    cached = outcome(ws.root, True, monkeypatch)
    assert spliced == []
    assert cached == outcome(ws.root, False, monkeypatch) != whole
    assert "more than 40 values" in cached


def test_a_secret_read_by_the_edited_step_reaches_no_cache_file(ws, spec, user_cache,
                                                                 monkeypatch):
    secret = "s3cr3t-9d41-token"
    ws.write("taskform.yaml", CONFIG.replace("}}\n", "}, token: {env: TF_SPLICE_TOKEN, "
                                             "secret: true}}\n"))
    monkeypatch.setenv("TF_SPLICE_TOKEN", secret)
    outcome(ws.root, True, monkeypatch)
    spec.write_text(BASE.replace("{input: 0}", '{input: "{{ var.token }}"}'))
    assert outcome(ws.root, True, monkeypatch) == outcome(ws.root, False, monkeypatch)
    files = [p for p in (ws.root / ".taskform").rglob("*") if p.is_file()]
    files += [p for p in user_cache.rglob("*") if p.is_file()]
    assert [p for p in files if secret.encode() in p.read_bytes()] == []


def test_a_forged_layout_reads_as_missing(ws, spec, spliced, monkeypatch):
    outcome(ws.root, True, monkeypatch)
    (entry,) = (ws.root / ".taskform" / "cache" / "specs").glob("*.splice.json")
    entry.write_bytes(entry.read_bytes().replace(b"input: 0", b"input: 1"))
    spec.write_text(BASE.replace("{input: 0}", "{input: 2}"))
    assert outcome(ws.root, True, monkeypatch) == outcome(ws.root, False, monkeypatch)
    assert spliced == []


def test_a_step_read_apart_then_whole_spends_its_templates_once(ws, spec, spliced,
                                                                   monkeypatch):
    from runner.spec.budget import Budget

    ws.write("taskform.yaml", CONFIG.replace("}}\n", "}, big: {value: " + "x" * 600 + "}}\n"))
    monkeypatch.setattr(load, "Budget", lambda: Budget(chars=1500))  # one rendering, not two
    outcome(ws.root, True, monkeypatch)
    # 1,200 characters rendered at load, and an unknown key: read apart, then whole
    spec.write_text(BASE.replace("{input: 0}", '{input: "{{ var.big }}{{ var.big }}", x: 1}'))
    cached = outcome(ws.root, True, monkeypatch)
    assert spliced == []
    assert cached == outcome(ws.root, False, monkeypatch)
    assert "unknown key 'x'" in cached and "characters altogether" not in cached
