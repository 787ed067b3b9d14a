"""Scores per solution (earned / total, required criteria failed, verdict) and the validation
gates (golden must pass, original must fail, golden stable across repeats)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from runner.rubric.status import Status

GOLDEN = "golden"
ORIGINAL = "original"


class ScoredCriterion(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def required(self) -> bool: ...


class ValidateSettings(BaseModel):
    """`validate:` of a rubric step (Harbor's oracle/nop checks); omit it for no gates."""

    model_config = ConfigDict(extra="forbid")
    golden_must_pass: bool = Field(True, description="the golden patch passes every criterion")
    original_must_fail: bool = Field(True, description="the unmodified project fails every "
                                                       "criterion")
    repeat: int = Field(1, ge=1, le=20, description="grade the golden patch this many times; "
                                                    "a result that flips is flaky")


@dataclass(frozen=True)
class SolutionScore:
    solution: str
    earned: float
    total: float
    passed: tuple[str, ...]
    failed: tuple[str, ...]  # FAIL, TIMEOUT or ERROR
    required_failed: tuple[str, ...]
    missing: tuple[str, ...]  # not graded (yet)
    verdict: str  # pass | fail | incomplete

    def to_dict(self) -> dict[str, Any]:
        return {"earned": self.earned, "total": self.total, "passed": list(self.passed),
                "failed": list(self.failed), "required_failed": list(self.required_failed),
                "missing": list(self.missing), "verdict": self.verdict}


def score_solution(solution: str, criteria: Sequence[ScoredCriterion],
                   statuses: Mapping[str, Status | None]) -> SolutionScore:
    """Earned points are the scores of passed criteria; the verdict fails when any required
    criterion did not pass, and is incomplete while any criterion is not graded."""
    passed = [c for c in criteria if statuses.get(c.id) is Status.PASS]
    missing = [c.id for c in criteria if statuses.get(c.id) is None]
    failed = [c for c in criteria if statuses.get(c.id) not in (Status.PASS, None)]
    required_failed = tuple(c.id for c in failed if c.required)
    verdict = "fail" if required_failed else ("incomplete" if missing else "pass")
    # floats always: a JSON score is one type of number, 0.0 as much as 10.0
    return SolutionScore(solution=solution, earned=float(sum(c.score for c in passed)),
                         total=float(sum(c.score for c in criteria)),
                         passed=tuple(c.id for c in passed), failed=tuple(c.id for c in failed),
                         required_failed=required_failed, missing=tuple(missing),
                         verdict=verdict)


def combine_repeats(statuses: Sequence[Status]) -> Status:
    """One status for repeated gradings: the shared one, else the first that is not PASS."""
    if not statuses:
        raise ValueError("no gradings to combine")
    return next((s for s in statuses if s is not Status.PASS), Status.PASS)


def is_flaky(statuses: Sequence[Status]) -> bool:
    return len(set(statuses)) > 1


@dataclass(frozen=True)
class GateResult:
    golden_failed: tuple[str, ...] = ()
    original_passed: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.messages

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "golden_failed": list(self.golden_failed),
                "original_passed": list(self.original_passed), "flaky": list(self.flaky),
                "messages": list(self.messages)}


def check_gates(validate: ValidateSettings, criteria: Sequence[ScoredCriterion],
                golden: Mapping[str, Sequence[Status]], original: Mapping[str, Status | None]
                ) -> GateResult:
    """`golden` maps a criterion to its golden statuses (one per repeat, in order)."""
    ids = [c.id for c in criteria]
    flaky = [cid for cid in ids if is_flaky(golden.get(cid, ()))]
    golden_failed: list[str] = []
    if validate.golden_must_pass:
        golden_failed = [cid for cid in ids if cid not in flaky
                         and combine_repeats(golden.get(cid) or [Status.ERROR]) is not Status.PASS]
    original_passed = [cid for cid in ids if validate.original_must_fail
                       and original.get(cid) is Status.PASS]
    messages = []
    if golden_failed:
        shown = ", ".join(f"{cid} ({_shown(golden.get(cid))})" for cid in golden_failed)
        messages.append(f"the golden patch fails {_count(golden_failed)}: {shown}")
    if original_passed:
        messages.append(f"the original passes {_count(original_passed)} it should fail: "
                        + ", ".join(original_passed))
    if flaky:
        shown = "; ".join(f"{cid} ({_shown(golden[cid])})" for cid in flaky)
        messages.append(f"the golden result is flaky across {validate.repeat} runs for "
                        f"{_count(flaky)}: {shown}")
    return GateResult(tuple(golden_failed), tuple(original_passed), tuple(flaky), tuple(messages))


def _shown(statuses: Sequence[Status] | None) -> str:
    return ", ".join(statuses) if statuses else "not graded"


def _count(ids: Sequence[str]) -> str:
    return f"{len(ids)} criterion" if len(ids) == 1 else f"{len(ids)} criteria"


def gate_details(gates: GateResult, criteria: Sequence[Any]) -> str:
    """The gate messages, then each criterion they name in words (`#2 <id>: <criterion>`), so
    a rubric whose ids are UUIDs still says what failed."""
    named = {*gates.golden_failed, *gates.original_passed, *gates.flaky}
    lines = [*gates.messages]
    described = [c for c in criteria if c.id in named]
    if described:
        lines.append("criteria:")
        lines += [f"  #{c.counter} {c.id}: {' '.join(str(c.criterion).split()) or '(no text)'}"
                  for c in described]
    return "\n".join(lines)
