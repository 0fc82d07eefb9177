"""eicontract.http.client: requests on the wire, Exchanges that never raise, the key kept out of evidence."""

from __future__ import annotations

import json
import re
import shlex

import httpx
import pytest
import yaml

from eicontract import contract
from eicontract.http.client import API_KEY_HEADER, ApiClient, Exchange, curl_command
from eicontract.http.guard import RequestDropped, RunStopped
from eicontract.http.redact import KEY_PLACEHOLDER, MASK
from tests.harness.helpers import BASE, KEY, make_client, page_body

OPENAPI = contract.contracts_dir() / "openapi.yaml"


class Recording:
    """A MockTransport handler that answers one fixed reply and remembers every request."""

    def __init__(self, reply: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.reply = reply if reply is not None else httpx.Response(200, json={"success": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.reply.status_code, headers=self.reply.headers, content=self.reply.content)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def _openapi_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


def _documented_paths() -> dict[str, set[str]]:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return {path: set(ops) for path, ops in spec["paths"].items()}


def _assert_documented(request: httpx.Request) -> None:
    method = request.method.lower()
    path = request.url.path
    matches = [t for t, ops in _documented_paths().items() if method in ops and _openapi_pattern(t).match(path)]
    assert matches, f"{request.method} {request.url.path} is not an operation of contracts/openapi.yaml"


# --- the three operations on the wire ---------------------------------------------------------


def test_classify_posts_to_the_documented_path_with_wire_query_names() -> None:
    server = Recording()
    with make_client(server) as client:
        client.classify(5, 17, 301, variant="int8", truncate=True)
    request = server.last
    assert request.method == "POST"
    assert request.url.path == "/v1/api/5/classify/anomaly-gmm/v2/17/301"
    assert dict(request.url.params) == {"variant": "int8", "truncateStructuredLabels": "true"}
    _assert_documented(request)


def test_classify_sends_false_truncate_and_no_query_when_options_are_unset() -> None:
    server = Recording()
    with make_client(server) as client:
        client.classify(5, 17, 301, truncate=False)
        client.classify(5, 17, 301)
    assert dict(server.requests[0].url.params) == {"truncateStructuredLabels": "false"}
    assert server.requests[1].url.query == b""
    assert "?" not in client.history[-1].url


def test_classify_extra_parameters_are_sent_as_given() -> None:
    server = Recording()
    with make_client(server) as client:
        client.classify(5, 17, 301, variant="float32", extra={"variant": "bogus", "impulseId": "2"})
    assert dict(server.last.url.params) == {"variant": "bogus", "impulseId": "2"}


def test_job_status_gets_the_documented_path() -> None:
    server = Recording()
    with make_client(server) as client:
        client.job_status(5, 99)
    assert server.last.method == "GET"
    assert server.last.url.path == "/v1/api/5/jobs/99/status"
    assert server.last.url.query == b""
    _assert_documented(server.last)


def test_page_gets_the_documented_path_with_every_parameter_as_text() -> None:
    server = Recording()
    with make_client(server) as client:
        exchange = client.page(5, {"limit": 20, "offset": 40, "labels": '["idle", "snake"]', "minLength": 100})
    request = server.last
    assert request.method == "GET"
    assert request.url.path == "/v1/api/5/classify/all/result/page"
    assert dict(request.url.params) == {"limit": "20", "offset": "40", "labels": '["idle", "snake"]',
                                        "minLength": "100"}
    assert exchange.url == str(request.url)
    _assert_documented(request)


def test_a_trailing_slash_on_the_base_url_does_not_double_the_slash() -> None:
    server = Recording()
    with ApiClient(BASE + "/", KEY, transport=httpx.MockTransport(server)) as client:
        client.job_status(1, 2)
    assert server.last.url.path == "/v1/api/1/jobs/2/status"


def test_requests_ask_for_json_and_follow_no_redirect() -> None:
    server = Recording(httpx.Response(302, headers={"location": "http://127.0.0.1:1/elsewhere"}))
    with make_client(server) as client:
        exchange = client.job_status(1, 2)
    assert server.last.headers["accept"] == "application/json"
    assert len(server.requests) == 1
    assert exchange.status == 302


# --- which key is sent ------------------------------------------------------------------------


def test_valid_key_sends_the_configured_key() -> None:
    server = Recording()
    with make_client(server) as client:
        exchange = client.page(1, {"limit": 1})
    assert server.last.headers[API_KEY_HEADER] == KEY
    assert exchange.sent_key == "valid"


def test_missing_key_sends_no_key_header() -> None:
    server = Recording()
    with make_client(server) as client:
        exchange = client.page(1, {"limit": 1}, key="missing")
    assert API_KEY_HEADER not in server.last.headers
    assert exchange.sent_key == "missing"


@pytest.mark.parametrize("operation", ["classify", "job_status", "page"])
def test_wrong_key_sends_a_different_non_empty_key(operation: str) -> None:
    server = Recording()
    with make_client(server) as client:
        if operation == "classify":
            client.classify(1, 2, 3, key="wrong")
        elif operation == "job_status":
            client.job_status(1, 2, key="wrong")
        else:
            client.page(1, {}, key="wrong")
    sent = server.last.headers[API_KEY_HEADER]
    assert sent and sent != KEY
    assert client.history[-1].sent_key == "wrong"


# --- replies that are not JSON, and no reply at all --------------------------------------------


@pytest.mark.parametrize(
    ("status", "content", "content_type"),
    [
        (200, b"hello, not json", "text/plain"),
        (200, b'{"success": true, "result": [', "application/json"),
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (200, b"", "application/json"),
        (204, b"", "application/json"),
        (200, b"\xff\xfe\xfa not utf-8 \x80", "application/json"),
    ],
    ids=["plain-text", "truncated-json", "html", "empty-200", "empty-204", "invalid-utf8"],
)
def test_a_body_that_is_not_json_gives_status_no_body_and_a_clear_error(
    status: int, content: bytes, content_type: str
) -> None:
    reply = httpx.Response(status, content=content, headers={"content-type": content_type})
    with make_client(Recording(reply)) as client:
        exchange = client.page(1, {"limit": 1})
    assert exchange.status == status
    assert exchange.body is None
    assert exchange.error.startswith("body is not JSON")
    assert not exchange.ok_json
    assert exchange.text == reply.text


def test_json_that_is_not_an_object_is_kept_but_is_not_ok_json() -> None:
    with make_client(Recording(httpx.Response(200, json=[1, 2]))) as client:
        exchange = client.page(1, {})
    assert exchange.body == [1, 2]
    assert exchange.error == ""
    assert not exchange.ok_json


def test_a_json_object_reply_is_decoded_with_no_error() -> None:
    with make_client(Recording(httpx.Response(200, json=page_body([4, 5])))) as client:
        exchange = client.page(1, {})
    assert exchange.ok_json
    assert exchange.body == page_body([4, 5])
    assert (exchange.text, exchange.error) == ("", "")


def test_an_error_status_with_a_json_envelope_is_an_answer_not_an_exception() -> None:
    reply = httpx.Response(401, json={"success": False, "error": "Unauthorized"})
    with make_client(Recording(reply)) as client:
        exchange = client.page(1, {}, key="missing")
    assert exchange.status == 401
    assert exchange.ok_json
    assert exchange.body["error"] == "Unauthorized"


def test_a_long_non_json_body_is_kept_truncated() -> None:
    reply = httpx.Response(500, content=b"x" * 10_000, headers={"content-type": "text/plain"})
    with make_client(Recording(reply)) as client:
        exchange = client.page(1, {})
    assert 0 < len(exchange.text) <= 2000


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_transport_error_gives_an_exchange_with_no_status_and_a_named_error(failure: httpx.HTTPError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with make_client(handler) as client:
        exchange = client.job_status(1, 2)
    assert exchange.status is None
    assert exchange.body is None
    assert exchange.error.startswith(type(failure).__name__ + ":")
    assert str(failure) in exchange.error
    assert not exchange.ok_json
    assert exchange.summary() == f"GET {exchange.url} -> no answer ({exchange.error})"
    assert client.history[-1] is exchange


class _Dropping:
    """Drops (closes without an answer) every job status request, or only the first `times`;
    answers everything else."""

    def __init__(self, times: int | None = None) -> None:
        self.times, self.dropped, self.seen = times, 0, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url.path)
        if "/jobs/" in request.url.path and (self.times is None or self.dropped < self.times):
            self.dropped += 1
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"success": True, "result": [], "predictions": []})


