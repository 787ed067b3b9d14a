"""Side files of taskform before schema 3 (`.taskform/pools/<name>.json`,
`.taskform/scenarios/<name>.json`, written exactly as it wrote them) are imported into the
state's facts when it is opened: once per content, never lowering a next id, on every backend."""

from __future__ import annotations

import json

from state_backends import Harness

from runner.state.base import Event
from runner.state.facts import ACCEPTED_SCENARIOS, IMPORTED_FILES, POOL_NEXT_ID


def write_pool(harness: Harness, name: str, next_id: int) -> None:
    """What taskform's task pool wrote (`_remember_high_water`)."""
    path = harness.root / ".taskform" / "pools" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"next_id": next_id}) + "\n")


def write_scenarios(harness: Harness, name: str, generation: str, accepted: list[str]) -> None:
    """What taskform's scenario set wrote (`_remember`)."""
    path = harness.root / ".taskform" / "scenarios" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"generation": generation, "accepted": accepted}, indent=2))


def test_side_files_become_facts_keyed_by_the_full_address(harness: Harness) -> None:
    write_pool(harness, "fastapi", 7)
    write_scenarios(harness, "fastapi", "g1", ["**Current Implementation:** one"])
    store = harness.open()
    assert store.fact(POOL_NEXT_ID, "task_pool.fastapi") == 7
    assert store.fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi") == {
        "generation": "g1", "accepted": ["**Current Implementation:** one"]}
    assert [(e.event, e.address, e.message) for e in store.events()] == [
        ("imported", "task_pool.fastapi", f"{POOL_NEXT_ID}: next id 7 from pools/fastapi.json"),
        ("imported", "task_pool.fastapi",
         "imported pools/fastapi.json into the state; the file is no longer read"),
        ("imported", "scenario_set.fastapi", f"{ACCEPTED_SCENARIOS} from scenarios/fastapi.json"),
        ("imported", "scenario_set.fastapi",
         "imported scenarios/fastapi.json into the state; the file is no longer read")]


def test_a_side_file_is_imported_once(harness: Harness) -> None:
    write_pool(harness, "fastapi", 7)
    write_scenarios(harness, "fastapi", "g1", ["one"])
    first = harness.open()
    serial, events = first.serial(), first.events()
    # the pool moved on after the import; the file, which nothing writes any more, must not
    # bring it back, and opening again changes nothing
    first.next_id(POOL_NEXT_ID, "task_pool.fastapi", Event("r1", "fact"), count=0, floor=9)
    first.set_fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi", None, Event("r1", "fact"))
    again = harness.open()
    assert again.fact(POOL_NEXT_ID, "task_pool.fastapi") == 9
    assert again.fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi") is None
    assert again.serial() == serial + 2 and len(again.events()) == len(events) + 2


def test_importing_never_lowers_a_next_id_the_state_holds(harness: Harness) -> None:
    store = harness.open()
    store.next_id(POOL_NEXT_ID, "task_pool.ahead", Event("r1", "fact"), count=0, floor=12)
    store.next_id(POOL_NEXT_ID, "task_pool.behind", Event("r1", "fact"), count=0, floor=3)
    write_pool(harness, "ahead", 5)
    write_pool(harness, "behind", 5)
    reopened = harness.open()
    assert reopened.fact(POOL_NEXT_ID, "task_pool.ahead") == 12
    assert reopened.fact(POOL_NEXT_ID, "task_pool.behind") == 5


def test_a_side_file_written_again_is_imported_again(harness: Harness) -> None:
    write_pool(harness, "fastapi", 7)
    harness.open()
    write_pool(harness, "fastapi", 11)  # an older taskform ran on the workspace in between
    assert harness.open().fact(POOL_NEXT_ID, "task_pool.fastapi") == 11


def test_scenarios_in_the_state_win_over_a_side_file(harness: Harness) -> None:
    store = harness.open()
    newer = {"generation": "g2", "accepted": ["newer"]}
    store.set_fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi", newer, Event("r1", "fact"))
    write_scenarios(harness, "fastapi", "g1", ["older"])
    assert harness.open().fact(ACCEPTED_SCENARIOS, "scenario_set.fastapi") == newer


def test_half_written_and_foreign_files_are_left_alone(harness: Harness) -> None:
    pools = harness.root / ".taskform" / "pools"
    pools.mkdir(parents=True)
    (pools / "broken.json").write_text('{"next_id": ')
    (pools / "crashed.tmp").write_text('{"next_id": 40}\n')  # a write that never landed
    (pools / "odd.json").write_text('{"next_id": "many"}\n')
    (pools / "list.json").write_text("[1, 2]\n")
    store = harness.open()
    for name in ("broken", "crashed", "odd", "list"):
        assert store.fact(POOL_NEXT_ID, f"task_pool.{name}") is None
    assert store.fact(IMPORTED_FILES, str(pools / "broken.json")) is None  # tried again later
    assert store.fact(IMPORTED_FILES, str(pools / "crashed.tmp")) is None
    (pools / "broken.json").write_text('{"next_id": 4}\n')
    assert harness.open().fact(POOL_NEXT_ID, "task_pool.broken") == 4
