"""The Jinja2 environment every template that is more than plain interpolation renders in:
sandboxed (immutable), StrictUndefined, text kept as written. Imported on first use only
(`templating`), so a run that renders no such template never loads Jinja2."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment


class _Environment(ImmutableSandboxedEnvironment):
    """Keys before attributes: an output named `items` or `values` is the output, not the dict
    method of the same name."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


ENV = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
