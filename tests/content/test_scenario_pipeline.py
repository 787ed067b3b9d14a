"""The scenario quality pipeline: structure, dedup at similarity >= 0.6, a review that can
reject, regeneration with the rejections fed back; a failed review call fails the whole run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from runner.content.models import ScenarioBatch, ScenarioReview
from runner.content.scenarios import (
    Pipeline,
    Rejection,
    duplicate_of,
    similarity,
    structure_problems,
)
from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.llm import Reply, Request, Usage

GOOD = ("**Current Implementation:** The billing API built with Java and Kafka publishes one "
        "event per invoice line, so a 500-line invoice floods the topic and consumers lag by 40 "
        "seconds.\n\n**Your Task:** Batch invoice lines into one event per invoice and make the "
        "consumer idempotent.\n\n**Success Criteria:** Consumer lag stays under 2 seconds for "
        "invoices of 1,000 lines.")


def variant(n: int) -> str:
    topics = ["a warehouse stock feed", "a loyalty points ledger", "a parcel routing engine",
              "a hotel booking calendar", "a payroll export job"]
    return (f"**Current Implementation:** {topics[n]} written with Java and Kafka drops about "
            f"{n + 3}% of its messages when a broker restarts, because offsets are committed "
            "before processing.\n\n**Your Task:** Commit offsets only after processing and add a "
            f"retry topic for failures in {topics[n]}.\n\n**Success Criteria:** 0 lost messages "
            f"across {n + 2} broker restarts.")


def test_structure_problems() -> None:
    assert structure_problems(GOOD) == []
    assert structure_problems("too short") == [
        "9 characters; expected 200 to 3000", "no **Current Implementation:** section",
        "no **Your Task:** section", "no **Success Criteria:** section"]
    swapped = GOOD.replace("**Your Task:**", "**X:**").replace("**Success Criteria:**",
                                                                 "**Your Task:**")
    assert "no **Success Criteria:** section" in structure_problems(swapped)
    assert structure_problems(GOOD.replace("**Your Task:**", "**Your Task**:")) == []


def test_dedup_threshold() -> None:
    near = GOOD.replace("40 seconds", "45 seconds")
    assert similarity(GOOD, near) >= 0.6
    assert duplicate_of(near, [variant(0), GOOD]) == (GOOD, pytest.approx(similarity(near, GOOD)))
    assert duplicate_of(variant(1), [GOOD]) is None


class Scripted:
    """A provider whose answers are given per purpose, in order."""

    name, model, deterministic = "scripted", "scripted", False

    def __init__(self, **answers: list[Any]) -> None:
        self.answers = {k: list(v) for k, v in answers.items()}
        self.requests: list[Request] = []

    def complete(self, request: Request, call: Call) -> Reply:
        self.requests.append(request)
        answer = self.answers[request.purpose].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Reply(request.schema.model_validate(answer), Usage(calls=1), self.model)


def conversation(purpose: str, count: int, rejected: list[Rejection],
                 candidates: Sequence[str]) -> tuple[dict[str, str], ...]:
    return ({"role": "user", "content": f"{purpose} {count} {[r.reasons for r in rejected]}"},)


def review(*passes: bool) -> dict[str, Any]:
    return {"evaluations": [{"index": i, "pass": p, "failed_criteria": [] if p else ["REALISM"],
                             "reason": "" if p else "not realistic"} for i, p in enumerate(passes)]}


def test_rejections_are_fed_back_until_enough_pass() -> None:
    llm = Scripted(scenarios=[{"scenarios": [GOOD, variant(0)]}, {"scenarios": ["short"]},
                              {"scenarios": [variant(1)]}],
                   scenario_review=[review(True, False), review(True)])
    outcome = Pipeline(llm, {}, conversation, Call(), regenerations=2).run(2, existing=[])
    assert outcome.accepted == [GOOD, variant(1)]
    assert [(r.stage, r.reasons) for r in outcome.rejected] == [
        ("review", ("failed REALISM", "not realistic")),
        ("structure", ("5 characters; expected 200 to 3000",
                       "no **Current Implementation:** section", "no **Your Task:** section",
                       "no **Success Criteria:** section"))]
    third = [r for r in llm.requests if r.purpose == "scenarios"][2]
    assert [r["stage"] for r in third.facts["rejected"]] == ["review", "structure"]
    assert "not realistic" in third.messages[0]["content"]
    assert outcome.rounds == 3


def test_extra_candidates_beyond_the_need_are_ignored() -> None:
    llm = Scripted(scenarios=[{"scenarios": [GOOD, variant(0), variant(1)]}],
                   scenario_review=[review(True, True)])
    outcome = Pipeline(llm, {}, conversation, Call(), regenerations=0).run(2, existing=[])
    assert outcome.accepted == [GOOD, variant(0)]


def test_duplicates_of_existing_scenarios_are_rejected_before_review() -> None:
    llm = Scripted(scenarios=[{"scenarios": [GOOD.replace("40", "45"), variant(2)]}],
                   scenario_review=[review(True)])
    outcome = Pipeline(llm, {}, conversation, Call(), regenerations=0).run(2, existing=[GOOD])
    assert outcome.accepted == [variant(2)]
    assert outcome.rejected[0].stage == "duplicate"
    ratio = similarity(GOOD.replace("40", "45"), GOOD)
    assert outcome.rejected[0].reasons == (f"{ratio:.2f} similar to an existing scenario: "
                                           f"{GOOD[:80]!r}",)
    reviewed = [r for r in llm.requests if r.purpose == "scenario_review"][0]
    assert reviewed.facts["candidates"] == [variant(2)]


def test_stops_after_the_regeneration_budget() -> None:
    llm = Scripted(scenarios=[{"scenarios": ["x" * 250]}] * 3)
    outcome = Pipeline(llm, {}, conversation, Call(), regenerations=2).run(1, existing=[])
    assert outcome.accepted == [] and outcome.rounds == 3 and len(outcome.rejected) == 3


def test_a_failed_review_call_is_a_failure_never_a_pass() -> None:
    llm = Scripted(scenarios=[{"scenarios": [GOOD]}],
                   scenario_review=[StepFailed("scenario_review: HTTP 500: boom")])
    with pytest.raises(StepFailed) as info:
        Pipeline(llm, {}, conversation, Call()).run(1, existing=[])
    assert info.value.message == ("the scenario review failed, so nothing was accepted: "
                                  "scenario_review: HTTP 500: boom")


def test_a_review_that_skips_a_candidate_rejects_it() -> None:
    llm = Scripted(scenarios=[{"scenarios": [GOOD, variant(3)]}],
                   scenario_review=[{"evaluations": [{"index": 1, "pass": True}]}])
    outcome = Pipeline(llm, {}, conversation, Call(), regenerations=0).run(2, existing=[])
    assert outcome.accepted == [variant(3)]
    assert outcome.rejected == [Rejection(GOOD, "review", ("the review did not evaluate it",))]


def test_models_accept_the_review_shape() -> None:
    assert ScenarioReview.model_validate(review(False)).evaluations[0].passed is False
    assert ScenarioBatch.model_validate({"scenarios": [GOOD]}).scenarios == [GOOD]
