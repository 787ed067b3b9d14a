"""`taskform report`: reads grading records from the workspace's state and prints or writes
them; bad selections are clear errors with exit code 1."""

from __future__ import annotations

import json

import pytest
from grading_records import commit_grading

from runner.rubric.score import ValidateSettings

TABLE = {"solution1": "PPP", "solution2": "PFF", "golden": "PPP", "original": "FFF"}


@pytest.fixture
def graded(ws):
    state = ws.state()
    commit_grading(state, "pipeline.durations.grade", TABLE, validate=ValidateSettings())
    commit_grading(state, "pipeline.other.grade", {"solution1": "FFF"})
    state.close()
    return ws


def test_the_table_of_every_grading(graded):
    result = graded.cli("report")
    assert result.exit_code == 0
    heads = [line for line in result.output.splitlines() if line.startswith("pipeline.")]
    assert heads == ["pipeline.durations.grade  (3 criteria × 4 solutions · rubric TASK_DATA.md)",
                     "pipeline.other.grade  (3 criteria × 1 solutions · rubric TASK_DATA.md)"]


@pytest.mark.parametrize("selection", ["durations", "pipeline.durations",
                                       "pipeline.durations.grade"])
def test_selecting_a_pipeline(graded, selection):
    result = graded.cli("report", selection, "--format", "json")
    assert result.exit_code == 0
    assert [g["address"] for g in json.loads(result.output)["gradings"]] == [
        "pipeline.durations.grade"]


def test_an_unknown_pipeline_names_what_is_recorded(graded, taskform_main, capsys):
    assert taskform_main("-C", str(graded.root), "report", "nope") == 1
    assert capsys.readouterr().err == ("Error: no grading results under pipeline.nope; "
                                       "recorded: pipeline.durations.grade, "
                                       "pipeline.other.grade\n")


def test_no_gradings_at_all_is_an_error(ws, taskform_main, capsys):
    assert taskform_main("-C", str(ws.root), "report") == 1
    assert capsys.readouterr().err == ("Error: no grading results in the state: apply a "
                                       "pipeline with a rubric_set or dynamic_rubric step "
                                       "first\n")


def test_a_malformed_selection_is_a_usage_error(graded):
    result = graded.cli("report", "pipeline..x")
    assert result.exit_code == 1  # taskform's usage errors exit 1, never 2
    assert "Invalid value for PIPELINE: malformed address 'pipeline..x'" in result.output


def test_writing_html_to_a_file_creates_folders(graded, tmp_path):
    target = tmp_path / "out" / "reports" / "grading.html"
    result = graded.cli("report", "durations", "--format", "html", "-o", str(target))
    assert result.exit_code == 0
    assert result.output == f"Wrote {target}: 1 grading step, 12 gradings.\n"
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and "pipeline.durations.grade" in page
    assert f"for workspace <code>{graded.root}</code>" in page


def test_markdown_through_a_real_process(graded):
    proc = graded.run("report", "durations", "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("## pipeline.durations.grade\n\n3 criteria × 4 solutions")
    assert "| | **verdict** | | | | ✅ pass | ❌ fail | ✅ pass | ❌ fail |" in proc.stdout


def test_junit_written_for_ci(graded, tmp_path):
    target = tmp_path / "results" / "grading.xml"
    proc = graded.run("report", "durations", "--format", "junit", "-o", str(target))
    assert (proc.returncode, proc.stdout) == (0, f"Wrote {target}: 1 grading step, 12 gradings.\n")
    text = target.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="taskform '
                           'grading" tests="12" ')


def test_an_unwritable_output_is_an_error_not_a_traceback(graded, tmp_path, taskform_main,
                                                          capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert taskform_main("-C", str(graded.root), "report", "-o", str(blocker / "r.txt")) == 1
    assert capsys.readouterr().err == (f"Error: cannot write {blocker}/r.txt: {blocker} is a "
                                       "file, not a folder\n")
