"""eicontract.http.guard: the three operations only, budget, pace, deadline, 429 and the breaker.

A fake clock and a fake sleep make every timing exact: nothing here waits for real.
"""

from __future__ import annotations

from email.utils import formatdate

import pytest

from eicontract.http.guard import (
    Guard,
    Limits,
    RunStopped,
    UndocumentedOperation,
    operation_of,
    path_under,
    retry_after_seconds,
)

PAGE = "/api/1/classify/all/result/page"
CLASSIFY = "/api/1/classify/anomaly-gmm/v2/7/42"
STATUS = "/api/1/jobs/99/status"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def guard(**limits: object) -> tuple[Guard, FakeTime]:
    fake = FakeTime()
    return Guard(Limits(**limits), clock=fake.clock, sleep=fake.sleep), fake  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "path", "operation"), [
    ("POST", CLASSIFY, "classifySampleByLearnBlockV2"),
    ("post", CLASSIFY, "classifySampleByLearnBlockV2"),
    ("GET", STATUS, "getJobStatus"),
    ("GET", PAGE, "getClassifyJobResultPage"),
    ("GET", "/api/abc/classify/all/result/page", "getClassifyJobResultPage"),  # a negative case's bad id
])
def test_the_three_documented_operations_are_allowed(method: str, path: str, operation: str) -> None:
    assert operation_of(method, path) == operation


@pytest.mark.parametrize(("method", "path"), [
    ("GET", CLASSIFY),  # the deprecated v1 verb
    ("DELETE", PAGE),  # schemathesis' undocumented-method probe
    ("PUT", STATUS),
    ("POST", "/api/1/classify/anomaly-gmm/7/42"),  # v1 path
    ("GET", PAGE + "/extra"),
    ("GET", "/api/1/jobs/99/cancel"),
    ("GET", "/api/1/classify/all/result/page/../../../projects"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/7/"),  # an empty path parameter
])
def test_anything_else_is_refused(method: str, path: str) -> None:
    assert operation_of(method, path) is None
    with pytest.raises(UndocumentedOperation):
        Guard().admit(method, path)


def test_path_under_strips_the_api_root() -> None:
    assert path_under("http://127.0.0.1:4810/v1", "http://127.0.0.1:4810/v1" + PAGE + "?limit=1") == PAGE
    assert path_under("http://127.0.0.1:4810/v1/", "http://127.0.0.1:4810/v1" + STATUS) == STATUS
    assert path_under("http://127.0.0.1:4810", "http://127.0.0.1:4810" + STATUS) == STATUS
    # a URL outside the root keeps its whole path, and so matches no operation
    assert operation_of("GET", path_under("http://h/v1", "http://h/v2" + PAGE)) is None


def test_the_budget_admits_exactly_max_requests() -> None:
    g, _ = guard(max_requests=3)
    for _ in range(3):
        g.admit("GET", PAGE)
    with pytest.raises(RunStopped, match=r"budget of 3 .*--max-requests"):
        g.admit("GET", PAGE)
    assert g.sent == 3


def test_without_limits_nothing_waits_or_stops() -> None:
    g, fake = guard()
    for _ in range(500):
        g.admit("GET", PAGE)
    assert fake.slept == [] and g.sent == 500


def test_the_pace_spaces_requests_one_over_rps_apart() -> None:
    g, fake = guard(rps=4)
    for _ in range(4):
        g.admit("GET", PAGE)
    assert fake.slept == [0.25, 0.25, 0.25]  # the first goes at once
    fake.now += 10  # idle time is not banked into a burst
    g.admit("GET", PAGE)
    g.admit("GET", PAGE)
    assert fake.slept[3:] == [0.25]


def test_the_deadline_stops_the_run() -> None:
    g, fake = guard(deadline_s=60)
    g.admit("GET", PAGE)
    fake.now += 59.9
    g.admit("GET", PAGE)
    fake.now += 0.1
    with pytest.raises(RunStopped, match="deadline of 60 s"):
        g.admit("GET", PAGE)


def test_the_breaker_opens_after_max_unanswered_in_a_row() -> None:
    g, _ = guard(max_unanswered=3)
    g.unanswered("ConnectError")
    g.unanswered("ConnectError")
    g.answered()  # one answer resets the count: a flaky target is judged by the clauses, not stopped
    g.unanswered("ReadTimeout")
    g.unanswered("ReadTimeout")
    with pytest.raises(RunStopped, match=r"stopped answering: 3 requests in a row .*ReadTimeout"):
        g.unanswered("ReadTimeout")


def test_a_429_waits_for_retry_after_then_retries() -> None:
    g, fake = guard()
    assert g.wait_before_retry(429, "3", attempt=0) is True
    assert fake.slept == [3.0] and g.retried_429 == 1


def test_other_statuses_are_not_retried() -> None:
    g, fake = guard()
    for status in (200, 400, 401, 404, 500, 503):
        assert g.wait_before_retry(status, "5", attempt=0) is False
    assert fake.slept == []


def test_a_429_without_retry_after_backs_off_exponentially() -> None:
    g, fake = guard(retries_429=3)
    for attempt in range(3):
        assert g.wait_before_retry(429, None, attempt)
    assert fake.slept == [1.0, 2.0, 4.0]


def test_a_429_that_never_ends_stops_the_run() -> None:
    g, _ = guard(retries_429=2)
    with pytest.raises(RunStopped, match=r"kept answering 429 .*--rps"):
        g.wait_before_retry(429, "1", attempt=2)


def test_a_retry_after_longer_than_the_cap_or_the_deadline_stops_the_run() -> None:
    g, fake = guard(max_retry_wait_s=30)
    with pytest.raises(RunStopped, match="wait 120 s"):
        g.wait_before_retry(429, "120", attempt=0)
    g, fake = guard(deadline_s=10)
    fake.now += 8
    with pytest.raises(RunStopped, match="Retry-After"):
        g.wait_before_retry(429, "5", attempt=0)
    assert fake.slept == []


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(" 0 ") == 0.0
    now = 1_800_000_000.0
    assert retry_after_seconds(formatdate(now + 12, usegmt=True), now=now) == pytest.approx(12.0)
    assert retry_after_seconds(formatdate(now - 50, usegmt=True), now=now) == 0.0  # a date in the past
    for unreadable in (None, "", "soon", "-3", "1.5e3"):
        assert retry_after_seconds(unreadable) is None


def test_a_retry_counts_against_the_budget() -> None:
    g, _ = guard(max_requests=2)
    g.admit("GET", PAGE)
    assert g.wait_before_retry(429, "0", attempt=0)
    g.admit("GET", PAGE)  # the retry is a request like any other
    with pytest.raises(RunStopped):
        g.admit("GET", PAGE)


def test_run_stopped_is_not_an_exception() -> None:
    """So that `except Exception` in glue, hypothesis or schemathesis never swallows a stop."""
    assert not issubclass(RunStopped, Exception)
    assert issubclass(UndocumentedOperation, ValueError)


def test_a_stop_is_sticky_so_no_glue_can_send_past_it() -> None:
    g, _ = guard(max_unanswered=1, max_requests=100)
    with pytest.raises(RunStopped):
        g.unanswered("ConnectError")
    with pytest.raises(RunStopped, match="stopped answering"):  # even when a caller swallowed the first
        g.admit("GET", PAGE)
    assert g.sent == 0
