"""The plan for people: `+ create`, `~ update`, `-/+ replace`, `- destroy`, with reasons."""

from __future__ import annotations

import json
import os
from typing import Any

from runner.plan import Change, Plan
from runner.vocabulary import UNKNOWN, Action

COLORS = {Action.CREATE: "32", Action.UPDATE: "33", Action.REPLACE: "35", Action.DESTROY: "31"}
VALUE_WIDTH = 100


def use_color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _paint(text: str, code: str | None, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color and code else text


def show_value(value: Any) -> str:
    if value is UNKNOWN:
        return "(known after apply)"
    text = json.dumps(value, default=lambda v: "(known after apply)" if v is UNKNOWN else str(v),
                      ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."


def render_plan(plan: Plan, color: bool = False, verb: str = "") -> str:
    changes = plan.actionable
    counts = plan.counts()
    notes = notes_lines(plan)
    if not changes:
        one = counts["no-op"] == 1
        return "".join(line + "\n" for line in notes) + (
            f"No changes. {counts['no-op']} resource{'' if one else 's'} "
            f"match{'es' if one else ''} the specs.\n")
    lines = [*notes, "taskform will perform these actions:", ""]
    for change in changes:
        lines.extend(_change_lines(change, color))
    lines.append("")
    lines.append(summary_line(plan, color))
    return "\n".join(lines) + "\n"


def notes_lines(plan: Plan) -> list[str]:
    """What the real world showed that changes nothing (a shared tag someone else moved)."""
    noted = plan.noted
    if not noted:
        return []
    lines = ["Notes (nothing to change for these):"]
    for change in noted:
        lines.extend(f"  {change.address}: {note}" for note in change.notes)
    return [*lines, ""]


def _change_lines(change: Change, color: bool) -> list[str]:
    code = COLORS.get(change.action)
    head = f"{change.action.symbol} {change.address}"
    lines = [f"  {_paint(head, code, color)}  ({change.kind}, {change.action.value})"]
    for reason in change.reasons:
        lines.append(f"      # {reason}")
    for key, before, after in setting_changes(change):
        if change.action is Action.CREATE:
            lines.append(f"      {key} = {show_value(after)}")
        else:
            lines.append(f"      {key}: {show_value(before)} -> {show_value(after)}")
    return lines


def setting_changes(change: Change) -> list[tuple[str, Any, Any]]:
    """(key, before, after) of each setting the change sets or changes; before is None when
    created, after None when a setting goes away."""
    if change.action is Action.DESTROY:
        return []
    if not isinstance(change.after, dict):
        before_value = None if change.action is Action.CREATE else change.before
        same = before_value == change.after and change.after is not UNKNOWN
        return [] if same else [("settings", before_value, change.after)]
    before = change.before if isinstance(change.before, dict) else {}
    after = change.after
    if change.action is Action.CREATE:
        return [(k, None, v) for k, v in after.items()]
    return [(k, before.get(k), v) for k, v in after.items() if v is UNKNOWN or before.get(k) != v] \
        + [(k, v, None) for k, v in before.items() if k not in after]


def summary_line(plan: Plan, color: bool = False) -> str:
    c = plan.counts()
    parts = [f"{c['create']} to create", f"{c['update']} to update", f"{c['replace']} to replace",
             f"{c['destroy']} to destroy"]
    return f"{_paint('Plan:', '1', color)} {', '.join(parts)}, {c['no-op']} unchanged."
