from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from eicontract.oracles.boundaries import (
    check_default_page,
    check_huge_filter,
    check_large_offset,
    check_leap_second,
    check_limit_page,
    check_limit_zero,
    leap_second_dates,
)
from tests.oracles.factories import FAILURE, clause_ids, page_body, sample

DEFAULT = [1, 2, 3, 4]  # the page without a limit


def page(*ids: int) -> dict[str, object]:
    return page_body([sample(i) for i in ids])


@pytest.mark.parametrize(("body", "status", "reading"), [
    (page(), 200, "an empty page"),
    (FAILURE, 400, "rejected"),
    (FAILURE, 200, "rejected"),
    (page(1, 2, 3, 4), 200, "the page without a limit"),
    (page(1, 2), 200, "the page without a limit"),  # capped
])
def test_limit_zero_readings(body: object, status: int, reading: str) -> None:
    findings = check_limit_zero(body, status, DEFAULT)
    assert findings.violations == [] and [o.reading for o in findings.observations] == [reading]


@pytest.mark.parametrize(("body", "status"), [
    (page(1, 2, 3, 4, 5, 6), 200),  # the whole listing (server fault limit-zero-all)
    (page(2, 3), 200),  # not the default page
    (FAILURE, 500),
    ({"success": True}, 200),  # no result array, no failure either
])
def test_limit_zero_violations(body: object, status: int) -> None:
    assert clause_ids(check_limit_zero(body, status, DEFAULT).violations) == {"PAGE-LIMIT"}


@pytest.mark.parametrize("body", [page(1, 2, 3), page(1, 2)])  # whole, or capped (variant limit-cap)
def test_large_limit_ok(body: object) -> None:
    findings = check_limit_page(body, 200, 2**31 - 1, 0, [1, 2, 3], large=True)
    assert findings.violations == []


def test_large_limit_may_be_rejected() -> None:
    findings = check_limit_page(FAILURE, 400, 10**20, 0, [1, 2, 3], large=True)
    assert findings.violations == [] and [o.reading for o in findings.observations] == ["rejected"]


@pytest.mark.parametrize(("body", "status", "large", "clause"), [
    (page(1, 2, 3), 200, False, "PAGE-LIMIT"),  # limit 2, three results
    (page(2, 3), 200, True, "PAGE-COMPLETE"),  # does not start the listing
    (page(), 200, True, "PAGE-COMPLETE"),  # empty before the end
    (FAILURE, 400, False, "PAGE-LIMIT"),  # a valid small limit rejected
    (FAILURE, 500, True, "PAGE-LIMIT"),
])
def test_limit_page_violations(body: object, status: int, large: bool, clause: str) -> None:
    limit = 2 if not large else 10**6
    assert clause_ids(check_limit_page(body, status, limit, 0, [1, 2, 3], large=large).violations) == {clause}


def test_limit_one_at_an_offset() -> None:
    assert check_limit_page(page(3), 200, 1, 2, [3]).violations == []
    assert clause_ids(check_limit_page(page(4), 200, 1, 2, [3]).violations) == {"PAGE-COMPLETE"}


@pytest.mark.parametrize(("body", "status", "offset"), [
    (page(), 200, 10), (page(), 200, 2**53), (FAILURE, 400, 2**31), (FAILURE, 200, 10**20)])
def test_large_offset_ok(body: object, status: int, offset: int) -> None:
    assert check_large_offset(body, status, offset).violations == []


@pytest.mark.parametrize(("body", "status", "offset"), [
    (page(1), 200, 10), (FAILURE, 400, 2**31 - 1),  # within int32: an empty page, not an error
    (FAILURE, 500, 2**53), (page(7), 200, 2**53)])
def test_large_offset_violations(body: object, status: int, offset: int) -> None:
    assert clause_ids(check_large_offset(body, status, offset).violations) == {"PAGE-PAST-END"}


# --- numeric filters at and past 64 bits --------------------------------------------------

HUGE = 2**63
LISTED = [sample(i, totalLengthMs=1000 * i) for i in (1, 2, 3)]  # the unfiltered page


def _filtered(*smps: dict[str, object]) -> dict[str, object]:
    return page_body(list(smps))


