"""task-sync's step rows (`id`, `task_id`, `title`, `settings: {<type>: {...}}`) to one taskform
Pipeline per task: step names made from titles, numeric `depends_on: [{id: N}]` mapped to those
names, task-sync's bookkeeping (hashes, results, runtime flags, placeholders) left behind.

Pure: rows in, documents and problems out. Every problem names the row id."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.importers.tasksync_rubrics import (
    POOLS,
    RUBRIC_STEPS,
    convert_dynamic_rubric,
    convert_rubric_set,
    generated_rows,
    inherit_pool,
)

# what task-sync wrote back into settings, or injected at run time: state, not desire
BOOKKEEPING = {"triggers", "hashes", "hash", "results", "containers", "force", "golden",
               "original", "generated_by", "rerun", "hash_last_run", "last_run", "assignments",
               "image_hash", "source_step_id", "artifacts", "container_folder"}
PLACEHOLDERS = ("%%IMAGETAG%%", "%%HOSTPATH%%", "%%DOCKERVOLUME%%", "%%VOLUME_NAME%%",
                "%%CONTAINER_NAME%%", "%%APP_FOLDER%%")


@dataclass
class Converted:
    """The pipelines (task id -> document) and what could not be converted or was dropped."""

    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_rows(text: str) -> list[dict[str, Any]]:
    """A JSON array of rows, or `{"steps": [...]}`; a `settings` column may be JSON text."""
    data = json.loads(text)
    rows = data.get("steps") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("expected a JSON array of step rows (or {\"steps\": [...]}) with id, "
                         "task_id, title and settings")
    for row in rows:
        if isinstance(row.get("settings"), str):
            row["settings"] = json.loads(row["settings"])
    return rows


Check = Callable[[str, Any], "str | None"]


def convert(rows: list[dict[str, Any]], step_types: set[str],
            check: Check = lambda kind, settings: None) -> Converted:
    """One Pipeline document per task_id; unknown types, dangling ids and settings that
    `check` (the kind's validation) refuses are errors."""
    out = Converted()
    generated = generated_rows(rows, out)
    by_task: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (str(r.get("task_id")), _int(r.get("id")))):
        if row.get("id") in generated:
            continue
        problem = _check_row(row)
        if problem:
            out.errors.append(problem)
            continue
        by_task.setdefault(int(row["task_id"]), []).append(row)
    for task_id, task_rows in by_task.items():
        names = _names(task_rows)
        steps = {}
        for row in task_rows:
            step = _step(row, names, step_types, out, generated)
            if step is not None:
                steps[names[int(row["id"])]] = step
        _inherit(steps, out, {names[int(r["id"])]: r["id"] for r in task_rows})
        for name, step in steps.items():
            kind = next(k for k in step if k not in ("depends_on", "description"))
            row_id = _row_of(task_rows, names, name)
            if any(e.startswith(f"row {row_id}: ") for e in out.errors):
                continue  # already named: one problem per row is enough
            problem = check(kind, step[kind])
            if problem:
                out.errors.append(f"row {row_id}: {kind}: {problem}")
        out.documents[task_id] = {"apiVersion": "taskform/v1", "kind": "Pipeline",
                                  "metadata": {"name": f"task-{task_id}",
                                               "labels": {"tasksync-task": str(task_id)}},
                                  "spec": {"steps": steps}}
    return out


def _row_of(rows: list[dict[str, Any]], names: dict[int, str], name: str) -> Any:
    return next((r["id"] for r in rows if names[int(r["id"])] == name), "?")


IMAGE_MAKERS = ("docker_build", "docker_pull")
CONTAINER_USERS = ("docker_run", "docker_pool", "docker_volume_pool", "docker_extract_volume")


def _inherit(steps: dict[str, dict[str, Any]], out: Converted, rows: dict[str, Any]) -> None:
    """task-sync passed the image and the container along dependencies: say so explicitly."""
    for name, step in steps.items():
        kind = next(k for k in step if k not in ("depends_on", "description"))
        body = step[kind]
        if not isinstance(body, dict):
            continue
        if kind in CONTAINER_USERS and not body.get("image_tag") and not body.get("image_id"):
            maker = _upstream(steps, name, IMAGE_MAKERS)
            if maker:
                body["image_id"] = f"{{{{ steps.{maker}.image_id }}}}"
            else:
                out.errors.append(f"row {rows[name]}: {kind} has no image_tag or image_id and "
                                  "depends on no docker_build or docker_pull step to take it from")
        if kind in RUBRIC_STEPS:
            inherit_pool(steps, name, body, _upstream(steps, name, POOLS), rows[name], out)
        if kind == "docker_shell" and not body.get("container") and not body.get("docker"):
            runner = _upstream(steps, name, ("docker_run", "docker_pool"))
            if runner and "docker_run" in steps[runner]:
                body["container"] = f"{{{{ steps.{runner}.container_id }}}}"
            elif runner:
                body["container"] = f"{{{{ steps.{runner}.members[0].container_id }}}}"
            else:
                out.errors.append(f"row {rows[name]}: docker_shell names no container and depends "
                                  "on no docker_run or docker_pool step to take it from")


