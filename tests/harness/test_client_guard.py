"""The client under the run's guard: 429 retries, the budget, the breaker, and `--record`.

The same guard also drives schemathesis' requests session (eicontract.http.session), tested
here against a small loopback server, since requests has no MockTransport.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import requests

from eicontract.http.classified import Classified
from eicontract.http.client import ApiClient
from eicontract.http.guard import Guard, Limits, RunStopped, UndocumentedOperation
from eicontract.http.recording import MANIFEST, Recording
from eicontract.http.redact import Redactor
from eicontract.http.session import guarded_session
from tests.harness.helpers import BASE, KEY, FakeClock, page_body

PAGE = "/api/1/classify/all/result/page"


def client_with(handler: object, limits: Limits | None = None, recording: Recording | None = None,
                ) -> tuple[ApiClient, FakeClock]:
    clock = FakeClock()
    guard = Guard(limits, clock=clock, sleep=clock.sleep)
    client = ApiClient(BASE, KEY, transport=httpx.MockTransport(handler), guard=guard,  # type: ignore[arg-type]
                       recording=recording)
    return client, clock


class Script:
    """Answers from a list, in order; remembers how many requests came."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.count = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        reply = self.replies[min(self.count, len(self.replies) - 1)]
        self.count += 1
        if isinstance(reply, Exception):
            raise reply
        return reply


def test_a_429_is_retried_after_retry_after_and_the_answer_is_the_retry() -> None:
    script = Script(httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(200, json=page_body([1, 2])))
    client, clock = client_with(script)
    exchange = client.page(1, {"limit": 2})
    assert exchange.status == 200 and exchange.body == page_body([1, 2])
    assert script.count == 2 and client.guard.sent == 2 and clock.sleeps == [2.0]


def test_a_429_that_does_not_end_stops_the_run() -> None:
    script = Script(httpx.Response(429, headers={"retry-after": "1"}))
    client, _ = client_with(script, Limits(retries_429=2))
    with pytest.raises(RunStopped, match="429"):
        client.page(1, {})
    assert script.count == 3


def test_the_budget_stops_the_client_before_it_sends() -> None:
    script = Script(httpx.Response(200, json=page_body([])))
    client, _ = client_with(script, Limits(max_requests=2))
    client.page(1, {})
    client.page(1, {})
    with pytest.raises(RunStopped, match="budget"):
        client.page(1, {})
    assert script.count == 2  # the third request never went out


def test_a_target_that_stops_answering_stops_the_run_with_the_evidence_kept() -> None:
    script = Script(httpx.ConnectError("connection refused"))
    client, _ = client_with(script, Limits(max_unanswered=3))
    assert client.page(1, {}).status is None
    assert client.page(1, {}).status is None
    with pytest.raises(RunStopped, match="stopped answering"):
        client.page(1, {})
    assert len(client.history) == 3 and all("ConnectError" in e.error for e in client.history)


def test_one_answer_between_failures_keeps_the_run_going() -> None:
    failures = [httpx.ReadTimeout("slow")] * 2
    script = Script(*failures, httpx.Response(200, json=page_body([])), *failures, httpx.Response(200, json={}))
    client, _ = client_with(script, Limits(max_unanswered=3))
    statuses = [client.page(1, {}).status for _ in range(6)]
    assert statuses == [None, None, 200, None, None, 200]


def test_the_client_refuses_an_undocumented_operation() -> None:
    script = Script(httpx.Response(200, json={}))
    client, _ = client_with(script)
    with pytest.raises(UndocumentedOperation):
        client.send("DELETE", PAGE, {})
    assert script.count == 0


def test_recording_keeps_json_answers_without_the_key(tmp_path: Path) -> None:
    echo = {"success": False, "error": f"bad key {KEY}"}
    script = Script(httpx.Response(200, json=page_body([3])), httpx.Response(401, json=echo),
                    httpx.Response(502, text="<html>bad gateway</html>"))
    recording = Recording(tmp_path, Redactor(KEY))
    client, _ = client_with(script, recording=recording)
    client.page(1, {"limit": 1})
    client.job_status(1, 5)
    client.page(1, {"limit": 1})  # not JSON: nothing for drift
    client.page(1, {"limit": 1}, key="missing")  # a deliberate auth probe is not the API's normal answer
    recording.close(BASE, 1)
    lines = [json.loads(line) for line in (tmp_path / "exchanges.jsonl").read_text().splitlines()]
    kinds = [(r["operationId"], r["status"]) for r in lines]
    assert kinds == [("getClassifyJobResultPage", 200), ("getJobStatus", 401)]
    assert lines[0] == {"operationId": "getClassifyJobResultPage", "method": "GET", "path": PAGE,
                        "query": {"limit": "1"}, "status": 200, "body": page_body([3])}
    assert KEY not in (tmp_path / "exchanges.jsonl").read_text()
    assert json.loads((tmp_path / MANIFEST).read_text()) == {"target": BASE, "project_id": 1, "recorded": 2}


