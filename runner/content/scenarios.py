"""The quality pipeline of generated scenarios: structure (200-3000 characters, the three bold
sections), dedup against every existing scenario (similarity >= 0.6), then a review by the
provider (a failed or unparseable review fails the resource: it is never a pass). Rejected
scenarios are fed back into up to `regenerations` further rounds."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.content.models import ScenarioBatch, ScenarioReview
from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.llm import LLM, Request, Usage

SECTIONS = ("Current Implementation", "Your Task", "Success Criteria")
MIN_CHARS, MAX_CHARS = 200, 3000
SIMILARITY_LIMIT = 0.6
REVIEW_CRITERIA = ("REALISM", "CALIBRATION", "TECHNICAL_DETAIL", "COMPLETENESS", "SCOPE")


@dataclass(frozen=True)
class Rejection:
    text: str
    stage: str  # structure | duplicate | review
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "reasons": list(self.reasons), "text": self.text}


@dataclass
class Outcome:
    accepted: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    rounds: int = 0


def section_bodies(text: str) -> dict[str, str]:
    """The text after each bold header (`**Your Task:**` or `**Your Task**:`)."""
    marks = []
    for title in SECTIONS:
        match = re.search(rf"\*\*\s*{re.escape(title)}\s*(?::\s*\*\*|\*\*\s*:)", text, re.I)
        if match:
            marks.append((match.start(), match.end(), title))
    marks.sort()
    return {title: text[end:(marks[i + 1][0] if i + 1 < len(marks) else len(text))].strip()
            for i, (_, end, title) in enumerate(marks)}


def structure_problems(text: str) -> list[str]:
    problems = []
    size = len(text.strip())
    if not MIN_CHARS <= size <= MAX_CHARS:
        problems.append(f"{size} characters; expected {MIN_CHARS} to {MAX_CHARS}")
    bodies = section_bodies(text)
    for title in SECTIONS:
        if title not in bodies:
            problems.append(f"no **{title}:** section")
        elif not bodies[title]:
            problems.append(f"the **{title}:** section is empty")
    if len(bodies) == len(SECTIONS) and list(bodies) != list(SECTIONS):
        problems.append("sections are not in the order " + ", ".join(SECTIONS))
    return problems


def similarity(a: str, b: str) -> float:
    """difflib's ratio of the lower-cased texts (the seed's measure)."""
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def duplicate_of(text: str, existing: Sequence[str]) -> tuple[str, float] | None:
    """The first existing scenario at least SIMILARITY_LIMIT similar, with its ratio."""
    for other in existing:
        matcher = difflib.SequenceMatcher(None, text.lower(), other.lower())
        # the quick ratios are upper bounds: most pairs are ruled out without the full comparison
        if matcher.real_quick_ratio() < SIMILARITY_LIMIT or \
                matcher.quick_ratio() < SIMILARITY_LIMIT:
            continue
        ratio = matcher.ratio()
        if ratio >= SIMILARITY_LIMIT:
            return other, ratio
    return None


Prompts = Callable[[str, int, list[Rejection], Sequence[str]], tuple[dict[str, str], ...]]


@dataclass
class Pipeline:
    """Generates `count` scenarios that pass every stage, or fails saying why."""

    llm: LLM
    facts: dict[str, Any]
    conversation: Prompts  # (purpose, count, rejections, candidates) -> messages
    call: Call
    regenerations: int = 2

    def run(self, count: int, existing: Sequence[str], accepted: Sequence[str] = ()) -> Outcome:
        outcome = Outcome(accepted=list(accepted))
        while len(outcome.accepted) < count and outcome.rounds <= self.regenerations:
            outcome.rounds += 1
            need = count - len(outcome.accepted)
            self.call.log(f"round {outcome.rounds}: generating {need} scenario(s)")
            candidates = self._generate(need, outcome)
            survivors = self._screen(candidates, [*existing, *outcome.accepted], outcome)
            if survivors:
                outcome.accepted += self._review(survivors, outcome)
        return outcome

    def _generate(self, need: int, outcome: Outcome) -> list[str]:
        facts = {**self.facts, "count": need, "offset": len(outcome.accepted) +
                 len(outcome.rejected), "rejected": [r.as_dict() for r in outcome.rejected]}
        messages = self.conversation("scenarios", need, outcome.rejected, [])
        reply = self.llm.complete(Request("scenarios", messages, ScenarioBatch, facts), self.call)
        outcome.usage.add(reply.usage)
        return [s.strip() for s in reply.value.scenarios if s.strip()][:need]

    def _screen(self, candidates: list[str], existing: list[str], outcome: Outcome) -> list[str]:
        survivors: list[str] = []
        for text in candidates:
            problems = structure_problems(text)
            if problems:
                outcome.rejected.append(Rejection(text, "structure", tuple(problems)))
                continue
            dup = duplicate_of(text, [*existing, *survivors])
            if dup:
                outcome.rejected.append(Rejection(text, "duplicate", (
                    f"{dup[1]:.2f} similar to an existing scenario: {dup[0][:80]!r}",)))
                continue
            survivors.append(text)
        return survivors

    def _review(self, survivors: list[str], outcome: Outcome) -> list[str]:
        facts = {**self.facts, "candidates": survivors}
        messages = self.conversation("scenario_review", len(survivors), [], survivors)
        try:
            reply = self.llm.complete(Request("scenario_review", messages, ScenarioReview, facts,
                                              review=True), self.call)
        except StepFailed as exc:
            raise StepFailed(f"the scenario review failed, so nothing was accepted: {exc.message}",
                             output=exc.output, retryable=exc.retryable) from None
        outcome.usage.add(reply.usage)
        verdicts = {v.index: v for v in reply.value.evaluations}
        passed = []
        for index, text in enumerate(survivors):
            verdict = verdicts.get(index)
            if verdict is None:
                outcome.rejected.append(Rejection(text, "review", ("the review did not evaluate it",)))
            elif not verdict.passed:
                reasons = [*(f"failed {c}" for c in verdict.failed_criteria), verdict.reason]
                outcome.rejected.append(Rejection(text, "review", tuple(r for r in reasons if r)))
            else:
                passed.append(text)
        return passed
