"""Grading reports as text: the criteria × solutions matrix for a terminal, Markdown (pull
requests, CI summaries) and JSON. Pure: they render GradingMatrix values."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from runner.rubric.evidence.model import headline
from runner.rubric.model import format_score
from runner.rubric.results import Cell, CriterionInfo, GradingMatrix
from runner.rubric.score import ORIGINAL
from runner.rubric.status import Status
from runner.state.base import Record

COLORS = {Status.PASS: "32", Status.FAIL: "31", Status.TIMEOUT: "33", Status.ERROR: "35"}
EMOJI = {Status.PASS: "✅", Status.FAIL: "❌", Status.TIMEOUT: "⏱️", Status.ERROR: "⚠️"}
ID_WIDTH = 28
ABOUT_WIDTH = 32  # characters of a criterion's text in the table
TESTS_SHOWN = 3  # failing tests listed per cell in the table and Markdown
MESSAGE_SHOWN = 160  # characters of a failing test's message there


def seconds(value: float) -> str:
    """`0.12s`, `3.4s`, `2m05s`: short durations for a matrix cell."""
    if value < 1:
        return f"{value:.2f}s"
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes}m{rest:02d}s"


def short_id(criterion: CriterionInfo) -> str:
    text = criterion.id
    return text if len(text) <= ID_WIDTH else text[:ID_WIDTH - 1] + "…"


def label(criterion: CriterionInfo) -> str:
    """How a criterion is named in lists: `#2 rejects-garbage`."""
    prefix = f"#{criterion.counter} " if criterion.counter else ""
    return prefix + short_id(criterion)


def about(criterion: CriterionInfo, width: int = ABOUT_WIDTH) -> str:
    """The criterion in words: its text's first line, shortened; else its title."""
    text = " ".join(criterion.text.split()) or criterion.title
    return text if len(text) <= width else text[:width - 1] + "…"


def failed_test_lines(cell: Cell, indent: str = "      ") -> list[str]:
    """`✗ <test id>: <last line of its message>` for the first failing tests of a cell."""
    shown = cell.failed_tests[:TESTS_SHOWN]
    lines = []
    for test in shown:
        message = headline(str(test.get("message") or ""))
        if len(message) > MESSAGE_SHOWN:
            message = message[:MESSAGE_SHOWN - 1] + "…"
        lines.append(f"{indent}✗ {test.get('id')}" + (f": {message}" if message else ""))
    if len(cell.failed_tests) > len(shown):
        lines.append(f"{indent}  ... and {len(cell.failed_tests) - len(shown)} more")
    return lines


def cell_text(cell: Cell | None) -> str:
    if cell is None or cell.status is None:
        return "-"
    return f"{cell.status}{'*' if cell.flaky else ''} {seconds(cell.seconds)}"


def not_passed(matrix: GradingMatrix) -> list[tuple[CriterionInfo, str, Cell]]:
    """Graded cells that did not pass, criterion by criterion; the original's FAIL and TIMEOUT
    are left out, being what an unsolved task is expected to do."""
    out = []
    for c in matrix.criteria:
        for s in matrix.solutions:
            cell = matrix.cell(c.id, s)
            if cell is None or cell.status in (None, Status.PASS):
                continue
            if s == ORIGINAL and cell.status in (Status.FAIL, Status.TIMEOUT):
                continue
            out.append((c, s, cell))
    return out


def _required_failed(matrix: GradingMatrix, solution: str) -> str:
    ids = matrix.score(solution).required_failed
    by_id = {c.id: c for c in matrix.criteria}
    return ", ".join(f"#{by_id[i].counter}" if by_id[i].counter else i for i in ids) or "-"


def summary(matrix: GradingMatrix) -> str:
    return (f"{len(matrix.criteria)} criteria × {len(matrix.solutions)} solutions"
            + (f" · rubric {matrix.rubric_source}" if matrix.rubric_source else ""))


def gate_lines(matrix: GradingMatrix) -> list[str]:
    if matrix.gates is None:
        return []
    if matrix.gates.ok:
        return [f"Gates: passed ({matrix.gates_checked})"]
    return ["Gates: FAILED"] + [f"  - {m}" for m in matrix.gates.messages]


# -- table ----------------------------------------------------------------------------------

def render_table(matrices: Sequence[GradingMatrix], color: bool = False) -> str:
    return "\n".join(_table(m, color) for m in matrices)


def _table(matrix: GradingMatrix, color: bool) -> str:
    sols = matrix.solutions
    body = [[str(c.counter or ""), short_id(c), about(c), format_score(c.score),
             "yes" if c.required else "no", *(cell_text(matrix.cell(c.id, s)) for s in sols)]
            for c in matrix.criteria]
    foot = [["", "score", "", "", "", *(f"{format_score(x.earned)}/{format_score(x.total)}"
                                         for x in matrix.scores)],
            ["", "required failed", "", "", "", *(_required_failed(matrix, s) for s in sols)],
            ["", "verdict", "", "", "", *(x.verdict for x in matrix.scores)],
            ["", "time", "", "", "", *(seconds(_solution_seconds(matrix, s)) for s in sols)]]
    head = ["#", "criterion", "about", "points", "req", *sols]
    widths = [max(len(row[i]) for row in [head, *body, *foot]) for i in range(len(head))]
    lines = [f"{matrix.address}  ({summary(matrix)})", ""]
    lines += [_row(row, widths, color) for row in [head, *body]] + [""]
    lines += [_row(row, widths, False) for row in foot]
    if any(cell.flaky for cell in matrix.cells.values()):
        lines.append("  * flaky: the result changed across repeats")
    failures = not_passed(matrix)
    if failures:
        lines += ["", "Not passed:"]
        for c, s, cell in failures:
            lines.append(f"  {label(c)} × {s}: {cell.status} — {cell.reason}")
            lines += failed_test_lines(cell)
    if matrix.gates is not None:
        lines += [""] + gate_lines(matrix)
    if matrix.step_status == "failed" and matrix.step_error:
        lines += ["", f"{matrix.address} failed: {matrix.step_error.splitlines()[0]}"]
    return "\n".join(lines) + "\n"


