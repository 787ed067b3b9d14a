"""The shapes a generator must answer with (validated by pydantic, fed back when wrong): the
task JSON, the solution with its grading material, reviews, scenario batches, verdicts."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Answer(BaseModel):
    """Base of every answer: extra keys are ignored (models add chatter), types are strict."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _as_list(value: Any) -> Any:
    # the seed's prompts ask for lists but models often answer with one bulleted string
    if isinstance(value, str):
        items = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line) for line in value.splitlines()]
        return [item.strip() for item in items if item.strip()]
    return value


class TaskDraft(Answer):
    """The task JSON of the seed's INSTRUCTIONS prompts."""

    name: str = Field(description="kebab-case, under 50 characters")
    question: str = Field(min_length=20)
    code_files: dict[str, str] = Field(description="starter files by path, README.md included")
    outcomes: list[str] = Field(min_length=1)
    short_overview: list[str] = Field(min_length=1)
    pre_requisites: list[str] = Field(default_factory=list)
    answer: str = Field(min_length=1, description="how the task is solved (private)")
    hints: str = Field(description="one line")
    definitions: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not KEBAB.match(value) or len(value) >= 50:
            raise ValueError(f"name must be kebab-case (a-z, 0-9, '-') and under 50 characters, "
                             f"got {value!r}")
        return value

    @field_validator("outcomes", "short_overview", "pre_requisites", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("hints")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value.strip():
            raise ValueError("hints must be a single line")
        return value.strip()

    @field_validator("code_files")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value:
            if path.startswith("/") or ".." in path.split("/") or not path.strip():
                raise ValueError(f"code_files paths must be relative, got {path!r}")
        if "README.md" not in value:
            raise ValueError("code_files must contain README.md")
        return value


class Criterion(Answer):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    criterion: str = Field(min_length=5)
    score: int = Field(gt=0, le=100)
    required: bool = False
    command: str = Field(default="", description="shell command, run in the repository root, "
                         "that exits 0 when the criterion is met and names the tests it runs "
                         "(empty for a task graded by review)")
    behaviour: list[str] = Field(default_factory=list, description="1-4 words naming what it "
                                 "checks, as the scenario and the README objectives say them")


class Solution(Answer):
    """The solution, written against the starter files, and what grades it."""

    files: dict[str, str] = Field(description="full content of every file the solution changes or adds")
    steps: list[str] = Field(min_length=1)
    tests: dict[str, str] = Field(default_factory=dict, description="held-out test files, by "
                                  "path (none for a task graded by review)")
    rubric: list[Criterion] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)


class CriterionVerdict(Answer):
    id: str
    passed: bool = Field(alias="pass")
    reason: str = ""


class SubmissionReview(Answer):
    """A rubric review of one submission: a verdict per criterion."""

    criteria: list[CriterionVerdict]


class Review(Answer):
    """A quality review: `pass` with the issues found."""

    passed: bool = Field(alias="pass")
    issues: list[str] = Field(default_factory=list)
    feedback: str = ""


class ScenarioBatch(Answer):
    scenarios: list[str] = Field(min_length=1)


class ScenarioVerdict(Answer):
    index: int = Field(ge=0)
    passed: bool = Field(alias="pass")
    failed_criteria: list[str] = Field(default_factory=list)
    reason: str = ""


class ScenarioReview(Answer):
    evaluations: list[ScenarioVerdict]


class Verdict(Answer):
    """A model task check: does the rubric and its tests really grade the task?"""

    verdict: str = Field(pattern=r"^(pass|fail)$")
    issues: list[str] = Field(default_factory=list)
    summary: str = ""
