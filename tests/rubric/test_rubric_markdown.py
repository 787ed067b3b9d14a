"""TASK_DATA.md parsing: both header styles, multi-paragraph criteria, fenced multi-line
commands; every malformed section is an error naming file and line, all of them at once."""

from __future__ import annotations

import textwrap

import pytest

from runner.errors import RubricError
from runner.rubric.parse import parse_rubric

FENCE = "```"


def md(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n").replace("'''", FENCE)


VALID = [
    ("numbered header, task-sync's canonical form", md("""
        ### #1: 0b6f3c1e-1111-4222-8333-944455556666

        **Score**: 10
        **Required**: true
        **Criterion**:
        The CLI exits non-zero when the config file is missing.

        **Held-out tests**:
        '''bash
        pytest -q tests/held_out/test_cli.py::test_missing_config
        '''
        """),
     [("0b6f3c1e-1111-4222-8333-944455556666", 1, 10.0, True,
       "The CLI exits non-zero when the config file is missing.",
       "pytest -q tests/held_out/test_cli.py::test_missing_config", "#1", 1)]),
    ("label header with a UUID, as task-sync's sample file writes it", md("""
        ### crit-01: 7d0c2b8e-5c1a-4e52-9d0b-1a2b3c4d5e6f
        **Score**: 3
        **Required**: false
        **Criterion**: README exists
        **Held-out tests**:
        '''
        test -f README.md
        '''
        """),
     [("7d0c2b8e-5c1a-4e52-9d0b-1a2b3c4d5e6f", 1, 3.0, False, "README exists",
       "test -f README.md", "crit-01", 1)]),
    ("criterion spanning paragraphs runs until the next label", md("""
        ### #2: multi
        **Criterion**: First paragraph,
        still the first.

        Second paragraph.



        Third, after many blank lines.
        **Score**: 1
        **Held-out tests**:
        '''
        true
        '''
        """),
     [("multi", 2, 1.0, False,
       "First paragraph,\nstill the first.\n\nSecond paragraph.\n\nThird, after many blank lines.",
       "true", "#2", 1)]),
    ("multi-line fenced command, tilde fence, blank lines before it", md("""
        ### crit-07: cmd
        **Score**: 2.5
        **Held-out tests**:

        ~~~sh
        cd /app
        python3 -m unittest \\
          tests.test_held_out
        ~~~
        """),
     [("cmd", 1, 2.5, False, "", "cd /app\npython3 -m unittest \\\n  tests.test_held_out",
       "crit-07", 1)]),
    ("a fence inside the command block that is longer than the opening stays open", md("""
        ### #1: nested
        **Score**: 1
        **Held-out tests**:
        ````
        cat <<'EOF'
        '''
        EOF
        ````
        """),
     [("nested", 1, 1.0, False, "", "cat <<'EOF'\n```\nEOF", "#1", 1)]),
    ("bold label with the colon inside, bullets, inline command, yes/no", md("""
        ### check-2: inline
        - **Score:** 4
        - **Required:** yes
        - **Held-out tests**: `python3 -m unittest tests.test_x`
        """),
     [("inline", 1, 4.0, True, "", "python3 -m unittest tests.test_x", "check-2", 1)]),
    ("preamble, prose sections and unknown labels are not criteria", md("""
        # Task data

        **Task**: implement the thing (a label outside any section).

        ### Overview
        Plain prose, no rubric labels.

        ### #1: a
        **Score**: 1
        **Criterion**: text
        **Notes**: ignored, and it ends the criterion text
        **Held-out tests**:
        '''
        true
        '''

        ## Appendix
        **Score**: 99 under a level-2 heading belongs to no criterion
        """),
     [("a", 1, 1.0, False, "text", "true", "#1", 8)]),
    ("counter: #n when given, else the position; ids stay as written", md("""
        ### crit-a: first
        **Score**: 1
        **Held-out tests**: `a`

        ### #5: second
        **Score**: 2
        **Held-out tests**: `b`

        ### crit-c: `third id`
        **Score**: 3
        **Held-out tests**: `c`
        """),
     [("first", 1, 1.0, False, "", "a", "crit-a", 1),
      ("second", 5, 2.0, False, "", "b", "#5", 5),
      ("third id", 3, 3.0, False, "", "c", "crit-c", 9)]),
    ("a heading inside a fenced block is not a section", md("""
        ### #1: fenced
        **Score**: 1
        **Criterion**: shows markdown:
        '''md
        ### #2: not-a-section
        **Score**: 5
        '''
        **Held-out tests**: `true`
        """),
     [("fenced", 1, 1.0, False, "shows markdown:\n```md\n### #2: not-a-section\n**Score**: 5\n```",
       "true", "#1", 1)]),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in VALID],
                         ids=[n for n, _, _ in VALID])
def test_valid_rubrics(text, expected):
    rubric = parse_rubric(text, "TASK_DATA.md")
    got = [(c.id, c.counter, c.score, c.required, c.criterion, c.command, c.title, c.line)
           for c in rubric.criteria]
    assert got == expected


ERRORS = [
    ("missing score and command", md("""
        ### #1: a
        **Criterion**: text only
        """),
     ['TASK_DATA.md:1: section "### #1: a": **Held-out tests** is missing; expected '
      "'**Held-out tests**:' followed by a fenced command block",
      'TASK_DATA.md:1: section "### #1: a": **Score** is missing; expected a line like '
      "'**Score**: 10'"]),
    ("score that is not a number, required that is not a boolean", md("""
        ### crit-01: b
        **Score**: ten
        **Required**: maybe
        **Held-out tests**: `true`
        """),
     ['TASK_DATA.md:2: section "### crit-01: b": **Score**: expected a number of points like 10 '
      "or 2.5, got 'ten'",
      'TASK_DATA.md:3: section "### crit-01: b": **Required**: expected true or false, got '
      "'maybe'"]),
    ("negative and empty score", md("""
        ### #1: c
        **Score**: -3
        **Held-out tests**: `true`

        ### #2: d
        **Score**:
        **Held-out tests**: `true`
        """),
     ['TASK_DATA.md:2: section "### #1: c": **Score**: expected a number of points like 10 or '
      "2.5, got '-3'",
      'TASK_DATA.md:6: section "### #2: d": **Score**: expected a number of points like 10 or '
      "2.5, got nothing"]),
    ("label followed by prose instead of a fence", md("""
        ### #1: e
        **Score**: 1
        **Held-out tests**:

        run the tests
        """),
     ['TASK_DATA.md:3: section "### #1: e": **Held-out tests**: expected a fenced command block '
      "(```) after the label, found 'run the tests' at line 5"]),
    ("empty and unclosed command blocks", md("""
        ### #1: f
        **Score**: 1
        **Held-out tests**:
        '''
        '''

        ### #2: g
        **Score**: 1
        **Held-out tests**:
        '''bash
        pytest
        """),
     ['TASK_DATA.md:4: section "### #1: f": **Held-out tests**: the command block is empty',
      'TASK_DATA.md:10: section "### #2: g": **Held-out tests**: the command block opened here '
      "is never closed"]),
    ("header without an id, header without a colon", md("""
        ### crit-01:
        **Score**: 1
        **Held-out tests**: `true`

        ### #2 missing-colon
        **Score**: 1
        **Held-out tests**: `true`
        """),
     ['TASK_DATA.md:1: section "### crit-01:": expected a header like \'### #1: <id>\' or '
      "'### crit-01: <id>'",
      'TASK_DATA.md:5: section "### #2 missing-colon": expected a header like \'### #1: <id>\' '
      "or '### crit-01: <id>'"]),
    ("a label given twice", md("""
        ### #1: h
        **Score**: 1
        **Score**: 2
        **Held-out tests**: `true`
        """),
     ['TASK_DATA.md:3: section "### #1: h": **Score** is given twice (first at line 2)']),
    ("duplicate ids and numbers", md("""
        ### #1: same
        **Score**: 1
        **Held-out tests**: `true`

        ### #1: same
        **Score**: 1
        **Held-out tests**: `true`
        """),
     ['TASK_DATA.md:5: section "### #1: same": criterion id \'same\' is already used at line 1',
      'TASK_DATA.md:5: section "### #1: same": criterion number 1 is already used at line 1']),
    ("an empty numbered section is never dropped", md("""
        ### #1: ok
        **Score**: 1
        **Held-out tests**: `true`

        ### #2: forgotten
        """),
     ['TASK_DATA.md:5: section "### #2: forgotten": **Held-out tests** is missing; expected '
      "'**Held-out tests**:' followed by a fenced command block",
      'TASK_DATA.md:5: section "### #2: forgotten": **Score** is missing; expected a line like '
      "'**Score**: 10'"]),
    ("no sections at all", "# Just a title\n\nSome text.\n",
     ["TASK_DATA.md:1: no rubric sections found: expected a header like '### #1: <id>' or "
      "'### crit-01: <id>', each with **Score**: and **Held-out tests**:"]),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in ERRORS],
                         ids=[n for n, _, _ in ERRORS])
def test_malformed_sections_are_errors_with_lines(text, expected):
    with pytest.raises(RubricError) as info:
        parse_rubric(text, "TASK_DATA.md")
    count = len(expected)
    head = f"{count} error{'s' if count != 1 else ''} in rubric TASK_DATA.md:"
    assert str(info.value).splitlines() == [head, *(f"  {line}" for line in expected)]


def test_every_error_of_a_file_comes_together():
    text = md("""
        ### #1: a
        **Score**: x
        **Held-out tests**: `true`

        ### #2: b
        **Score**: 1
        """)
    with pytest.raises(RubricError) as info:
        parse_rubric(text, "tasks/t1/TASK_DATA.md")
    assert str(info.value).splitlines() == [
        "2 errors in rubric tasks/t1/TASK_DATA.md:",
        '  tasks/t1/TASK_DATA.md:2: section "### #1: a": **Score**: expected a number of points '
        "like 10 or 2.5, got 'x'",
        '  tasks/t1/TASK_DATA.md:5: section "### #2: b": **Held-out tests** is missing; expected '
        "'**Held-out tests**:' followed by a fenced command block"]


def test_ids_are_stable_when_criteria_are_edited_and_moved():
    before = parse_rubric(md("""
        ### crit-01: alpha
        **Score**: 1
        **Held-out tests**: `a`

        ### crit-02: beta
        **Score**: 2
        **Held-out tests**: `b`
        """), "TASK_DATA.md")
    after = parse_rubric(md("""
        ### crit-01: beta
        **Score**: 2
        **Held-out tests**: `b`

        ### crit-02: alpha
        **Score**: 5
        **Held-out tests**: `a`
        """), "TASK_DATA.md")
    assert [c.id for c in before.criteria] == ["alpha", "beta"]
    assert [c.id for c in after.criteria] == ["beta", "alpha"]
    assert before.get("beta").hash == after.get("beta").hash  # type: ignore[union-attr]
    assert before.get("alpha").hash != after.get("alpha").hash  # type: ignore[union-attr]
    assert before.hash != after.hash