def test_recording_keeps_at_most_per_kind_bodies(tmp_path: Path) -> None:
    recording = Recording(tmp_path, Redactor(KEY), per_kind=3)
    client, _ = client_with(Script(httpx.Response(200, json=page_body([1]))), recording=recording)
    for _ in range(10):
        client.page(1, {})
    recording.close(BASE, 1)
    assert len((tmp_path / "exchanges.jsonl").read_text().splitlines()) == 3


# -- schemathesis' requests session under the same guard -----------------------------------


class _Handler(BaseHTTPRequestHandler):
    replies: list[tuple[int, dict[str, str], bytes]] = []
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, headers, body = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        self.send_response(status)
        for name, value in {**headers, "content-length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # a classify: no body is read, the reply is the script's

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _session(root: str, guard: Guard, recording: Recording | None = None,
             classified: Classified | None = None) -> requests.Session:
    return guarded_session(guard, root, timeout=(2.0, 2.0), api_key=KEY, recording=recording,
                           classified=classified)


def test_the_session_adds_its_classify_requests_to_the_clients_record(loopback: str) -> None:
    """One record holds what both stacks sent: the suite asks it before a schemathesis case."""
    _Handler.replies = [(200, {"content-type": "application/json"}, b'{"success": true, "id": 1}')]
    guard = Guard()
    client = ApiClient(loopback, KEY, guard=guard)
    sample = loopback + "/api/1/classify/anomaly-gmm/v2/7/42"
    with client:
        client.classify(1, 7, 42, variant="int8")
        session = _session(loopback, guard, classified=client.classified)
        session.post(sample, params={"variant": "akida", "truncateStructuredLabels": "True"})  # requests' spelling
    assert client.classified.sent_before("POST", sample + "?variant=int8")
    assert client.classified.sent_before("POST", sample + "?variant=akida&truncateStructuredLabels=true")
    assert not client.classified.sent_before("POST", sample + "?variant=float32")


def test_the_session_retries_a_429_and_counts_every_attempt(loopback: str, tmp_path: Path) -> None:
    body = json.dumps(page_body([4])).encode()
    _Handler.replies = [(429, {"retry-after": "0"}, b"{}"), (200, {"content-type": "application/json"}, body)]
    clock = FakeClock()
    guard = Guard(Limits(max_requests=10), clock=clock, sleep=clock.sleep)
    recording = Recording(tmp_path, Redactor(KEY))
    response = _session(loopback, guard, recording).get(loopback + PAGE, params={"limit": 1},
                                                        headers={"x-api-key": KEY})
    recording.close(loopback, 1)
    assert response.status_code == 200 and response.json() == page_body([4])
    assert guard.sent == 2 and guard.retried_429 == 1 and len(_Handler.seen) == 2
    recorded = json.loads((tmp_path / "exchanges.jsonl").read_text())
    assert (recorded["operationId"], recorded["status"], recorded["query"]) == ("getClassifyJobResultPage", 200,
                                                                               {"limit": "1"})


def test_the_session_stops_at_the_budget_and_refuses_undocumented_calls(loopback: str) -> None:
    _Handler.replies = [(200, {}, b"{}")]
    guard = Guard(Limits(max_requests=1))
    session = _session(loopback, guard)
    with pytest.raises(UndocumentedOperation):
        session.delete(loopback + PAGE)
    session.get(loopback + PAGE)
    with pytest.raises(RunStopped, match="budget"):
        session.get(loopback + PAGE)
    assert len(_Handler.seen) == 1


def test_the_session_uses_the_runs_timeouts_whatever_the_caller_passes(loopback: str) -> None:
    _Handler.replies = [(200, {}, b"{}")]
    seen: list[object] = []

    class Spy(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
            seen.append(kwargs.get("timeout"))
            return super().send(request, *args, **kwargs)  # type: ignore[arg-type]

    session = _session(loopback, Guard())
    adapter = session.get_adapter(loopback)
    adapter.__class__ = type("SpiedAdapter", (type(adapter), Spy), {})
    session.get(loopback + PAGE, timeout=10)  # schemathesis passes its own 10 s
    assert seen == [(2.0, 2.0)]


def test_the_session_breaker_counts_refused_connections() -> None:
    guard = Guard(Limits(max_unanswered=2))
    session = _session("http://127.0.0.1:9/v1", guard)  # port 9 (discard): nothing listens there
    with pytest.raises(requests.ConnectionError):
        session.get("http://127.0.0.1:9/v1" + PAGE)
    with pytest.raises(RunStopped, match="stopped answering"):
        session.get("http://127.0.0.1:9/v1" + PAGE)
