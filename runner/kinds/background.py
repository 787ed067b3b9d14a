"""`Background` document: the organisation and role a task is written for."""

from __future__ import annotations

from typing import Any

from runner.kinds.base import BaseKind, Context, Settings
from runner.state.base import Record


class BackgroundSettings(Settings):
    organization_background: str
    role_context: str = ""
    yoe: str = ""
    questions_prompt: str = ""


class BackgroundKind(BaseKind):
    name = "background"
    settings_model = BackgroundSettings

    def apply(self, ctx: Context, settings: BackgroundSettings, prior: Record | None) -> dict[str, Any]:
        return settings.model_dump()
