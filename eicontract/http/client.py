"""The HTTP layer: three documented operations over one httpx client, nothing else.

Every call returns an `Exchange` (what was asked, what came back) and never raises for HTTP
statuses or transport failures: a broken server must give the oracles evidence, not crash the
harness. The transport is the one seam (httpx's): tests pass `httpx.MockTransport`.
"""

from __future__ import annotations

import json
import re
import shlex
import time
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from eicontract.http.bounds import AnswerTooSlow, check_depth, read_bounded
from eicontract.http.classified import Classified
from eicontract.http.guard import Guard
from eicontract.http.pagelimit import PageLimit
from eicontract.http.recording import Recording
from eicontract.http.redact import KEY_PLACEHOLDER, Redactor, url_secrets

API_KEY_HEADER = "x-api-key"
# The connection closed with no (or half an) answer: what a server that crashes on one request
# does. Not a refused connection or a timeout (a target gone or slow: the guard's to count).
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)
_PROJECT = re.compile(r"/api/([^/]+)/")
_KEEP_TEXT = 2000  # characters of a non-JSON body kept as evidence


def page_path(project_id: int | str) -> str:
    """The listing's path (the page operation, and the drop check's probe of a target's life)."""
    return f"/api/{project_id}/classify/all/result/page"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its outcome. `status` is None when no HTTP answer came back."""

    method: str
    url: str  # full URL with the query, never the key
    status: int | None
    body: Any  # decoded JSON, or None when the body was not JSON
    text: str = ""  # the raw body (redacted, truncated) when it was not JSON
    error: str = ""  # transport error or JSON decode problem
    elapsed: float = 0.0
    sent_key: str = field(default="valid", compare=False)  # valid | missing | wrong | a NEAR_MISSES name
    key_echoed: bool = False  # the reply carried the key we sent (it is masked everywhere here)
    location: str = ""  # a 3xx's Location (redacted): redirects are never followed
    near_char: str = ""  # a near-miss key's new character (never one of the key's own): for curl()

    @property
    def ok_json(self) -> bool:
        return self.status is not None and isinstance(self.body, dict)

    def curl(self) -> str:
        return curl_command(self.method, self.url, self.sent_key, self.near_char)

    def summary(self) -> str:
        status = self.status if self.status is not None else f"no answer ({self.error})"
        return f"{self.method} {self.url} -> {status}"


# Keys one edit away from the real one (issue 18's near misses): each must be refused like any
# wrong key. Each is spelt for a reproduction as a shell expansion of $EI_API_KEY, never its value.
NEAR_MISSES = ("first-char-changed", "last-char-changed", "last-char-dropped")


def near_char(key: str, which: str) -> str:
    """The character a near miss puts in place of the key's own (none for a dropped one)."""
    own = key[:1] if which == "first-char-changed" else key[-1:] if which == "last-char-changed" else ""
    return "" if which == "last-char-dropped" else ("Z" if own != "Z" else "Y")


def near_miss(key: str, which: str) -> str:
    """The key one edit away: its first or last character changed, or its last one dropped."""
    char = near_char(key, which)
    if which == "first-char-changed":
        return char + key[1:]
    if which == "last-char-changed":
        return key[:-1] + char
    return key[:-1]


def _near_miss_header(which: str, char: str) -> str:
    value = {"first-char-changed": f"{char}${{EI_API_KEY:1}}",
             "last-char-changed": f"${{EI_API_KEY%?}}{char}",
             "last-char-dropped": "${EI_API_KEY%?}"}[which]
    return f'"{API_KEY_HEADER}: {value}"'


def curl_command(method: str, url: str, sent_key: str = "valid", near: str = "") -> str:
    """A reproduction command; the key is the shell variable $EI_API_KEY, never its value.

    sent_key: 'valid' (the configured key), 'missing' (no header), 'wrong' (some other key), or a
    NEAR_MISSES name (the key one edit away, as a shell expansion of $EI_API_KEY).
    """
    parts = [shlex.quote(p) for p in ("curl", "-sS", "-X", method)]
    if sent_key == "valid":  # double quotes keep $EI_API_KEY expandable
        parts += ["-H", f'"{API_KEY_HEADER}: {KEY_PLACEHOLDER}"']
    elif sent_key in NEAR_MISSES:
        parts += ["-H", _near_miss_header(sent_key, near)]
    elif sent_key == "wrong":
        parts += ["-H", shlex.quote(f"{API_KEY_HEADER}: not-the-key")]
    return " ".join([*parts, shlex.quote(url)])


def _text(response: httpx.Response, content: bytes) -> str:
    try:
        return content.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return content.decode("utf-8", errors="replace")


def _decode(response: httpx.Response, content: bytes, redactor: Redactor) -> tuple[Any, str, str, bool]:
    """(body, text, error, key_echoed), with the key masked wherever it was."""
    raw = _text(response, content)
    echoed = redactor.echoed_in(raw)
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        text = redactor.text(raw)[:_KEEP_TEXT]  # mask first: a cut must not split the key
        return None, text, f"body is not JSON: {exc}", echoed
    # Walking a large body costs more than the request, so only a body that may hold the key is
    # walked: one where some form of it appears, or one with escapes (\u0065, \/) that could spell it.
    if redactor.found_in(raw) or "\\u" in raw or "\\/" in raw:
        masked = redactor.data(body)
        return masked, "", "", echoed or (masked != body and redactor.echoed_in(json.dumps(body)))
    return body, "", "", False


