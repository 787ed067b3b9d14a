"""The HTML report a rubric step writes during apply (`report:`): the same page `taskform
report --format html -o` renders from the state, so its secrets are masked the same way."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.redact import Redactor


def write_step_report(path: Path, *, address: str, kind: str, outputs: dict[str, Any],
                      cells: Mapping[str, Any], failed: bool, workspace: str,
                      secrets: Sequence[str]) -> None:
    """Render one step's page from the outputs it is about to record and write it whole."""
    from runner.report.grading_html import render_step

    # this run's outputs are not redacted yet (the state stores them redacted)
    redact = Redactor(list(secrets)).value
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    html = render_step(address, kind, redact(outputs),
                       {a: redact(out) for a, out in cells.items()}, failed=failed,
                       generated_at=now, workspace=workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)  # a reader never sees half a page
