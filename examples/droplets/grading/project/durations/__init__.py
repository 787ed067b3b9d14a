"""Durations written the way people write them: "90s", "5m", "1h30m"."""

from durations.core import format_duration, parse_duration

__all__ = ["format_duration", "parse_duration"]