@pytest.mark.parametrize(("param", "body", "status", "reading"), [
    ("minId", _filtered(), 200, "read exactly"),  # nothing at or above 2**63
    ("minLength", _filtered(), 200, "read exactly"),
    ("maxId", _filtered(*LISTED), 200, "read exactly"),  # past every id: none dropped
    ("maxFrequency", _filtered(*LISTED), 200, "read exactly"),
    ("minId", FAILURE, 400, "rejected"),  # a server may refuse a bound past 64 bits
    ("maxLength", FAILURE, 200, "rejected"),
])
def test_huge_filter_readings(param: str, body: object, status: int, reading: str) -> None:
    findings = check_huge_filter(body, status, param, HUGE, "2**63", LISTED)
    assert findings.violations == [] and [o.reading for o in findings.observations] == [reading]


def test_huge_filter_past_any_float() -> None:
    """A 5000-digit bound (math.inf for the oracle) judged like the others."""
    assert check_huge_filter(_filtered(), 200, "minFrequency", math.inf, "5000 digits", LISTED).violations == []
    [violation] = check_huge_filter(_filtered(LISTED[0]), 200, "minId", math.inf, "5000 digits", LISTED).violations
    assert violation.clause == "FILTER-SOUND" and "minId=5000 digits" in violation.message


@pytest.mark.parametrize(("param", "body", "status", "clause"), [
    ("minId", FAILURE, 500, "SCHEMA-NEGATIVE"),  # a value sqlite cannot bind: never a 5xx
    ("minId", _filtered(*LISTED[1:]), 200, "FILTER-SOUND"),  # 10**41 read as 34: ids >= 34 kept
    ("maxId", _filtered(LISTED[0]), 200, "FILTER-COMPLETE"),  # read as a small bound: samples dropped
])
def test_huge_filter_violations(param: str, body: object, status: int, clause: str) -> None:
    assert clause_ids(check_huge_filter(body, status, param, HUGE, "2**63", LISTED).violations) == {clause}


NEGATIVE = -(2**63) - 1


@pytest.mark.parametrize(("param", "body", "status", "clauses"), [
    ("minId", _filtered(*LISTED), 200, set()),  # below every id: none dropped
    ("maxLength", _filtered(), 200, set()),  # below every length: none kept
    ("minLength", FAILURE, 400, set()),  # a negative bound may be refused (a reading)
    ("minId", FAILURE, 500, {"SCHEMA-NEGATIVE"}),  # a value sqlite cannot bind: never a 5xx
    ("minId", _filtered(LISTED[0]), 200, {"FILTER-COMPLETE"}),  # read as a large bound: samples dropped
    ("maxId", _filtered(LISTED[0]), 200, {"FILTER-SOUND"}),  # read as a large bound: samples kept
])
def test_huge_negative_filter(param: str, body: object, status: int, clauses: set[str]) -> None:
    assert clause_ids(check_huge_filter(body, status, param, NEGATIVE, "-2**63-1", LISTED).violations) == clauses


def test_huge_max_filter_not_past_every_sample_is_not_complete_judged() -> None:
    """A max bound below some listed value (ids past 2**63 do not exist, but lengths might):
    only soundness is judged."""
    listed = [sample(1, totalLengthMs=2.0**64)]
    assert check_huge_filter(_filtered(), 200, "maxLength", HUGE, "2**63", listed).violations == []


def test_huge_limit_and_offset_shown_as_sent() -> None:
    [violation] = check_large_offset(page(1), 200, 10**100, shown="5000 digits").violations
    assert violation.clause == "PAGE-PAST-END" and "offset=5000 digits" in violation.message
    [violation] = check_limit_page(FAILURE, 500, 10**100, 0, [1], large=True, shown="5000 digits").violations
    assert violation.clause == "PAGE-LIMIT" and "limit=5000 digits" in violation.message


# --- a leap second in a date filter ----------------------------------------------------------

