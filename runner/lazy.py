"""Fields of a frozen dataclass computed when first read.

A no-op plan of a graded `rubric_set` carries 5,000 recorded cells through the plan, and reads
none of their settings or fingerprints: decoding them from the state was a fifth of the plan.
Their record, resource, evaluation and change are made with those fields pending; whatever
reads one (a diff, `plan --json`, apply, `==`) gets the value, the same as if it had been
there from the start.

A pending field is a descriptor on the class that only defines `__get__`: Python looks in the
instance's `__dict__` first, so it is asked only while the value is missing, and an instance
made by `__init__` never asks it. (A `__getattr__` would do the same, but makes every attribute
read of the class slower: a plan reads hundreds of thousands.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T", bound="LazyFields")


class LazyFields:
    """A dataclass base whose instances made by `lazily` compute some fields on first read."""

    def _compute(self, name: str, pending: Any) -> Any:
        """The value of the pending field `name` from what `lazily` was given for it (by
        default, a function that makes it)."""
        return pending()


class _Pending:
    """The class attribute of a field that may be pending (`may_wait`)."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, instance: LazyFields | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        pending = instance.__dict__.get("_pending")
        if not pending or self.name not in pending:
            raise AttributeError(f"{type(instance).__name__!r} object has no attribute "
                                 f"{self.name!r}")
        value = instance._compute(self.name, pending[self.name])
        # into the instance's __dict__, found before this descriptor from now on; two threads
        # at once compute equal values
        object.__setattr__(instance, self.name, value)
        return value


def may_wait(*names: str) -> Callable[[type[T]], type[T]]:
    """Class decorator, above `@dataclass`: these fields may be pending in an instance made by
    `lazily`. (Their defaults are kept by `__init__`, which never reads the class attribute.)"""

    def decorate(cls: type[T]) -> type[T]:
        for name in names:
            if name not in _field_names(cls):
                raise TypeError(f"{cls.__name__} has no field {name!r}")
            setattr(cls, name, _Pending(name))
        _WAITING[cls] = frozenset(names)
        return cls

    return decorate


D = TypeVar("D")


def made(cls: type[D], fields: dict[str, Any]) -> D:
    """An instance of the frozen dataclass `cls` holding `fields`, every one of them, made
    without `__init__` (which only sets them, one `object.__setattr__` each) and unchecked: for
    the hottest paths (a cached load of 5,000 steps makes 15,000 resources, origins and places;
    a no-op plan 5,000 evaluations and changes), each with a test that compares its instances
    with ones `__init__` made."""
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


def lazily(cls: type[T], pending: dict[str, Any], /, **fields: Any) -> T:
    """An instance of the dataclass `cls` with `fields` set and each field in `pending`
    computed when first read (by `cls._compute`). `__init__` is not called. Cheap: a plan
    makes 15,000."""
    names = _field_names(cls)
    if len(fields) + len(pending) != len(names) or not names.issuperset(fields) \
            or not pending.keys() <= _WAITING.get(cls, frozenset()):
        raise TypeError(f"lazily({cls.__name__}) needs each field once, and only fields of "
                        f"`may_wait` pending: {sorted(fields)} and {sorted(pending)}")
    instance = object.__new__(cls)
    instance.__dict__.update(fields, _pending=pending)
    return instance


_NAMES: dict[type, frozenset[str]] = {}
_WAITING: dict[type, frozenset[str]] = {}  # the fields each class lets wait (`may_wait`)


def _field_names(cls: type) -> frozenset[str]:
    found = _NAMES.get(cls)
    if found is None:  # noqa below: to mypy `cls` is any class, not a dataclass
        found = _NAMES[cls] = frozenset(getattr(cls, "__dataclass_fields__"))  # noqa: B009
    return found
