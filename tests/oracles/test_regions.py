"""Paging and filters judged without the whole listing: regions, the three counts, id-window
partitions (eicontract.oracles.paging / filters), and the boundary values the suite draws around a
data value (eicontract.drive.filter_values), each one the filter oracle parses."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from eicontract.drive.filter_values import boundary_values, data_values
from eicontract.oracles import filter_readings, filters, paging
from eicontract.oracles.paging import PageRead
from tests.oracles.factories import clause_ids, page_body, sample


def read(offset: int, limit: int, ids: list[int], **extra: object) -> PageRead:
    return PageRead(limit, offset, page_body([sample(i) for i in ids], **extra))


REFERENCE = list(range(10, 22))


def pages(ids: list[int], size: int) -> list[PageRead]:
    return [read(k, size, ids[k:k + size]) for k in range(0, len(ids), size)]


def test_a_region_read_at_another_page_size_agrees() -> None:
    assert paging.check_region(REFERENCE, pages(REFERENCE, 5), 5) == []


def test_a_region_longer_than_the_reference_is_compared_on_the_reference_only() -> None:
    assert paging.check_region(REFERENCE[:7], pages(REFERENCE, 5), 5) == []


@pytest.mark.parametrize(("ids", "clause"), [
    (REFERENCE[:5] + REFERENCE[6:] + [22], "PAGE-COMPLETE"),  # a gap at the page boundary
    (REFERENCE[:5] + REFERENCE[4:11], "PAGE-DISJOINT"),  # the next page starts one early
    (REFERENCE[5:10] + REFERENCE[:5] + REFERENCE[10:], "PAGE-STABLE"),  # the same ids, another order
])
def test_a_region_that_differs_names_its_clause(ids: list[int], clause: str) -> None:
    assert clause_ids(paging.check_region(REFERENCE, pages(ids, 5), 5)) == {clause}


def test_a_short_page_inside_a_region_is_legal() -> None:
    reads = [read(0, 5, REFERENCE[:3]), read(3, 5, REFERENCE[3:8]), read(8, 5, REFERENCE[8:])]
    assert paging.check_region(REFERENCE, reads, 5) == []


@pytest.mark.parametrize(("length", "total", "windows_total", "clauses"), [
    (100, 100, 100, set()),
    (100, None, None, set()),  # no totalCount: legal, nothing to count
    (None, 100, 100, set()),  # no end found: the end test reports it
    (100, 100, None, set()),  # a window without totalCount: the total against the end only
    (99, 100, 100, {"PAGE-COMPLETE"}),  # offsets lose a sample the counts agree on
    (100, 101, 100, {"PAGE-TOTAL"}),  # the listing's totalCount alone is wrong
    (100, 100, 1600, {"PAGE-TOTAL"}),  # the windows' totalCounts are the unfiltered one
    (100, 101, 1616, {"PAGE-TOTAL"}),
    (100, 101, None, {"PAGE-TOTAL"}),
])
def test_three_counts_name_the_one_that_differs(length: int | None, total: int | None,
                                                windows_total: int | None, clauses: set[str]) -> None:
    assert clause_ids(paging.check_counts(length, total, windows_total, 16)) == clauses


def test_the_listing_total_is_the_count_two_measures_agree_on() -> None:
    assert paging.listing_total(99, 100, 100) == 100
    assert paging.listing_total(100, 101, 100) == 100
    assert paging.listing_total(100, None, None) == 100


def test_a_common_total_needs_every_page_to_agree() -> None:
    assert paging.common_total([read(0, 5, [1], totalCount=7), read(5, 5, [], totalCount=7)]) == 7
    assert paging.common_total([read(0, 5, [1], totalCount=7), read(5, 5, [], totalCount=8)]) is None
    assert paging.common_total([read(0, 5, [1])]) is None
    assert paging.common_total([read(0, 5, [1], totalCount=True)]) is None


WINDOW = [10, 11, 12, 13]


def test_a_window_split_in_two_halves_partitions() -> None:
    assert filters.check_partition(WINDOW, [10, 11], [12, 13], 12) == []


@pytest.mark.parametrize(("left", "right"), [
    ([10, 11, 12], [12, 13]),  # maxId read as <=
    ([10], [12, 13]),  # a sample in neither half
    ([10, 11], [12, 13, 14]),  # a sample the window does not hold
])
def test_halves_that_overlap_or_miss_break_composition(left: list[int], right: list[int]) -> None:
    assert clause_ids(filters.check_partition(WINDOW, left, right, 12)) == {"FILTER-COMPOSE"}


def test_integer_bounds_are_the_value_and_its_neighbours() -> None:
    assert boundary_values([1000.0, 2000.0], 0, "minLength") == ["1000", "999", "1001"]
    assert boundary_values([0.0], 0, "minId") == ["0", "1"]  # no negative id


def test_number_bounds_include_a_fraction_between_data_values() -> None:
    values = boundary_values([62.5, 100.0], 0, "minFrequency")
    assert values[0] == "62.5"
    assert "81.25" in values  # between 62.5 and 100
    assert any(float(v) < 62.5 for v in values) and any(62.5 < float(v) < 81.25 for v in values)
    for value in values:
        filter_readings.parse_filter("minFrequency", value)  # every one is a valid wire value


def test_date_bounds_include_other_zones_for_the_same_instant() -> None:
    start = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
    values = boundary_values([start, start + timedelta(hours=1)], 0, "minDate")
    assert "2025-01-01T00:00:00.000Z" in values
    assert "2025-01-01T02:00:00.000+02:00" in values  # the same instant at +02:00
    assert any(v.endswith("-05:30") for v in values)
    assert "2025-01-01T00:30:00.000Z" in values  # between the two data values
    for value in values:
        filter_readings.parse_filter("minDate", value)


def test_a_dated_sample_is_selected_the_same_in_any_zone() -> None:
    by_id = filter_readings.index_samples([sample(1, added="2025-01-01T00:00:00.000Z"),
                                   sample(2, added="2025-01-01T01:00:00.000Z")])
    assert filter_readings.selects(by_id, "minDate", "2025-01-01T02:30:00.000+02:00") == (1, 1)  # strict or not
    assert filter_readings.selects(by_id, "minDate", "2025-01-01T02:00:00.000+02:00") == (1, 2)  # at a data value


def test_data_values_are_the_distinct_compared_values() -> None:
    assert data_values([sample(1, frequency=100), sample(2), sample(3)], "maxFrequency") == [62.5, 100]


def test_a_selection_is_what_every_reading_selects() -> None:
    by_id = filter_readings.index_samples([sample(1, totalLengthMs=1000), sample(2, totalLengthMs=2000)])
    assert filter_readings.selection(by_id, "minLength", "1000") == {2}  # "longer than": strict or not, 2 only
    assert filter_readings.selection(by_id, "minLength", "999") == {1, 2}
