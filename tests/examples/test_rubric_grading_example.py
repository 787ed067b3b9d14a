"""examples/rubric-grading graded for real in a locked-down pool, exactly as its README says;
the HTML report it writes opened in a real headless browser; and the repository's default
workspace (the README's main command) grading the same example end to end, and the task it
generates in the same run (specs/task-grading.yaml)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from browser import ARTIFACTS, chromium, dom, needs_chromium
from docker_fixtures import DockerWorkspace, clean
from grading_workspace import processes, statuses

from tests.conftest import subprocess_env

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "rubric-grading"
STEP = "pipeline.rubric-grading.grade"
TASK_STEP = "pipeline.task-grading.grade"  # grades the task specs/content.yaml generates
MARKS = {"PASS": "P", "FAIL": "F", "ERROR": "E", "TIMEOUT": "T"}


def readme_rows(marker: str) -> list[list[str]]:
    text = (EXAMPLE / "README.md").read_text()
    block = text.split(f"<!-- {marker}")[1].split("<!-- end")[0]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def readme_scores() -> dict[str, tuple[str, str, str]]:
    text = (EXAMPLE / "README.md").read_text()
    block = text.split("| solution | score |")[1].split("\n\n")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()[2:]]
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_the_example_validates(ws):
    result = ws.cli("-C", str(EXAMPLE), "validate")
    assert result.output == "Valid: 1 document, 3 resources in 1 file.\n"


def test_the_default_workspace_grades_the_same_pipeline():
    """specs/grading.yaml is the example's spec with paths from the repository root."""
    example = (EXAMPLE / "specs" / "grading.yaml").read_text()
    root = (REPO / "specs" / "grading.yaml").read_text()

    def steps(text: str) -> str:
        body = text[text.index("apiVersion"):]
        body = body.replace("context: examples/rubric-grading", "context: .")
        body = body.replace("        task_dir: examples/rubric-grading\n", "")
        body = re.sub(r"image_tag: \S+", "image_tag: T", body)
        return re.sub(r"report: \S+", "report: R", body)
    assert steps(root) == steps(example)


def copy_example(tmp_path: Path, tag: str) -> Path:
    root = tmp_path / "rubric-grading"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".taskform", "reports"))
    spec = root / "specs" / "grading.yaml"
    spec.write_text(spec.read_text().replace("taskform/rubric-grading:example", tag))
    return root


@pytest.fixture
def example(tmp_path, docker_client, ws):
    ws.root = copy_example(tmp_path, f"tf-test-example-{uuid.uuid4().hex[:8]}:latest")
    dws = DockerWorkspace(ws, docker_client)
    try:
        yield dws
    finally:
        clean(docker_client, dws)


@pytest.mark.docker
def test_the_example_grades_to_the_readme_matrix(example):
    result = example.apply()
    found = statuses(example, STEP)
    expected = {(row[1], solution): status
                for row in readme_rows("expected-matrix")
                for solution, status in zip(("solution1", "solution2", "solution3", "golden",
                                             "original"), row[4:], strict=True)}
    assert found == expected
    scores = example.outputs(STEP)["scores"]
    counters = {c["id"]: c["counter"]
                for c in example.outputs(STEP)["rubric"]["criteria"]}
    shown = {s: (f"{v['earned']:g}/{v['total']:g}",
                 ", ".join(f"#{counters[c]}" for c in v["required_failed"]) or "—", v["verdict"])
             for s, v in scores.items()}
    assert shown == readme_scores()
    assert example.outputs(STEP)["gates"]["ok"] is True
    assert "Complete: 32 created, 0 updated, 0 replaced, 0 destroyed." in result.output
    assert f"{STEP}  (5 criteria × 5 solutions · rubric TASK_DATA.md)" in result.output
    assert ("  #2 rejects-garbage × solution2: FAIL — 1 of 1 tests failed: tests.test_held_out."
            "Garbage.test_not_durations_raise_value_error (AssertionError: ValueError not "
            "raised)\n") in result.output
    assert processes(example) == {c.name: [] for c in example.labelled("containers")}
    assert example.plan_lines() == ["No changes. 32 resources match the specs."]
    report = example.root / "reports" / "grading.html"
    assert report.is_file() and example.outputs(STEP)["report"]["path"] == "reports/grading.html"
    report.unlink()
    assert example.plan_lines()[:2] == [f"  ~ {STEP}  (rubric_set, update)",
                                        "      # report reports/grading.html is missing"]
    example.apply()
    assert report.is_file()
    assert example.cli("destroy", "-auto-approve").exit_code == 0
    assert not report.exists() and example.labelled("containers") == []


