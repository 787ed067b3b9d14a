"""The task catalogue: every recorded task (documents and pool children) with its state,
competencies, repositories and, for failed ones, why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from runner.content.keys import canonical_name
from runner.state.base import Record
from runner.vocabulary import RecordStatus

STATUSES = ("ready", "deployed", "failed", "skipped")
REPLICA = "deployment_replica"  # the kind of the records that deploy a task


@dataclass(frozen=True)
class Entry:
    address: str
    name: str
    status: str
    competencies: list[str]
    competency_refs: list[str]
    pool: str | None
    starter: str | None
    answers: str | None
    updated_at: str
    reason: str = ""
    gates: dict[str, Any] = field(default_factory=dict)
    grading: str | None = None  # tests | review (None: nothing generated yet)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_deployed(address: str, recorded: Mapping[str, Record]) -> bool:
    """True when a live deployment replica (recorded ok, kind `deployment_replica`) deploys
    this task: its settings' or outputs' `task`. A task deployed anywhere leaves its pool's
    count of ready tasks, so the pool tops up."""
    for record in recorded.values():
        if record.kind != REPLICA or record.status != RecordStatus.OK:
            continue
        named = {str((record.settings or {}).get("task") or ""),
                 str((record.outputs or {}).get("task") or "")}
        if address in named:
            return True
    return False


def entries(records: Mapping[str, Record], settings: Mapping[str, Any]) -> list[Entry]:
    """Catalogue rows; `settings` gives each task's (or pool's) spec settings, used when a
    failed task recorded nothing else."""
    out = []
    for address, record in sorted(records.items()):
        if record.kind != "task":
            continue
        outputs = record.outputs or {}
        spec = settings.get(address) or settings.get(record.parent or "") or record.settings or {}
        refs = list(outputs.get("competency_refs") or spec.get("competencies") or [])
        names = [c["name"] for c in outputs.get("competencies") or []] or \
            [_name(records, r) for r in refs]
        published = outputs.get("published") or {}
        out.append(Entry(
            address=address, name=str(outputs.get("name") or address), status=status(record, records),
            competencies=names, competency_refs=refs, pool=record.parent,
            starter=(published.get("starter") or {}).get("url"),
            answers=(published.get("answers") or {}).get("url"), updated_at=record.updated_at,
            reason=(record.error or "").strip() if record.status == RecordStatus.FAILED else "",
            gates=outputs.get("gates") or {},
            grading=(outputs.get("grading") or {}).get("mode") or
            ("tests" if outputs.get("grading") else None)))
    return out


def status(record: Record, records: Mapping[str, Record]) -> str:
    if record.status == RecordStatus.FAILED:
        return "failed"
    if record.status != RecordStatus.OK:
        return "skipped"
    return "deployed" if is_deployed(record.address, records) else "ready"


def matches(entry: Entry, competency: str | None, wanted: str | None) -> bool:
    if wanted and entry.status != wanted:
        return False
    if competency:
        key = canonical_name(competency)
        return any(canonical_name(c) == key for c in [*entry.competencies, *entry.competency_refs])
    return True


def _name(records: Mapping[str, Record], ref: str) -> str:
    record = records.get(f"competency.{ref}")
    return str((record.outputs or {}).get("name") or ref) if record else ref
