"""Expansion that must wait for a dependency: the children of a parent whose input is made by
a step in the same apply are planned and applied during apply, and a stale expansion (its
dependency changes in this plan) is redone then too."""

from __future__ import annotations

from typing import Any

import pytest
from kind_kit import register

from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Can, Child, Context, Expansion, ExpansionDeferred, Settings
from runner.state.base import Record


class LinesSettings(Settings):
    path: str


class LinesKind(BaseKind):
    """One `value` child per line of a file that another step writes."""

    name = "lines"
    settings_model = LinesSettings

    def expand(self, ctx: Context, settings: LinesSettings, expansion: Expansion) -> list[Child]:
        path = ctx.path(settings.path)
        if not path.is_file():
            if expansion.depends_on:
                raise ExpansionDeferred(f"{settings.path} does not exist yet")
            raise StepFailed(f"{settings.path} does not exist")
        lines = path.read_text().split()
        return [Child(key=(i,), kind="value", settings={"input": line})
                for i, line in enumerate(lines)]

    def expansion_reads(self, settings: Any, dependency: str) -> bool:
        return True

    def apply(self, ctx: Context, settings: LinesSettings, prior: Record | None) -> dict[str, Any]:
        values = []
        i = 0
        while isinstance(ctx.outputs(f"{ctx.address}[{i}]"), dict):
            values.append(ctx.outputs(f"{ctx.address}[{i}]")["value"])
            i += 1
        return {"values": values}


@pytest.fixture(autouse=True)
def lines_kind(monkeypatch):
    register(monkeypatch, LinesKind(), Can.EXPAND, Can.DEFER_EXPANSION)


def specs(ws, words: str) -> None:
    ws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: p}}
        spec:
          steps:
            make:
              shell: {{command: "echo {words} | tr ' ' '\\\\n' > lines.txt"}}
            each:
              lines: {{path: lines.txt}}
              depends_on: [make]
        """)


def values(ws) -> dict[str, Any]:
    return {a: r.outputs for a, r in ws.state().records().items() if a.startswith("pipeline.p.each")}


def test_children_of_a_file_made_in_the_same_apply(ws):
    specs(ws, "a b")
    plan = ws.cli("plan").output
    assert "  + pipeline.p.each  (lines, create)\n      # not yet created\n      # its children " \
           "are known only during apply: lines.txt does not exist yet\n" in plan
    applied = ws.cli("apply", "-auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "pipeline.p.each: planned 2 children during apply (2 to apply)" in applied.output
    assert values(ws) == {"pipeline.p.each": {"values": ["a", "b"]},
                          "pipeline.p.each[0]": {"value": "a"},
                          "pipeline.p.each[1]": {"value": "b"}}
    assert ws.cli("plan").output == "No changes. 4 resources match the specs.\n"


def test_a_stale_expansion_is_redone_during_apply(ws):
    specs(ws, "a b")
    ws.cli("apply", "-auto-approve")
    specs(ws, "x y z")
    plan = ws.cli("plan").output
    assert "      # its children are known only during apply: pipeline.p.make changes in this " \
           "plan\n" in plan
    assert "destroy" not in plan.split("Plan:")[0]
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert values(ws)["pipeline.p.each"] == {"values": ["x", "y", "z"]}
    specs(ws, "only")
    result = ws.cli("apply", "-auto-approve")
    assert "pipeline.p.each[2]: destroyed" in result.output
    assert values(ws) == {"pipeline.p.each": {"values": ["only"]},
                          "pipeline.p.each[0]": {"value": "only"}}
    assert ws.cli("plan").output == "No changes. 3 resources match the specs.\n"


def test_a_child_failure_blocks_the_parent_and_still_missing_input_fails(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            make:
              shell: {command: "true"}
            each:
              lines: {path: lines.txt}
              depends_on: [make]
        """)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert "pipeline.p.each: FAILED: pipeline.p.each (specs/main.yaml:8:5): lines.txt does not " \
           "exist yet" in result.output


class ChainKind(BaseKind):
    """Two children, the second reading the first's output."""

    name = "chain"

    def expand(self, ctx: Context, settings: Any, expansion: Expansion) -> list[Child]:
        first = f'{ctx.address}[0]'
        return [Child(key=(0,), kind="value", settings={"input": "x"}),
                Child(key=(1,), kind="value",
                      settings={"input": "{{ ref('" + first + "').value }}-y"})]

    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]:
        return {}


def test_children_wait_for_the_siblings_they_reference(ws, monkeypatch):
    register(monkeypatch, ChainKind(), Can.EXPAND)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            c: {chain: {}}
        """)
    graph = ws.cli("graph").output
    assert '"pipeline.p.c[0]" -> "pipeline.p.c[1]";' in graph
    assert ws.cli("apply", "-auto-approve", "-parallelism", "4").exit_code == 0
    assert ws.state().records()["pipeline.p.c[1]"].outputs == {"value": "x-y"}


class OrderedKind(BaseKind):
    """Two children, the second waiting for the first without reading its outputs."""

    name = "ordered"

    def expand(self, ctx: Context, settings: Any, expansion: Expansion) -> list[Child]:
        return [Child(key=("first",), kind="value", settings={"input": 1}),
                Child(key=("second",), kind="value", settings={"input": 2},
                      depends_on=(str(ctx.address.child("first")),))]

    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]:
        return {}


def test_a_child_waits_for_what_its_parent_names(ws, monkeypatch):
    register(monkeypatch, OrderedKind(), Can.EXPAND)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            o: {ordered: {}}
        """)
    graph = ws.cli("graph").output
    assert '"pipeline.p.o[\\"first\\"]" -> "pipeline.p.o[\\"second\\"]";' in graph
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert ws.state().records()['pipeline.p.o["second"]'].depends_on == ('pipeline.p.o["first"]',)


class WholeSettings(Settings):
    command: str


class WholeKind(BaseKind):
    """Its children are its parts: a failed child fails it, recorded with the child's error."""

    name = "whole"
    settings_model = WholeSettings

    def expand(self, ctx: Context, settings: WholeSettings, expansion: Expansion) -> list[Child]:
        return [Child(key=("part",), kind="shell", settings={"command": settings.command})]

    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]:
        return {"whole": True}


def test_a_parent_made_of_its_children_fails_with_them(ws, monkeypatch):
    register(monkeypatch, WholeKind(), Can.EXPAND, fails_with_children=True)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            w: {whole: {command: "echo broken >&2; exit 3"}}
            after: {value: {input: "{{ steps.w.whole }}"}}
        """)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert result.output.endswith(
        'pipeline.p.w: FAILED: pipeline.p.w["part"] failed: command exited with code 3\n'
        "  | broken\n"
        "\nFailed: 0 created, 0 updated, 0 replaced, 0 destroyed; 2 failed, 1 not applied (a "
        "dependency failed).\n"
        '  pipeline.p.w: pipeline.p.w["part"] failed: command exited with code 3\n'
        "    1 resource not applied because pipeline.p.w failed (-v lists them)\n"
        '  pipeline.p.w["part"]: command exited with code 3\n')
    record = ws.state().records()["pipeline.p.w"]
    assert record.status == "failed"
    assert (record.error, record.output) == (
        'pipeline.p.w["part"] failed: command exited with code 3', "broken")
    assert "pipeline.p.after" not in ws.state().records()
    plan = ws.cli("plan").output
    assert "      # the last apply failed: pipeline.p.w[\"part\"] failed: command exited with " \
           "code 3\n" in plan
