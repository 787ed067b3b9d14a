"""rubrics.json parsing, and finding a task's rubric (rubrics.json wins over TASK_DATA.md)."""

from __future__ import annotations

import json

import pytest

from runner.errors import RubricError
from runner.rubric.parse import RubricNotFound, find_rubric, load_rubric, parse_rubric

ITEMS = [
    {"rubricItemId": "11111111-aaaa-4bbb-8ccc-000000000001", "score": 10,
     "criterion": "Handles compound units", "required": True, "__typename": "RubricItem",
     "tags": ["parsing"], "authorType": "HUMAN",
     "forms": {"zz": {"criterion_test_command": "echo zz"},
               "aa": {"criterion_test_command": "python3 -m unittest tests.test_a"}}},
    {"rubricItemId": "11111111-aaaa-4bbb-8ccc-000000000002", "score": 2.5,
     "criterion": "Rejects garbage", "forms": {"f": {"criterion_test_command": "true"}}},
]


def test_items_map_to_criteria():
    rubric = parse_rubric(json.dumps(ITEMS, indent=2), "rubrics.json")
    assert [(c.id, c.counter, c.score, c.required, c.criterion, c.command, c.title)
            for c in rubric.criteria] == [
        ("11111111-aaaa-4bbb-8ccc-000000000001", 1, 10.0, True, "Handles compound units",
         "python3 -m unittest tests.test_a", ""),
        ("11111111-aaaa-4bbb-8ccc-000000000002", 2, 2.5, False, "Rejects garbage", "true", ""),
    ]
    assert rubric.total == 12.5


def test_forms_are_read_in_sorted_key_order_skipping_empty_commands():
    item = {"rubricItemId": "x", "score": 1,
            "forms": {"b": {"criterion_test_command": "second"},
                      "a": {"criterion_test_command": "  "}, "c": {"other": 1}}}
    assert parse_rubric(json.dumps([item]), "rubrics.json").criteria[0].command == "second"


ERRORS = [
    ("invalid JSON", '[{"rubricItemId": "a",\n  "score": 1,,}]',
     ["rubrics.json:2: invalid JSON: Expecting property name enclosed in double quotes "
      "(column 14)"]),
    ("not an array", '{"rubricItemId": "a"}',
     ["rubrics.json:1: expected a JSON array of rubric items, got an object"]),
    ("empty array", "[]",
     ["rubrics.json:1: the rubric has no items; expected an array of {rubricItemId, score, "
      "criterion, required, forms}"]),
    ("every bad field of every item, each at its own line", """[
  {"rubricItemId": "a",
   "score": "ten",
   "required": "yes",
   "forms": {"f": {"criterion_test_command": "true"}}},
  {"rubricItemId": "b", "score": 1},
  {"score": 1, "forms": {}},
  "not an object"
]""",
     ['rubrics.json:3: item 1 (a): score: expected a number of points like 10 or 2.5, got "ten"',
      'rubrics.json:4: item 1 (a): required: expected true or false, got "yes"',
      'rubrics.json:6: item 2 (b): forms: is missing; expected an object like {"<form id>": '
      '{"criterion_test_command": "<command>"}}',
      "rubrics.json:7: item 3: forms: expected an object like {\"<form id>\": "
      "{\"criterion_test_command\": \"<command>\"}}, got an empty object",
      "rubrics.json:7: item 3: rubricItemId: is missing; expected a non-empty string",
      'rubrics.json:8: item 4: expected an object, got "not an object"']),
    ("no form with a command, negative score", """[
  {"rubricItemId": "a", "score": -1,
   "forms": {"f": {"criterion_test_command": ""}}}
]""",
     ["rubrics.json:2: item 1 (a): score: expected a number of points like 10 or 2.5, got -1",
      "rubrics.json:3: item 1 (a): forms: no form has a non-empty criterion_test_command"]),
    ("duplicate rubricItemId", """[
  {"rubricItemId": "a", "score": 1, "forms": {"f": {"criterion_test_command": "x"}}},
  {"rubricItemId": "a", "score": 1, "forms": {"f": {"criterion_test_command": "y"}}}
]""",
     ["rubrics.json:3: item 2 (a): rubricItemId is already used by the item at line 2"]),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in ERRORS],
                         ids=[n for n, _, _ in ERRORS])
def test_bad_items_are_errors_with_lines(text, expected):
    with pytest.raises(RubricError) as info:
        parse_rubric(text, "rubrics.json")
    count = len(expected)
    head = f"{count} error{'s' if count != 1 else ''} in rubric rubrics.json:"
    assert str(info.value).splitlines() == [head, *(f"  {line}" for line in expected)]


MARKDOWN = "### #1: from-markdown\n**Score**: 1\n**Held-out tests**: `true`\n"


def test_rubrics_json_wins_when_both_exist(tmp_path):
    (tmp_path / "TASK_DATA.md").write_text(MARKDOWN)
    assert find_rubric(tmp_path) == tmp_path / "TASK_DATA.md"
    (tmp_path / "rubrics.json").write_text(json.dumps(ITEMS))
    path = find_rubric(tmp_path)
    assert path == tmp_path / "rubrics.json"
    assert load_rubric(path, "rubrics.json").criteria[0].id == ITEMS[0]["rubricItemId"]


def test_no_rubric_names_both_files(tmp_path):
    with pytest.raises(RubricNotFound) as info:
        find_rubric(tmp_path)
    assert str(info.value) == f"no rubric in {tmp_path}: expected rubrics.json or TASK_DATA.md"


def test_a_file_that_is_not_utf8_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "TASK_DATA.md").write_bytes(b"### #1: \xff\xfe\n")
    with pytest.raises(RubricError) as info:
        load_rubric(tmp_path / "TASK_DATA.md", "TASK_DATA.md")
    assert str(info.value) == ("1 error in rubric TASK_DATA.md:\n  TASK_DATA.md:1: not UTF-8 text "
                               "(invalid start byte at byte 8)")


def test_a_utf8_bom_is_accepted(tmp_path):
    (tmp_path / "TASK_DATA.md").write_bytes("\ufeff".encode() + MARKDOWN.encode())
    assert load_rubric(tmp_path / "TASK_DATA.md").criteria[0].id == "from-markdown"
