"""Offline task scaffolds: `templates/tasks/<scaffold>/` holds `scaffold.yaml` (how its tasks
are graded, deployed, and which toolchain grades them), `common/` (files every exercise's
starter gets: run.sh, kill.sh, Dockerfile, ...) and a catalogue of exercises,
`exercises/<id>/`: `exercise.yaml` (the task JSON fields, README parts, scenarios, solution
steps and rubric, as Jinja text) and three file trees: `starter/` (what the candidate gets),
`solution/` (the files the reference solution changes or adds) and `held_out/` (the tests that
grade it). Files ending in `.j2` are rendered, others copied. The README is
`templates/tasks/_shared/README.md.j2` unless a tree brings its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from runner.content import templates
from runner.content.stacks import Deploy, Grading
from runner.errors import SpecError, TaskformError
from runner.spec.validation import validate
from runner.spec.yamlsrc import parse_file
from runner.strict import StrictModel
from runner.workspace import Workspace

TREES = ("starter", "solution", "held_out")
README = "tasks/_shared/README.md.j2"


class ScaffoldSpec(StrictModel):
    description: str = ""
    grading: Grading = "tests"
    deploy: Deploy = "none"
    toolchain: str | None = Field(default=None, description="default: the stack's")


class ExerciseCriterion(StrictModel):
    id: str
    criterion: str
    score: int
    required: bool = False
    command: str = ""
    behaviour: list[str] = Field(default_factory=list, description="words naming what it checks")


class ExerciseSpec(StrictModel):
    title: str
    summary: str = Field(description="the codebase and what is wrong with it, for the README")
    scenarios: list[str] = Field(default_factory=list, description="seed-format scenarios that "
                                 "describe exactly this exercise")
    task: dict[str, Any]
    objectives: list[str] = Field(min_length=1)
    how_to_verify: list[str] = Field(min_length=1)
    tips: list[str] = Field(min_length=1)
    steps: list[str] = Field(min_length=1)
    rubric: list[ExerciseCriterion] = Field(min_length=1)


@dataclass(frozen=True)
class Scaffold:
    task: dict[str, Any]
    starter: dict[str, str]
    solution: dict[str, str]
    tests: dict[str, str]
    steps: list[str]
    rubric: list[dict[str, Any]]
    exercise: str = ""


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


def spec(ws: Workspace, name: str) -> ScaffoldSpec:
    """The scaffold's own settings (scaffold.yaml)."""
    model = _read(ws, folder(ws, name) / "scaffold.yaml", ScaffoldSpec)
    assert isinstance(model, ScaffoldSpec)
    return model


def exercises(ws: Workspace, name: str) -> list[str]:
    """The catalogue: exercise ids in order (their folder names, sorted)."""
    base = folder(ws, name) / "exercises"
    found = sorted(p.parent.name for p in base.glob("*/exercise.yaml"))
    if not found:
        raise TaskformError(f"scaffold {name!r} has no exercises: no "
                            f"{templates.shown(ws, base)}/<id>/exercise.yaml")
    return found


def exercise_spec(ws: Workspace, name: str, exercise: str) -> ExerciseSpec:
    """One exercise as written (not rendered); an unknown id lists the catalogue."""
    path = folder(ws, name) / "exercises" / exercise / "exercise.yaml"
    if not path.is_file():
        raise TaskformError(f"scaffold {name!r} has no exercise {exercise!r}; its exercises: "
                            f"{', '.join(exercises(ws, name))}")
    model = _read(ws, path, ExerciseSpec)
    assert isinstance(model, ExerciseSpec)
    return model


def render(ws: Workspace, name: str, exercise: str, variables: dict[str, Any]) -> Scaffold:
    """Every part of one exercise of a scaffold rendered with `variables`."""
    base = folder(ws, name)
    written = exercise_spec(ws, name, exercise)
    where = templates.shown(ws, base / "exercises" / exercise / "exercise.yaml")
    text = _renderer(ws, variables, where)
    # scenarios are rendered on their own, with the scenario variables (exercises.py)
    model = ExerciseSpec.model_validate(text(written.model_dump(exclude={"scenarios"})))
    readme = {"title": model.title, "summary": model.summary, "objectives": model.objectives,
              "how_to_verify": model.how_to_verify, "tips": model.tips}
    scope = {**variables, "exercise": readme}
    trees = {tree: _tree(ws, base / "exercises" / exercise / tree, scope) for tree in TREES}
    starter = {**_tree(ws, base / "common", scope), **trees["starter"]}
    if "README.md" not in starter:
        starter["README.md"] = templates.render_file(
            ws, templates.require(ws, README, "the README of offline tasks"), scope)
    return Scaffold(task=model.task, starter=starter, solution=trees["solution"],
                    tests=trees["held_out"], steps=model.steps,
                    rubric=[c.model_dump() for c in model.rubric], exercise=exercise)


def _read(ws: Workspace, path: Path, model_type: type[StrictModel]) -> StrictModel:
    where = templates.shown(ws, path)
    docs, issues = parse_file(path, where)
    if issues or not docs:
        raise SpecError(issues or [])
    model, issues = validate(model_type, docs[0].value, docs[0], ())
    if issues or not isinstance(model, model_type):
        raise SpecError(issues)
    return model


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
    """`template:tasks/<scaffold>/<file>` components (and the shared README): a changed
    scaffold regenerates its tasks."""
    out = templates.tree_digests(ws, f"tasks/{folder(ws, name).name}")
    readme = templates.find(ws, README)
    if readme is not None:
        out[f"template:{README}"] = templates.digest(readme)
    return out