def test_leap_second_dates_mean_the_next_second() -> None:
    added = [datetime(2025, 1, 6, 8, 0, tzinfo=UTC), datetime(2025, 1, 6, 8, 3, 17, 500_000, tzinfo=UTC)]
    assert leap_second_dates(added) == [
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),
        ("2025-01-06T08:03:60Z", datetime(2025, 1, 6, 8, 4, tzinfo=UTC)),  # past its minute's :00
    ]
    assert leap_second_dates([added[0]])[1] == ("2025-01-06T08:00:60Z", datetime(2025, 1, 6, 8, 1, tzinfo=UTC))
    assert leap_second_dates([]) == [("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC))]


@pytest.mark.parametrize(("body", "status", "reading"), [
    (FAILURE, 400, "rejected"),
    (page(1, 2), 200, "accepted"),
])
def test_leap_second_readings(body: dict[str, object], status: int, reading: str) -> None:
    findings = check_leap_second(body, status, "minDate", "2016-12-31T23:59:60Z", page(1, 2))
    assert findings.violations == []
    assert [o.reading for o in findings.observations] == [reading]


@pytest.mark.parametrize(("body", "status", "same", "clauses"), [
    ({"success": False, "error": "boom"}, 500, page(1), {"SCHEMA-NEGATIVE"}),
    (page(1, 2, 3), 200, page(1, 2), {"FILTER-SOUND"}),  # selects what the instant does not
    (page(1), 200, page(1, 2), {"FILTER-COMPLETE"}),  # drops what the instant selects
    (page(3), 200, page(1), {"FILTER-SOUND", "FILTER-COMPLETE"}),
])
def test_leap_second_violations(body: dict[str, object], status: int, same: dict[str, object],
                                clauses: set[str]) -> None:
    findings = check_leap_second(body, status, "maxDate", "2016-12-31T23:59:60Z", same)
    assert clause_ids(findings.violations) == clauses


def test_leap_second_without_a_page_to_compare_is_only_observed() -> None:
    findings = check_leap_second(page(1, 2, 3), 200, "minDate", "2016-12-31T23:59:60Z", None)
    assert findings.violations == [] and [o.reading for o in findings.observations] == ["accepted"]


def test_a_date_whose_plus_came_unencoded_is_rejected_or_means_the_plus() -> None:
    from datetime import UTC, datetime

    from eicontract.oracles.boundaries import check_unencoded_plus, unencoded_plus

    plus, spaced = unencoded_plus(datetime(2025, 3, 1, 11, 30, tzinfo=UTC))
    assert plus == "2025-03-01T12:30:00.000+01:00" and spaced == "2025-03-01T12:30:00.000 01:00"
    same = page_body([sample(1), sample(2)])
    assert check_unencoded_plus(same, 200, "minDate", spaced, same).violations == []
    [seen] = check_unencoded_plus(FAILURE, 400, "minDate", spaced, same).observations
    assert seen.reading == "rejected"  # not RFC 3339: a reading
    assert clause_ids(check_unencoded_plus(FAILURE, 500, "minDate", spaced, same).violations) == {"SCHEMA-NEGATIVE"}
    assert clause_ids(check_unencoded_plus(page_body([sample(1)]), 200, "minDate", spaced, same).violations) == {
        "FILTER-COMPLETE"}
    assert clause_ids(check_unencoded_plus(page_body([sample(1), sample(2), sample(3)]), 200, "minDate", spaced,
                                           same).violations) == {"FILTER-SOUND"}


def test_leap_seconds_next_to_samples_added_at_a_minutes_edge() -> None:
    from datetime import UTC, datetime

    from eicontract.oracles.boundaries import leap_second_neighbours

    added = {5: datetime(2025, 3, 1, 12, 30, 59, 400000, tzinfo=UTC),
             3: datetime(2025, 3, 1, 8, 0, 0, 250000, tzinfo=UTC),
             9: datetime(2025, 3, 1, 9, 15, 30, tzinfo=UTC), 7: datetime(2025, 3, 2, 1, 1, 59, tzinfo=UTC)}
    before, after = leap_second_neighbours(added)
    # the lowest id added at :59.x: the leap just after it means the next minute's :00
    assert before == (5, "2025-03-01T12:30:60Z", datetime(2025, 3, 1, 12, 31, tzinfo=UTC))
    # added at :00.x: the previous minute's leap, which means this minute's :00, just before it
    assert after == (3, "2025-03-01T07:59:60Z", datetime(2025, 3, 1, 8, 0, tzinfo=UTC))
    assert leap_second_neighbours({9: added[9]}) == []


# --- the page without a limit or an offset ------------------------------------------------------

@pytest.mark.parametrize("ids", [[1, 2, 3], [1], [1, 2, 3, 4, 5, 6, 7]], ids=["shorter", "one", "longer"])
def test_a_default_page_is_any_prefix_of_the_listing(ids: list[int]) -> None:
    """Any default length (longer than the ids known: compared as far as they go)."""
    assert check_default_page(ids, [1, 2, 3, 4, 5]) == []
    assert check_default_page([], []) == []  # an empty listing: an empty page


@pytest.mark.parametrize(("ids", "why"), [([2, 3, 4], "the first sample skipped (a default offset of 1)"),
                                          ([], "empty where the listing has samples"),
                                          ([1, 3], "a sample skipped inside")])
def test_a_default_page_that_skips_is_page_complete(ids: list[int], why: str) -> None:
    assert clause_ids(check_default_page(ids, [1, 2, 3, 4, 5])) == {"PAGE-COMPLETE"}, why
