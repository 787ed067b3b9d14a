"""`Competency` document: a skill at a proficiency, recorded as data for tasks to reference.
Its prompt stack is resolved when it is planned, so a technology no stack covers is reported
by `plan` (and `validate`) at the competency, not later when apply reaches a task."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runner.content import stacks
from runner.errors import StepFailed, TaskformError
from runner.fingerprint import digest
from runner.kinds.base import BaseKind, Context, Settings
from runner.state.base import Record

Proficiency = Literal["BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED"]
Category = Literal["BACKEND", "FRONTEND", "DATABASE", "MIXED_STACK", "NON_CODE"]


class CompetencySettings(Settings):
    name: str
    proficiency: Proficiency
    description: str = ""
    scope: str = ""
    category: Category | None = None
    stack: str | None = Field(default=None, description="a stack of templates/prompts/stacks.yaml; "
                              "default: the first stack whose `covers` names it")
    competency_id: str | None = None


class CompetencyKind(BaseKind):
    name = "competency"
    settings_model = CompetencySettings

    def fingerprint(self, ctx: Context, settings: CompetencySettings) -> dict[str, str]:
        resolution = stacks.resolve(ctx.workspace, [settings.model_dump()])
        return {"stack": digest([resolution.stack.name, resolution.category])}

    def apply(self, ctx: Context, settings: CompetencySettings, prior: Record | None) -> dict[str, Any]:
        try:
            stacks.resolve(ctx.workspace, [settings.model_dump()])
        except TaskformError as exc:  # the table may have changed since the plan
            raise StepFailed(str(exc), retryable=False) from None
        return settings.model_dump()
