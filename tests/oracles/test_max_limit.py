"""eicontract.oracles.max_limit: a limit above the server's maximum (decision.large-limit-offset).
The documents name no maximum, nor a least one: any limit may be refused with the failure
envelope, as long as one maximum explains every answer."""

from __future__ import annotations

from eicontract.oracles.max_limit import LIMIT_TOPIC, check_limit_consistent, limit_refusal, maximum_limit
from eicontract.oracles.paging import PageRead
from tests.oracles.factories import FAILURE, clause_ids, page_body, sample


def test_any_limit_may_be_refused_the_documents_name_no_least_maximum() -> None:
    for limit in (1, 5, 10, 20):  # a server whose maximum is below the gate's own pages is legal
        found = limit_refusal(PageRead(limit, 0, FAILURE), 400)
        assert found is not None and found.violations == [], limit
        assert [o.topic for o in found.observations] == [LIMIT_TOPIC]


def test_a_server_refusing_limits_above_10_passes_one_refusing_5_after_10_fails() -> None:
    assert check_limit_consistent([1, 5, 10], [11, 20, 100]) == []
    assert clause_ids(check_limit_consistent([1, 10], [5])) == {"PAGE-LIMIT"}


def test_the_learned_maximum_is_observed_only_when_a_limit_was_refused() -> None:
    assert maximum_limit(100, None) == []
    (seen,) = maximum_limit(10, 12)
    assert seen.topic == LIMIT_TOPIC and "limit=10 answered" in seen.detail and "limit=12 refused" in seen.detail


def test_an_answered_page_is_judged_as_a_page_and_a_bad_refusal_fails() -> None:
    assert limit_refusal(PageRead(5, 0, page_body([sample(1)])), 200) is None
    for body, status in (({"success": False}, 400), (FAILURE, 503), ({"result": None}, 200)):
        found = limit_refusal(PageRead(5, 0, body), status)
        assert found is not None and found.violations and found.observations == [], (body, status)
