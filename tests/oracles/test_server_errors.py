"""NO-5XX on synthetic answers: a 5xx fails, every other status (and no answer) passes."""

from __future__ import annotations

import pytest

from eicontract.oracles.server_errors import CLAUSE, check_answers, check_no_server_error


@pytest.mark.parametrize("status", [500, 502, 503, 599])
def test_a_5xx_is_a_violation(status: int) -> None:
    found = check_no_server_error("classify block 3 sample 7 variant=akida truncate=True", status)
    assert [v.clause for v in found] == [CLAUSE] and str(status) in found[0].message
    assert found[0].evidence["status"] == status


@pytest.mark.parametrize("status", [200, 400, 401, 404, 429, 499, 600, None])
def test_every_other_answer_passes(status: int | None) -> None:
    assert check_no_server_error("page", status) == []


def test_a_hunt_names_each_request_that_failed() -> None:
    found = check_answers([("a", 200), ("b", 500), ("c", 404), ("d", 503)])
    assert [v.evidence["request"] for v in found] == ["b", "d"]
