"""The plan as JSON: `plan --json`, saved plan files (`-out`), and `apply FILE`.

Format version 1 (docs/plan-format.md). A value known only after apply is {"$unknown": true}."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from runner import __version__
from runner.address import parse_address
from runner.errors import StalePlan, TaskformError
from runner.plan import Change, Plan, PlanOptions
from runner.vocabulary import UNKNOWN, Action

FORMAT_VERSION = "1"
UNKNOWN_JSON = {"$unknown": True}


def _encode(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN_JSON
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if value == UNKNOWN_JSON:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def to_json(plan: Plan) -> dict[str, Any]:
    o = plan.options
    return {
        "format_version": FORMAT_VERSION,
        "taskform_version": __version__,
        "workspace": plan.workspace,
        "state_serial": plan.state_serial,
        "spec_digest": plan.spec_digest,
        "options": {"targets": [str(a) for a in o.targets], "excludes": [str(a) for a in o.excludes],
                    "replace": [str(a) for a in o.replace], "labels": dict(o.labels),
                    "destroy": o.destroy_all},
        "summary": plan.counts(),
        "changes": [{"address": c.address, "kind": c.kind, "action": c.action.value,
                     "reasons": list(c.reasons), "before": _encode(c.before),
                     "after": _encode(c.after), "depends_on": list(c.depends_on),
                     "fingerprint": c.fingerprint, "deferred": c.deferred, "parent": c.parent,
                     "expands": c.expands, "notes": list(c.notes)}
                    for c in plan.changes],
    }


def from_json(data: dict[str, Any]) -> Plan:
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise TaskformError(f"plan file format {version!r} is not supported (expected "
                            f"{FORMAT_VERSION!r}); make a new plan with this taskform")
    o = data["options"]
    options = PlanOptions(targets=tuple(parse_address(a) for a in o["targets"]),
                          excludes=tuple(parse_address(a) for a in o["excludes"]),
                          replace=tuple(parse_address(a) for a in o["replace"]),
                          labels=tuple(o["labels"].items()), destroy_all=o["destroy"])
    changes = tuple(Change(address=c["address"], kind=c["kind"], action=Action(c["action"]),
                           reasons=tuple(c["reasons"]), before=_decode(c["before"]),
                           after=_decode(c["after"]), depends_on=tuple(c["depends_on"]),
                           fingerprint=c["fingerprint"], deferred=c["deferred"],
                           parent=c["parent"], expands=c.get("expands", False),
                           notes=tuple(c.get("notes", ())))
                    for c in data["changes"])
    return Plan(changes=changes, state_serial=data["state_serial"],
                spec_digest=data["spec_digest"], workspace=data["workspace"], options=options)


def save(plan: Plan, path: Path) -> None:
    """Written whole or not at all, readable by its owner only (it holds the settings)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(to_json(plan), indent=1, default=str) + "\n")
    os.chmod(tmp, 0o600)  # an old tmp file keeps its mode through O_CREAT
    tmp.replace(path)


def load(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise TaskformError(f"plan file {path} does not exist") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise TaskformError(f"cannot read plan file {path}: {exc}") from None
    try:
        return from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise TaskformError(f"{path} is not a taskform plan file ({exc})") from None


def check_fresh(plan: Plan, state_serial: int, spec_digest: str) -> None:
    """Refuse a plan made from another state version or other specs, saying which."""
    problems = []
    if plan.state_serial != state_serial:
        problems.append(f"the state changed since the plan was made (state version "
                        f"{plan.state_serial} then, {state_serial} now)")
    if plan.spec_digest != spec_digest:
        problems.append("the specs, taskform.yaml or variable values changed since the plan "
                        "was made")
    if problems:
        raise StalePlan("saved plan is stale: " + "; ".join(problems) +
                        ". Run `taskform plan -out FILE` again.")
