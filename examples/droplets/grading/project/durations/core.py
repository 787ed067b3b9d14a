"""Parse and format durations such as "45s", "5m" or "2h"."""

from __future__ import annotations

UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> int:
    """The number of seconds in a duration such as "90s", "5m" or "2h" (a bare number is
    seconds)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    number, unit = text[:-1], text[-1]
    return int(number) * UNITS[unit]


def format_duration(seconds: int) -> str:
    """A duration as text that parse_duration reads back."""
    return f"{seconds}s"
