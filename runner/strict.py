"""The base of every settings model taskform validates: unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    # .inf and .nan are YAML numbers, but no setting means them (a timeout of .inf overflows)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
