"""A real headless browser (Debian's chromium) for the HTML report tests: the page's DOM after
its scripts ran, and screenshots saved as test artifacts."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                                             "(bash scripts/setup.sh installs it)")


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
        self.test_rows: dict[str, int] = {}  # the tests' outcomes shown in the outputs
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
        elif tag == "tr" and (a.get("class") or "").startswith("test "):
            outcome = (a.get("class") or "").split()[1]
            self.test_rows[outcome] = self.test_rows.get(outcome, 0) + 1
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
