"""`Competency` document: a skill at a proficiency, recorded as data for tasks to reference."""

from __future__ import annotations

from typing import Any, Literal

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
    competency_id: str | None = None


class CompetencyKind(BaseKind):
    name = "competency"
    settings_model = CompetencySettings

    def apply(self, ctx: Context, settings: CompetencySettings, prior: Record | None) -> dict[str, Any]:
        return settings.model_dump()
