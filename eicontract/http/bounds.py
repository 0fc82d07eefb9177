"""Bounds on one answer, whichever HTTP stack reads it: its size once decompressed, its time in
all, and its JSON nesting. A hostile or broken target must not exhaust the harness' memory
(a gzip bomb, a listing of a million items), hold a run past its deadline (a body trickled a
byte a second), or crash the JSON decoder (a body nested a hundred thousand levels deep).

- too large, or nested too deep: the run stops (`RunStopped`, exit 2) with one line saying why:
  the harness cannot judge an answer it will not read;
- too slow in all: `AnswerTooSlow`, which the transports treat like a read timeout (no answer;
  several in a row stop the run through the guard's breaker);
- the run deadline passes while reading: the guard stops the run.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

from eicontract.http.guard import Guard

MAX_JSON_DEPTH = 64  # the contract's bodies nest 6 levels; anything near this is not the contract
CHUNK = 64 * 1024
_DEFLATE = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS | 32}
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class AnswerTooSlow(Exception):
    """The answer did not arrive whole within the per-request time cap (e.g. a 1 byte/s trickle)."""


class _Inflater:
    """Decompresses a body with a bound on what one chunk may inflate to: never more than one byte
    past the cap, however small the compressed input (zlib's max_length)."""

    def __init__(self, content_encoding: str, guard: Guard, what: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 and any(c in _DEFLATE for c in codings):
            guard.stop(f"{what}: the target compressed its answer {len(codings)} times "
                       f"(content-encoding: {content_encoding[:60]}); the harness reads one layer at most")
        wbits = _DEFLATE.get(codings[0]) if codings else None
        self._zlib = zlib.decompressobj(wbits) if wbits is not None else None
        self._raw_deflate = codings == ["deflate"]  # some servers send deflate without its zlib header

    def feed(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            return data
        try:
            return self._zlib.decompress(data, room + 1)
        except zlib.error:
            if not self._raw_deflate:
                raise
            self._raw_deflate, self._zlib = False, zlib.decompressobj(-zlib.MAX_WBITS)
            return self._zlib.decompress(data, room + 1)


def read_bounded(chunks: Iterable[bytes], guard: Guard, started: float, what: str, *,
                 content_encoding: str = "") -> bytes:
    """The body from `chunks` (raw; decompressed here per `content_encoding`), within the guard's
    limits. `started`: the guard clock when the request went out. `what`: the request, for the
    reason a stop gives. Raises AnswerTooSlow, RunStopped; zlib.error for a corrupt body."""
    cap = guard.limits.max_response_bytes
    inflater = _Inflater(content_encoding, guard, what)
    body = bytearray()
    for chunk in chunks:
        body += inflater.feed(chunk, cap - len(body))
        if len(body) > cap:
            guard.stop(f"{what}: the answer is larger than {cap} bytes (decompressed); the harness stops "
                       "reading it (raise --max-response-bytes if the target's answers are that large)")
        if not guard.during_read(started):
            raise AnswerTooSlow(f"the answer took longer than {guard.limits.answer_s:g} s in all "
                                "(3 x --request-timeout)")
    return bytes(body)


def json_depth(raw: bytes, stop_at: int = MAX_JSON_DEPTH + 1) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped), counting up to
    `stop_at`; a text that is not JSON gets some number, which is harmless: it fails to parse."""
    if raw.count(b"[") + raw.count(b"{") < stop_at:
        return 0  # too few brackets to nest that deep: the common case costs two counts
    depth = deepest = 0
    # outside strings: without a backslash, every other piece between quotes (fast); else a regex
    outside = b"".join(raw.split(b'"')[::2]) if b"\\" not in raw else _STRING.sub(b'""', raw)
    for byte in outside.translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest >= stop_at:
                break
    return deepest


def check_depth(raw: bytes, guard: Guard, what: str) -> None:
    """Stop the run (exit 2) on a body nested deeper than MAX_JSON_DEPTH: decoding or walking it
    would exhaust the interpreter's recursion, and no body of the contract nests like that."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        guard.stop(f"{what}: the answer is JSON nested deeper than {MAX_JSON_DEPTH} levels; "
                   "the harness does not read it")
