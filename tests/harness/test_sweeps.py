"""eicontract.drive.sweeps: read a listing page by page, stepping by what each page returned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from eicontract.drive.sweeps import sweep
from tests.harness.helpers import make_client, page_body

Reply = Callable[[int, int], httpx.Response]


def fixed(status: int, **content: Any) -> Reply:
    """A reply that is the same whatever the limit and offset."""

    def reply(limit: int, offset: int) -> httpx.Response:
        return httpx.Response(status, **content)

    return reply


class Listing:
    """A page endpoint over ids 0..size-1 that returns at most `cap` results whatever the limit,
    and can be told to answer differently at one offset."""

    def __init__(self, size: int, cap: int | None = None, at: dict[int, Reply] | None = None) -> None:
        self.size, self.cap, self.at = size, cap, at or {}
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        self.queries.append(query)
        limit, offset = int(query["limit"]), int(query["offset"])
        if offset in self.at:
            return self.at[offset](limit, offset)
        count = min(limit, self.cap or limit)
        return httpx.Response(200, json=page_body(list(range(self.size)[offset:offset + count])))

    @property
    def offsets(self) -> list[int]:
        return [int(q["offset"]) for q in self.queries]


def test_a_full_listing_ends_complete_on_the_empty_page() -> None:
    listing = Listing(10)
    with make_client(listing) as client:
        result = sweep(client, 1, page_size=4)
    assert result.complete
    assert result.problem == ""
    assert listing.offsets == [0, 4, 8, 10]
    assert result.ids == list(range(10))
    assert len(result.results) == 10
    assert len(result.reads) == len(result.exchanges) == 4
    assert [read.offset for read in result.reads] == [0, 4, 8, 10]
    assert {read.limit for read in result.reads} == {4}


def test_short_pages_are_legal_and_the_offset_steps_by_the_returned_count() -> None:
    listing = Listing(10, cap=3)
    with make_client(listing) as client:
        result = sweep(client, 1, page_size=4)
    assert result.complete
    assert listing.offsets == [0, 3, 6, 9, 10]
    assert result.ids == list(range(10))


def test_an_empty_listing_is_one_empty_page() -> None:
    listing = Listing(0)
    with make_client(listing) as client:
        result = sweep(client, 1)
    assert result.complete
    assert result.ids == []
    assert len(result.exchanges) == 1


def test_filters_go_on_every_page_with_limit_and_offset() -> None:
    listing = Listing(5)
    with make_client(listing) as client:
        sweep(client, 1, {"labels": '["idle"]', "minLength": "100"}, page_size=2)
    assert listing.queries == [
        {"labels": '["idle"]', "minLength": "100", "limit": "2", "offset": str(offset)} for offset in (0, 2, 4, 5)
    ]


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_an_error_status_stops_the_sweep_incomplete(status: int) -> None:
    listing = Listing(10, at={4: fixed(status, json={"success": False, "error": "nope"})})
    with make_client(listing) as client:
        result = sweep(client, 1, page_size=4)
    assert not result.complete
    # a 400 may refuse the page's size (a maximum limit, or a window offset + limit <= N that
    # (0, 4) answered does not rule out): the same offset is asked smaller, never past it
    halved = 2 if status == 400 else 0  # limits 2 and 1 at offset 4
    assert listing.offsets == [0, 4] + [4] * halved
    assert len(result.reads) == 1
    assert len(result.exchanges) == 2  # the answered page and the last refusal
    assert "offset 4" in result.problem
    assert str(status) in result.problem


def test_a_success_false_page_with_a_result_array_stops_and_names_the_error() -> None:
    listing = Listing(10, at={0: fixed(200, json={"success": False, "error": "project is busy", "result": []})})
    with make_client(listing) as client:
        result = sweep(client, 1)
    assert not result.complete
    assert result.reads == []
    assert "offset 0" in result.problem
    assert "project is busy" in result.problem


def test_a_body_style_failure_envelope_stops_the_sweep_incomplete() -> None:
    listing = Listing(10, at={4: fixed(200, json={"success": False, "error": "bad filter"})})
    with make_client(listing) as client:
        result = sweep(client, 1, page_size=4)
    assert not result.complete
    assert len(result.reads) == 1
    assert "offset 4" in result.problem


def test_a_body_style_failure_problem_names_the_servers_error() -> None:
    with make_client(Listing(10, at={0: fixed(200, json={"success": False, "error": "bad filter"})})) as client:
        result = sweep(client, 1)
    assert "bad filter" in result.problem


def test_a_page_that_is_not_json_stops_the_sweep() -> None:
    with make_client(Listing(10, at={0: fixed(502, text="<html>Bad Gateway</html>")})) as client:
        result = sweep(client, 1)
    assert not result.complete
    assert "offset 0" in result.problem
    assert "502" in result.problem


def test_no_answer_stops_the_sweep_and_says_so() -> None:
    def reply(limit: int, offset: int) -> httpx.Response:
        raise httpx.ConnectError("Connection refused")

    listing = Listing(10, at={2: reply})
    with make_client(listing) as client:
        result = sweep(client, 1, page_size=2)
    assert not result.complete
    assert result.exchanges[-1].status is None
    assert "offset 2" in result.problem
    assert "no answer" in result.problem
    assert "Connection refused" in result.problem


def test_the_page_bound_stops_an_endless_listing_incomplete() -> None:
    listing = Listing(10**9)
    with make_client(listing) as client:
        result = sweep(client, 1, page_size=5, max_pages=3)
    assert not result.complete
    assert listing.offsets == [0, 5, 10]
    assert len(result.reads) == 3
    assert result.ids == list(range(15))
    assert result.problem == "no empty page within 3 pages of 5"
    assert result.bounded  # longer than the sweep may read: not evidence of an endless listing


def test_only_the_bound_marks_a_sweep_bounded() -> None:
    with make_client(Listing(7)) as client:
        done = sweep(client, 1, page_size=5, max_pages=3)
    assert done.complete and not done.bounded


def test_a_listing_that_never_ends_stops_at_the_first_page_without_progress() -> None:
    """A server that answers an offset past the end with the last page never sends the empty page."""
    ids = [1, 2, 3, 4, 5]

    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        start = offset if offset < len(ids) else len(ids) - limit  # past the end: the last page again
        return httpx.Response(200, json=page_body(ids[start:start + limit]))

    result = sweep(make_client(handler), 1, page_size=2, max_pages=1000)
    assert not result.complete and "never ends" in result.problem
    assert len(result.exchanges) <= 5


def test_on_page_sees_whole_pages_and_keep_decides_what_is_kept() -> None:
    """A large listing is checked page by page and kept slim: in the reads, the exchanges and
    the client's history alike."""
    seen: list[Any] = []
    with make_client(Listing(10)) as client:
        result = sweep(client, 1, page_size=4, on_page=lambda read: seen.append(read.body),
                       keep=lambda body: {"result": [{"sampleId": r["sampleId"]} for r in body["result"]]})
        history = list(client.history)
    assert [len(body["result"]) for body in seen] == [4, 4, 2, 0]
    assert all("classifications" in r for body in seen for r in body["result"])  # whole pages
    assert result.complete and result.ids == list(range(10))
    assert all(set(r) == {"sampleId"} for read in result.reads for r in read.body["result"])
    assert [e.body for e in result.exchanges] == [read.body for read in result.reads]
    assert [e.body for e in history] == [read.body for read in result.reads]
