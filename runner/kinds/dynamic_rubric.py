"""`dynamic_rubric` (task-sync's other rubric step): the same grading as `rubric_set`, with
task-sync's setting names accepted: `rubrics` (one rubric file), `assign_containers` (its patch
names are the solutions; gradings take any container of the pool) and `environment` (unused:
the pool decides the image)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from runner.kinds.rubric_set import RubricSetKind
from runner.kinds.rubric_set_settings import RubricSetSettings
from runner.rubric.score import GOLDEN, ORIGINAL
from runner.rubric.solutions import classify_files
from runner.spec.paths import TaskDirPath


class DynamicRubricSettings(RubricSetSettings):
    rubrics: list[TaskDirPath] | None = Field(default=None, description="task-sync's rubric files: "
                                      "exactly one (it used only the first)")
    assign_containers: dict[TaskDirPath, Any] | None = Field(
        default=None, description="task-sync's {patch: container}: the patches are the "
        "solutions; the containers are ignored (gradings share the pool)")
    environment: dict[str, Any] | None = Field(default=None, description="task-sync's "
                                               "environment block: ignored (the pool decides "
                                               "the image)")

    @model_validator(mode="after")
    def _dynamic_names(self) -> DynamicRubricSettings:
        given = self.model_fields_set
        if self.rubrics is not None:
            if len(self.rubrics) != 1:
                raise ValueError(f"rubrics: expected exactly one rubric file, got "
                                 f"{len(self.rubrics)} (task-sync silently used the first)")
            if "file" in given:
                raise ValueError("set file or task-sync's rubrics, not both")
            self.file = self.rubrics[0]
        if self.assign_containers is not None and "solutions" not in given and self.files is None:
            patches = [p for p in self.assign_containers if p not in (GOLDEN, ORIGINAL)]
            self.solutions = classify_files(patches, self.file).solutions
        return self


class DynamicRubricKind(RubricSetKind):
    name = "dynamic_rubric"
    settings_model = DynamicRubricSettings
