"""CLASSIFY-UNKNOWN: ids that do not exist get the failure envelope, on every operation.

An unknown project, sample or learn block on classify, or an unknown project on the page and
job status operations: 4xx with the envelope, or 200 with success: false; never success, never
a 5xx (404 and 400 are both fine: the documents name no status). A job for an unknown id is a
success too (success: true), so it breaks the clause as a result would.
"""

from __future__ import annotations

from eicontract.oracles.envelope import check_failure
from eicontract.violations import Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "decision.unknown-ids",
)


def check_unknown_id(body: object, status: int, what: str) -> list[Violation]:
    """``what`` names the request, e.g. 'classify of unknown sample 1000300'."""
    return check_failure(body, status, clause_id="CLASSIFY-UNKNOWN", context=what)

