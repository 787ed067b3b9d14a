"""Grading results as the state holds them, read back into criteria × solutions matrices.

`rubric_shell` records carry one grading each (`grading_outputs`); their parent (`rubric_set` /
`dynamic_rubric`) carries the rubric, the solution order and the gate settings
(`parent_outputs`). docs/grading.md is the contract; this module is its one implementation."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.address import Address, parse_address
from runner.rubric.model import Criterion, Rubric
from runner.rubric.outcome import GradingOutcome
from runner.rubric.score import (
    GOLDEN,
    ORIGINAL,
    GateResult,
    SolutionScore,
    ValidateSettings,
    check_gates,
    combine_repeats,
    is_flaky,
    score_solution,
)
from runner.rubric.status import Status
from runner.state.base import Record
from runner.vocabulary import RecordStatus

CHILD_KIND = "rubric_shell"


def grading_outputs(runs: Sequence[GradingOutcome], *, criterion: Criterion, solution: str,
                    cache_key: str, started_at: str, finished_at: str, attempts: int = 1,
                    container: str | None = None, engine: str | None = None) -> dict[str, Any]:
    """The outputs a `rubric_shell` record carries. `runs` holds one outcome, or one per
    repeat (the golden patch under `validate.repeat`): the first run that did not pass
    speaks for all of them, and `repeats` lists every run's status. `engine`: the engine
    the last run graded on, when it is not the workspace's own."""
    if not runs:
        raise ValueError("a grading needs at least one run")
    statuses = [r.status for r in runs]
    status = combine_repeats(statuses)
    index = statuses.index(status)
    chosen = runs[index]
    reason = chosen.reason
    if is_flaky(statuses):
        reason = f"flaky: {', '.join(statuses)}; run {index + 1}: {reason}"
    return {**chosen.to_outputs(), "status": str(status), "reason": reason,
            "repeats": [str(s) for s in statuses], "cache_key": cache_key, "solution": solution,
            "criterion": {"id": criterion.id, "counter": criterion.counter,
                          "score": criterion.score, "required": criterion.required,
                          "title": criterion.title, "text": criterion.criterion},
            "started_at": started_at, "finished_at": finished_at, "attempts": attempts,
            "container": container, **({"engine": engine} if engine else {})}


def parent_outputs(rubric: Rubric, solutions: Sequence[str], validate: ValidateSettings | None,
                   scores: Sequence[SolutionScore], gates: GateResult | None) -> dict[str, Any]:
    """The outputs a `rubric_set` / `dynamic_rubric` record carries (its aggregate)."""
    return {"rubric": rubric.to_dict(), "solutions": list(solutions),
            "validate": validate.model_dump() if validate else None,
            "scores": {s.solution: s.to_dict() for s in scores},
            "gates": gates.to_dict() if gates else None}


def grading_statuses(children: Mapping[tuple[str, str], Any]
                     ) -> tuple[dict[tuple[str, str], Status | None], dict[str, list[Status]]]:
    """From `{(criterion, solution): rubric_shell outputs}` (anything else: not graded), each
    cell's status and the golden's status per repeat, as scores and gates take them."""
    statuses: dict[tuple[str, str], Status | None] = {}
    golden: dict[str, list[Status]] = {}
    for (criterion, solution), out in children.items():
        status = str(out.get("status")) if isinstance(out, dict) else ""
        cell = Status(status) if status in Status.__members__ else None
        statuses[(criterion, solution)] = cell
        if solution == GOLDEN and cell is not None:
            repeats = [Status(s) for s in out.get("repeats") or () if s in Status.__members__]
            golden[criterion] = repeats or [cell]
    return statuses, golden


@dataclass(frozen=True)
class CriterionInfo:
    id: str
    counter: int = 0
    score: float = 0.0
    required: bool = False
    title: str = ""
    text: str = ""


