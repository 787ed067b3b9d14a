"""`value`: records its `input` as output `value`; no side effect (Terraform's terraform_data)."""

from __future__ import annotations

from typing import Any

from runner.kinds.base import BaseKind, Context, Settings
from runner.state.base import Record


class ValueSettings(Settings):
    input: Any = None


class ValueKind(BaseKind):
    name = "value"
    settings_model = ValueSettings

    def apply(self, ctx: Context, settings: ValueSettings, prior: Record | None) -> dict[str, Any]:
        return {"value": settings.input}
