"""The live progress panel (terminal) and plain lines (logs)."""

from __future__ import annotations

import io

from rich.console import Console

from runner.report.progress import LineProgress, LiveProgress
from runner.vocabulary import Action, Outcome


def test_live_panel_counts_and_slowest_running():
    out = io.StringIO()
    progress = LiveProgress(Console(file=out, force_terminal=True, width=100, no_color=True))
    progress.total = 5
    progress.began("pipeline.p.slow", Action.CREATE)
    progress.began("pipeline.p.fast", Action.UPDATE)
    progress.log("pipeline.p.slow", "compiling step 3 of 9")
    progress.finished(Outcome("pipeline.p.done", Action.CREATE, "done", seconds=1.0))
    progress.finished(Outcome("pipeline.p.bad", Action.CREATE, "failed", message="boom"))
    text = Console(file=io.StringIO(), width=100)
    with text.capture() as captured:
        text.print(progress._render())
    lines = [line.rstrip() for line in captured.get().splitlines()]
    assert lines[0] == "2/5 finished: 1 done, 1 failed, 2 running"
    assert lines[1].startswith("  creating pipeline.p.slow [0s]  compiling step 3 of 9")
    assert lines[2].startswith("  updating pipeline.p.fast [0s]")


def test_line_progress_shows_failure_output_tail():
    out = io.StringIO()
    progress = LineProgress(out)
    body = "\n".join(f"line {i}" for i in range(30))
    progress.finished(Outcome("pipeline.p.x", Action.CREATE, "failed", seconds=0.0,
                              message="command exited with code 1", output=body))
    lines = out.getvalue().splitlines()
    assert lines[0] == "pipeline.p.x: FAILED: command exited with code 1"
    assert lines[1] == "  | ... (10 earlier lines in `taskform state show pipeline.p.x`)"
    assert lines[2] == "  | line 10" and lines[-1] == "  | line 29"
