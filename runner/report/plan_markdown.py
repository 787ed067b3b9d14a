"""The plan as a pull-request comment (GitHub-flavoured Markdown): the summary line, a table
of changes with their reasons, destroys called out above it, the settings that change in a
collapsed section, and the whole cut to fit one GitHub comment with a note saying what was cut.

It renders the same (already redacted) `Plan` value as the text output."""

from __future__ import annotations

import re
from typing import Any

from runner.plan import Change, Plan
from runner.report.plan_text import setting_changes, show_value, summary_line
from runner.vocabulary import Action

GITHUB_COMMENT_LIMIT = 65_536  # characters GitHub accepts in one comment or issue body
MARKER_ROOM = 256              # kept free for the line a comment script adds to find its comment
LIMIT = GITHUB_COMMENT_LIMIT - MARKER_ROOM
CELL_LIMIT = 400
OPEN_DETAILS_LINES = 30        # fewer lines than this are shown open, more are collapsed
CALLOUT_ADDRESSES = 20
SEE_ALL = "the saved plan has everything: `taskform show PLANFILE`"


def render_markdown(plan: Plan, *, limit: int = LIMIT, title: str = "taskform plan") -> str:
    """The comment body, at most `limit` characters."""
    head = f"### {title}\n\n"
    changes = plan.actionable
    if not changes:
        count = plan.counts()["no-op"]
        matches = "resource matches" if count == 1 else "resources match"
        return head + f"**No changes.** {count} {matches} the specs.\n"
    head += f"**{summary_line(plan)}**\n\n" + _callout(changes)
    rows = [_row(c) for c in changes]
    details = _details(changes)
    body = head + _table(rows) + details
    if len(body) <= limit:
        return body
    note = (f"\n_The settings that change are left out to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-"
            f"character limit; {SEE_ALL}._\n")
    if len(head) + len(_table(rows)) + len(note) <= limit:
        return head + _table(rows) + note
    return _cut_rows(head, rows, limit)


def _cut_rows(head: str, rows: list[str], limit: int) -> str:
    """As many rows as fit, then a note naming how many were left out."""
    def note(left: int) -> str:
        return (f"\n_{left} more change{'s' if left != 1 else ''} and the settings that change "
                f"are left out to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-character limit; "
                f"{SEE_ALL}._\n")
    kept = list(rows)
    while kept and len(head) + len(_table(kept)) + len(note(len(rows) - len(kept))) > limit:
        kept.pop()
    text = head + (_table(kept) if kept else "") + note(len(rows) - len(kept))
    return text[:limit]


def _callout(changes: list[Change]) -> str:
    """Destroys (and replacements, which destroy first) above everything else."""
    lost = [c for c in changes if c.action in (Action.DESTROY, Action.REPLACE)]
    if not lost:
        return ""
    destroyed = sum(c.action is Action.DESTROY for c in lost)
    replaced = len(lost) - destroyed
    parts = [f"{n} resource{'s' if n != 1 else ''} will be {verb}"
             for n, verb in ((destroyed, "destroyed"), (replaced, "destroyed and re-created"))
             if n]
    lines = ["> [!CAUTION]", f"> **{'; '.join(parts)}:**"]
    for c in lost[:CALLOUT_ADDRESSES]:
        why = _cell(c.reasons[0]) if c.reasons else ""
        lines.append(f"> - `{_code(c.address)}` ({c.action.value}: {why})")
    if len(lost) > CALLOUT_ADDRESSES:
        lines.append(f"> - and {len(lost) - CALLOUT_ADDRESSES} more (in the table below)")
    return "\n".join(lines) + "\n\n"


def _table(rows: list[str]) -> str:
    return "| | address | kind | action | why |\n| :-: | --- | --- | --- | --- |\n" + \
        "".join(rows)


def _row(c: Change) -> str:
    why = "<br>".join(_cell(r) for r in c.reasons) or "&nbsp;"
    address, action = f"`{_code(c.address)}`", c.action.value
    if c.action in (Action.DESTROY, Action.REPLACE):
        address, action = f"**{address}**", f"**{action}**"
    return f"| `{c.action.symbol}` | {address} | {_cell(c.kind)} | {action} | {why} |\n"


def _details(changes: list[Change]) -> str:
    lines: list[str] = []
    for c in changes:
        settings = _setting_lines(c)
        if settings:
            lines.append(f"{c.action.symbol} {c.address}  ({c.kind}, {c.action.value})")
            lines.extend(settings)
    if not lines:
        return ""
    text = "\n".join(lines)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    opened = " open" if len(lines) < OPEN_DETAILS_LINES else ""
    return (f"\n<details{opened}><summary>Settings that change ({len(lines)} lines)</summary>\n\n"
            f"{fence}diff\n{text}\n{fence}\n\n</details>\n")


def _setting_lines(c: Change) -> list[str]:
    out = []
    for key, before, after in setting_changes(c):
        if c.action is Action.CREATE:
            out.append(f"+     {key} = {show_value(after)}")
        else:
            if before is not None:
                out.append(f"-     {key}: {show_value(before)}")
            if after is not None:
                out.append(f"+     {key}: {show_value(after)}")
    return out


def _cell(value: Any) -> str:
    """Text for a table cell: no line breaks, pipes escaped, no HTML a spec could inject."""
    text = str(value)
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _code(text: str) -> str:
    """Text inside a code span in a table: backticks cannot close it early, pipes escaped."""
    return text.replace("`", "'").replace("|", "\\|")
