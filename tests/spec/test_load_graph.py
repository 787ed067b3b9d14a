"""The graph a load builds: each resource's dependencies without repeats, and `_is_acyclic`,
the cheap pass that spares an acyclic load the named-cycle search (a case table of tiny graphs,
each also checked against `Graph.find_cycle`)."""

from __future__ import annotations

import pytest

from runner.address import parse_address
from runner.graph import Graph
from runner.resource import Origin, Resource
from runner.spec.load import _is_acyclic, load_specs
from runner.workspace import open_workspace

# name: (address -> what it depends on, acyclic?); targets that are not resources are ignored
CASES = {
    "empty": ({}, True),
    "chain": ({"p.a": [], "p.b": ["p.a"], "p.c": ["p.b"]}, True),
    "diamond": ({"p.a": [], "p.b": ["p.a"], "p.c": ["p.a"], "p.d": ["p.b", "p.c", "p.b"]}, True),
    "cycle": ({"p.a": ["p.c"], "p.b": ["p.a"], "p.c": ["p.b"]}, False),
    "self": ({"p.a": ["p.a"]}, False),
    "cycle beside a chain": ({"p.a": [], "p.b": ["p.a"], "p.x": ["p.y"], "p.y": ["p.x"]}, False),
    "through a child": ({"p.pool": ["p.b"], "p.b": ["p.pool[2]"]}, False),
    "on children": ({"p.pool": [], "p.b": ["p.pool[2]", "p.pool[3]"]}, True),
    "unknown target": ({"p.a": ["p.gone"], "p.b": ["p.a"]}, True),
}


@pytest.mark.parametrize("deps,acyclic", CASES.values(), ids=CASES.keys())
def test_is_acyclic(deps, acyclic):
    resources = {a: Resource(address=parse_address(a), kind="value", settings={},
                             origin=Origin("f", 1, 1)) for a in deps}  # by address text
    edges = {a: tuple(parse_address(d) for d in ds) for a, ds in deps.items()}
    graph = Graph({a: [str(d.parent) for d in ds if str(d.parent) in resources]
                   for a, ds in edges.items()})
    assert _is_acyclic(resources, edges) is acyclic
    assert (graph.find_cycle() is None) is acyclic


def test_dependencies_come_once_in_the_order_written(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}}
            b: {value: {input: 2}, depends_on: [a, a]}
            c: {value: {input: "{{ steps.b.value }} {{ steps.a.value }} {{ steps.b.value }}"},
                depends_on: [a]}
            d: {value: {input: 3}, depends_on: a}
        """)
    specs = load_specs(open_workspace(ws.root))
    depends = {str(a): [str(d) for d in r.depends_on] for a, r in specs.resources.items()}
    assert depends == {"pipeline.p.a": [], "pipeline.p.b": ["pipeline.p.a"],
                       "pipeline.p.c": ["pipeline.p.a", "pipeline.p.b"],
                       "pipeline.p.d": ["pipeline.p.a"]}
    assert {str(a): [str(d) for d in ds] for a, ds in specs.dependencies.items()} == depends


def test_a_when_condition_waits_for_the_steps_it_reads(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            guarded:
              value: {input: 1}
              when: steps.gate.value.strip() == 'yes'
            whole: {value: {input: 2}, when: "{{ steps.gate.value != ref('pipeline.q.x').value }}"}
            gate: {value: {input: "no"}}
        ---
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: q}
        spec: {steps: {x: {value: {input: 3}}}}
        """)
    specs = load_specs(open_workspace(ws.root))
    depends = {str(a): [str(d) for d in r.depends_on] for a, r in specs.resources.items()}
    assert depends == {"pipeline.p.guarded": ["pipeline.p.gate"],
                       "pipeline.p.whole": ["pipeline.p.gate", "pipeline.q.x"],
                       "pipeline.p.gate": [], "pipeline.q.x": []}


def test_a_when_condition_that_reads_an_undefined_step_or_makes_a_cycle_is_an_error(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}, when: steps.nope.ok}
            b: {value: {input: 1}, when: steps.c.value}
            c: {value: {input: 1}, when: "{{ steps.b.value }}"}
            d: {value: {input: 1}, when: steps.d.value}
        """)
    assert ws.cli("validate").output.splitlines() == [
        "Error: 3 errors in the specs:",
        "  specs/main.yaml:6:34: spec.steps.a.when: references pipeline.p.nope, which is not "
        "defined",
        "  specs/main.yaml:7:5: dependency cycle: pipeline.p.b -> pipeline.p.c -> pipeline.p.b",
        "  specs/main.yaml:9:34: spec.steps.d.when: pipeline.p.d cannot reference itself",
    ]


def test_a_step_guarded_by_a_false_condition_on_an_output_waits_and_is_skipped(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            guarded:
              shell: {command: "echo ran > ran.txt"}
              when: steps.gate.stdout.strip() == 'yes'
            gate: {shell: {command: "sleep 0.2; echo no"}}
        """)
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0
    assert "pipeline.p.guarded: skipped: when: steps.gate.stdout.strip() == 'yes' is false" \
        in result.output.splitlines()
    assert not (ws.root / "ran.txt").exists()
