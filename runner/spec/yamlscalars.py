"""What a YAML scalar means in a spec: its tag resolved as PyYAML's SafeLoader resolves it,
limited to the tags a spec can mean, and constructed; or why it cannot be read."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

_Y = "tag:yaml.org,2002:"
STR, MERGE, MAP, SEQ = _Y + "str", _Y + "merge", _Y + "map", _Y + "seq"
_EXPECTED = {_Y + "int": "an integer", _Y + "float": "a number", _Y + "bool": "true or false",
             _Y + "null": "null", _Y + "timestamp": "a date like 2024-05-31 or a time like "
             "2024-05-31T12:00:00Z"}


class Scalars:
    """Reads the scalars of one file (plain ones it has read before, from memory)."""

    def __init__(self) -> None:
        # PyYAML's resolver is untyped: its one method, typed
        self._resolve: Callable[[type, str, tuple[bool, bool]], str] = Resolver().resolve
        self._constructor = SafeConstructor()
        self._plain: dict[str, Any] = {}
        self._tags: dict[str, str] = {}

    def tag(self, value: str, tag: str | None, implicit: tuple[bool, bool]) -> str:
        """The tag a scalar has, written or resolved from its text."""
        if tag is None and implicit[0]:  # plain: mostly keys, which repeat
            found = self._tags.get(value)
            if found is None:
                found = self._tags[value] = self._resolve(yaml.ScalarNode, value, implicit)
            return found
        if tag is None or tag == "!":
            return self._resolve(yaml.ScalarNode, value, implicit)
        return tag

    def read(self, value: str, tag: str | None, implicit: tuple[bool, bool]
             ) -> tuple[Any, str | None]:
        """The scalar's value, and why it cannot be read (None when it can; then the value is
        its text)."""
        if tag is None:
            if not implicit[0]:  # quoted: text (the common case, kept short)
                return value, None
            if value in self._plain:
                return self._plain[value], None
        resolved = self.tag(value, tag, implicit)
        if resolved in (STR, MERGE):
            return value, None
        if resolved not in _EXPECTED:
            return value, unsupported(resolved)
        try:
            built = self._constructor.yaml_constructors[resolved](
                self._constructor, yaml.ScalarNode(resolved, value))
        except Exception:  # noqa: BLE001  (each constructor fails its own way on bad text)
            hint = "" if tag else " (quote it to keep it as text)"
            shown = value if len(value) <= 60 else value[:57] + "..."
            return value, f"expected {_EXPECTED[resolved]} for {short_tag(resolved)}, got " \
                f"{shown!r}{hint}"
        if isinstance(built, (datetime.date, datetime.datetime)):
            built = built.isoformat()
        if tag is None:
            self._plain[value] = built
        return built, None


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_Y):] if tag.startswith(_Y) else tag


def unsupported(tag: str) -> str:
    return (f"unsupported YAML tag {short_tag(tag)}: specs hold text, numbers, true/false, "
            "null, lists and mappings")
