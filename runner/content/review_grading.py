"""Grading by rubric review, for tasks whose deliverable no test can judge (a change plan, a
prompt design): the provider reads a submission against each criterion. Such a task is marked
`grading: review` and gets no held-out "tests" (a word count is passed by filler). Its grading
gate is the review itself: the golden deliverable must pass every criterion and the unmodified
starter fail every one, as the Docker gates ask of tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from runner.content import templates
from runner.content.models import Criterion, CriterionVerdict, SubmissionReview, TaskDraft
from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.llm import LLM, Request, Usage
from runner.workspace import Workspace

SYSTEM = ("You grade submissions to practical assessments against their rubric, strictly and "
          "fairly. Answer with JSON only.")


def review_submission(ws: Workspace, llm: LLM, call: Call, *, draft: TaskDraft,
                      rubric: Sequence[Criterion], files: Mapping[str, str], scenario: str,
                      competencies: Sequence[Mapping[str, Any]]) -> tuple[
                          dict[str, CriterionVerdict], Usage]:
    """A verdict per criterion id for one submission (`files`: the deliverable's files)."""
    criteria = [{"id": c.id, "criterion": c.criterion, "required": c.required} for c in rubric]
    text = templates.render_file(ws, templates.require(ws, "prompts/_shared/submission_review.j2",
                                                       "the submission review prompt"), {
        "question": draft.question, "scenario": scenario, "criteria": criteria,
        "criteria_json": json.dumps(criteria, indent=2), "files": dict(files)})
    facts = {"criteria": criteria, "files": dict(files), "scenario": scenario,
             "competency_names": [str(c["name"]) for c in competencies]}
    request = Request("submission_review", ({"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": text}),
                      SubmissionReview, facts, review=True)
    try:
        reply = llm.complete(request, call)
    except StepFailed as exc:  # a review that cannot be had grades nothing: never a pass
        raise StepFailed(f"gate grading: the submission review failed: {exc.message}",
                         output=exc.output, retryable=exc.retryable) from None
    verdicts = {v.id: v for v in reply.value.criteria}
    return verdicts, reply.usage


def gate_problems(ws: Workspace, llm: LLM, call: Call, *, draft: TaskDraft,
                  rubric: Sequence[Criterion], solution_files: Mapping[str, str], scenario: str,
                  competencies: Sequence[Mapping[str, Any]]) -> tuple[list[str], Usage]:
    """The review-graded task's gates: golden passes every criterion, the starter fails every
    one. The deliverable is the files the solution writes."""
    usage = Usage()
    starter = draft.code_files
    golden = {path: text for path, text in {**starter, **solution_files}.items()
              if path in solution_files}
    original = {path: starter.get(path, "") for path in solution_files}
    problems = []
    for label, files, want in (("the golden deliverable", golden, True),
                               ("the unmodified starter", original, False)):
        verdicts, used = review_submission(ws, llm, call, draft=draft, rubric=rubric, files=files,
                                           scenario=scenario, competencies=competencies)
        usage.add(used)
        for criterion in rubric:
            verdict = verdicts.get(criterion.id)
            if verdict is None:
                problems.append(f"the review did not judge criterion {criterion.id!r} for "
                                f"{label}")
            elif verdict.passed != want:
                problems.append(f"{label} {'fails' if want else 'passes'} criterion "
                                f"{criterion.id!r} in the rubric review: {verdict.reason}")
    return problems, usage
