"""Secret values never leave memory: they are replaced wherever text is printed or stored."""

from __future__ import annotations

from typing import Any

MASK = "(sensitive)"


class Redactor:
    def __init__(self, secrets: list[str]):
        # longest first, so a secret containing another is masked whole
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def value(self, value: Any) -> Any:
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value
