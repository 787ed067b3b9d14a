"""Fields computed on first read (runner/lazy.py): a plan carries 5,000 recorded cells without
decoding their settings; whatever reads one must get exactly what an eager instance holds."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

import pytest

from runner.lazy import LazyFields, lazily, may_wait


@may_wait("heavy", "with_default")
@dataclass(frozen=True)
class Thing(LazyFields):
    name: str
    heavy: Any
    with_default: Any = None
    plain: int = 0


def counting(value: Any, calls: list[str]) -> Any:
    def make() -> Any:
        calls.append("made")
        return value
    return make


def test_a_pending_field_is_made_once_when_first_read():
    calls: list[str] = []
    thing = lazily(Thing, {"heavy": counting({"k": [1]}, calls), "with_default": lambda: 7},
                   name="t", plain=1)
    assert calls == [] and "heavy" not in vars(thing)
    assert thing.heavy == {"k": [1]}
    assert thing.heavy is thing.heavy
    assert calls == ["made"]
    assert thing.with_default == 7  # a field with a default waits too, the default unused


def test_a_lazy_instance_is_equal_to_the_eager_one_and_copies_as_one():
    eager = Thing("t", {"k": 1}, 2, 3)
    lazy = lazily(Thing, {"heavy": lambda: {"k": 1}, "with_default": lambda: 2}, name="t", plain=3)
    assert lazy == eager and eager == lazily(Thing, {"heavy": lambda: {"k": 1}}, name="t",
                                            with_default=2, plain=3)
    assert asdict(lazily(Thing, {"heavy": lambda: {"k": 1}, "with_default": lambda: 2},
                         name="t", plain=3)) == asdict(eager)
    copy = replace(lazily(Thing, {"heavy": lambda: [1], "with_default": lambda: 2}, name="t",
                          plain=3), name="u")
    assert (copy.name, copy.heavy, copy.with_default, copy.plain) == ("u", [1], 2, 3)
    assert repr(lazy) == repr(eager)


def test_an_instance_made_by_init_keeps_its_values_and_defaults():
    assert Thing("t", 1) == Thing(name="t", heavy=1, with_default=None, plain=0)
    assert Thing("t", 1).with_default is None
    with pytest.raises(AttributeError):
        Thing("t", 1).heavy = 2  # still frozen  # type: ignore[misc]


def test_a_failure_to_make_a_field_is_raised_where_it_is_read_and_again_on_the_next_read():
    calls: list[str] = []

    def broken() -> Any:
        calls.append("tried")
        raise ValueError("the stored text is damaged")

    thing = lazily(Thing, {"heavy": broken, "with_default": lambda: 1}, name="t", plain=0)
    for _ in range(2):
        with pytest.raises(ValueError, match="damaged"):
            thing.heavy  # noqa: B018
    assert calls == ["tried", "tried"] and thing.with_default == 1


def test_fields_must_be_given_once_and_only_fields_that_may_wait_may_be_pending():
    with pytest.raises(TypeError, match="needs each field once"):
        lazily(Thing, {"heavy": lambda: 1}, name="t")  # with_default, plain missing
    with pytest.raises(TypeError, match="needs each field once"):
        lazily(Thing, {"heavy": lambda: 1}, name="t", with_default=1, plain=0, extra=1)
    with pytest.raises(TypeError, match="needs each field once"):
        lazily(Thing, {"plain": lambda: 1}, name="t", heavy=1, with_default=1)
    with pytest.raises(TypeError, match="has no field 'nope'"):
        may_wait("nope")(Thing)


def test_a_mistyped_attribute_is_still_an_attribute_error():
    thing = lazily(Thing, {"heavy": lambda: 1, "with_default": lambda: 2}, name="t", plain=0)
    with pytest.raises(AttributeError, match="'Thing' object has no attribute 'haevy'"):
        getattr(thing, "haevy")  # noqa: B009


def test_threads_reading_a_pending_field_at_once_all_get_its_value():
    barrier = threading.Barrier(8)

    def make() -> Any:
        barrier.wait(timeout=5)  # every thread is inside the computation at once
        return {"same": True}

    thing = lazily(Thing, {"heavy": make, "with_default": lambda: 0}, name="t", plain=0)
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(thing.heavy)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert seen == [{"same": True}] * 8 and thing.heavy == {"same": True}
