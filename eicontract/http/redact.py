"""Keep the API key out of everything the harness writes: stdout, reports, reproductions.

One `Redactor` masks every secret in the forms a server (or a library) may write it back in:
as is, stripped of surrounding whitespace, URL-encoded (`quote`, `quote_plus`), base64
(standard and URL-safe, with and without padding, also inside a longer base64 text at any
alignment), and hex; each form in any ASCII case (`%2f` and `%2F`, hex in lower or upper case).
Credentials in a URL (`https://user:pass@host`) are written as `https://***@host`, and the
password is a secret too.
A key split across a body (`"ei_abcdefghijklmnop" + "qrstuvwxyz0123456789"`) is masked piece by
piece: every run of FRAGMENT or more of the key's characters is a form too. A piece shorter than
that is not (it could be innocent text, and no redactor can know every split).
"""

from __future__ import annotations

import base64
import re
from typing import Any, TextIO
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "[REDACTED]"
KEY_PLACEHOLDER = "$EI_API_KEY"
USERINFO_MASK = "***"
_MIN_SECRET = 4  # shorter strings would mask innocent text; a real key is long
_MIN_FORM = 8  # an encoded form (or a base64 core) shorter than this could be innocent text
FRAGMENT = 16  # a run of this many of the key's characters is the key split across a body
# scheme://userinfo@ (userinfo: anything but the characters that end an authority)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s\"'<>]+@")


def _base64_forms(secret: bytes) -> set[str]:
    """The secret in base64 on its own, and its core inside a longer base64 text: a secret at byte
    offset 1 or 2 of the encoded text is spelt differently; the characters that depend on its
    neighbours are left out."""
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(secret).decode()
        forms |= {whole, whole.rstrip("=")}
        for offset in (0, 1, 2):
            text = encode(b"\0" * offset + secret + b"\0\0").decode()
            first = -(-offset * 4 // 3)  # character i holds bits 6i..6i+6: the first of only secret bits
            last = (offset + len(secret)) * 4 // 3  # the first holding a bit of the next neighbour
            forms.add(text[first:last])
    return forms


def forms_of(secret: str) -> set[str]:
    """Every spelling of one secret that is masked (the short ones left out)."""
    stripped = secret.strip()
    forms = {secret, stripped}
    for value in {secret, stripped}:
        raw = value.encode("utf-8", "surrogateescape")
        forms |= {quote(value, safe=""), quote_plus(value, safe="")}  # %2f and %2F alike: forms match in any case
        forms |= _base64_forms(raw)
        forms |= {raw.hex(), raw.hex().upper()}
    # the key split across a body: any run of FRAGMENT of its characters (a longer run contains one)
    if len(stripped) > FRAGMENT:
        forms |= {stripped[i:i + FRAGMENT] for i in range(len(stripped) - FRAGMENT + 1)}
    return {f for f in forms if len(f) >= _MIN_SECRET and (f in (secret, stripped) or len(f) >= _MIN_FORM)}


def url_secrets(url: str | None) -> tuple[str, ...]:
    """The password (and user) written in a URL's userinfo: secrets of the run too."""
    if not url:
        return ()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    return tuple(unquote(p) for p in (parts.password, parts.username) if p)


def mask_userinfo(text: str) -> str:
    """https://user:pass@host -> https://***@host."""
    return _USERINFO.sub(lambda m: m.group("scheme") + USERINFO_MASK + "@", text)


class Redactor:
    """Replaces every form of every secret, and URL credentials, in text or nested JSON-like data."""

    def __init__(self, *secrets: str) -> None:
        self._secrets = tuple(sorted({s.strip() for s in secrets if s and len(s.strip()) >= _MIN_SECRET}))
        # matched in any ASCII case (hex and %-escapes come in both; folding keeps every position)
        self._forms = sorted({_fold(form) for secret in secrets if secret and len(secret.strip()) >= _MIN_SECRET
                              for form in forms_of(secret)}, key=len, reverse=True)

    def found_in(self, value: str) -> bool:
        """Any form of a secret (or URL credentials) is in `value`: it must be redacted."""
        return self._form_in(_fold(value)) or _has_userinfo(value)

    def _form_in(self, folded: str) -> bool:
        return any(form in folded for form in self._forms)  # `in` per form: faster than one regex

    def echoed_in(self, value: str) -> bool:
        """A secret as it is (what SECRET-ECHO judges: a reply that carries the key)."""
        return any(secret in value for secret in self._secrets)

    def text(self, value: str) -> str:
        folded = _fold(value)
        if self._form_in(folded):
            spans = sorted((start, start + len(form)) for form in self._forms for start in _occurrences(folded, form))
            out, position = [], 0
            for start, end in _merged(spans):  # overlapping matches are masked as one
                out += [value[position:start], MASK]
                position = end
            value = "".join([*out, value[position:]])
        return mask_userinfo(value) if _has_userinfo(value) else value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def _has_userinfo(text: str) -> bool:
    return "@" in text and "://" in text and _USERINFO.search(text) is not None  # the regex only when it may match


def _fold(text: str) -> str:
    return text.translate(_ASCII_LOWER)


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


class RedactingStream:
    """A text stream that masks each line before it reaches the wrapped one (stdout, stderr): the
    last net under everything a run prints. Lines are held until their newline, so a secret split
    across two writes of one line is still found."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self._stream, self._redactor, self._pending = stream, redactor, ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, self._pending = self._pending.rsplit("\n", 1)
            self._stream.write(self._redactor.text(done + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._redactor.text(self._pending))
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding...: the wrapped stream's
        return getattr(self._stream, name)
