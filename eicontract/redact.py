"""Keep the API key out of everything the harness writes: stdout, reports, reproductions."""

from __future__ import annotations

from typing import Any

MASK = "[REDACTED]"
KEY_PLACEHOLDER = "$EI_API_KEY"


class Redactor:
    """Replaces every occurrence of the secrets in text or nested JSON-like data."""

    def __init__(self, *secrets: str) -> None:
        # Short strings would mask innocent text; a real key is long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
