"""Secret values never leave memory: they are replaced wherever text is printed or stored."""

from __future__ import annotations

from typing import Any

MASK = "(sensitive)"


class Redactor:
    """Masks every value of `secrets`. The list may grow while the redactor is in use (values a
    template derived from a secret are added as they are rendered): it is read again whenever
    its length changed."""

    def __init__(self, secrets: list[str]):
        self._source = secrets
        self._seen = -1
        self._sorted: list[str] = []

    @property
    def secrets(self) -> list[str]:
        if len(self._source) != self._seen:
            self._seen = len(self._source)
            # longest first, so a secret containing another is masked whole
            self._sorted = sorted({s for s in list(self._source) if s}, key=len, reverse=True)
        return self._sorted

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
