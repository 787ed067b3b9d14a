"""The grading report as one self-contained HTML page, from the Jinja2 template in
`templates/report/`: the matrix with status badges, scores, gates, and every cell's output in
an expandable block the cell links to."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner.report.grading import about, label, not_passed, seconds, short_id, summary
from runner.rubric.model import format_score
from runner.rubric.results import Cell, CriterionInfo, GradingMatrix
from runner.rubric.script import PHASES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "report"
TEMPLATE = "grading.html.j2"


def render_html(matrices: Sequence[GradingMatrix], *, generated_at: str,
                workspace: str = "") -> str:
    """The page; `generated_at` is passed in so rendering stays a pure function."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    title = "Grading report" + (f": {matrices[0].address}" if len(matrices) == 1 else "")
    return env.get_template(TEMPLATE).render(
        title=title, generated_at=generated_at, workspace=workspace,
        matrices=[_view(n, m) for n, m in enumerate(matrices)])


def render_step(address: str, kind: str, outputs: dict[str, Any], cells: dict[str, Any], *,
                failed: bool, generated_at: str, workspace: str = "") -> str:
    """The page of one rubric step from the outputs it is about to record (its own and its
    gradings'), before the state holds them."""
    from runner.rubric.results import CHILD_KIND, matrices
    from runner.state.base import Record

    def record(at: str, kind: str, out: dict[str, Any], status: str = "ok") -> Record:
        return Record(address=at, kind=kind, status=status, fingerprint={}, settings=None,
                      outputs=out, error="validation gates failed" if status == "failed" else None)

    records = {at: record(at, CHILD_KIND, out) for at, out in cells.items()}
    records[address] = record(address, kind, outputs, "failed" if failed else "ok")
    return render_html(matrices(records), generated_at=generated_at, workspace=workspace)


def _anchor(n: int, ci: int, si: int) -> str:
    return f"g{n}-c{ci}-s{si}"


def _view(n: int, matrix: GradingMatrix) -> dict[str, Any]:
    rows = []
    for ci, c in enumerate(matrix.criteria):
        cells = [_cell(matrix.cell(c.id, s), s, _anchor(n, ci, si))
                 for si, s in enumerate(matrix.solutions)]
        rows.append({"counter": c.counter or "", "id": c.id, "text": c.text, "about": about(c, 80),
                     "points": format_score(c.score), "required": c.required, "cells": cells})
    return {"address": matrix.address, "summary": summary(matrix),
            "seconds": seconds(matrix.seconds), "gates": matrix.gates,
            "gates_checked": matrix.gates_checked,
            "step_error": matrix.step_error if matrix.step_status == "failed" else "",
            "solutions": list(matrix.solutions), "rows": rows, "scores": _scores(matrix),
            "flaky": any(cell.flaky for cell in matrix.cells.values()),
            "outputs": _outputs(n, matrix)}


def _cell(cell: Cell | None, solution: str, anchor: str) -> dict[str, Any]:
    if cell is None or cell.status is None:
        return {"solution": solution, "status": "NONE", "anchor": "",
                "reason": cell.reason if cell else "not graded", "seconds": "", "flaky": False}
    return {"solution": solution, "status": str(cell.status), "anchor": anchor,
            "reason": cell.reason, "seconds": seconds(cell.seconds), "flaky": cell.flaky}


def _scores(matrix: GradingMatrix) -> list[dict[str, Any]]:
    by_id = {c.id: c for c in matrix.criteria}
    out = []
    for score in matrix.scores:
        cells = [matrix.cell(c.id, score.solution) for c in matrix.criteria]
        out.append({"solution": score.solution, "earned": format_score(score.earned),
                    "total": format_score(score.total), "verdict": score.verdict,
                    "required_failed": ", ".join(f"#{by_id[i].counter}" if by_id[i].counter
                                                 else short_id(by_id[i])
                                                 for i in score.required_failed) or "—",
                    "seconds": seconds(sum(c.seconds for c in cells if c is not None))})
    return out


def _outputs(n: int, matrix: GradingMatrix) -> list[dict[str, Any]]:
    """Every graded cell, the ones that need a look (not passed) first."""
    first = {(c.id, s) for c, s, _ in not_passed(matrix)}
    items = []
    for ci, c in enumerate(matrix.criteria):
        for si, s in enumerate(matrix.solutions):
            cell = matrix.cell(c.id, s)
            if cell is not None and cell.status is not None:
                items.append(((c.id, s) not in first, ci, si, _output(n, ci, si, c, s, cell)))
    return [item for *_, item in sorted(items, key=lambda t: t[:3])]


def _output(n: int, ci: int, si: int, criterion: CriterionInfo, solution: str,
            cell: Cell) -> dict[str, Any]:
    order = [*PHASES, "total"]  # the state stores keys sorted; show them in the order they ran
    ordered = sorted(cell.timings.items(), key=lambda kv: order.index(kv[0])
                     if kv[0] in order else len(order))
    timings = ", ".join(f"{k} {seconds(v)}" for k, v in ordered) or seconds(cell.seconds)
    return {"anchor": _anchor(n, ci, si), "label": label(criterion), "solution": solution,
            "status": str(cell.status), "reason": cell.reason, "exit_code": cell.exit_code,
            "text": criterion.text, "timings": timings, "output": cell.output,
            "truncated": cell.output_truncated, "bytes": cell.output_bytes,
            "repeats": ", ".join(cell.repeats) if len(cell.repeats) > 1 else "",
            "finished_at": cell.finished_at, "started_at": cell.started_at,
            "cache_key": cell.cache_key, "short": short_id(criterion),
            "evidence": cell.evidence, "tests": [_test(t) for t in cell.tests]}


def _test(test: dict[str, Any]) -> dict[str, str]:
    return {"id": str(test.get("id", "")), "outcome": str(test.get("outcome", "")),
            "message": str(test.get("message") or "")}
