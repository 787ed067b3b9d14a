"""`rubrics.json`: an array of `{rubricItemId, score, criterion, required, forms: {<id>:
{criterion_test_command}}}`. Counter = index + 1; forms are read in sorted key order; extra
fields (`__typename`, `tags`, ...) are ignored. Every problem names its line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from runner.errors import RubricError, RubricIssue
from runner.rubric.model import Criterion, Rubric


@dataclass(frozen=True)
class _Item:
    index: int
    value: Any
    start: int  # offsets of the item's text in the file
    end: int


def parse_json(text: str, file: str) -> Rubric:
    """Parse `rubrics.json` text; raise RubricError listing every problem of the file."""
    items, issue = _items(text, file)
    if issue:
        raise RubricError(file, [issue])
    issues: list[RubricIssue] = []
    criteria = [c for c in (_criterion(text, item, file, issues) for item in items) if c]
    if not items:
        issues.append(RubricIssue(file, 1, "the rubric has no items; expected an array of "
                                           "{rubricItemId, score, criterion, required, forms}"))
    issues.extend(_duplicates(criteria, file))
    if issues:
        raise RubricError(file, issues)
    return Rubric(source=file, criteria=tuple(criteria))


def _items(text: str, file: str) -> tuple[list[_Item], RubricIssue | None]:
    """The top-level array's items with where each starts, decoded one at a time."""
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], RubricIssue(file, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")
    pos = _skip(text, 0)
    if not isinstance(whole, list):
        return [], RubricIssue(file, _line(text, pos), "expected a JSON array of rubric items, "
                                                       f"got {_kind(whole)}")
    items: list[_Item] = []
    pos = _skip(text, pos + 1)
    while not text.startswith("]", pos):
        value, end = decoder.raw_decode(text, pos)
        items.append(_Item(len(items), value, pos, end))
        pos = _skip(text, end)
        pos = _skip(text, pos + 1) if text.startswith(",", pos) else pos
    return items, None


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n\ufeff":
        pos += 1
    return pos


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _key_line(text: str, item: _Item, key: str) -> int:
    """The line of `"key":` inside the item (its first line when the key is absent)."""
    match = re.compile(rf'"{re.escape(key)}"\s*:').search(text, item.start, item.end)
    return _line(text, match.start() if match else item.start)


def _criterion(text: str, item: _Item, file: str, issues: list[RubricIssue]) -> Criterion | None:
    value = item.value
    where = f"item {item.index + 1}"
    if not isinstance(value, dict):
        issues.append(RubricIssue(file, _line(text, item.start), f"{where}: expected an object, "
                                                                 f"got {json.dumps(value)[:40]}"))
        return None
    ident = value.get("rubricItemId")
    if isinstance(ident, str) and ident.strip():
        where = f"item {item.index + 1} ({ident})"
    before = len(issues)

    def problem(key: str, message: str) -> None:
        issues.append(RubricIssue(file, _key_line(text, item, key), f"{where}: {key}: {message}"))

    if not (isinstance(ident, str) and ident.strip()):
        problem("rubricItemId", _expected("a non-empty string", value, "rubricItemId"))
    score = value.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or score < 0:
        problem("score", _expected("a number of points like 10 or 2.5", value, "score"))
    required = value.get("required", False)
    if not isinstance(required, bool):
        problem("required", _expected("true or false", value, "required"))
    criterion = value.get("criterion", "")
    if not isinstance(criterion, str):
        problem("criterion", _expected("a string", value, "criterion"))
    command = _command(value.get("forms"), problem)
    if len(issues) > before or command is None:
        return None
    return Criterion(id=str(ident).strip(), counter=item.index + 1, score=float(score or 0),
                     required=required, criterion=str(criterion).strip(), command=command,
                     line=_line(text, item.start))


def _command(forms: Any, problem: Any) -> str | None:
    """The first non-empty `criterion_test_command`, forms taken in sorted key order."""
    if not isinstance(forms, dict) or not forms:
        expected = 'an object like {"<form id>": {"criterion_test_command": "<command>"}}'
        got = "is missing; expected " if forms is None else "expected "
        problem("forms", got + expected + ("" if forms is None else f", got {_kind(forms)}"))
        return None
    for key in sorted(forms):
        form = forms[key]
        command = form.get("criterion_test_command") if isinstance(form, dict) else None
        if isinstance(command, str) and command.strip():
            return command.strip()
    problem("forms", "no form has a non-empty criterion_test_command")
    return None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an empty object" if not value else "an object"
    if isinstance(value, list):
        return "an array"
    return json.dumps(value)[:60]


def _expected(what: str, value: dict[str, Any], key: str) -> str:
    if key not in value:
        return f"is missing; expected {what}"
    return f"expected {what}, got {json.dumps(value[key])[:60]}"


def _duplicates(criteria: list[Criterion], file: str) -> list[RubricIssue]:
    seen: dict[str, int] = {}
    issues = []
    for c in criteria:
        if c.id in seen:
            issues.append(RubricIssue(file, c.line, f"item {c.counter} ({c.id}): rubricItemId "
                                                    f"is already used by the item at line "
                                                    f"{seen[c.id]}"))
        seen.setdefault(c.id, c.line)
    return issues
