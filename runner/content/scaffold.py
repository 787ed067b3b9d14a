"""Offline task scaffolds: `templates/tasks/<scaffold>/` holds `scaffold.yaml` (the task JSON
fields, solution steps and rubric, as Jinja text) and three file trees: `starter/` (what the
candidate gets), `solution/` (the files the reference solution changes or adds) and
`held_out/` (the tests that grade it). Files ending in `.j2` are rendered, others copied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.content import templates
from runner.errors import SpecError, TaskformError
from runner.spec.validation import validate
from runner.spec.yamlsrc import parse_file
from runner.workspace import Workspace

TREES = ("starter", "solution", "held_out")


class ScaffoldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    task: dict[str, Any]
    steps: list[str] = Field(min_length=1)
    rubric: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Scaffold:
    task: dict[str, Any]
    starter: dict[str, str]
    solution: dict[str, str]
    tests: dict[str, str]
    steps: list[str]
    rubric: list[dict[str, Any]]


def folder(ws: Workspace, name: str) -> Path:
    """The scaffold's folder: the workspace's first, then taskform's."""
    for root in templates.roots(ws):
        base = root / "tasks" / name
        if (base / "scaffold.yaml").is_file():
            return base
    raise TaskformError(f"no scaffold {name!r}: neither templates/tasks/{name}/scaffold.yaml nor "
                        f"taskform's own exists; scaffolds: {', '.join(available(ws)) or 'none'}")


def available(ws: Workspace) -> list[str]:
    names: set[str] = set()
    for root in templates.roots(ws):
        names.update(p.parent.name for p in (root / "tasks").glob("*/scaffold.yaml"))
    return sorted(names)


def render(ws: Workspace, name: str, variables: dict[str, Any]) -> Scaffold:
    """Every part of a scaffold rendered with `variables`."""
    base = folder(ws, name)
    spec_file = base / "scaffold.yaml"
    where = templates.shown(ws, spec_file)
    docs, issues = parse_file(spec_file, where)
    if issues or not docs:
        raise SpecError(issues or [])
    model, issues = validate(ScaffoldSpec, docs[0].value, docs[0], ())
    if issues or not isinstance(model, ScaffoldSpec):
        raise SpecError(issues)
    text = _renderer(ws, variables, where)
    trees = {tree: _tree(ws, base / tree, variables) for tree in TREES}
    return Scaffold(task=text(model.task), starter=trees["starter"],
                    solution=trees["solution"], tests=trees["held_out"],
                    steps=[text(s) for s in model.steps], rubric=text(model.rubric))


def _renderer(ws: Workspace, variables: dict[str, Any], where: str) -> Any:
    def text(value: Any) -> Any:
        if isinstance(value, str):
            return templates.render_text(ws, value, variables, where).strip("\n") \
                if "{" in value else value
        if isinstance(value, list):
            return [text(v) for v in value]
        if isinstance(value, dict):
            return {k: text(v) for k, v in value.items()}
        return value
    return text


def _tree(ws: Workspace, base: Path, variables: dict[str, Any]) -> dict[str, str]:
    files: dict[str, str] = {}
    if not base.is_dir():
        return files
    for path in sorted(base.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = str(path.relative_to(base))
        if rel.endswith(".j2"):
            files[rel.removesuffix(".j2")] = templates.render_file(ws, path, variables)
        else:
            files[rel] = path.read_text()
    return files


def fingerprint(ws: Workspace, name: str) -> dict[str, str]:
    """`template:tasks/<scaffold>/<file>` components: a changed scaffold regenerates its tasks."""
    return templates.tree_digests(ws, f"tasks/{folder(ws, name).name}")
