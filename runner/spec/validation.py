"""Turn pydantic validation errors into SpecIssues that name file, line, column, path and
what was expected."""

from __future__ import annotations

import json
import typing
from typing import TYPE_CHECKING, Any

from runner.errors import SpecIssue
from runner.spec.yamlsrc import Path_, SourceDoc

if TYPE_CHECKING:
    from pydantic import BaseModel


def validate(model: type[BaseModel], value: Any, doc: SourceDoc, base: Path_,
             skip: set[Path_] | None = None) -> tuple[BaseModel | None, list[SpecIssue]]:
    """Validate `value` (found at `base` in `doc`) against `model`.

    Errors at paths in `skip` (values that are templates rendered later) are left for later."""
    from pydantic import ValidationError  # here: a load whose settings are all known valid skips it

    try:
        return model.model_validate(value), []
    except ValidationError as exc:
        by_loc: dict[Path_, list[str]] = {}
        on_key: set[Path_] = set()
        errors = [(_clean_loc(err["loc"], value), err) for err in exc.errors()]
        for loc, err in errors:
            if skip and any(loc[: len(s)] == s for s in skip):
                continue
            if _other_branch(loc, err, errors):
                continue
            by_loc.setdefault(loc, []).append(describe(err, model, loc))
            if err["type"] == "extra_forbidden" or "[key]" in err["loc"]:
                on_key.add(loc)
        return None, [doc.issue(base + loc, _merge(messages), key=loc in on_key)
                      for loc, messages in by_loc.items()]


def _other_branch(loc: Path_, err: Any, errors: list[tuple[Path_, Any]]) -> bool:
    """A type mismatch where another error lies deeper: the value matched another branch of a
    union (a list item that is wrong, under `list[...] | dict[...]`), which says more."""
    return str(err["type"]).endswith("_type") and any(
        len(other) > len(loc) and other[: len(loc)] == loc for other, _ in errors)


def _merge(messages: list[str]) -> str:
    """One message per place: a union's alternatives become `expected a or b, got x`."""
    unique = list(dict.fromkeys(messages))
    if len(unique) > 1 and all(m.startswith("expected ") and ", got " in m for m in unique):
        got = unique[0].rsplit(", got ", 1)[1]
        wanted = [m[len("expected "):].rsplit(", got ", 1)[0] for m in unique]
        return f"expected {' or '.join(wanted)}, got {got}"
    return "; ".join(unique)


def describe(err: Any, model: type[BaseModel], loc: Path_) -> str:
    """One error as `what was expected`, with the value that was found."""
    kind = err["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, loc[:-1])
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {loc[-1]!r}{hint}"
    msg = str(err["msg"])
    for prefix in ("Input should be ", "Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = ("expected " if prefix == "Input should be " else "") + msg[len(prefix):]
    if kind not in ("value_error", "assertion_error") and "input" in err:
        msg += f", got {show(err['input'])}"
    return msg


def allowed_keys(model: type[BaseModel], loc: Path_) -> list[str]:
    """The keys a (nested) model accepts at `loc`, when the path leads to a model."""
    current: Any = model
    for part in loc:
        current = _submodel(current, part)
        if current is None:
            return []
    from pydantic import BaseModel  # only to explain an error

    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(f.alias or name for name, f in current.model_fields.items())
    return []


def _submodel(tp: Any, part: str | int) -> Any:
    from pydantic import BaseModel  # only to explain an error

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if isinstance(part, int) or part not in tp.model_fields:
            return None
        return _unwrap(tp.model_fields[part].annotation)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple, set) and args and isinstance(part, int):
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _unwrap(tp: Any) -> Any:
    """The model inside Optional[...] / X | None, if any."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    from pydantic import BaseModel  # only to explain an error

    if typing.get_origin(tp) in (typing.Union, __import__("types").UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if len(models) == 1 else (args[0] if len(args) == 1 else None)
    return tp


_TAG_PREFIXES = ("function-", "union[", "tagged-union[", "list[", "dict[", "tuple[", "set[",
                 "nullable[", "literal[", "constrained-")
_TAGS = frozenset({"str", "int", "float", "bool", "any", "none", "[key]"})


def _clean_loc(loc: tuple[Any, ...], value: Any) -> Path_:
    # pydantic adds union-member, function and key tags to locations; keep real keys and
    # indexes only (a mapping key's own error is placed on the key: see validate). A part the
    # value has is a real key, even one spelled like a tag (a key `int` is no union member)
    out: list[str | int] = []
    current = value
    for part in loc:
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            out.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            out.append(part)
            current = current[part]
        elif isinstance(part, int) or (
                isinstance(part, str) and not (part.startswith(_TAG_PREFIXES) or part in _TAGS)):
            out.append(part)
            current = None  # a key the value lacks (a required one): nothing below it
    return tuple(out)


def show(value: Any) -> str:
    """A value as an error message quotes it: short, and never a whole list or mapping."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value) if isinstance(value, (str, int, float, bool)) or value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
