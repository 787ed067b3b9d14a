"""`rubrics_import` (task-sync's step): read a task's rubric and record it with its hash, so a
plan says when the rubric changed and other steps can read it (`{{ steps.rubric.hash }}`).
`rubrics.json` wins over `TASK_DATA.md` when both exist. A rubric that does not parse is an
error at plan time naming every bad line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Context, Settings, hash_files
from runner.rubric.model import Rubric
from runner.rubric.parse import JSON_NAME, MARKDOWN_NAME, load_rubric
from runner.spec.paths import TaskDirPath, WorkspacePath
from runner.state.base import Record


class RubricsImportSettings(Settings):
    task_dir: WorkspacePath = Field(default=".", description="folder (in the workspace) of the task")
    json_file: TaskDirPath | None = Field(default=JSON_NAME, description="rubrics.json, in task_dir; "
                                  "it wins when it exists")
    md_file: TaskDirPath | None = Field(default=MARKDOWN_NAME, description="TASK_DATA.md, in task_dir")

    @model_validator(mode="after")
    def _one_at_least(self) -> RubricsImportSettings:
        if self.json_file is None and self.md_file is None:
            raise ValueError("set json_file or md_file (or both)")
        return self

    def candidates(self) -> list[str]:
        return [str(Path(self.task_dir) / f) for f in (self.json_file, self.md_file) if f]

    def rubric_files(self) -> list[str]:
        return self.candidates()


class RubricsImportKind(BaseKind):
    name = "rubrics_import"
    settings_model = RubricsImportSettings

    def fingerprint(self, ctx: Context, settings: RubricsImportSettings) -> dict[str, str]:
        out = hash_files(ctx, settings.candidates(), "json_file")
        read_rubric(ctx, settings)  # a rubric that does not parse is a plan error, with lines
        return out

    def apply(self, ctx: Context, settings: RubricsImportSettings, prior: Record | None) -> dict[str, Any]:
        rubric = read_rubric(ctx, settings)
        return {**rubric.to_dict(), "count": len(rubric.criteria), "total": rubric.total}


def read_rubric(ctx: Context, settings: RubricsImportSettings) -> Rubric:
    for rel in settings.candidates():
        path = ctx.path(rel, "json_file")
        if path.is_file():
            return load_rubric(path, ctx.workspace.relative(path))
    raise StepFailed(f"no rubric: {' and '.join(settings.candidates())} do not exist",
                     retryable=False)
