"""What `taskform validate` checks of the content documents beyond their schema, from the specs
alone (nothing applied yet): every competency and competency set resolves to a prompt stack
(an unknown technology is an error naming the table), and no task asks Docker to verify what is
graded by review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.address import Address
from runner.errors import SpecError, SpecIssue, TaskformError
from runner.resource import Resource
from runner.workspace import Workspace

SETS = ("task", "task_pool", "scenario_set")


def spec_problems(ws: Workspace, resources: Mapping[Address, Resource]) -> list[SpecIssue]:
    """One issue per content document that cannot be generated as written."""
    by_address = {str(a): r for a, r in resources.items() if r.parent is None}
    issues = []
    for address, resource in by_address.items():
        if resource.kind != "competency" and resource.kind not in SETS:
            continue
        try:
            _check(ws, resource, by_address)
        except SpecError:
            raise  # a malformed table: its own issues, reported once
        except TaskformError as exc:
            origin = resource.origin
            issues.append(SpecIssue(origin.file, origin.line, origin.col, address, str(exc)))
    return issues


def _check(ws: Workspace, resource: Resource, by_address: Mapping[str, Resource]) -> None:
    # imported here: the stack table's and the scaffolds' models cost validate 0.1 s, and a
    # workspace without content documents never needs them
    from runner.content import stacks
    from runner.content.profile import profile_of

    settings = resource.settings if isinstance(resource.settings, dict) else {}
    if resource.kind == "competency":
        stacks.resolve(ws, [settings])
        return
    competencies = [_settings(by_address.get(f"competency.{name}"))
                    for name in settings.get("competencies") or []]
    if not competencies or any(c is None for c in competencies):
        return  # a dangling reference is the loader's error, reported with its place
    generator = settings.get("generator") or {}
    resolution = stacks.resolve(ws, competencies,  # type: ignore[arg-type]
                                generator.get("stack") if resource.kind != "scenario_set" else None)
    if resource.kind != "scenario_set" and _verified_in_docker(settings.get("verify")):
        provider = generator.get("provider") or ws.config.llm.provider
        scaffold = generator.get("scaffold") or resolution.stack.scaffold
        if profile_of(ws, resolution, provider, scaffold).grading == "review":
            where = f"scaffold {scaffold}" if provider == "template" else \
                f"stack {resolution.stack.name}"
            raise TaskformError(f"verify: docker runs held-out tests, but this task is graded by "
                                f"review ({where}): remove verify")


def _settings(resource: Resource | None) -> dict[str, Any] | None:
    return resource.settings if resource is not None and isinstance(resource.settings, dict) \
        else None


def _verified_in_docker(verify: Any) -> bool:
    """`verify: docker` or a long form with `docker:` (`verify: deploy` runs no held-out tests)."""
    return verify == "docker" or (isinstance(verify, dict) and verify.get("docker") is not None)