def test_a_request_dropped_twice_while_a_listing_is_answered_ends_the_run_as_the_servers_failure() -> None:
    """A server that closes the connection on one request (a crash in its handler) but answers the
    smallest listing right after failed that request: RequestDropped (a violation, exit 1), with
    the dropped request as evidence and every later request refused. The key stays out of it."""
    server = _Dropping()
    with make_client(server) as client:
        with pytest.raises(RequestDropped) as caught:
            client.job_status(1, 2)
        assert caught.value.exchange.status is None and "/jobs/2/status" in caught.value.exchange.url
        assert "closed the connection without an answer, twice" in str(caught.value)
        assert server.seen == ["/v1/api/1/jobs/2/status"] * 2 + ["/v1/api/1/classify/all/result/page"]
        assert [e.url for e in client.history] == [caught.value.exchange.url] * 2  # the probe is not evidence
        with pytest.raises(RunStopped):
            client.page(1, {"limit": 1})
        assert KEY not in str(caught.value) and KEY not in repr(caught.value.exchange)


def test_a_request_dropped_once_is_sent_again_and_its_answer_stands() -> None:
    """Once is the network's as much as the server's: the request is sent again, and answered."""
    server = _Dropping(times=1)
    with make_client(server) as client:
        exchange = client.job_status(1, 2)
    assert exchange.status == 200 and server.seen == ["/v1/api/1/jobs/2/status"] * 2


