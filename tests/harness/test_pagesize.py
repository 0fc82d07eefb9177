"""eicontract.drive.pagesize: a listing read at the page size the target answers, its maximum
limit learned the way a client would (a refused page asked again smaller) and remembered."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from eicontract.drive.pagesize import MAX_STEPS, is_refusal, read_page
from eicontract.drive.sweeps import sweep
from eicontract.drive.windows import read_region
from eicontract.http.client import Exchange
from tests.harness.helpers import make_client, page_body
from tests.harness.hostile import Hostile
from tests.selftest.gate import run_gate

REFUSAL = {"success": False, "error": "limit must be at most 10"}


class Capped:
    """A listing of ids 0..size-1 that refuses any limit above `maximum` with the failure
    envelope (a legal server: the documents name no maximum), or every limit (maximum 0)."""

    def __init__(self, size: int, maximum: int) -> None:
        self.size, self.maximum = size, maximum
        self.limits: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        limit, offset = int(query["limit"]), int(query.get("offset", "0"))
        self.limits.append(limit)
        if limit > self.maximum:
            return httpx.Response(400, json=REFUSAL)
        return httpx.Response(200, json=page_body(list(range(self.size)[offset:offset + limit])))


def test_a_refused_limit_is_asked_again_halved_and_the_maximum_remembered() -> None:
    server = Capped(300, 10)
    with make_client(server) as client:
        exchange, limit = read_page(client, 1, {"limit": 100, "offset": 0})
        assert server.limits == [100, 50, 25, 12, 6] and limit == 6
        assert exchange.status == 200 and len(exchange.body["result"]) == 6
        assert (client.page_limit.answered, client.page_limit.refused) == (6, 12)
        server.limits.clear()
        _, again = read_page(client, 1, {"limit": 100, "offset": 6})
        assert server.limits == [6] and again == 6  # remembered: no refusal asked twice
        _, small = read_page(client, 1, {"limit": 3, "offset": 0})
        assert small == 3  # below the maximum: as asked


def test_a_sweep_and_a_region_read_a_capped_listing_whole_at_pages_it_answers() -> None:
    server = Capped(45, 10)
    with make_client(server) as client:
        result = sweep(client, 1, page_size=100, max_pages=1)  # the bound counts pages of 100
        region = read_region(client, 1, 5, 30, 100)
    assert result.complete and result.ids == list(range(45))
    assert all(read.limit <= 10 and len(read.body["result"]) <= read.limit for read in result.reads)
    assert region.ids == list(range(5, 35)) and {read.limit for read in region.reads} == {6}
    assert max(server.limits[4:]) <= 10  # after the first page learned it, nothing above the maximum


class Windowed(Capped):
    """A listing that refuses any page reaching past a window: offset + limit above `window`
    (a search engine's result window; legal too: the documents say nothing of how pages are capped)."""

    def __init__(self, size: int, window: int) -> None:
        super().__init__(size, maximum=window)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        if int(query.get("offset", "0")) + int(query["limit"]) > self.maximum:
            self.limits.append(int(query["limit"]))
            return httpx.Response(400, json=REFUSAL)
        return super().__call__(request)


def test_a_page_refused_past_a_window_is_asked_again_smaller_and_learned_as_a_window() -> None:
    server = Windowed(300, 310)
    with make_client(server) as client:
        read_page(client, 1, {"limit": 100, "offset": 0})
        exchange, limit = read_page(client, 1, {"limit": 100, "offset": 250})
        assert server.limits == [100, 100, 50] and limit == 50 and exchange.status == 200
        memory = client.page_limit
        assert (memory.answered, memory.refused, memory.window) == (100, None, 350)  # no maximum learned
        assert memory.refusals == [(250, 100)] and memory.reach == 300
        server.limits.clear()
        _, near = read_page(client, 1, {"limit": 100, "offset": 280})
        assert server.limits == [20] and near == 20  # short of the window: up to the farthest end answered
        _, first = read_page(client, 1, {"limit": 100, "offset": 0})
        assert first == 100  # the window is no maximum: a page of 100 where it fits
        result = sweep(client, 1, page_size=100, max_pages=10)
    assert result.complete and result.ids == list(range(300))


def test_a_refusal_of_a_page_an_answered_one_covers_is_not_about_the_size() -> None:
    server = Windowed(300, 310)
    with make_client(server) as client:
        read_page(client, 1, {"limit": 100, "offset": 250})  # halved: 50 answered at 250
        assert client.page_limit.pages == [(250, 50)]
        assert client.page_limit.answers(260, 40) and not client.page_limit.answers(260, 60)


def test_a_server_that_answers_no_limit_teaches_nothing() -> None:
    server = Capped(45, 0)
    with make_client(server) as client:
        exchange, limit = read_page(client, 1, {"limit": 100, "offset": 0})
        assert is_refusal(exchange) and limit == 1 and len(server.limits) == MAX_STEPS
        assert (client.page_limit.answered, client.page_limit.refused) == (0, None)
        result = sweep(client, 1, page_size=100)
    assert not result.complete and "failed" in result.problem and result.reads == []


def test_a_refusal_at_a_limit_known_to_be_answered_is_not_about_the_size() -> None:
    calls: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(dict(request.url.params))
        if "dataType" in request.url.params:  # a filter value this server refuses
            return httpx.Response(400, json={"success": False, "error": "unknown dataType"})
        return httpx.Response(200, json=page_body([1, 2]))

    with make_client(handler) as client:
        read_page(client, 1, {"limit": 50, "offset": 0})
        calls.clear()
        exchange, limit = read_page(client, 1, {"dataType": "x", "limit": 50, "offset": 0})
    assert len(calls) == 1 and limit == 50 and exchange.status == 400  # returned as it is, once
    assert client.page_limit.refused is None


def test_a_refused_filter_costs_one_request_once_an_unfiltered_page_was_answered() -> None:
    """Before any page is answered, a refused filter is halved down to 1 (it may be the size), and
    teaches nothing: the next unfiltered read still asks its whole limit. After it, one request."""
    limits: list[tuple[bool, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        filtered, limit = "dataType" in request.url.params, int(request.url.params["limit"])
        limits.append((filtered, limit))
        if filtered:  # a filter value this server refuses (legal variant datatype-kind)
            return httpx.Response(400, json={"success": False, "error": "dataType must be a kind of data"})
        return httpx.Response(200, json=page_body(list(range(limit))))

    refused_filter: dict[str, str | int] = {"dataType": "chart", "limit": 100, "offset": 0}
    with make_client(handler) as client:
        read_page(client, 1, refused_filter)
        assert limits == [(True, n) for n in (100, 50, 25, 12, 6, 3, 1)] and len(limits) == MAX_STEPS
        assert (client.page_limit.answered, client.page_limit.refused) == (0, None)
        limits.clear()
        read_page(client, 1, {"limit": 100, "offset": 0})  # discovery
        assert limits == [(False, 100)]
        limits.clear()
        exchange, limit = read_page(client, 1, refused_filter)
    assert limits == [(True, 100)] and (exchange.status, limit) == (400, 100)


def test_only_the_failure_envelope_is_a_refusal() -> None:
    def exchange(status: int | None, body: object) -> Exchange:
        return Exchange("GET", "http://127.0.0.1/v1/x", status, body)

    assert is_refusal(exchange(400, REFUSAL)) and is_refusal(exchange(200, REFUSAL))
    assert is_refusal(exchange(422, REFUSAL))
    for status, body in ((500, REFUSAL), (401, REFUSAL), (404, REFUSAL), (429, REFUSAL), (None, None),
                         (400, {"detail": "no"}), (400, None), (200, page_body([1]))):
        assert not is_refusal(exchange(status, body)), (status, body)


@pytest.mark.slow
def test_a_target_that_answers_no_limit_ends_the_run_with_exit_2_and_one_line(tmp_path: Path) -> None:
    """Not "every clause failed": no document names a least maximum, and nothing can be listed."""
    def refusing(handler: object) -> None:
        handler.whole(400, json.dumps(REFUSAL).encode())  # type: ignore[attr-defined]

    with Hostile(refusing) as target:
        run = run_gate(tmp_path / "reports", "--target", target.url, "--project-id", "1",
                       env={"EI_API_KEY": "ei_" + "pagesize0" * 5})
    assert run.exit_code == 2, run.explain()
    assert "refuses the listing (HTTP 400)" in run.stderr and "limit=1" in run.stderr, run.explain()
    assert "Traceback" not in run.stdout + run.stderr and len(target.seen) == 1
