"""The `Facts` a kind's context holds: over the state store during apply (each change an event
of the run), read-only while planning, and in memory where no store is behind it."""

from __future__ import annotations

import pytest
from state_backends import Harness

from runner.errors import StateError
from runner.state.base import Event, Facts, MemoryFacts
from runner.state.facts import POOL_NEXT_ID, StoredFacts

POOL = "task_pool.fastapi"


def test_facts_of_a_run_are_stored_with_its_events(harness: Harness) -> None:
    store = harness.open()
    facts = StoredFacts(store, "r-apply")
    facts.put("scenario_set.accepted", "scenario_set.s", {"accepted": ["a"]})
    assert facts.next_id(POOL_NEXT_ID, POOL, count=2) == 0
    facts.put("scenario_set.accepted", "scenario_set.s", None)
    assert (store.fact(POOL_NEXT_ID, POOL), facts.get(POOL_NEXT_ID, POOL)) == (2, 2)
    assert [(e.run_id, e.event, e.address, e.message) for e in store.events()] == [
        ("r-apply", "fact", "scenario_set.s", "scenario_set.accepted set"),
        ("r-apply", "fact", POOL, f"{POOL_NEXT_ID}: handed out 0..1, next id 2"),
        ("r-apply", "fact", "scenario_set.s", "scenario_set.accepted forgotten")]


def test_facts_only_read_while_planning(harness: Harness) -> None:
    store = harness.open()
    store.next_id(POOL_NEXT_ID, POOL, Event("r1", "fact", POOL), count=0, floor=3)
    planning = StoredFacts(store)
    assert planning.get(POOL_NEXT_ID, POOL) == 3
    for change in (lambda: planning.put(POOL_NEXT_ID, POOL, 9),
                   lambda: planning.next_id(POOL_NEXT_ID, POOL)):
        with pytest.raises(StateError) as err:
            change()
        assert str(err.value) == (f"{POOL} tried to change a fact while planning: facts change "
                                  "only during apply")
    assert store.fact(POOL_NEXT_ID, POOL) == 3 and store.serial() == 1


@pytest.mark.parametrize("where", ["memory", "stored"])
def test_memory_facts_behave_as_stored_ones(where: str, harness: Harness) -> None:
    facts: Facts = MemoryFacts() if where == "memory" else StoredFacts(harness.open(), "r1")
    assert facts.get("ns", "k") is None
    facts.put("ns", "k", {"a": [1]})
    assert facts.get("ns", "k") == {"a": [1]} and facts.get("other", "k") is None
    facts.put("ns", "k", None)
    assert facts.get("ns", "k") is None
    assert [facts.next_id(POOL_NEXT_ID, POOL, count=c, floor=f)
            for c, f in ((1, 0), (3, 0), (0, 2), (2, 10), (0, 20))] == [0, 1, 4, 10, 20]
    facts.put("ns", "text", "seven")
    with pytest.raises(StateError) as err:
        facts.next_id("ns", "text")
    assert str(err.value) == "fact ns of text holds 'seven', not a next id"