def test_a_target_that_drops_everything_is_no_violation_but_a_silent_target() -> None:
    """The listing dropped too: the target went away; the exchange comes back unanswered and the
    guard counts it (the run stops with exit 2 after enough of them)."""
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("[Errno 104] Connection reset by peer")

    with make_client(handler) as client:
        exchange = client.job_status(1, 2)
    assert exchange.status is None and client.guard.unanswered_in_a_row == 3


# --- the key never reaches the evidence --------------------------------------------------------


def _echo_everywhere(request: httpx.Request) -> httpx.Response:
    """A careless server: the key in values, in dict keys, nested, in lists."""
    sent = request.headers.get(API_KEY_HEADER, "")
    return httpx.Response(401, json={"success": False, "error": f"key {sent} is not valid",
                                     "detail": {sent: [sent, {"again": sent}]}})


def _assert_no_key(exchange: Exchange) -> None:
    for text in (exchange.url, exchange.text, exchange.error, exchange.curl(), exchange.summary(),
                 json.dumps(exchange.body), repr(exchange)):
        assert KEY not in text


def test_the_key_echoed_in_a_json_body_is_masked_everywhere() -> None:
    with make_client(_echo_everywhere) as client:
        exchange = client.classify(1, 2, 3)
    _assert_no_key(exchange)
    assert exchange.body["error"] == f"key {MASK} is not valid"
    assert exchange.body["detail"] == {MASK: [MASK, {"again": MASK}]}


@pytest.mark.parametrize("content_type", ["text/plain", "text/html"])
def test_the_key_echoed_in_a_text_body_is_masked(content_type: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        sent = request.headers[API_KEY_HEADER]
        return httpx.Response(500, text=f"<p>crash while checking {sent}</p>", headers={"content-type": content_type})

    with make_client(handler) as client:
        exchange = client.page(1, {})
    _assert_no_key(exchange)
    assert exchange.text == f"<p>crash while checking {MASK}</p>"


def test_the_key_in_a_transport_error_message_is_masked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused header {API_KEY_HEADER}: {request.headers[API_KEY_HEADER]}")

    with make_client(handler) as client:
        exchange = client.job_status(1, 2)
    _assert_no_key(exchange)
    assert MASK in exchange.error


def test_the_key_is_masked_in_the_url_when_it_was_put_in_the_query() -> None:
    with make_client(Recording()) as client:
        exchange = client.page(1, {"filename": KEY})
    _assert_no_key(exchange)
    assert MASK in exchange.url


def test_the_key_echoed_with_json_escapes_is_masked_in_the_decoded_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        escaped = "".join(f"\\u{ord(c):04x}" for c in request.headers[API_KEY_HEADER])
        raw = '{"success": false, "error": "bad key ' + escaped + '"}'
        return httpx.Response(401, content=raw.encode(), headers={"content-type": "application/json"})

    with make_client(handler) as client:
        exchange = client.page(1, {})
    assert exchange.status == 401
    _assert_no_key(exchange)


def test_a_key_straddling_the_truncation_point_leaves_no_part_of_it() -> None:
    head = "x" * (2000 - 20)  # the key starts 20 characters before the cut

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=head + request.headers[API_KEY_HEADER] + " tail",
                              headers={"content-type": "text/plain"})

    with make_client(handler) as client:
        exchange = client.page(1, {})
    assert KEY[:20] not in exchange.text


# --- history and reproduction -----------------------------------------------------------------


def test_history_keeps_only_the_most_recent_exchanges() -> None:
    with make_client(Recording(), history=3) as client:
        exchanges = [client.job_status(1, job_id) for job_id in range(5)]
    assert list(client.history) == exchanges[-3:]
    assert [e.url.rsplit("/", 2)[-2] for e in client.history] == ["2", "3", "4"]


def test_history_records_failed_exchanges_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with make_client(handler) as client:
        client.page(1, {})
    assert len(client.history) == 1
    assert client.history[0].status is None


def test_curl_for_the_valid_key_reads_it_from_the_shell_in_double_quotes() -> None:
    command = curl_command("GET", f"{BASE}/api/1/jobs/2/status")
    assert f'"{API_KEY_HEADER}: {KEY_PLACEHOLDER}"' in command
    assert shlex.split(command) == ["curl", "-sS", "-X", "GET", "-H", f"{API_KEY_HEADER}: {KEY_PLACEHOLDER}",
                                    f"{BASE}/api/1/jobs/2/status"]