@dataclass(frozen=True)
class Cell:
    """One grading: a criterion for a solution. `status` None: not graded (skipped)."""

    address: str
    criterion: str
    solution: str
    status: Status | None
    reason: str = ""
    exit_code: int | None = None
    output: str = ""
    output_truncated: bool = False
    output_bytes: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    cache_key: str = ""
    repeats: tuple[Status, ...] = ()
    finished_at: str = ""
    started_at: str = ""
    evidence: str = ""  # results: decided by the tests' results; markers: by exit code
    tests: tuple[dict[str, Any], ...] = ()  # {id, outcome, message, seconds} per test

    @property
    def flaky(self) -> bool:
        return is_flaky(self.repeats)

    @property
    def failed_tests(self) -> tuple[dict[str, Any], ...]:
        return tuple(t for t in self.tests if t.get("outcome") in ("failed", "error"))


@dataclass(frozen=True)
class GradingMatrix:
    """Every grading of one rubric step, with scores and (when configured) gate results."""

    address: str
    criteria: tuple[CriterionInfo, ...]
    solutions: tuple[str, ...]
    cells: Mapping[tuple[str, str], Cell]
    scores: tuple[SolutionScore, ...]
    gates: GateResult | None
    validate: ValidateSettings | None = None
    step_status: str | None = None  # the parent record's status, when recorded
    step_error: str | None = None
    rubric_source: str = ""

    def cell(self, criterion: str, solution: str) -> Cell | None:
        return self.cells.get((criterion, solution))

    def score(self, solution: str) -> SolutionScore:
        return next(s for s in self.scores if s.solution == solution)

    @property
    def gates_checked(self) -> str:
        """What the configured gates promise, in words, once they held."""
        v = self.validate
        if v is None:
            return ""
        parts = (["the golden patch passes every criterion"] if v.golden_must_pass else []) + \
            (["the original fails every criterion"] if v.original_must_fail else []) + \
            ([f"the golden result is the same in all {v.repeat} runs"] if v.repeat > 1 else [])
        return "; ".join(parts) or "no gate is switched on"

    @property
    def seconds(self) -> float:
        """Time spent running commands, summed over every grading."""
        return sum(c.seconds for c in self.cells.values())


def matrices(records: Mapping[str, Record]) -> list[GradingMatrix]:
    """One matrix per rubric step found in the state, ordered by address."""
    children: dict[str, list[tuple[str, str, Record]]] = {}
    for record in records.values():
        if record.kind != CHILD_KIND:
            continue
        address = parse_address(record.address)
        if len(address.key) >= 2:  # a rubric step inside an expansion has a key of its own
            criterion, solution = (str(k) for k in address.key[-2:])
            step = Address(address.parts, address.key[:-2])
            children.setdefault(str(step), []).append((criterion, solution, record))
    return [_matrix(parent, records.get(parent), children[parent]) for parent in sorted(children)]


def _matrix(address: str, parent: Record | None,
            children: list[tuple[str, str, Record]]) -> GradingMatrix:
    aggregate = parent.outputs if parent else {}  # kept from its last success when it failed
    cells = {(c, s): _cell(c, s, r) for c, s, r in children}
    criteria = _criteria(aggregate, children)
    solutions = _solutions(aggregate, [s for _, s, _ in children])
    scores = tuple(score_solution(sol, criteria, {c.id: _status(cells.get((c.id, sol)))
                                                  for c in criteria}) for sol in solutions)
    validate = _validate(aggregate, parent)
    gates = None
    if validate is not None:
        golden: dict[str, list[Status]] = {}
        for c in criteria:
            cell = cells.get((c.id, GOLDEN))
            if cell is not None and cell.status is not None:
                golden[c.id] = list(cell.repeats) or [cell.status]
        original = {c.id: _status(cells.get((c.id, ORIGINAL))) for c in criteria}
        gates = check_gates(validate, criteria, golden, original)
    return GradingMatrix(address=address, criteria=tuple(criteria), solutions=tuple(solutions),
                         cells=cells, scores=scores, gates=gates, validate=validate,
                         step_status=parent.status if parent else None,
                         step_error=parent.error if parent else None,
                         rubric_source=str((aggregate.get("rubric") or {}).get("source", "")))


