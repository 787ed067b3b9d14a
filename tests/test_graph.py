"""The graph: cycles with their path, stable order, closures, exports."""

from __future__ import annotations

import pytest

from runner.graph import Graph


def test_cycle_path_and_order():
    assert Graph({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}).find_cycle() == ["a", "b", "c", "a"]
    g = Graph({"c": ["b"], "b": ["a"], "a": [], "x": []})
    assert g.find_cycle() is None
    assert g.topological() == ["a", "b", "c", "x"]
    with pytest.raises(ValueError, match="cycle"):
        Graph({"a": ["a"]}).topological()


def test_closures():
    g = Graph({"a": [], "b": ["a"], "c": ["b"], "d": ["a"], "e": []})
    assert g.ancestors(["c"]) == {"a", "b", "c"}
    assert g.descendants(["a"]) == {"a", "b", "c", "d"}


def test_exports_escape_and_label():
    g = Graph({'p."q"': [], "r": ['p."q"']})
    assert g.to_dot({"r": "value"}) == (
        'digraph taskform {\n  rankdir=LR;\n  node [shape=box];\n  "p.\\"q\\"";\n'
        '  "r" [label="r\\nvalue"];\n  "p.\\"q\\"" -> "r";\n}\n')
    assert g.to_mermaid() == 'flowchart LR\n  n0["p.#quot;q#quot;"]\n  n1["r"]\n  n0 --> n1\n'


def test_a_dependency_that_is_not_a_node_yet_becomes_one():
    g = Graph({"a": ["outside"]})
    assert g.topological() == ["outside", "a"]


def test_nested_children_keep_their_parents_key():
    from runner.address import parse_address

    member = parse_address("task_pool.p[3]")
    assert str(member.child("draft")) == 'task_pool.p[3,"draft"]'
    assert parse_address('task_pool.p[3,"draft"]') == member.child("draft")
