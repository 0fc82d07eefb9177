"""A limit above the server's maximum (docs/CLAIMS.md, decision.large-limit-offset).

"Maximum number of results" names no maximum, nor a least one: a server may refuse any limit
above a maximum of its own, with the failure envelope. Every reading agrees on one maximum (a
limit refused while an equal or larger one was answered fits none) and on the envelope; the
maximum a server shows is observed (page:maximum-limit), never judged.
"""

from __future__ import annotations

from collections.abc import Iterable

from eicontract.oracles._common import Findings
from eicontract.oracles.envelope import check_failure
from eicontract.oracles.paging import PageRead, page_results
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = ("decision.large-limit-offset",)

LIMIT_TOPIC = "page:maximum-limit"


def limit_refusal(read: PageRead, status: int) -> Findings | None:
    """None when the page is to be judged as a page (it has a result array); else the refusal
    judged as a failure envelope (whether its limit fits one maximum: check_limit_consistent)."""
    if page_results(read.body) is not None:
        return None
    failures = check_failure(read.body, status, clause_id="PAGE-LIMIT",
                             context=f"page limit={read.limit} offset={read.offset} refused")
    if failures:
        return Findings(failures, [])
    return Findings([], [Observation(LIMIT_TOPIC, "refuses a limit above its maximum",
                                     f"limit={read.limit} refused with the failure envelope")])


def maximum_limit(answered: int, refused: int | None) -> list[Observation]:
    """The maximum a run learned: the largest limit answered below the smallest refused."""
    if refused is None:
        return []
    return [Observation(LIMIT_TOPIC, "refuses a limit above its maximum",
                        f"limit={answered} answered, limit={refused} refused")]


def check_limit_consistent(answered: Iterable[int], refused: Iterable[int]) -> list[Violation]:
    """PAGE-LIMIT: the refused limits all lie above the answered ones (one maximum)."""
    answered, refused = list(answered), list(refused)
    if not answered or not refused or min(refused) > max(answered):
        return []
    return [Violation("PAGE-LIMIT", f"limit={min(refused)} was refused but limit={max(answered)} "
                      f"was answered: no maximum limit explains both",
                      {"refused": min(refused), "answered": max(answered)})]