def test_curl_for_a_missing_key_sends_no_header() -> None:
    command = curl_command("POST", f"{BASE}/api/1/classify/anomaly-gmm/v2/2/3", "missing")
    assert shlex.split(command) == ["curl", "-sS", "-X", "POST", f"{BASE}/api/1/classify/anomaly-gmm/v2/2/3"]


def test_curl_for_a_wrong_key_sends_a_literal_other_key() -> None:
    words = shlex.split(curl_command("GET", f"{BASE}/x", "wrong"))
    header = words[words.index("-H") + 1]
    assert header.startswith(f"{API_KEY_HEADER}: ")
    assert "$" not in header


@pytest.mark.parametrize(
    "query",
    [
        {"labels": '["idle", "snake"]', "limit": 2},
        {"filename": "it's a $HOME `whoami` & sample;rm -rf", "offset": 0},
        {"filename": 'quote " and back\\slash'},
    ],
    ids=["json-filter", "shell-metacharacters", "quotes"],
)
def test_curl_url_round_trips_through_the_shell(query: dict[str, str | int]) -> None:
    with make_client(Recording()) as client:
        exchange = client.page(7, query)
    words = shlex.split(exchange.curl())
    assert words[-1] == exchange.url
    assert httpx.URL(words[-1]).params == httpx.URL(exchange.url).params
    assert dict(httpx.URL(words[-1]).params) == {k: str(v) for k, v in query.items()}


def test_exchange_curl_follows_the_key_that_was_sent() -> None:
    with make_client(Recording()) as client:
        valid, missing = client.page(1, {}), client.page(1, {}, key="missing")
    assert KEY_PLACEHOLDER in valid.curl()
    assert "-H" not in shlex.split(missing.curl())


# --- near-miss keys (issue 18): one edit away from the real key, replayable without it ------------

@pytest.mark.parametrize("which", ["first-char-changed", "last-char-changed", "last-char-dropped"])
def test_a_near_miss_key_is_sent_and_its_curl_rebuilds_it_from_the_variable(which: str) -> None:
    import subprocess

    from eicontract.http.client import near_miss

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get(API_KEY_HEADER, ""))
        return httpx.Response(401, json={"success": False, "error": "bad key"})

    with make_client(handler) as client:
        exchange = client.page(1, {"limit": 1}, key=which)
    sent = seen[0]
    assert sent == near_miss(KEY, which) and sent != KEY and len(sent) >= len(KEY) - 1
    assert (sent[1:] == KEY[1:]) if which == "first-char-changed" else sent[:len(KEY) - 1] == KEY[:-1]
    curl = exchange.curl()
    assert KEY not in curl and KEY[:-1] not in curl
    header = re.search(r'-H ("x-api-key: [^"]*")', curl)
    assert header is not None
    expanded = subprocess.run(["bash", "-c", f"printf %s {header.group(1)}"], env={"EI_API_KEY": KEY},
                              capture_output=True, text=True, check=True).stdout
    assert expanded == f"x-api-key: {sent}"


def test_a_server_that_checks_only_part_of_the_key_is_caught_by_a_near_miss() -> None:
    from eicontract.oracles.envelope import check_auth_rejected

    def lax(request: httpx.Request) -> httpx.Response:  # compares all but the key's last character
        if request.headers.get(API_KEY_HEADER, "")[:len(KEY) - 1] == KEY[:-1]:
            return httpx.Response(200, json=page_body([1, 2]))
        return httpx.Response(401, json={"success": False, "error": "bad key"})

    with make_client(lax) as client:
        wrong = client.page(1, {"limit": 2}, key="wrong")
        near = client.page(1, {"limit": 2}, key="last-char-dropped")
    assert check_auth_rejected(wrong.body, wrong.status or 0) == []  # a plain wrong key misses this bug
    assert {v.clause for v in check_auth_rejected(near.body, near.status or 0)} == {"AUTH-REJECT"}


def test_a_dropped_request_is_a_no_5xx_violation_shown_with_that_request() -> None:
    from eicontract.drive.evidence import EXCHANGE_KEY
    from eicontract.pytest.hooks import dropped_violation

    with make_client(_Dropping()) as client, pytest.raises(RequestDropped) as caught:
        client.job_status(1, 2)
    violation = dropped_violation(caught.value)
    assert violation.clause == "NO-5XX" and "decision.no-5xx" in violation.message
    shown = violation.evidence[EXCHANGE_KEY]
    assert shown["status"] is None and shown["url"].endswith("/jobs/2/status") and "no answer" in shown["excerpt"]
