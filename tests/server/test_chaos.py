"""The chaos proxy (eicontract.server.chaos): each mode does what it says, seen through httpx."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from eicontract.server import RunningServer, ServerConfig, start_in_thread
from eicontract.server.chaos import HTML_PAGE, ChaosConfig, ChaosProxy, main
from tests.harness.test_serve_cli import _first_url
from tests.server.server_helpers import CLASSIFIER, PAGE, classify_path

STOP_BOUND_S = 30.0  # a hang detector for stop(), not a measurement (10 s was crossed at load 4)
CLASSIFY = "/classify/anomaly-gmm/"


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    with start_in_thread(ServerConfig(samples=20)) as running:
        yield running


def _client(url: str, upstream: RunningServer, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=timeout, headers={"x-api-key": upstream.config.api_key})


def _sample(upstream: RunningServer) -> int:
    with _client(upstream.url, upstream) as http:
        return int(http.get(PAGE, params={"limit": 1}).json()["result"][0]["sampleId"])


def _proxy(upstream: RunningServer, **options: object) -> ChaosProxy:
    return ChaosProxy(upstream.url, ChaosConfig(**options))  # type: ignore[arg-type]


def test_pass_forwards_requests_and_answers_unchanged(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="pass") as proxy, _client(proxy.url, upstream) as via, \
            _client(upstream.url, upstream) as direct:
        assert proxy.url.endswith("/v1") and proxy.port != upstream.port
        for _ in range(3):  # over one kept-alive connection
            reply = via.get(PAGE, params={"limit": 3})
            assert reply.status_code == 200 and reply.json() == direct.get(PAGE, params={"limit": 3}).json()
        unauthorised = httpx.get(proxy.url + PAGE, timeout=5)
        assert unauthorised.status_code == 401  # headers (and their absence) are forwarded
        assert proxy.seen == 4 and proxy.misbehaved == 0


def test_every_request_is_counted_by_method_and_path(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="pass") as proxy, _client(proxy.url, upstream) as http:
        http.get(PAGE, params={"limit": 1})
        http.get(PAGE, params={"limit": 2, "offset": 1})
        http.delete(PAGE)
        assert proxy.requests == {("GET", "/v1" + PAGE): 2, ("DELETE", "/v1" + PAGE): 1}


def test_throttle_answers_every_other_request_429_with_retry_after(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="throttle", after=1) as proxy, _client(proxy.url, upstream) as http:
        statuses = [http.get(PAGE, params={"limit": 1}) for _ in range(5)]
        assert [r.status_code for r in statuses] == [200, 429, 200, 429, 200]
        assert statuses[1].headers["retry-after"] == "0" and statuses[1].json()["success"] is False
        assert proxy.misbehaved == 2


def test_after_counts_good_requests_and_paths_limit_the_chaos(upstream: RunningServer) -> None:
    sample = _sample(upstream)
    with _proxy(upstream, mode="html", after=1, paths=(CLASSIFY,)) as proxy, _client(proxy.url, upstream) as http:
        first = http.post(classify_path(CLASSIFIER, sample))
        assert first.status_code == 200 and first.json()["success"] is True
        second = http.post(classify_path(CLASSIFIER, sample))
        assert second.headers["content-type"].startswith("text/html")
        assert http.get(PAGE, params={"limit": 2}).json()["success"] is True  # other paths pass
        assert proxy.misbehaved == 1


def test_reset_resets_the_connection(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="reset") as proxy, _client(proxy.url, upstream) as http:
        with pytest.raises(httpx.ReadError) as caught:  # a reset, not a polite close (RemoteProtocolError)
            http.get(PAGE)
        assert "reset" in repr(caught.value.__context__).lower() or "104" in str(caught.value)
        assert proxy.misbehaved == 1


def test_hang_answers_nothing_and_stop_still_returns(upstream: RunningServer) -> None:
    proxy = _proxy(upstream, mode="hang")
    hung = _client(proxy.url, upstream, timeout=60)
    errors: list[BaseException] = []

    def wait_forever() -> None:
        try:
            hung.get(PAGE)
        except httpx.HTTPError as exc:
            errors.append(exc)

    waiting = threading.Thread(target=wait_forever, daemon=True)
    waiting.start()
    with _client(proxy.url, upstream, timeout=0.3) as http, pytest.raises(httpx.ReadTimeout):
        http.get(PAGE)
    stopper = threading.Thread(target=proxy.stop, daemon=True)
    stopper.start()
    stopper.join(STOP_BOUND_S)
    assert not stopper.is_alive(), "stop() must return while a connection hangs"
    waiting.join(STOP_BOUND_S)
    assert not waiting.is_alive() and errors, "stopping ends the hung request (without an answer)"
    hung.close()


def test_html_is_a_200_web_page(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="html") as proxy, _client(proxy.url, upstream) as http:
        reply = http.get(PAGE)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
        assert reply.content == HTML_PAGE
        with pytest.raises(json.JSONDecodeError):
            reply.json()


def test_truncated_json_is_half_a_body_with_a_matching_length(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="truncated-json") as proxy, _client(proxy.url, upstream) as via, \
            _client(upstream.url, upstream) as direct:
        whole = direct.get(PAGE, params={"limit": 5}).content
        reply = via.get(PAGE, params={"limit": 5})
        assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
        assert reply.content == whole[: len(whole) // 2]
        assert int(reply.headers["content-length"]) == len(reply.content)
        with pytest.raises(json.JSONDecodeError):
            reply.json()


def test_cut_off_promises_the_whole_body_and_hangs_up(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="cut-off") as proxy, _client(proxy.url, upstream) as http, \
            pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        http.get(PAGE, params={"limit": 5})


@pytest.mark.parametrize(("status", "body", "kind"), [(503, "json", "application/json"), (502, "html", "text/html")])
def test_5xx_answers_a_server_error(upstream: RunningServer, status: int, body: str, kind: str) -> None:
    with _proxy(upstream, mode="5xx", status=status, error_body=body) as proxy, _client(proxy.url, upstream) as http:
        reply = http.get(PAGE)
        assert reply.status_code == status and reply.headers["content-type"].startswith(kind)
        if body == "json":
            assert reply.json() == {"success": False, "error": "Service Unavailable"}
        else:
            assert b"<h1>502 Bad Gateway</h1>" in reply.content


def test_die_stops_listening_after_n_requests(upstream: RunningServer) -> None:
    with _proxy(upstream, mode="die", after=2) as proxy:
        with _client(proxy.url, upstream) as http:
            assert [http.get(PAGE).status_code for _ in range(2)] == [200, 200]
            with pytest.raises(httpx.TransportError):  # the request that finds it dying
                http.get(PAGE)
        for _ in range(2):  # new connections are refused from now on
            with _client(proxy.url, upstream) as fresh, pytest.raises(httpx.ConnectError):
                fresh.get(PAGE)


def test_die_resets_the_other_open_connections(upstream: RunningServer) -> None:
    sample = _sample(upstream)
    with _proxy(upstream, mode="die", after=1, paths=(CLASSIFY,)) as proxy, \
            _client(proxy.url, upstream) as bystander, _client(proxy.url, upstream) as http:
        assert bystander.get(PAGE).status_code == 200  # its connection stays open (keep-alive)
        assert http.post(classify_path(CLASSIFIER, sample)).status_code == 200
        with pytest.raises(httpx.TransportError):
            http.post(classify_path(CLASSIFIER, sample))
        with pytest.raises(httpx.TransportError):
            bystander.get(PAGE)


@pytest.mark.parametrize("options", [{"mode": "explode"}, {"mode": "5xx", "status": 404}, {"after": -1},
                                     {"error_body": "xml"}])
def test_a_bad_config_is_refused_at_construction(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ChaosConfig(**options)  # type: ignore[arg-type]


def test_the_upstream_must_be_an_http_url() -> None:
    with pytest.raises(ValueError, match="upstream"):
        ChaosProxy("https://example.invalid/v1")


def test_the_command_line_refuses_a_bad_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mode", "5xx", "--status", "404", "--upstream", "http://127.0.0.1:1/v1"]) == 2
    assert "status must be a 5xx" in capsys.readouterr().err


def test_the_command_line_serves_until_interrupted() -> None:
    """`python -m eicontract.server.chaos` (as docs/ROBUSTNESS.md shows): its own reference
    server behind the proxy, the URL printed, a clean exit on Ctrl-C."""
    process = subprocess.Popen([sys.executable, "-m", "eicontract.server.chaos", "--mode", "html", "--path", CLASSIFY,
                                "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={k: v for k, v in os.environ.items() if not k.startswith("EI_")})
    try:
        url = _first_url(process)
        page = httpx.get(url + PAGE, headers={"x-api-key": "ei_reference_local_key"}, timeout=5)
        assert page.status_code == 200 and page.json()["success"] is True
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert code == 0
