"""`verify: docker` on a Task: the grading pipeline a generated task must pass before it is
published, as the Task's children. For `task.<name>`:

    task.<name>["draft"]   task_draft     generation, gates, the task folder
    task.<name>["image"]   docker_build   the grading image, from the folder's grading/
    task.<name>["pool"]    docker_pool    locked-down containers (`pool_size`)
    task.<name>["grade"]   rubric_set     golden + original against rubrics.json, with the gates
                                          golden_must_pass and original_must_fail

With `verify: deploy` (alone or beside `docker`) one more child, after the draft:

    task.<name>["deploy"]  task_deploy    deployed to a leased droplet, healthy, kill.sh run,
                                          nothing of it left (kinds/task_deploy.py)

The Task itself applies after them and publishes; a child that fails fails the Task, so
nothing is published. The Task kind makes these children (`kinds/task.py`) from the settings
here, the ones `specs/grading.yaml` uses."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from runner.address import Address

# only what the root-side grading script needs (docs/grading.md, "Grading in a pool")
LOCKED_DOWN = ["--network none", "--memory 512m", "--pids-limit 256", "--cpus 1",
               "--cap-drop ALL", "--cap-add CHOWN", "--cap-add DAC_OVERRIDE", "--cap-add FOWNER",
               "--cap-add SETUID", "--cap-add SETGID", "--cap-add KILL",
               "--security-opt no-new-privileges", "--init"]
DRAFT, IMAGE, POOL, GRADE, DEPLOY = "draft", "image", "pool", "grade", "deploy"
DRAFT_KEYS = ("competencies", "background", "scenario", "generator", "minutes")


def image_tag(repo: str, workspace_tag: str) -> str:
    """`taskform/task-<repo>:<workspace>`: Docker wants lower case; two workspaces never share."""
    name = re.sub(r"[^a-z0-9]+", "-", repo.lower()).strip("-") or "task"
    return f"taskform/task-{name}:{workspace_tag}"


def summary(task: Address, outputs_of: Callable[[str], Any], *, docker: bool,
            deployed: bool) -> dict[str, Any]:
    """What the Task records of its verification: in Docker, image, scores of golden and
    original and gates; deployed, where and what was checked."""
    out: dict[str, Any] = {"with": "+".join(w for w, on in (("docker", docker),
                                                               ("deploy", deployed)) if on)}
    if docker:
        out.update(_graded(task, outputs_of))
    if deployed:
        found = outputs_of(str(task.child(DEPLOY))) or {}
        out["deploy"] = {"step": str(task.child(DEPLOY)),
                         **{k: found.get(k) for k in ("droplet", "slot", "health_tries",
                                                     "checked")}}
    return out


def _graded(task: Address, outputs_of: Callable[[str], Any]) -> dict[str, Any]:
    image, grade = outputs_of(str(task.child(IMAGE))), outputs_of(str(task.child(GRADE)))
    scores = (grade or {}).get("scores") or {}
    return {"grading": str(task.child(GRADE)),
            "image_id": (image or {}).get("image_id"),
            "golden": _score(scores.get("golden")), "original": _score(scores.get("original")),
            "gates": (grade or {}).get("gates"), "report": ((grade or {}).get("report") or {})
            .get("path")}


def _score(score: Any) -> dict[str, Any] | None:
    if not isinstance(score, dict):
        return None
    return {k: score.get(k) for k in ("earned", "total", "passed", "failed", "verdict")}
