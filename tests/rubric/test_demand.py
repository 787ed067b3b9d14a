"""How many warm spares a supplier keeps: a spare per pool member while the gradings to come
are unknown, else never more than the gradings still to ask for one, and none once the run
is stopping."""

from __future__ import annotations

import threading

import pytest

from runner.rubric.demand import Demand


def counts(**by_parent: int | None):
    return lambda parent: by_parent[parent.replace(".", "_")]


@pytest.mark.parametrize("parents, asking, spares", [
    ({}, 0, 4),                                   # no run counts them: one per member
    ({"p_a": None}, 0, 4),                        # a context outside a run
    ({"p_a": 10}, 0, 4),                          # plenty to come: one per member
    ({"p_a": 2}, 0, 2),                           # the last two: no spare nobody takes
    ({"p_a": 0}, 0, 0),                           # the run's last grading has its sandbox
    ({"p_a": 0}, 1, 1),                           # a retry (or a second run) waiting
    ({"p_a": 1}, 2, 3),                           # waiting ones and one not begun
    ({"p_a": 1, "p_b": 1}, 0, 2),                 # two rubric steps on one pool
    ({"p_a": 1, "p_b": None}, 0, 4),              # one of them unknown: unknown
])
def test_spares(parents, asking, spares):
    demand = Demand()
    for parent in parents:
        demand.expect(parent.replace("_", "."), counts(**parents))
    assert demand.spares(4, asking) == spares


def test_none_once_the_run_is_stopping():
    demand = Demand()
    demand.expect("p.a", lambda parent: 10)
    demand.stopping = threading.Event()
    assert demand.spares(4, 2) == 4
    demand.stopping.set()
    assert demand.spares(4, 2) == 0  # waiting gradings give up when they find none ready
