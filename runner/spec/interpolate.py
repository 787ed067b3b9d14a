"""Plain interpolation without Jinja2: the fast path of `templating`.

Most spec templates only pass values along: literal text around `{{ var.x }}`,
`{{ steps.s.o }}` and `{{ ref("a").o }}`, with `.name`, `["key"]` and `[0]` after them. Parsing
and compiling such a string with Jinja2 costs a millisecond or two; reading it here costs
microseconds. The grammar accepted is deliberately small, and everything outside it (filters,
operators, `{%`, `{#`, whitespace control, spaces inside the expression) is left to Jinja2.

Results and errors are Jinja2's by construction: a lookup here succeeds only where the
sandboxed environment would have found the same key or item (a dict key, an index inside a
list) and produced a value of plain data; anything else (a missing key, an attribute, a value
of another type) is `NOT_PLAIN`, and `templating` renders that template through Jinja2, which
then says what it always said. `tests/spec/test_interpolate.py` runs every case both ways.

Imports nothing of taskform and no Jinja2, so a plan that renders only plain templates never
loads Jinja2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# `templating` decides native value against text with this same pattern: one `{{ }}` with only
# whitespace around it gives the value itself (a list stays a list); anything else is text
WHOLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.S)

ROOTS = ("var", "steps", "ref")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# no backslash (Jinja2 would unescape it), no braces (they would end the expression for the
# WHOLE_EXPRESSION test), no line breaks; the other quote is fine (`ref('t.x["c1","s1"]')`)
_STRING = re.compile(r"\"([^\"\\{}\r\n]*)\"|'([^'\\{}\r\n]*)'")
_INDEX = re.compile(r"0|[1-9][0-9]*")
_RAW_OPEN, _RAW_CLOSE = "{% raw %}", "{% endraw %}"
_BOOLEANS = {"true": True, "True": True, "false": False, "False": False}
_PLAIN_TYPES = (str, int, float, bool, list, dict, type(None))


class _NotPlain:
    def __repr__(self) -> str:
        return "NOT_PLAIN"


NOT_PLAIN: Any = _NotPlain()  # "render this one through Jinja2"


@dataclass(frozen=True)
class Lookup:
    """One `{{ }}`: a root (`var`, `steps`, `ref`), its first name (the variable, the step, the
    address), and the keys and indexes after it."""

    root: str
    name: str
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class Plain:
    """A template the fast path understands: literal text and lookups in order. `whole`: one
    lookup with only whitespace around it (rendered as its value, not as text); `constant`:
    a bare `true`/`false` (a `when:` written as a boolean)."""

    parts: tuple[str | Lookup, ...]
    whole: bool
    constant: bool | None = None

    def names(self, root: str) -> frozenset[str]:
        """The first names read under `root`: variables, steps or addresses."""
        return frozenset(p.name for p in self.parts if isinstance(p, Lookup) and p.root == root)

    def render(self, var: Mapping[str, Any], steps: Mapping[str, Any],
               outputs: Callable[[str], Any]) -> Any:
        """The value or text, or NOT_PLAIN when Jinja2 must decide (or word the error)."""
        if self.constant is not None:
            return self.constant
        values = []
        for part in self.parts:
            if isinstance(part, str):
                values.append(part)
                continue
            value = _resolve(part, var, steps, outputs)
            if value is NOT_PLAIN or type(value) not in _PLAIN_TYPES:
                return NOT_PLAIN
            if self.whole:
                return value
            values.append(value if type(value) is str else str(value))
        return "".join(values)


def condition_text(expression: str) -> str:
    """The template a `when:` condition is rendered as (`templating.evaluate`): as written when
    it is one `{{ }}`, else wrapped in one."""
    return expression if WHOLE_EXPRESSION.match(expression) else "{{ " + expression + " }}"


@lru_cache(maxsize=16384)
def parse(text: str) -> Plain | None:
    """`text` as plain interpolation, or None when only Jinja2 can read it."""
    if "\r" in text:
        return None  # Jinja2 normalises line breaks in literal text
    if text.startswith(_RAW_OPEN) and text.endswith(_RAW_CLOSE):
        inner = text[len(_RAW_OPEN):-len(_RAW_CLOSE)]
        return None if "{%" in inner else Plain((inner,), whole=False)
    if "{%" in text or "{#" in text:
        return None
    whole = WHOLE_EXPRESSION.match(text)
    if whole and whole.group("expr").strip() in _BOOLEANS:
        return Plain((), whole=True, constant=_BOOLEANS[whole.group("expr").strip()])
    parts: list[str | Lookup] = []
    pos = 0
    while (start := text.find("{{", pos)) >= 0:
        if start > pos:
            parts.append(text[pos:start])
        found = _lookup(text, start + 2)
        if found is None:
            return None
        lookup, pos = found
        parts.append(lookup)
    if pos < len(text):
        parts.append(text[pos:])
    if not any(isinstance(p, Lookup) for p in parts):
        return None
    return Plain(tuple(parts), whole=whole is not None)


def _lookup(text: str, pos: int) -> tuple[Lookup, int] | None:
    """The lookup starting at `pos` (just after `{{`) and the position after its `}}`."""
    pos = _skip_space(text, pos)
    name = _NAME.match(text, pos)
    if name is None or name.group() not in ROOTS:
        return None
    root, pos = name.group(), name.end()
    if root == "ref":
        if not text.startswith("(", pos):
            return None
        address = _STRING.match(text, pos + 1)
        if address is None or not text.startswith(")", address.end()):
            return None
        first, pos = _string(address), address.end() + 1
    else:
        key = _key(text, pos)
        if key is None or not isinstance(key[0], str):
            return None  # `var` alone, or `var[0]`: Jinja2 words the error
        first, pos = key[0], key[1]
    path: list[str | int] = []
    while (key := _key(text, pos)) is not None:
        path.append(key[0])
        pos = key[1]
    pos = _skip_space(text, pos)
    if not text.startswith("}}", pos):
        return None
    return Lookup(root, first, tuple(path)), pos + 2


def _key(text: str, pos: int) -> tuple[str | int, int] | None:
    """`.name`, `["key"]` or `[0]` at `pos`, and the position after it."""
    if text.startswith(".", pos):
        name = _NAME.match(text, pos + 1)
        return (name.group(), name.end()) if name else None
    if not text.startswith("[", pos):
        return None
    string = _STRING.match(text, pos + 1)
    if string is not None:
        value: str | int = _string(string)
        end = string.end()
    else:
        index = _INDEX.match(text, pos + 1)
        if index is None:
            return None
        value, end = int(index.group()), index.end()
    return (value, end + 1) if text.startswith("]", end) else None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    return pos


def _string(match: re.Match[str]) -> str:
    return match.group(1) if match.group(1) is not None else match.group(2)


def _resolve(lookup: Lookup, var: Mapping[str, Any], steps: Mapping[str, Any],
             outputs: Callable[[str], Any]) -> Any:
    if lookup.root == "var":
        if type(var) is not dict or lookup.name not in var:
            return NOT_PLAIN
        value = var[lookup.name]
    elif lookup.root == "steps":
        value = steps[lookup.name]
    else:
        value = outputs(lookup.name)
    for key in lookup.path:
        # only what the sandbox would find the same way: a dict's key (taskform's environment
        # reads keys before attributes) or an index inside a list
        if type(key) is str and type(value) is dict and key in value:
            value = value[key]
        elif type(key) is int and type(value) is list and key < len(value):
            value = value[key]
        else:
            return NOT_PLAIN
    return value
