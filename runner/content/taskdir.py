"""A generated task on disk, under `.taskform/tasks/<repo>/`: the task JSON and solution as
generated, the starter and answers trees, and the grading material (`grading/rubrics.json`,
`held_out_tests.patch`, `golden.patch`) in the formats the rubric steps read, next to the
grading image's recipe (`grading/Dockerfile`, `grading/project/`: the starter the patches apply
to), so `docker_build` with the grading folder as context builds the image that grades it.
Written whole into a temporary folder, then renamed: a crash never leaves half a task."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from runner.content import templates
from runner.content.generate import Generated
from runner.content.models import Review, Solution, TaskDraft
from runner.content.profile import Profile
from runner.providers import git
from runner.workspace import Workspace

GRADING = {"rubrics": "grading/rubrics.json", "held_out_tests": "grading/held_out_tests.patch",
           "golden": "grading/golden.patch"}
# a task graded by review has no tests to run: its rubric has no commands, nothing to build
REVIEW_GRADING = {"rubrics": "grading/review_rubric.json", "golden": "grading/golden.patch"}
RECIPE = "grading/Dockerfile"  # from templates/grading/Dockerfile.j2 (or a workspace's Dockerfile)
PROJECT = "grading/project"
# the image needs only the recipe and the project: the patches and the rubric stay out of it
# (and out of the build's fingerprint, so a new rubric does not rebuild the image)
DOCKERIGNORE = "*\n!Dockerfile\n!project/\n"
RUBRIC_NAMESPACE = uuid.UUID("6f1c2a0e-7d4b-5e8f-9a3c-1b2d3e4f5a6b")


def folder(ws: Workspace, repo: str) -> Path:
    return ws.state_dir / "tasks" / repo


def grading_files(generated: Generated) -> dict[str, str]:
    """The grading material's names for this task's grading mode."""
    return REVIEW_GRADING if generated.profile.grading == "review" else GRADING


def rubrics_json(generated: Generated, address: str) -> list[dict[str, Any]]:
    """rubrics.json: task-sync's format, ids stable per task and criterion (a review-graded
    task's criteria carry `grading: review` instead of test commands)."""
    assert generated.solution is not None
    review = generated.profile.grading == "review"
    return [{"rubricItemId": str(uuid.uuid5(RUBRIC_NAMESPACE, f"{address}/{c.id}")),
             "score": c.score, "criterion": c.criterion, "required": c.required,
             **({"grading": "review"} if review else
                {"forms": {"default": {"criterion_test_command": c.command}}})}
            for c in generated.solution.rubric]


def answers_tree(generated: Generated, rubrics: list[dict[str, Any]]) -> dict[str, str]:
    """The private answers repository: the solved code, SOLUTION.md and the grading material."""
    assert generated.draft is not None and generated.solution is not None
    steps = "\n".join(f"{n}. {s}" for n, s in enumerate(generated.solution.steps, 1))
    solution_md = (f"# Solution: {generated.draft.name}\n\n{generated.draft.answer}\n\n"
                   f"## Steps\n\n{steps}\n")
    return {**generated.draft.code_files, **generated.solution.files, "SOLUTION.md": solution_md,
            **_grading_material(generated, rubrics)}


def _grading_material(generated: Generated, rubrics: list[dict[str, Any]]) -> dict[str, str]:
    names = grading_files(generated)
    texts = {"rubrics": json.dumps(rubrics, indent=2) + "\n", "golden": generated.golden_patch,
             "held_out_tests": generated.held_out_patch}
    return {path: texts[key] for key, path in names.items()}


