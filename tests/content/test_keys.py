"""Scenario keys are built and compared in one place: spelling, case, spacing and order of a
stored key do not matter; a key that is not there is an error naming what is there."""

from __future__ import annotations

import pytest

from runner.content.keys import KeyNotFound, find_scenarios, identity, key_of, scenario_key


def test_key_is_sorted_with_upper_case_levels() -> None:
    assert scenario_key([("Kafka", "basic"), ("Java", "BASIC")]) == "Java (BASIC), Kafka (BASIC)"
    assert key_of([{"name": "Python - FastAPI", "proficiency": "INTERMEDIATE"}]) == \
        "Python - FastAPI (INTERMEDIATE)"


def test_proficiency_override_applies_to_every_item() -> None:
    comps = [{"name": "Java", "proficiency": "BASIC"}, {"name": "Kafka", "proficiency": "ADVANCED"}]
    assert key_of(comps, "INTERMEDIATE") == "Java (INTERMEDIATE), Kafka (INTERMEDIATE)"


@pytest.mark.parametrize("written", [
    "JAVA (BASIC), KAFKA (BASIC)",
    "Java(BASIC),Kafka(BASIC)",
    "kafka (basic), java (basic)",
    "  Java  ( BASIC ) ,Kafka (Basic)",
])
def test_stored_spellings_match_the_built_key(written: str) -> None:
    table = {"Python (BASIC)": ["other"], written: ["s1", "s2"]}
    assert find_scenarios(table, "Java (BASIC), Kafka (BASIC)", "task_scenarios.json") == \
        (written, ["s1", "s2"])


def test_hyphen_spacing_is_one_name() -> None:
    assert identity("Python-FastAPI(basic)") == identity("Python - FastAPI (BASIC)")


def test_levels_must_match() -> None:
    assert identity("Java (BASIC)") != identity("Java (INTERMEDIATE)")


def test_missing_key_is_an_error_listing_the_keys() -> None:
    table = {"Python (BASIC)": ["a"], "Go (BASIC)": ["b"]}
    with pytest.raises(KeyNotFound) as info:
        find_scenarios(table, "Java (BASIC), Kafka (BASIC)", "task_scenarios.json")
    assert str(info.value) == (
        "task_scenarios.json has no scenarios for 'Java (BASIC), Kafka (BASIC)' (keys are "
        "matched ignoring case, spacing and order); its keys: 'Python (BASIC)', 'Go (BASIC)'")
