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

    def found_in(self, value: str) -> bool:
        return any(secret in value for secret in self._secrets)

    def text(self, value: str) -> str:
        spans = sorted(
            (start, start + len(secret))
            for secret in self._secrets
            for start in _occurrences(value, secret)
        )
        if not spans:
            return value
        out, position = [], 0
        for start, end in _merged(spans):  # overlapping matches are masked as one
            out += [value[position:start], MASK]
            position = end
        return "".join([*out, value[position:]])

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def _occurrences(text: str, secret: str) -> list[int]:
    found, start = [], text.find(secret)
    while start != -1:
        found.append(start)
        start = text.find(secret, start + 1)
    return found


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
