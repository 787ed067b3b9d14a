"""`file_exists` (task-sync's step): a path, a list of paths, or a map of paths, relative to the
workspace. Fails naming every missing file."""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import Field, model_validator

from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Context, Settings
from runner.spec.paths import WorkspacePath
from runner.state.base import Record
from runner.vocabulary import Observation


class FileExistsSettings(Settings):
    files: list[WorkspacePath] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, value: Any) -> Any:
        # task-sync accepts "path", ["a", "b"], {"files": {...}}; a bare map of paths too, to
        # the times task-sync recorded for them (any other mapping is a mistake, not paths)
        if isinstance(value, (str, list)):
            value = {"files": value}
        elif isinstance(value, dict) and "files" not in value:  # with files: other keys are unknown
            if not all(_is_recorded_time(v) for v in value.values()):
                raise ValueError("expected a path, a list of paths, {files: [paths]}, or a map "
                                 "of paths to the times task-sync recorded for them")
            value = {"files": list(value)}
        if isinstance(value, dict) and isinstance(value.get("files"), (str, dict)):
            files = value["files"]
            value = {**value, "files": [files] if isinstance(files, str) else list(files)}
        return value


def _is_recorded_time(value: Any) -> bool:
    """task-sync's record of a file: its time as a number or ISO text, or nothing."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if not isinstance(value, str):
        return False
    try:
        datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


class FileExistsKind(BaseKind):
    name = "file_exists"
    settings_model = FileExistsSettings

    def observe(self, ctx: Context, record: Record) -> Observation:
        missing = [f for f in record.outputs.get("files", {}) if not ctx.path(f, "files").exists()]
        return Observation(reasons=tuple(f"file {f} is missing" for f in missing))

    def apply(self, ctx: Context, settings: FileExistsSettings, prior: Record | None) -> dict[str, Any]:
        found, missing = {}, []
        for rel in settings.files:
            path = ctx.path(rel, "files")
            if path.exists():
                mtime = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC)
                found[rel] = mtime.isoformat(timespec="seconds")
            else:
                missing.append(rel)
        if missing:
            raise StepFailed("; ".join(f"file not found: {f}" for f in missing), retryable=False)
        return {"files": found}
