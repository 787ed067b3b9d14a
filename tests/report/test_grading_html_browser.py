"""The HTML report opened in a real headless browser (Debian's chromium): the matrix renders
with the right statuses, a cell's link opens its output, and a screenshot is saved under
artifacts/ for people to look at."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from browser import ARTIFACTS, chromium, dom, needs_chromium
from grading_records import commit_grading

from runner.report.grading_html import render_html
from runner.rubric.results import matrices
from runner.rubric.score import ValidateSettings
from runner.state import open_state
from runner.workspace import Workspace, WorkspaceConfig

TABLE = {"solution1": "PPP", "solution2": "PFF", "solution3": "EEE", "golden": "PPP",
         "original": "FFT"}

pytestmark = [needs_chromium, pytest.mark.slow]  # a real browser: seconds a test


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """The report of a 3 × 5 grading, written under artifacts/ next to its screenshot."""
    state = open_state(Workspace(root=tmp_path_factory.mktemp("state"), config=WorkspaceConfig()))
    commit_grading(state, "pipeline.durations.grade", TABLE, validate=ValidateSettings())
    html = render_html(matrices(state.records()), generated_at="2025-06-01 12:00:00 UTC",
                       workspace="/srv/tasks")
    state.close()
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "grading-report.html"
    path.write_text(html)
    return path


def test_the_matrix_renders_in_a_real_browser(page, tmp_path):
    rendered = dom(tmp_path, page.as_uri())
    grid = {criterion: "".join(status[0] for _, status in cells)
            for criterion, cells in rendered.rows.items()}
    assert grid == {"compound-units": "PPEPF", "rejects-garbage": "PFEPF",
                    "whitespace": "PFEPT"}
    assert [s for s, _ in rendered.rows["whitespace"]] == list(TABLE)
    assert rendered.verdicts == {"solution1": "pass", "solution2": "fail", "solution3": "fail",
                                 "golden": "pass", "original": "fail"}
    assert rendered.outputs == 15 and rendered.open_outputs == []
    assert rendered.test_rows == {"failed": 4}  # each failing cell's failing test, in its output


def test_a_cell_link_opens_its_output(page, tmp_path):
    # row 2 (rejects-garbage), column 2 (solution2): the cell's link is #g0-c1-s1
    rendered = dom(tmp_path, page.as_uri() + "#g0-c1-s1")
    assert rendered.open_outputs == ["g0-c1-s1"]


def test_a_screenshot_is_saved_as_an_artifact(page, tmp_path):
    shot = ARTIFACTS / "grading-report.png"
    shot.unlink(missing_ok=True)
    proc = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 2000)
