"""A hostile or broken target (tests/harness/hostile.py) against both HTTP stacks of the harness:
`ApiClient` (httpx) and the requests session behind schemathesis' `case.call`.

- a redirect to another host (another port of 127.0.0.1, or 127.0.0.2) never carries the key:
  neither stack follows a redirect, the 3xx is the answer;
- an answer larger than the cap (a gzip bomb, twice gzipped, a huge listing) stops the run
  (RunStopped, exit 2) after reading at most a chunk past the cap, never MemoryError;
- a body trickled a byte at a time is stopped by the per-answer time cap, and the run deadline is
  enforced while reading;
- JSON nested deeper than MAX_JSON_DEPTH stops the run, never RecursionError.
The bombs at full size (1 GiB decompressed) run in a subprocess under RLIMIT_AS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from eicontract.http.bounds import MAX_JSON_DEPTH, json_depth
from eicontract.http.client import ApiClient
from eicontract.http.guard import Guard, Limits, RunStopped
from eicontract.http.session import guarded_session
from tests.harness import hostile
from tests.harness.hostile import Hostile

KEY = "ei_hostile_secret_" + "k3y9" * 8
PAGE = "/api/1/classify/all/result/page?limit=1"
SMALL_CAP = 256 * 1024


def _client(url: str, **limits: object) -> ApiClient:
    return ApiClient(url, KEY, timeout=2.0, guard=Guard(Limits(**limits)))  # type: ignore[arg-type]


def _session(url: str, **limits: object) -> requests.Session:
    return guarded_session(Guard(Limits(**limits)), url, timeout=(2.0, 2.0), api_key=KEY)  # type: ignore[arg-type]


@pytest.fixture
def other_host() -> Iterator[Hostile]:
    """Server B: where the redirects point; records whatever reaches it."""
    with Hostile(hostile.ok) as server:
        yield server


# -- redirects ---------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"])  # another port, or another address
def test_the_client_does_not_follow_a_redirect_to_another_host(status: int, host: str) -> None:
    with Hostile(hostile.ok, host) as other_host, Hostile(hostile.redirect_to(other_host.url, status)) as a, \
            _client(a.url) as client:
        exchange = client.page(1, {"limit": 1})
        assert exchange.status == status
        assert exchange.location.startswith(other_host.url)
        assert other_host.seen == []
        assert a.seen and a.seen[0][2]["x-api-key"] == KEY  # the key went to the target, and only there


@pytest.mark.parametrize("status", [302, 307])
def test_the_schemathesis_session_does_not_follow_a_redirect_to_another_host(other_host: Hostile,
                                                                              status: int) -> None:
    with Hostile(hostile.redirect_to(other_host.url, status)) as a:
        response = _session(a.url).get(a.url + PAGE, headers={"x-api-key": KEY})
    assert response.status_code == status  # the 3xx is what schemathesis judges
    assert other_host.seen == []


def test_plain_requests_would_have_sent_the_key_to_the_other_host(other_host: Hostile) -> None:
    """Why the session overrides redirects: requests strips only Authorization across hosts."""
    with Hostile(hostile.redirect_to(other_host.url, 307)) as a:
        requests.get(a.url + PAGE, headers={"x-api-key": KEY}, timeout=5)
    assert other_host.seen and other_host.seen[0][2].get("x-api-key") == KEY


def test_the_session_sends_nothing_to_another_host_than_the_target(other_host: Hostile) -> None:
    session = _session("http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="another host"):
        session.get(other_host.url + PAGE, headers={"x-api-key": KEY})
    assert other_host.seen == []


# -- size ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layers", [1, 2])
def test_a_gzip_bomb_stops_the_run_at_the_cap(layers: int) -> None:
    data = hostile.gzip_bomb(8 * SMALL_CAP, layers)
    with Hostile(hostile.bomb(data, layers)) as server:
        with _client(server.url, max_response_bytes=SMALL_CAP) as client, pytest.raises(RunStopped) as stop:
            client.page(1, {"limit": 1})
        if layers == 1:
            assert f"larger than {SMALL_CAP} bytes" in str(stop.value)
        else:
            assert "compressed its answer 2 times" in str(stop.value)
        with pytest.raises(RunStopped, match=f"larger than {SMALL_CAP} bytes"):
            _session(server.url, max_response_bytes=SMALL_CAP).get(server.url + PAGE, headers={"x-api-key": KEY})


def test_a_huge_listing_stops_the_run_at_the_cap() -> None:
    with Hostile(hostile.huge_listing(100_000)) as server:
        with _client(server.url, max_response_bytes=SMALL_CAP) as client, pytest.raises(RunStopped, match="larger"):
            client.page(1, {"limit": 1})
        with pytest.raises(RunStopped, match="larger"):
            _session(server.url, max_response_bytes=SMALL_CAP).get(server.url + PAGE, headers={"x-api-key": KEY})


def test_an_answer_at_the_cap_is_read_whole() -> None:
    body = json.dumps({"success": True, "result": [], "pad": "x" * 1000}).encode()
    with Hostile(lambda h: h.whole(200, body)) as server, _client(server.url, max_response_bytes=len(body)) as c:
        assert c.page(1, {"limit": 1}).body["pad"] == "x" * 1000
        assert _session(server.url, max_response_bytes=len(body)).get(server.url + PAGE).json()["pad"] == "x" * 1000


# -- time ----------------------------------------------------------------------------------------
def test_a_trickle_is_stopped_by_the_time_cap_per_answer() -> None:
    with Hostile(hostile.trickle(0.05)) as server:
        with _client(server.url, answer_s=0.5) as client:
            exchange = client.page(1, {"limit": 1})
        assert exchange.status is None and "AnswerTooSlow" in exchange.error
        assert 0.5 <= exchange.elapsed < 2.0  # the read timeout (2 s) never fired: each byte came in time
        with pytest.raises(requests.ReadTimeout, match=r"longer than 0\.5 s"):
            _session(server.url, answer_s=0.5).get(server.url + PAGE)


def test_the_run_deadline_is_enforced_while_an_answer_is_read() -> None:
    with Hostile(hostile.trickle(0.05)) as server:
        with _client(server.url, deadline_s=0.5) as client, pytest.raises(RunStopped, match="deadline"):
            client.page(1, {"limit": 1})
        with pytest.raises(RunStopped, match="deadline"):
            _session(server.url, deadline_s=0.5).get(server.url + PAGE)


# -- nesting -------------------------------------------------------------------------------------
def test_json_nested_too_deep_stops_the_run_instead_of_recursing() -> None:
    with Hostile(hostile.deep_json(200_000)) as server:
        with _client(server.url) as client, pytest.raises(RunStopped, match=f"deeper than {MAX_JSON_DEPTH}"):
            client.page(1, {"limit": 1})
        with pytest.raises(RunStopped, match=f"deeper than {MAX_JSON_DEPTH}"):
            _session(server.url).get(server.url + PAGE)


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth(b"[" * 70 + b"]" * 70) == MAX_JSON_DEPTH + 1  # counted up to one past the bound
    assert json_depth(b'{"a": "' + b"[" * 200 + b'"}') < MAX_JSON_DEPTH
    assert json_depth(b'["\\"' + b"[" * 100 + b'"]') < MAX_JSON_DEPTH  # an escaped quote does not end a string
    assert json_depth(json.dumps([[[1]]] * 10).encode()) == 0  # fewer brackets than the bound: not scanned


def test_json_nested_to_the_bound_is_read() -> None:
    body = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    with Hostile(lambda h: h.whole(200, body)) as server, _client(server.url) as client:
        assert client.page(1, {"limit": 1}).body == json.loads(body)


# -- the bombs at full size, in a memory-limited subprocess ----------------------------------------
MEMORY_LIMIT = 1536 * 1024 * 1024
_BOMB_CLIENT = textwrap.dedent("""
    import resource, sys
    limit = int(sys.argv[3])  # set in the child itself: preexec_fn is unsafe with the server threads here
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from eicontract.http.client import ApiClient
    from eicontract.http.guard import Guard, RunStopped
    from eicontract.http.session import guarded_session
    url, stack = sys.argv[1], sys.argv[2]
    guard = Guard()
    try:
        if stack == "httpx":
            ApiClient(url, "ei_key_of_the_bomb_test", guard=guard).page(1, {"limit": 1})
        else:
            guarded_session(guard, url, timeout=(5, 5), api_key="k").get(url + "/api/1/classify/all/result/page")
    except RunStopped as stop:
        print("stopped:", stop)
""")


@pytest.mark.parametrize("stack", ["httpx", "requests"])
@pytest.mark.parametrize("case", ["bomb", "listing"])
def test_full_size_bombs_stay_within_a_memory_limit(stack: str, case: str, tmp_path: Path) -> None:
    answer = hostile.bomb(hostile.gzip_bomb(1 << 30)) if case == "bomb" else hostile.huge_listing(1_000_000)
    with Hostile(answer) as server:
        done = subprocess.run([sys.executable, "-c", _BOMB_CLIENT, server.url, stack, str(MEMORY_LIMIT)],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stopped:" in done.stdout and "larger than 8388608 bytes" in done.stdout, done.stdout