def _status(cell: Cell | None) -> Status | None:
    return cell.status if cell else None


def _cell(criterion: str, solution: str, record: Record) -> Cell:
    out = record.outputs or {}
    if record.status == RecordStatus.FAILED:  # an infrastructure failure after every retry: ERROR
        message, output = record.error or "failed", record.output or ""
        reason = (message.strip().splitlines() or ["failed"])[0]
        return Cell(record.address, criterion, solution, Status.ERROR, reason=reason,
                    output=output or message.strip(), output_bytes=len(output.encode()),
                    finished_at=record.updated_at, started_at=record.updated_at)
    if record.status != RecordStatus.OK or out.get("status") not in Status.__members__:
        return Cell(record.address, criterion, solution, None,
                    reason=f"not graded ({record.status})", finished_at=record.updated_at)
    repeats = tuple(Status(s) for s in out.get("repeats") or () if s in Status.__members__)
    return Cell(record.address, criterion, solution, Status(out["status"]),
                reason=str(out.get("reason", "")), exit_code=out.get("exit_code"),
                output=str(out.get("output", "")),
                output_truncated=bool(out.get("output_truncated")),
                output_bytes=int(out.get("output_bytes") or 0),
                seconds=float(out.get("seconds") or 0.0), timings=dict(out.get("timings") or {}),
                cache_key=str(out.get("cache_key", "")), repeats=repeats,
                finished_at=str(out.get("finished_at") or record.updated_at),
                started_at=str(out.get("started_at") or ""),
                evidence=str(out.get("evidence") or ""),
                tests=tuple(t for t in out.get("tests") or () if isinstance(t, dict)))


def _criteria(aggregate: Mapping[str, Any], children: list[tuple[str, str, Record]]
              ) -> list[CriterionInfo]:
    """The rubric's order when the parent recorded it; else what the children say."""
    known: dict[str, CriterionInfo] = {}
    for item in (aggregate.get("rubric") or {}).get("criteria") or []:
        known.setdefault(str(item.get("id")), _info(item, item.get("criterion", "")))
    for criterion, _, record in children:
        item = (record.outputs or {}).get("criterion")
        if criterion not in known and isinstance(item, dict):
            known[criterion] = _info({**item, "id": criterion}, item.get("text", ""))
    for criterion, _, _ in children:
        known.setdefault(criterion, CriterionInfo(criterion))
    ordered = list(known.values())
    if not aggregate.get("rubric"):
        ordered.sort(key=lambda c: (c.counter or 10**9, c.id))
    return ordered


def _info(item: Mapping[str, Any], text: Any) -> CriterionInfo:
    return CriterionInfo(id=str(item.get("id")), counter=int(item.get("counter") or 0),
                         score=float(item.get("score") or 0.0),
                         required=bool(item.get("required")), title=str(item.get("title") or ""),
                         text=str(text or ""))


def _solutions(aggregate: Mapping[str, Any], graded: list[str]) -> list[str]:
    listed = [str(s) for s in aggregate.get("solutions") or []]
    return listed + sorted({s for s in graded if s not in listed}, key=solution_order)


def solution_order(name: str) -> tuple[int, list[Any]]:
    """Candidate solutions first in natural order (solution2 before solution10), then the
    golden patch, then the original."""
    rank = {GOLDEN: 1, ORIGINAL: 2}.get(name, 0)
    return rank, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _validate(aggregate: Mapping[str, Any], parent: Record | None) -> ValidateSettings | None:
    raw = aggregate.get("validate")
    if raw is None and parent is not None and isinstance(parent.settings, dict):
        raw = parent.settings.get("validate")
    if not isinstance(raw, dict):
        return None
    try:
        return ValidateSettings(**raw)
    except ValueError:
        return None
