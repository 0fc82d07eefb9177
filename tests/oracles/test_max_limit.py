"""eicontract.oracles.max_limit: a page the server refuses by its size (decision.large-limit-offset).
The documents name no maximum, nor a least one, nor how pages are capped: a page may be refused
with the failure envelope, by one maximum limit or by a window offset + limit <= N, as long as no
answered page is as large and reaches as far. Pages are (offset, limit)."""

from __future__ import annotations

from eicontract.oracles.max_limit import (
    EITHER,
    LIMIT_TOPIC,
    MAXIMUM,
    WINDOW,
    check_limit_consistent,
    judge_refusal,
    limit_readings,
    limit_refusal,
    refusal_reading,
)
from eicontract.oracles.paging import PageRead
from tests.oracles.factories import FAILURE, clause_ids, page_body, sample


def test_any_limit_may_be_refused_the_documents_name_no_least_maximum() -> None:
    for limit in (1, 5, 10, 20):  # a server whose maximum is below the gate's own pages is legal
        found = limit_refusal(PageRead(limit, 0, FAILURE), 400)
        assert found is not None and found.violations == [], limit
        assert [(o.topic, o.reading) for o in found.observations] == [(LIMIT_TOPIC, EITHER)]


def test_a_one_maximum_server_passes_and_its_reading_is_the_maximum() -> None:
    answered = [(0, 1), (0, 10), (250, 10), (990, 5)]  # limits up to 10 anywhere
    refused = [(0, 11), (0, 100), (250, 20)]
    assert check_limit_consistent(answered, refused) == []
    assert [o.reading for o in limit_readings(answered, refused)] == [MAXIMUM] * 3


def test_a_window_server_passes_and_its_reading_is_the_window() -> None:
    # offset + limit <= 260: a page of 100 at offset 0 answered, a page of 20 at 250 refused
    answered = [(0, 100), (100, 100), (200, 60), (250, 10), (255, 5)]
    refused = [(250, 20), (255, 6), (240, 100), (10**9, 5)]
    assert check_limit_consistent(answered, refused) == []
    readings = {page: o.reading for page, o in zip(sorted(refused), limit_readings(answered, refused), strict=True)}
    assert readings == {(250, 20): WINDOW, (255, 6): WINDOW, (240, 100): WINDOW, (10**9, 5): WINDOW}
    assert refusal_reading(answered, (240, 120)) == EITHER  # larger than any limit and reaching farther


def test_a_refused_page_dominated_by_an_answered_one_fails_with_both_requests() -> None:
    (violation,) = check_limit_consistent([(0, 100), (250, 10)], [(20, 50)])  # 20+50 <= 0+100, 50 <= 100
    assert violation.clause == "PAGE-LIMIT"
    assert violation.evidence == {"refused": {"limit": 50, "offset": 20}, "answered": {"limit": 100, "offset": 0}}
    assert "limit=50 offset=20 was refused" in violation.message and "limit=100 offset=0" in violation.message
    assert refusal_reading([(0, 100)], (20, 50)) is None and limit_readings([(0, 100)], [(20, 50)]) == []
    assert clause_ids(check_limit_consistent([(0, 10)], [(0, 5)])) == {"PAGE-LIMIT"}  # the old one-maximum case
    assert clause_ids(check_limit_consistent([(0, 50)], [(0, 50)])) == {"PAGE-LIMIT"}  # the same page
    # as large but not as far, or as far but not as large: a window, or a maximum, explains it
    assert check_limit_consistent([(0, 100)], [(50, 100)]) == []
    assert check_limit_consistent([(500, 10)], [(0, 20)]) == []


def test_judge_refusal_judges_only_a_refusal_with_the_failure_envelope() -> None:
    assert judge_refusal(PageRead(5, 300, page_body([])), 200, [(0, 100)]) is None  # a page: its own oracle
    assert judge_refusal(PageRead(5, 300, {"success": False}), 400, [(0, 100)]) is None  # no error text
    found = judge_refusal(PageRead(5, 300, FAILURE), 400, [(0, 100)])
    assert found is not None and found.violations == [] and [o.reading for o in found.observations] == [WINDOW]
    found = judge_refusal(PageRead(5, 300, FAILURE), 400, [(400, 10)])
    assert found is not None and clause_ids(found.violations) == {"PAGE-LIMIT"} and found.observations == []


def test_an_answered_page_is_judged_as_a_page_and_a_bad_refusal_fails() -> None:
    assert limit_refusal(PageRead(5, 0, page_body([sample(1)])), 200) is None
    for body, status in (({"success": False}, 400), (FAILURE, 503), ({"result": None}, 200)):
        found = limit_refusal(PageRead(5, 0, body), status)
        assert found is not None and found.violations and found.observations == [], (body, status)
