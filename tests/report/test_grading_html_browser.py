"""The HTML report opened in a real headless browser (Debian's chromium): the matrix renders
with the right statuses, a cell's link opens its output, and a screenshot is saved under
artifacts/ for people to look at."""

from __future__ import annotations

import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from grading_records import commit_grading

from runner.report.grading_html import render_html
from runner.rubric.results import matrices
from runner.rubric.score import ValidateSettings
from runner.state.sqlite import SqliteState

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TABLE = {"solution1": "PPP", "solution2": "PFF", "solution3": "EEE", "golden": "PPP",
         "original": "FFT"}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                                         "(bash scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """The report of a 3 × 5 grading, written under artifacts/ next to its screenshot."""
    state = SqliteState(tmp_path_factory.mktemp("state") / "state.db")
    commit_grading(state, "pipeline.durations.grade", TABLE, validate=ValidateSettings())
    html = render_html(matrices(state.records()), generated_at="2025-06-01 12:00:00 UTC",
                       workspace="/srv/tasks")
    state.close()
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "grading-report.html"
    path.write_text(html)
    return path


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=180)


class _Dom(HTMLParser):
    """The rendered matrix: statuses per criterion row, verdicts, and which outputs are open."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[tuple[str, str]]] = {}
        self.verdicts: dict[str, str] = {}
        self.open_outputs: list[str] = []
        self.outputs = 0
        self._row: str | None = None
        self._verdict: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("data-criterion"):
            self._row = a["data-criterion"]
            self.rows[self._row] = []
        elif tag == "td" and self._row and a.get("data-status"):
            self.rows[self._row].append((a.get("data-solution") or "", a["data-status"] or ""))
        elif tag == "td" and (a.get("class") or "").startswith("verdict-"):
            self._verdict = a.get("data-solution")
        elif tag == "details" and "output" in (a.get("class") or ""):
            self.outputs += 1
            if "open" in a:
                self.open_outputs.append(a.get("id") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._verdict and data.strip():
            self.verdicts[self._verdict] = data.strip()
            self._verdict = None


def dom(tmp_path: Path, url: str) -> _Dom:
    proc = chromium(tmp_path, "--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    parsed = _Dom()
    parsed.feed(proc.stdout)
    return parsed


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