def _upstream(steps: dict[str, dict[str, Any]], name: str, kinds: tuple[str, ...]) -> str | None:
    """The nearest dependency (breadth first) whose type is one of `kinds`."""
    queue, seen = list(steps[name].get("depends_on", [])), set()
    while queue:
        dep = queue.pop(0)
        if dep in seen or dep not in steps:
            continue
        seen.add(dep)
        if any(k in steps[dep] for k in kinds):
            return str(dep)
        queue.extend(steps[dep].get("depends_on", []))
    return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _check_row(row: dict[str, Any]) -> str | None:
    rid = row.get("id", "?")
    for key in ("id", "task_id"):
        if _int(row.get(key)) < 0:
            return f"row {rid}: {key} must be a whole number, got {row.get(key)!r}"
    if not isinstance(row.get("settings"), dict):
        return f"row {rid}: settings must be a JSON object with one step type key"
    return None


def _names(rows: list[dict[str, Any]]) -> dict[int, str]:
    """Step names from titles: `Build App Image` -> `build_app_image` (usable in templates as
    `steps.build_app_image`), unique in the task."""
    names: dict[int, str] = {}
    used: set[str] = set()
    for row in rows:
        base = re.sub(r"[^a-z0-9]+", "_", str(row.get("title") or "").lower()).strip("_")
        base = base or f"step_{row['id']}"
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        names[int(row["id"])] = name
    return names


def _step(row: dict[str, Any], names: dict[int, str], step_types: set[str],
          out: Converted, generated: dict[Any, Any]) -> dict[str, Any] | None:
    rid = row["id"]
    settings = dict(row["settings"])
    top_deps = settings.pop("depends_on", None)
    types = [k for k in settings if k not in BOOKKEEPING]
    if len(types) != 1:
        out.errors.append(f"row {rid}: expected one step type key in settings, found "
                          f"{', '.join(types) or 'none'}")
        return None
    kind = types[0]
    if kind not in step_types:
        out.errors.append(f"row {rid}: unknown step type {kind!r} (title {row.get('title')!r}); "
                          f"taskform has: {', '.join(sorted(step_types))}")
        return None
    body = settings[kind]
    nested_deps = body.pop("depends_on", None) if isinstance(body, dict) else None
    step: dict[str, Any] = {kind: _settings(kind, body, rid, out)}
    deps = _depends(rid, (top_deps or []) + (nested_deps or []), names, out, generated)
    if deps:
        step["depends_on"] = deps
    if row.get("title"):
        step["description"] = str(row["title"])
    return step


def _depends(rid: Any, deps: list[Any], names: dict[int, str], out: Converted,
             generated: dict[Any, Any]) -> list[str]:
    result = []
    for dep in deps:
        dep_id = dep.get("id") if isinstance(dep, dict) else dep
        if dep_id in generated:  # a grading task-sync generated: its rubric step stands for it
            dep_id = generated[dep_id]
        if _int(dep_id) not in names:
            out.errors.append(f"row {rid}: depends on step id {dep_id!r}, which is not a step "
                              "of the same task in this file")
        elif names[_int(dep_id)] not in result:
            result.append(names[_int(dep_id)])
    return result


def _settings(kind: str, body: Any, rid: Any, out: Converted) -> Any:
    if not isinstance(body, dict):
        return body  # file_exists: "path" or ["a", "b"]
    dropped = sorted(k for k in body if k in BOOKKEEPING)
    if dropped:
        out.notes.append(f"row {rid}: dropped task-sync bookkeeping {', '.join(dropped)}")
    clean = {k: v for k, v in body.items() if k not in BOOKKEEPING}
    convert = CONVERTERS.get(kind)
    return convert(clean, rid, out) if convert else clean


def _file_exists(body: dict[str, Any], rid: Any, out: Converted) -> Any:
    files = body.get("files")
    return sorted(files) if isinstance(files, dict) else body  # task-sync stored mtimes


def _docker_build(body: dict[str, Any], rid: Any, out: Converted) -> dict[str, Any]:
    params = _words(body.pop("parameters", None) or []) + _words(body.pop("params", None) or [])
    kept: list[str] = []
    while params:
        word = params.pop(0)
        if word in ("-t", "--tag") and params:
            tag = params.pop(0)
            if tag not in PLACEHOLDERS:
                body.setdefault("image_tag", tag)
        elif word not in PLACEHOLDERS and word != ".":
            kept.append(word)
    if kept:
        body["params"] = kept
    if isinstance(body.get("files"), dict):
        body["files"] = sorted(body["files"])
    body.pop("image_id", None)  # an output in task-sync; the build decides it here
    if "image_tag" not in body:
        body["image_tag"] = f"tasksync-{rid}:latest"
        out.notes.append(f"row {rid}: docker_build had no image_tag (task-sync kept it in the "
                         f"task's settings); set to {body['image_tag']}")
    return body


def _container(body: dict[str, Any], rid: Any, out: Converted) -> dict[str, Any]:
    params = _words(body.pop("parameters", None) or [])
    kept: list[str] = []
    while params:
        word = params.pop(0)
        if word in ("--name",) and params:
            body.setdefault("container_name", params.pop(0))
        elif word in ("-d", "--detach") or word in PLACEHOLDERS:
            continue
        else:
            kept.append(word)
    if kept:
        body["parameters"] = kept
    return body


def _words(items: list[Any]) -> list[str]:
    return [w for item in items for w in str(item).split()]


CONVERTERS: dict[str, Callable[[dict[str, Any], Any, Converted], Any]] = {
    "file_exists": _file_exists,
    "docker_build": _docker_build,
    "docker_run": _container,
    "docker_pool": _container,
    "docker_volume_pool": _container,
    "rubric_set": convert_rubric_set,
    "dynamic_rubric": convert_dynamic_rubric,
}