def _solution_seconds(matrix: GradingMatrix, solution: str) -> float:
    cells = (matrix.cell(c.id, solution) for c in matrix.criteria)
    return sum(cell.seconds for cell in cells if cell is not None)


def _row(row: list[str], widths: list[int], color: bool) -> str:
    return "  " + "  ".join(_pad(v, widths[i], i, color) for i, v in enumerate(row)).rstrip()


def _pad(value: str, width: int, column: int, color: bool) -> str:
    text = value.rjust(width) if column in (0, 3) else value.ljust(width)
    status = value.split(" ")[0].rstrip("*")
    if color and column >= 5 and status in Status.__members__:
        return f"\033[{COLORS[Status(status)]}m{text}\033[0m"
    return text


# -- markdown -------------------------------------------------------------------------------

def render_markdown(matrices: Sequence[GradingMatrix]) -> str:
    return "\n".join(_markdown(m) for m in matrices)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_cell(cell: Cell | None) -> str:
    if cell is None or cell.status is None:
        return "—"
    return f"{EMOJI[cell.status]} {cell.status}{' (flaky)' if cell.flaky else ''} " \
           f"{seconds(cell.seconds)}"


def _markdown(matrix: GradingMatrix) -> str:
    sols = matrix.solutions
    lines = [f"## {_md(matrix.address)}", "", summary(matrix), "",
             "| # | criterion | about | points | required | " + " | ".join(map(_md, sols))
             + " |", "|---:|---|---|---:|:---:|" + ":---:|" * len(sols)]
    for c in matrix.criteria:
        cells = " | ".join(_md_cell(matrix.cell(c.id, s)) for s in sols)
        lines.append(f"| {c.counter or ''} | {_md(short_id(c))} | {_md(about(c, 80))} | "
                     f"{format_score(c.score)} | {'yes' if c.required else 'no'} | {cells} |")
    verdicts = {"pass": "✅ pass", "fail": "❌ fail", "incomplete": "… incomplete"}
    lines += [
        "| | **score** | | | | " + " | ".join(f"**{format_score(sc.earned)}/"
                                                f"{format_score(sc.total)}**"
                                                for sc in matrix.scores) + " |",
        "| | **required failed** | | | | " + " | ".join(_required_failed(matrix, s)
                                                       for s in sols) + " |",
        "| | **verdict** | | | | " + " | ".join(verdicts[sc.verdict]
                                               for sc in matrix.scores) + " |"]
    if matrix.gates is not None:
        lines += [""] + (["**Gates:** ✅ passed"] if matrix.gates.ok else
                         ["**Gates:** ❌ failed", ""] + [f"- {m}" for m in matrix.gates.messages])
    for c, s, cell in not_passed(matrix):
        fence = "`" * max(3, _longest_backticks(cell.output) + 1)
        mark = EMOJI[cell.status] if cell.status else ""
        tests = [f"- {_md(line.strip())}" for line in failed_test_lines(cell, "")]
        lines += ["", f"<details><summary>{_html(label(c))} × {_html(s)}: {mark} {cell.status} — "
                      f"{_html(cell.reason)}</summary>", "", *tests, *([""] if tests else []),
                  f"{fence}text", cell.output.rstrip("\n") or "(no output)", fence, "",
                  "</details>"]
    return "\n".join(lines) + "\n"


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- json -----------------------------------------------------------------------------------

def render_json(matrices: Sequence[GradingMatrix]) -> str:
    return json.dumps({"gradings": [matrix_dict(m) for m in matrices]}, indent=2,
                      ensure_ascii=False) + "\n"


def matrix_dict(matrix: GradingMatrix) -> dict[str, Any]:
    """Everything the report knows, for machines: every cell with its output."""
    return {
        "address": matrix.address, "rubric_source": matrix.rubric_source,
        "criteria": [c.__dict__ for c in matrix.criteria], "solutions": list(matrix.solutions),
        "cells": [_cell_dict(cell) for c in matrix.criteria for s in matrix.solutions
                  if (cell := matrix.cell(c.id, s)) is not None],
        "scores": {sc.solution: sc.to_dict() for sc in matrix.scores},
        "gates": matrix.gates.to_dict() if matrix.gates else None,
        "step_status": matrix.step_status, "step_error": matrix.step_error,
        "seconds": matrix.seconds}


def _cell_dict(cell: Cell) -> dict[str, Any]:
    data = {**cell.__dict__, "status": str(cell.status) if cell.status else None,
            "repeats": [str(r) for r in cell.repeats], "flaky": cell.flaky,
            "tests": [dict(t) for t in cell.tests]}
    return data


def apply_summary(records: Mapping[str, Record], finished: Sequence[str], color: bool) -> str:
    """After an apply: the criteria × solutions matrix of every rubric step it graded (a
    grading or the step itself finished)."""
    from runner.address import parse_address
    from runner.rubric.results import CHILD_KIND, matrices

    graded = set()
    for address in finished:
        record = records.get(address)
        if record is not None and record.kind == CHILD_KIND and record.parent:
            graded.add(record.parent)
        else:
            graded.add(str(parse_address(address)))
    shown = [m for m in matrices(records) if m.address in graded]
    return render_table(shown, color=color) if shown else ""