class ApiClient:
    """The three operations of the contract, against one API root (e.g. http://127.0.0.1:4810/v1)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        history: int = 20,
        guard: Guard | None = None,
        recording: Recording | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.redactor = Redactor(api_key, *url_secrets(base_url))
        self.guard = guard or Guard()  # unlimited unless the run sets limits
        self.recording = recording
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout if connect_timeout else min(timeout, 5.0)),
            transport=transport,
            follow_redirects=False,  # a 3xx is the answer: the key never follows it (docs/SAFETY.md)
            headers={"accept": "application/json", "accept-encoding": "gzip, deflate"},  # what bounds.py reads
        )
        self.history: deque[Exchange] = deque(maxlen=history)
        self.page_limit = PageLimit()  # the target's listing maximum as learned (drive/pagesize.py)
        # the classify requests sent, by both stacks (this client, and `http.session` given this record)
        self.classified = Classified(self.base_url)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the three documented operations -------------------------------------------------
    def classify(
        self,
        project_id: int,
        block_id: int | str,
        sample_id: int | str,
        *,
        variant: str | None = None,
        truncate: bool | None = None,
        extra: Mapping[str, str] | None = None,
        key: str = "valid",
    ) -> Exchange:
        params: dict[str, str] = {}
        if variant is not None:
            params["variant"] = variant
        if truncate is not None:
            params["truncateStructuredLabels"] = "true" if truncate else "false"
        params.update(extra or {})
        path = f"/api/{project_id}/classify/anomaly-gmm/v2/{block_id}/{sample_id}"
        return self.send("POST", path, params, key=key)

    def job_status(self, project_id: int, job_id: int | str, *, key: str = "valid") -> Exchange:
        return self.send("GET", f"/api/{project_id}/jobs/{job_id}/status", {}, key=key)

    def page(self, project_id: int, params: Mapping[str, str | int], *, key: str = "valid") -> Exchange:
        query = {name: str(value) for name, value in params.items()}
        return self.send("GET", page_path(project_id), query, key=key)

    # -- the one place that talks HTTP ---------------------------------------------------
    def send(self, method: str, path: str, params: Mapping[str, str], *, key: str = "valid") -> Exchange:
        """key: 'valid' sends the configured key, 'missing' none, 'wrong' a wrong one.

        Every attempt passes the guard (operation, budget, pace, deadline); a 429 is retried as
        the guard says; RunStopped from the guard ends the run and is not caught here."""
        exchange, dropped = self._attempt(method, path, params, key)
        if dropped:  # the connection closed with no answer: the server's doing, or the network's?
            exchange, dropped = self._attempt(method, path, params, key)
            if dropped and self._answers_a_listing(path):
                raise self.guard.dropped(exchange, exchange.summary())
        return exchange

    def _attempt(self, method: str, path: str, params: Mapping[str, str], key: str,
                 remember: bool = True) -> tuple[Exchange, bool]:
        """One request (429s retried as the guard says): its Exchange, and whether the target
        closed the connection without an answer (DROPPED)."""
        url = self.base_url + path + (f"?{urlencode(params)}" if params else "")
        headers = {}
        if key == "valid":
            headers[API_KEY_HEADER] = self._key
        elif key == "wrong":
            headers[API_KEY_HEADER] = "ei_wrong_" + "0" * 24
        elif key in NEAR_MISSES:
            headers[API_KEY_HEADER] = near_miss(self._key, key)
        started = time.monotonic()
        try:
            operation_id, (response, content) = self.guard.exchange(
                method, path, lambda: self._fetch(method, url, headers, f"{method} {path}"),
                lambda r: (r[0].status_code, r[0].headers.get("retry-after")))
        except (httpx.HTTPError, AnswerTooSlow, zlib.error) as exc:
            error = self.redactor.text(f"{type(exc).__name__}: {exc}")
            failed = Exchange(method, self.redactor.text(url), None, None, error=error,
                              elapsed=time.monotonic() - started, sent_key=key,
                              near_char=near_char(self._key, key) if key in NEAR_MISSES else "")
            if remember:
                self.history.append(failed)
            self.guard.unanswered(error)  # may stop the run: the history already holds the evidence
            return failed, isinstance(exc, DROPPED)
        check_depth(content, self.guard, f"{method} {path}")
        body, text, error, echoed = _decode(response, content, self.redactor)
        exchange = Exchange(method, self.redactor.text(url), response.status_code, body, text, error,
                            elapsed=time.monotonic() - started, sent_key=key, key_echoed=echoed,
                            location=self.redactor.text(response.headers.get("location", ""))[:200],
                            near_char=near_char(self._key, key) if key in NEAR_MISSES else "")
        if remember:
            self.history.append(exchange)
        if self.recording is not None and key == "valid" and remember:
            self.recording.add(operation_id, method, path, params, response.status_code, body)
        return exchange, False

    def _answers_a_listing(self, path: str) -> bool:
        """Whether the target still answers (any HTTP answer) the smallest listing of the project
        the dropped request named: then the drop was that request's, not a target gone away.
        Not kept in the history: the evidence is the dropped request."""
        project = _PROJECT.match(path)
        if project is None:
            return False
        probe, _ = self._attempt("GET", page_path(project[1]), {"limit": "1"}, "valid", remember=False)
        return probe.status is not None

    def _fetch(self, method: str, url: str, headers: Mapping[str, str], what: str) -> tuple[httpx.Response, bytes]:
        """One attempt, its body read within the guard's bounds (size, time in all, run deadline)."""
        started = self.guard.now()
        self.classified.add(method, url)
        with self._http.stream(method, url, headers=headers) as response:
            if response.is_stream_consumed:  # an answer made in memory (httpx.MockTransport), already decoded
                chunks, encoding = iter([response.content]), ""
            else:
                chunks, encoding = response.iter_raw(), response.headers.get("content-encoding", "")
            content = read_bounded(chunks, self.guard, started, what, content_encoding=encoding)
        return response, content