def write(ws: Workspace, repo: str, generated: Generated, address: str,
          meta: dict[str, Any]) -> Path:
    """Write the whole task folder; returns it."""
    assert generated.draft is not None and generated.solution is not None
    target = folder(ws, repo)
    tmp = target.with_name(f".{repo}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    rubrics = rubrics_json(generated, address)
    files = {"task.json": _json(generated.draft.model_dump()),
             "solution.json": _json(generated.solution.model_dump()),
             "review.json": _json(generated.review.model_dump(by_alias=True)
                                  if generated.review else None),
             "generation.json": _json(meta)}
    git.write_files(tmp, files)
    git.write_files(tmp / "starter", generated.draft.code_files)
    git.write_files(tmp / "answers", answers_tree(generated, rubrics))
    git.write_files(tmp, _grading_material(generated, rubrics))
    if generated.profile.grading == "tests":
        git.write_files(tmp, {RECIPE: recipe_text(ws, generated.profile),
                              "grading/.dockerignore": DOCKERIGNORE})
        git.write_files(tmp / PROJECT, generated.draft.code_files)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(target)
    shutil.rmtree(target.with_name(f"{repo}.failed"), ignore_errors=True)
    return target


def read(ws: Workspace, repo: str, key: str) -> tuple[Generated, dict[str, Any]] | None:
    """A task generated from the same inputs (`key`) that passed its gates, else None."""
    base = folder(ws, repo)
    try:
        meta = json.loads((base / "generation.json").read_text())
        if meta.get("key") != key or not meta.get("passed"):
            return None
        review = json.loads((base / "review.json").read_text())
        profile = Profile.from_dict(meta.get("profile") or {})
        held_out = base / GRADING["held_out_tests"]
        generated = Generated(
            draft=TaskDraft.model_validate_json((base / "task.json").read_text()),
            solution=Solution.model_validate_json((base / "solution.json").read_text()),
            golden_patch=(base / GRADING["golden"]).read_text(),
            held_out_patch=held_out.read_text() if profile.grading == "tests" else "",
            gates=meta.get("gates") or {}, review=Review.model_validate(review) if review else None,
            model=meta.get("model", ""), attempts=meta.get("attempts", 1), profile=profile,
            scenario=str(meta.get("scenario") or ""))
    except (OSError, ValueError):
        return None
    return generated, meta


def write_failure(ws: Workspace, repo: str, generated: Generated, meta: dict[str, Any]) -> Path:
    """Keep a failed generation for inspection, apart from the task folder (never published)."""
    target = folder(ws, repo).with_name(f"{repo}.failed")
    shutil.rmtree(target, ignore_errors=True)
    files = {"generation.json": _json(meta)}
    if generated.draft is not None:
        files["task.json"] = _json(generated.draft.model_dump())
    if generated.solution is not None:
        files["solution.json"] = _json(generated.solution.model_dump())
    git.write_files(target, files)
    return target


def recipe(ws: Workspace) -> Path:
    """The grading image's recipe: the workspace's templates/grading/Dockerfile (used as is)
    or Dockerfile.j2, else taskform's Dockerfile.j2 (rendered with the task's toolchain)."""
    for root in templates.roots(ws):
        for name in (RECIPE, RECIPE + ".j2"):
            if (root / name).is_file():
                return root / name
    return templates.require(ws, RECIPE + ".j2", "the grading image of generated tasks")


def recipe_text(ws: Workspace, profile: Profile) -> str:
    """The Dockerfile of a task's grading image: the base image plus its toolchain."""
    path = recipe(ws)
    if path.suffix != ".j2":
        return path.read_text()
    return templates.render_file(ws, path, {"toolchain": profile.toolchain,
                                            "packages": list(profile.packages),
                                            "env": profile.env, "setup": list(profile.setup)})


def recipe_fingerprint(ws: Workspace) -> dict[str, str]:
    """`template:grading/Dockerfile`: a new recipe rewrites the task folders (not the tasks)."""
    return {f"template:{RECIPE}": templates.digest(recipe(ws))}


def missing(ws: Workspace, repo: str) -> list[str]:
    base = folder(ws, repo)
    try:
        meta = json.loads((base / "generation.json").read_text())
    except (OSError, ValueError):
        meta = {}
    review = (meta.get("profile") or {}).get("grading") == "review"
    wanted = ["generation.json", "task.json",
              *(REVIEW_GRADING.values() if review else [*GRADING.values(), RECIPE])]
    gone = [name for name in wanted if not (base / name).is_file()]
    return gone + ([f"{PROJECT}/"] if not review and not (base / PROJECT).is_dir() else [])


def remove(ws: Workspace, repo: str) -> None:
    shutil.rmtree(folder(ws, repo), ignore_errors=True)
    shutil.rmtree(folder(ws, repo).with_name(f"{repo}.failed"), ignore_errors=True)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False) + "\n"
