"""`validate` parses the rubrics the specs name: a rubric that does not parse is reported
before any plan, with its file and line and the step that reads it. Rubric files are read
afresh each time, never through the spec cache (which knows only the spec files' bytes)."""

from __future__ import annotations

from runner.errors import RubricError, SpecIssue, TaskformError
from runner.kinds.registry import KINDS, entry
from runner.resource import Resource
from runner.rubric.parse import NamesRubric, load_rubric
from runner.spec.load import Specs
from runner.spec.templating import is_template
from runner.workspace import Workspace


def rubric_issues(ws: Workspace, specs: Specs) -> list[SpecIssue]:
    """Every problem of every rubric file a step reads that exists now. A file named by a
    template, or not there yet (a task generated during apply), is left to the plan."""
    issues: list[SpecIssue] = []
    for resource in specs.resources.values():
        for rel in _rubric_files(resource):
            found = _parse(ws, rel, resource)
            if found is not None:  # the first file that exists is the rubric
                issues.extend(found)
                break
    return issues


def _rubric_files(resource: Resource) -> list[str]:
    """The files the step may read, first existing one first; empty when unknowable now."""
    found = KINDS.get(resource.kind)
    if found is None or not found.paths:
        return []  # names no file (the table says so): its module and pydantic need not load
    from pydantic import ValidationError

    try:
        model = entry(resource.kind).kind.settings_model.model_validate(resource.settings)
    except (KeyError, ValidationError):
        return []
    if not isinstance(model, NamesRubric):
        return []
    return [rel for rel in model.rubric_files() if not is_template(rel)]


def _parse(ws: Workspace, rel: str, resource: Resource) -> list[SpecIssue] | None:
    """The rubric's problems; None when there is no such file (yet)."""
    try:
        path = ws.resolve(rel, "file")
    except TaskformError:
        return []  # a path outside the workspace: the plan names it
    if not path.is_file():
        return None
    try:
        load_rubric(path, ws.relative(path))
    except RubricError as exc:
        reader = f"(the rubric of {resource.address}, {resource.origin})"
        return [SpecIssue(i.file, i.line, 1, "", f"{i.message} {reader}") for i in exc.issues]
    except TaskformError as exc:
        return [SpecIssue(ws.relative(path), 1, 1, "", f"{exc} (the rubric of "
                                                        f"{resource.address}, {resource.origin})")]
    return []
