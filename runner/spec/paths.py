"""Settings that name a file or folder of the workspace: checked when the spec is validated
(a path that is absolute or climbs out with `..`) and when it is planned (a path that leads out
through a symbolic link), never first when a step runs.

The validate-time check reads only the text, so the validated-spec cache may keep its answer;
symbolic links can change without the spec changing, so they are resolved at every plan.
"""

from __future__ import annotations

import functools
import json
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ValidationInfo


@dataclass(frozen=True)
class PathCheck:
    """Validates a path relative to the workspace, or to the folder a sibling setting names
    (`within`, e.g. a rubric file in `task_dir`)."""

    within: str | None = None
    empty: bool = True  # "" names the workspace root (or `within`'s folder) itself

    def __call__(self, value: str, info: ValidationInfo) -> str:
        if not value and not self.empty:
            raise ValueError("expected a path inside the workspace, got an empty text")
        base = info.data.get(self.within) if self.within else None
        problem = escape_problem(value, base if isinstance(base, str) else None)
        if problem:
            shown = json.dumps(value if len(value) <= 60 else value[:57] + "...")
            raise ValueError(f"expected a path inside the workspace, got {shown} ({problem})")
        return value


WorkspacePath = Annotated[str, AfterValidator(PathCheck())]
TaskDirPath = Annotated[str, AfterValidator(PathCheck(within="task_dir"))]  # rubric kinds' files


def is_template(value: Any) -> bool:
    # templating's own test, repeated: importing it would load Jinja2 for every taskform.yaml
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def escape_problem(path: str, base: str | None = None) -> str | None:
    """Why `path` (under `base`) is not inside the workspace, judged from its text alone."""
    if "\0" in path:
        return "it holds a NUL character"
    if path.startswith("/"):
        return "absolute paths are refused"
    joined = f"{base}/{path}" if base and base != "." and not is_template(base) else path
    depth = 0
    for part in joined.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                where = f" from {base}" if joined is not path else ""
                return f"it climbs out of the workspace with ..{where}"
        elif part not in ("", "."):
            depth += 1
    return None


def path_settings(model: type[BaseModel], settings: Any) -> Iterator[tuple[str, str, str | None]]:
    """(field, path, base) for every setting of `settings` (validated against `model`) that
    names a workspace path; templates and values not known yet are skipped."""
    if not isinstance(settings, dict):
        return
    for name, key, within, submodels in path_fields(model):
        value = settings.get(key)
        if value is None:
            continue
        if within is not None:
            base = settings.get(within) if within else None
            for path in _strings(value):
                if not is_template(path):
                    yield name, path, base if isinstance(base, str) else None
        for sub in submodels:
            for field, path, base in path_settings(sub, value):
                yield f"{name}.{field}", path, base


@functools.cache
def path_fields(model: type[BaseModel]) -> list[tuple[str, str, str | None, list[Any]]]:
    """(name, key, within, submodels) of the fields that name paths or hold models that do;
    `within` is "" for a path relative to the workspace, None for a field holding none."""
    out = []
    for name, info in model.model_fields.items():
        checks = _checks(info.annotation, info.metadata)
        submodels = _submodels(info.annotation)
        if checks or submodels:
            within = (checks[0].within or "") if checks else None
            out.append((name, info.alias or name, within, submodels))
    return out


def _checks(annotation: Any, metadata: list[Any]) -> list[PathCheck]:
    found = [m.func for m in metadata if isinstance(m, AfterValidator)
             and isinstance(m.func, PathCheck)]
    stack = [annotation]
    while stack:
        tp = stack.pop()
        if typing.get_origin(tp) is Annotated:
            found += [m.func for m in tp.__metadata__ if isinstance(m, AfterValidator)
                      and isinstance(m.func, PathCheck)]
        stack.extend(typing.get_args(tp))
    return found


def _submodels(annotation: Any) -> list[type[BaseModel]]:
    candidates = [annotation, *typing.get_args(annotation)]
    return [tp for tp in candidates if isinstance(tp, type) and issubclass(tp, BaseModel)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    return []


def linked_outside(root: Path, path: str, base: str | None,
                   resolved: dict[str, Path] | None = None) -> Path | None:
    """Where `path` really leads when a symbolic link takes it out of the workspace, else None.
    For a glob, its fixed part (before the first wildcard) is what must stay inside."""
    text = f"{base}/{path}" if base else path
    fixed = text.split("*")[0].split("?")[0].split("[")[0] or "."
    seen = resolved if resolved is not None else {}
    if fixed not in seen:
        seen[fixed] = (root / fixed).resolve()
    target = seen[fixed]
    return None if target.is_relative_to(root) else target
