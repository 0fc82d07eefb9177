"""Live-target safety: every request, whichever HTTP stack sends it, passes one `Guard`.

The guard enforces what makes the gate safe to point at a production API:
- only the three documented operations are ever called;
- a request budget and a rate limit (requests per second);
- a deadline for the whole run;
- 429 answers are honoured (Retry-After, in seconds or as an HTTP date), within the deadline;
- a circuit breaker: a target that stops answering (resets, timeouts, refused connections several
  times in a row) ends the run instead of costing one timeout per remaining request.

When a limit ends the run the guard raises `RunStopped`. It derives from BaseException on
purpose: hypothesis, schemathesis and the glue's `except Exception` must not turn "stop the run"
into a test failure (or retry it while shrinking). The pytest plugin turns it into exit 2.

The waits here (rate limit, Retry-After) pace traffic for the server's sake; they never stand in
for synchronisation.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

Answer = TypeVar("Answer")

# (method, path pattern under the API root, operationId): the whole of what the gate may call
OPERATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"/api/[^/]+/classify/anomaly-gmm/v2/[^/]+/[^/]+"), "classifySampleByLearnBlockV2"),
    ("GET", re.compile(r"/api/[^/]+/jobs/[^/]+/status"), "getJobStatus"),
    ("GET", re.compile(r"/api/[^/]+/classify/all/result/page"), "getClassifyJobResultPage"),
)


CLASSIFY = "classifySampleByLearnBlockV2"


def operation_of(method: str, path: str) -> str | None:
    """The operationId a request (method, path under the API root) belongs to; None if undocumented."""
    for allowed_method, pattern, operation_id in OPERATIONS:
        if method.upper() == allowed_method and pattern.fullmatch(path):
            return operation_id
    return None


def path_under(root_url: str, url: str) -> str:
    """The path of `url` below the API root (e.g. /v1): what `operation_of` matches."""
    root = urlsplit(root_url).path.rstrip("/")
    path = urlsplit(url).path
    return path[len(root):] if root and path.startswith(root + "/") else path


class RunStopped(BaseException):
    """A limit ended the run: the harness stops, reports what it has and exits 2."""


class RequestDropped(RunStopped):
    """The target closed the connection on one request without an answer, twice, and answered a
    listing right after: the server failed that request (NO-5XX, decision.no-5xx), it did not go
    away. Ends the run as a violation (exit 1); `exchange` (http.client.Exchange) is the evidence."""

    def __init__(self, reason: str, exchange: Any) -> None:
        super().__init__(reason)
        self.exchange = exchange


class UndocumentedOperation(ValueError):
    """The harness tried to call something outside the contract: a bug of the harness."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_requests: int | None = None  # None: no budget
    rps: float | None = None  # None: no rate limit
    deadline_s: float | None = None  # seconds from the guard's start; None: none
    max_unanswered: int = 5  # consecutive exchanges without an HTTP answer before the run stops
    retries_429: int = 3  # attempts after a 429 before the run stops
    max_retry_wait_s: float = 60.0  # a longer Retry-After stops the run instead of waiting
    max_response_bytes: int = 8 * 1024 * 1024  # one answer's body, decompressed (eicontract.http.bounds)
    answer_s: float | None = None  # one answer, headers and body, in all (a trickle is stopped); None: none


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Guard:
    """Budget, pace, deadline and breaker for one process. Thread-safe: load tests share one."""

    def __init__(self, limits: Limits | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = limits or Limits()
        self._clock, self._sleep = clock, sleep
        self._started = clock()
        self._next_slot = self._started
        self._lock = threading.Lock()
        self.sent = 0
        self.unanswered_in_a_row = 0
        self.retried_429 = 0
        self.stopped = ""  # why the run stopped: once set, every later request is refused too

    def _stop(self, reason: str) -> RunStopped:
        """Remember the stop (a glue that catches it must not get more requests out) and raise."""
        self.stopped = self.stopped or reason
        raise RunStopped(reason)

    def dropped(self, exchange: Any, summary: str) -> RequestDropped:
        """A request the target drops while it answers others: the run ends on it (the caller
        raises what this returns; every later request is refused, as after a stop)."""
        reason = (f"{summary}: the target closed the connection without an answer, twice, and answered a "
                  f"listing right after")
        self.stopped = self.stopped or reason
        return RequestDropped(reason, exchange)

    def stop(self, reason: str) -> RunStopped:
        """End the run (exit 2) for a reason found outside the guard, e.g. an answer too large to read."""
        return self._stop(reason)

    def now(self) -> float:
        return self._clock()

    def during_read(self, started: float) -> bool:
        """While an answer is read: False once it took longer than `answer_s` in all (the caller
        treats that as no answer); stops the run once the run deadline passed."""
        with self._lock:
            self._check_deadline()
        return self.limits.answer_s is None or self._clock() - started <= self.limits.answer_s

    # -- before a request ----------------------------------------------------------------
    def admit(self, method: str, path: str) -> str:
        """Let one request go (waiting for its slot when paced); returns its operationId."""
        operation_id = operation_of(method, path)
        if operation_id is None:
            raise UndocumentedOperation(f"{method} {path} is not one of the three documented operations")
        if self.stopped:
            raise RunStopped(self.stopped)
        with self._lock:
            self._check_deadline()
            budget = self.limits.max_requests
            if budget is not None and self.sent >= budget:
                self._stop(f"the request budget of {budget} is spent (raise --max-requests to check more)")
            self.sent += 1
            wait = self._take_slot()
        if wait > 0:
            self._sleep(wait)
        return operation_id

    def _take_slot(self) -> float:
        if not self.limits.rps:
            return 0.0
        now = self._clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.limits.rps
        return slot - now

    def _check_deadline(self) -> None:
        deadline = self.limits.deadline_s
        if deadline is not None and self._clock() - self._started >= deadline:
            self._stop(f"the run deadline of {deadline:g} s passed (raise --run-deadline to check more)")

    def remaining_s(self) -> float | None:
        if self.limits.deadline_s is None:
            return None
        return self.limits.deadline_s - (self._clock() - self._started)

    # -- after a request -----------------------------------------------------------------
    def answered(self) -> None:
        with self._lock:
            self.unanswered_in_a_row = 0

    def unanswered(self, error: str) -> None:
        """An exchange ended without an HTTP answer; enough of them in a row stop the run."""
        with self._lock:
            self.unanswered_in_a_row += 1
            count = self.unanswered_in_a_row
        if count >= self.limits.max_unanswered:
            self._stop(f"the target stopped answering: {count} requests in a row got no HTTP answer "
                       f"(last: {error})")

    def exchange(self, method: str, path: str, send: Callable[[], Answer],
                 status_of: Callable[[Answer], tuple[int, str | None]]) -> tuple[str, Answer]:
        """One request as the guard allows it: admit, send, retry 429s as told. Returns the
        operationId and the last answer. A transport error propagates: the caller keeps its
        evidence, then reports it to `unanswered` (which may stop the run).

        status_of: the answer's status and Retry-After header."""
        operation_id = self.admit(method, path)
        attempt = 0
        while True:
            answer = send()
            self.answered()
            status, retry_after = status_of(answer)
            if not self.wait_before_retry(status, retry_after, attempt):
                return operation_id, answer
            attempt += 1
            self.admit(method, path)

    def wait_before_retry(self, status: int, retry_after: str | None, attempt: int) -> bool:
        """After an answer: True (having waited) when it was a 429 to retry; False for any other status.

        attempt counts the retries already made for this request (0 on the first answer)."""
        if status != 429:
            return False
        if attempt >= self.limits.retries_429:
            self._stop(f"the target kept answering 429 Too Many Requests after {attempt} retries (lower --rps)")
        delay = retry_after_seconds(retry_after)
        if delay is None:
            delay = float(2 ** attempt)  # no usable Retry-After: back off 1, 2, 4 s
        remaining = self.remaining_s()
        if delay > self.limits.max_retry_wait_s or (remaining is not None and delay > remaining):
            self._stop(f"the target asked to wait {delay:g} s (Retry-After), longer than the run allows")
        with self._lock:
            self.retried_429 += 1
        self._sleep(delay)
        return True
