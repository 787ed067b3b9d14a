"""A background written without a final period does not run into the next sentence of the
README or the prompts ("…e-commerce solutions You join…"), and one with a period keeps one."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.content import scaffold, templates
from runner.workspace import Workspace, WorkspaceConfig

WS = Workspace(root=Path("/nonexistent-workspace"), config=WorkspaceConfig())


@pytest.mark.parametrize("written", ["A start-up building e-commerce solutions",
                                     "A start-up building e-commerce solutions.  "])
def test_the_readme_and_the_prompt_end_the_background_with_a_period(written: str) -> None:
    variables = {"title": "T", "slug": "t", "repo": "t", "scenario": "", "scenario_key": "",
                 "competencies": [{"name": "Go", "proficiency": "BASIC"}], "feedback": [],
                 "competency_names": "Go", "proficiency": "BASIC", "minutes_range": "15-20",
                 "background": {"organization_background": written,
                                "role_context": "Backend Developer"},
                 "stack": "go", "category": "BACKEND", "exercise_id": "", "grading": "tests"}
    readme = scaffold.render(WS, "go", "tasks-api", variables).starter["README.md"]
    assert "A start-up building e-commerce solutions. You join as backend developer working " \
           "with Go (BASIC level)." in readme
    prompt = templates.render_file(WS, templates.require(WS, "prompts/_shared/context_common.j2",
                                                         "x"), variables)
    assert prompt.startswith("You write practical coding assessment tasks for A start-up "
                             "building e-commerce solutions.\nThe candidate's role: Backend "
                             "Developer.\n")


@pytest.mark.parametrize("text, sentence", [
    ("Done", "Done."), ("Done.", "Done."), ("Really?", "Really?"), ("Go!", "Go!"),
    ("  spaced  ", "spaced."), ('He said "stop."', 'He said "stop."'), ("", "")])
def test_the_sentence_filter(text: str, sentence: str) -> None:
    assert templates.sentence(text) == sentence
