"""eicontract.drive.windows: the listing's end by galloping, regions, id windows (bounded reads)."""

from __future__ import annotations

import math
import random

import httpx
import pytest

from eicontract.drive import windows
from tests.harness.helpers import make_client, page_body


class Listing:
    """A page endpoint over the given ids (in that order), with minId/maxId and totalCount."""

    def __init__(self, ids: list[int], past_end_last: bool = False, window: int | None = None) -> None:
        self.ids, self.past_end_last, self.window = ids, past_end_last, window
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        self.queries.append(query)
        low, high = int(query.get("minId", -1)), int(query.get("maxId", 2**62))
        chosen = [i for i in self.ids if low <= i < high]
        limit, offset = int(query["limit"]), int(query["offset"])
        if self.window is not None and offset + limit > self.window:  # a result window: legal
            return httpx.Response(400, json={"success": False, "error": "offset + limit too large"})
        if self.past_end_last and offset >= len(chosen):
            offset = max(0, len(chosen) - 1)
        return httpx.Response(200, json={**page_body(chosen[offset:offset + limit]), "totalCount": len(chosen)})


@pytest.mark.parametrize("size", [1, 2, 99, 100, 101, 250, 5000, 83_334])
def test_the_end_is_found_in_logarithmic_requests(size: int) -> None:
    listing = Listing(list(range(size)))
    with make_client(listing) as client:
        end = windows.find_end(client, 1, min(size, 100))
    assert end.length == size and end.problem == ""
    assert len(listing.queries) <= 2 * math.log2(max(2, size)) + 3
    assert all(q["limit"] == "1" for q in listing.queries)


def test_an_empty_listing_ends_at_zero() -> None:
    with make_client(Listing([])) as client:
        assert windows.find_end(client, 1, 0).length == 0


@pytest.mark.parametrize(("size", "window"), [(250, 260), (250, 251), (300, 350), (150, 160)])
def test_the_end_is_found_below_a_window_the_probes_refused_beyond(size: int, window: int) -> None:
    listing = Listing(list(range(size)), window=window)
    with make_client(listing) as client:
        end = windows.find_end(client, 1, min(size, 100))
    assert end.length == size and end.problem == ""
    assert end.refused and all(p.offset + 1 > window for p in end.refused)  # told apart from the pages
    assert all(p.offset + 1 <= window for p in end.probes)
    assert len(listing.queries) <= 2 * math.log2(max(2, size)) + 5


def test_a_window_that_ends_at_the_last_sample_leaves_the_end_unfound() -> None:
    listing = Listing(list(range(250)), window=250)  # offset 250 is refused at limit 1: no empty page
    with make_client(listing) as client:
        end = windows.find_end(client, 1, 100)
    assert end.length is None and "offset 250" in end.problem and "refused" in end.problem


def test_offsets_past_the_end_that_give_data_are_reported_not_followed_forever() -> None:
    listing = Listing(list(range(300)), past_end_last=True)
    with make_client(listing) as client:
        end = windows.find_end(client, 1, 100)
    assert end.length is None and end.estimate == 300
    assert "both give sample 299" in end.problem
    assert len(listing.queries) < 20


def test_a_region_steps_by_what_each_page_returned() -> None:
    listing = Listing(list(range(500)))
    with make_client(listing) as client:
        region = windows.read_region(client, 1, 120, 50, 7)
    assert region.ids[:50] == list(range(120, 170))
    assert [r.offset for r in region.reads][:3] == [120, 127, 134]


def test_region_offsets_cover_the_start_and_the_deepest_part() -> None:
    offsets = windows.plan_offsets(100_000, 6, random.Random(1))
    assert offsets[0] == 0 and offsets[-1] == 100_000 - windows.REGION
    assert len(offsets) == 6 and offsets == sorted(offsets)
    assert windows.plan_offsets(50, 6, random.Random(1)) == [0]  # a short listing: one region


def test_windows_span_the_ids_top_included_and_have_data_ids_as_bounds() -> None:
    ids = list(range(1000, 101_000, 3))
    seen = ids[:100] + ids[-100:] + ids[15_000:15_100]
    planned = windows.plan_windows(seen, len(ids), 5, random.Random(7))
    assert planned[0][0] == ids[0]
    assert any(lo <= ids[-1] < hi for lo, hi in planned)  # the highest id is in a window
    assert all(lo < hi for lo, hi in planned)


def test_a_window_too_long_for_its_bound_is_narrowed() -> None:
    listing = Listing(list(range(10_000)))
    with make_client(listing) as client:
        window = windows.fit_window(client, 1, 0, 10_000)
    assert window.sweep.complete and 0 < len(window.ids) <= windows.WINDOW_PAGES * 100
    assert window.ids == list(range(window.hi))


def test_a_window_read_ends_at_its_total_in_one_request() -> None:
    listing = Listing(list(range(100)))
    with make_client(listing) as client:
        window = windows.fit_window(client, 1, 10, 50)
    assert window.ids == list(range(10, 50)) and len(listing.queries) == 1


def test_the_partition_covers_every_id_once() -> None:
    bounds = windows.bounds_between(list(range(0, 100, 2)), 3)
    parts = windows.partition(bounds)
    assert parts[0][0] is None and parts[-1][1] is None and len(parts) == len(bounds) + 1
    assert all(parts[k][1] == parts[k + 1][0] for k in range(len(parts) - 1))
    assert windows.split_point([5, 1, 3]) == 3 and windows.split_point([4]) is None


def test_a_window_whose_total_is_wrong_is_read_to_its_empty_page() -> None:
    class WrongTotal(Listing):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            answer = super().__call__(request)
            body = answer.json()
            return httpx.Response(200, json={**body, "totalCount": body["totalCount"] + 1000})

    listing = WrongTotal(list(range(100)))
    with make_client(listing) as client:
        window = windows.fit_window(client, 1, 10, 50)
    assert window.sweep.complete and window.ids == list(range(10, 50)) and len(listing.queries) == 2
