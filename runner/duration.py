"""Durations: a number of seconds, or text like `30s`, `5m`, `1h30m`, `250ms`."""

from __future__ import annotations

import math
import re
from typing import Any

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds; raise ValueError naming the accepted forms (`value` may be anything a user
    wrote: a list or a mapping is refused like bad text)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("expected a duration like 30s, 5m or a number of seconds")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite duration, got {value}")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = value.strip().replace(" ", "")
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return parse_duration(number)
    pos, total = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise ValueError(f"expected a duration like 30s, 5m, 1h30m or a number of seconds, "
                         f"got {shown!r}")
    return total
