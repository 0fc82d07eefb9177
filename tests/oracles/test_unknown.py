from __future__ import annotations

import pytest

from eicontract.oracles.unknown import check_unknown_id
from tests.oracles.factories import FAILURE, classify_body, clause_ids


@pytest.mark.parametrize("status", [404, 400, 403, 200])  # 400 for an unknown id: variant unknown-400
def test_unknown_id_failure_envelope_passes(status: int) -> None:
    assert check_unknown_id(FAILURE, status, "classify of unknown sample 9") == []


@pytest.mark.parametrize(("body", "status"), [
    (classify_body(), 200),  # a made-up result (server fault classify-unknown-sample)
    ({"success": True, "id": 12}, 200),  # a job is a success too
    (FAILURE, 500), (None, 502)])
def test_unknown_id_violations(body: object, status: int) -> None:
    assert clause_ids(check_unknown_id(body, status, "x")) == {"CLASSIFY-UNKNOWN"}


def test_an_incomplete_envelope_is_envelope_error() -> None:
    assert clause_ids(check_unknown_id({"success": False}, 404, "x")) == {"ENVELOPE-ERROR"}