@pytest.mark.docker
@needs_chromium
def test_the_report_of_a_real_grading_renders_in_a_browser(example, tmp_path):
    example.apply()
    page = example.root / "reports" / "grading.html"
    rendered = dom(tmp_path, page.as_uri())
    grid = {c: "".join(MARKS[status] for _, status in cells) for c, cells in rendered.rows.items()}
    assert grid == {"3f1c8a52-6d0e-4b7a-9c21-5e8f0a7d4b13": "PPEPF", "rejects-garbage": "PFEPF",
                    "9b2e4c71-0a5f-4d38-8e6b-2c7d1f9a0e54": "PPEPF",
                    "spacing-and-case": "PFEPF", "format-round-trip": "PFEPF"}
    assert rendered.verdicts == {"solution1": "pass", "solution2": "fail", "solution3": "fail",
                                 "golden": "pass", "original": "fail"}
    assert rendered.outputs == 25
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(page, ARTIFACTS / "rubric-grading-example.html")
    shot = ARTIFACTS / "rubric-grading-example.png"
    shot.unlink(missing_ok=True)
    proc = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert struct.unpack(">II", shot.read_bytes()[16:24]) == (1280, 1600)


@pytest.mark.docker
def test_the_readme_main_command_grades_the_example_from_the_default_workspace(
        tmp_path, docker_client, ws):
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "taskform.yaml", root / "taskform.yaml")
    shutil.copytree(REPO / "specs", root / "specs")
    shutil.copytree(EXAMPLE, root / "examples" / "rubric-grading",
                    ignore=shutil.ignore_patterns(".taskform", "reports"))
    tag = f"tf-test-default-{uuid.uuid4().hex[:8]}"
    for name, shipped in (("grading.yaml", "taskform/rubric-grading"),
                          ("task-grading.yaml", "taskform/inventory-api-grading")):
        spec = root / "specs" / name
        spec.write_text(spec.read_text().replace(f"{shipped}:latest", f"{tag}-{name[:4]}:latest"))
    ws.root = root
    dws = DockerWorkspace(ws, docker_client)
    try:
        proc = subprocess.run([sys.executable, "-m", "runner", "apply", "-auto-approve"],
                              cwd=root, capture_output=True, text=True, timeout=600,
                              env=subprocess_env())
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "Complete: 54 created, 0 updated, 0 replaced, 0 destroyed." in proc.stdout
        assert f"{STEP}  (5 criteria × 5 solutions · rubric " \
               "examples/rubric-grading/TASK_DATA.md)" in proc.stdout
        assert (root / "reports" / "rubric-grading.html").is_file()
        assert (root / ".taskform" / "out" / "greeting.txt").is_file()  # smoke.yaml still works
        assert statuses(dws, STEP)[("rejects-garbage", "solution2")] == "FAIL"
        # the task generated in the same run is graded: golden passes all, original fails all
        graded = statuses(dws, TASK_STEP)
        assert sorted(graded.values()) == ["FAIL"] * 3 + ["PASS"] * 3
        assert {s for (_, s), status in graded.items() if status == "PASS"} == {"golden"}
        assert dws.outputs(TASK_STEP)["gates"]["ok"] is True
        assert f"{TASK_STEP}  (3 criteria × 2 solutions · rubric " \
               ".taskform/tasks/inventory-api/grading/rubrics.json)" in proc.stdout
        assert (root / "reports" / "inventory-api.html").is_file()
        assert (root / ".taskform" / "repos" / "inventory-api.git" / "HEAD").is_file()
        again = subprocess.run([sys.executable, "-m", "runner", "plan", "-detailed-exitcode"],
                               cwd=root, capture_output=True, text=True, timeout=120,
                               env=subprocess_env())
        assert again.returncode == 0, again.stdout
        assert again.stdout == "No changes. 54 resources match the specs.\n"
    finally:
        clean(docker_client, dws)
