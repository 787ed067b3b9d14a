"""What apply writes to the state for one finished change: the record of a success, a skip by
`when`, or a failure (which keeps the last good outputs, so dependents' history stays)."""

from __future__ import annotations

from dataclasses import replace

from runner.fingerprint import OUTPUTS_MEMO, digest
from runner.plan import Change
from runner.redact import Redactor
from runner.resource import Resource
from runner.state.base import Record, now_iso
from runner.step import StepResult
from runner.vocabulary import Outcome, RecordStatus, StepStatus


def success(change: Change, result: StepResult, resource: Resource, prior: Record | None,
            run_id: str, redactor: Redactor) -> Record:
    """The record of an applied (or `when`-skipped) resource; secrets masked."""
    assert result.fingerprint is not None
    ts = now_iso()
    outputs = redactor.value(result.outputs)
    # what its dependents' `dep:` components digest, kept so a plan need not digest it again
    fingerprint = {**result.fingerprint, OUTPUTS_MEMO: digest(outputs)}
    return Record(
        address=change.address, kind=resource.kind,
        status=RecordStatus.OK if result.status == StepStatus.DONE else RecordStatus.SKIPPED,
        fingerprint=fingerprint, settings=redactor.value(result.rendered),
        outputs=outputs,
        depends_on=tuple(str(d) for d in resource.depends_on),
        parent=str(resource.parent) if resource.parent else None,
        prevent_destroy=resource.prevent_destroy, labels=dict(resource.labels),
        run_id=run_id, created_at=prior.created_at if prior else ts, updated_at=ts)


def failure(change: Change, outcome: Outcome, resource: Resource | None, prior: Record | None,
            run_id: str) -> Record:
    """The record of a failed resource: its error and output, its last good outputs kept."""
    ts = now_iso()
    base = prior or Record(address=change.address, kind=change.kind, status=RecordStatus.FAILED,
                           fingerprint={}, settings=None, outputs={}, created_at=ts,
                           parent=change.parent)
    if resource is not None:
        base = replace(base, kind=resource.kind,
                       depends_on=tuple(str(d) for d in resource.depends_on),
                       parent=str(resource.parent) if resource.parent else None,
                       labels=dict(resource.labels), prevent_destroy=resource.prevent_destroy)
    return replace(base, status=RecordStatus.FAILED, error=outcome.message,
                   output=outcome.output or None, run_id=run_id, updated_at=ts)


def with_memos(prior: Record, memos: dict[str, str]) -> Record | None:
    """`prior` with these memo components (how a rendering or an expansion can be taken from the
    record next time), or None when it already has them. Only for a fingerprint found equal on
    everything else: a memo never decides a result."""
    given = {k: v for k, v in memos.items() if k.startswith("memo:") and k != OUTPUTS_MEMO}
    if all(prior.fingerprint.get(k) == v for k, v in given.items()):
        return None
    return replace(prior, fingerprint={**prior.fingerprint, **given})
