"""What rendering templates may cost: time and the size of what they make.

A template in a spec is code from whoever wrote the spec, and `plan` runs on other people's pull
requests. Jinja2 cannot be interrupted from outside, so the sandbox (`runner.spec.sandbox`)
calls `tick()` at every loop step, call, attribute, operator and output chunk, and `sized()`
on what operators, filters and methods make; both raise `BudgetExceeded` once a limit is
passed. The meter of the rendering in progress is found through a context variable because
Jinja2 calls those hooks without any argument of ours.
"""

from __future__ import annotations

import os
import resource
import time
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

RENDER_SECONDS = 1.0  # one template
OUTPUT_CHARS = 1 << 20  # what one template makes, and any text or list made on the way
TOTAL_SECONDS = 10.0  # every template of one load, or of one plan or apply
TOTAL_CHARS = 64 << 20
INT_BITS = 100_000  # about 30000 digits: far more than any spec needs, far less than a hang
RENDER_MEMORY_MB = 64  # growth of the process's memory while one template renders
_CLOCK_EVERY = 8  # ticks between looks at the clock
_MEMORY_EVERY = 16  # ticks between looks at the memory (a read of /proc)


class BudgetExceeded(Exception):
    """A template passed a limit; the message says which."""


@dataclass
class Budget:
    """What the templates of one load (or one plan) may still spend altogether."""

    seconds: float = TOTAL_SECONDS  # what is left
    chars: int = TOTAL_CHARS
    render_seconds: float = RENDER_SECONDS  # for one template

    def __post_init__(self) -> None:
        self.limits = (self.seconds, self.chars)

    def rendering(self) -> _Rendering:
        """Meter one template's rendering (a `with` block); what it spent is taken from the
        budget."""
        if self.seconds <= 0:
            raise BudgetExceeded(self.total())
        return _Rendering(self)

    def total(self) -> str:
        return f"the templates of this run took more than {self.limits[0]:g}s altogether"

    def spend(self, chars: int) -> None:
        """Count `chars` of rendered output against the budget."""
        self.chars -= chars
        if self.chars < 0:
            raise BudgetExceeded(f"the templates of this run made more than {self.limits[1]} "
                                 "characters altogether")


class _Rendering:
    # a class, not @contextmanager: it runs for every template, and costs a third as much
    def __init__(self, budget: Budget):
        self.budget = budget
        self.started = 0.0
        self.token: Token[_Meter | None] | None = None

    def __enter__(self) -> None:
        budget = self.budget
        self.started = started = time.monotonic()
        self.token = _current.set(_Meter(started + min(budget.render_seconds, budget.seconds),
                                         budget.seconds < budget.render_seconds, budget,
                                         budget.render_seconds))

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _current.reset(self.token)
        self.budget.seconds -= time.monotonic() - self.started


@dataclass
class _Meter:
    deadline: float
    short: bool  # the whole budget had less left than one template may take
    budget: Budget
    render_seconds: float
    ticks: int = 0
    # the process's memory at the first look: most templates never tick often enough to
    # need one, and a look costs tens of microseconds
    resident_kib: int | None = None


def _resident_kib() -> int:
    """The process's resident memory now; where /proc is missing, its peak so far (which
    sees growth only past an earlier peak)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_KIB
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


_current: ContextVar[_Meter | None] = ContextVar("taskform_template_meter", default=None)


def tick() -> None:
    """Raise BudgetExceeded when the rendering in progress is past its deadline."""
    meter = _current.get()
    if meter is None:
        return
    meter.ticks += 1
    if meter.ticks % _CLOCK_EVERY:
        return  # a tick is a step of a loop, a call, an attribute: each is far below a second
    # what a template appends to a captured block passes no hook of ours; the clock alone
    # would let it fill memory for a whole second, so the memory is looked at as well
    if meter.ticks % _MEMORY_EVERY == 0:
        now = _resident_kib()
        if meter.resident_kib is None:
            meter.resident_kib = now
        elif now - meter.resident_kib > RENDER_MEMORY_MB * 1024:
            raise BudgetExceeded(f"the template used more than {RENDER_MEMORY_MB} MB of memory, "
                                 "the limit for one template")
    if time.monotonic() > meter.deadline:
        if meter.short:
            raise BudgetExceeded(meter.budget.total())
        raise BudgetExceeded(f"the template took more than {meter.render_seconds:g}s, the limit "
                             "for one template")


def sized(value: Any, what: str = "a value") -> Any:
    """`value`, unless it is text or a collection larger than a template may make."""
    if isinstance(value, (str, list, tuple, dict)) and len(value) > OUTPUT_CHARS:
        raise too_large(what)
    return value


def check_size(size: int, what: str) -> None:
    """Refuse an operation before it runs, from the size it would make."""
    if size > OUTPUT_CHARS:
        raise too_large(what)


def too_large(what: str) -> BudgetExceeded:
    return BudgetExceeded(f"{what} would be larger than {OUTPUT_CHARS} characters or items, "
                          "the limit in a template")
