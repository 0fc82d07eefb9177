"""NO-5XX: no request the gate sends is answered with a server error (pure).

The documents describe every answer of the three operations as a result, a job or the failure
envelope; a 5xx is none of those, wherever it appears (API-FACTS.md: failures are the envelope).
"""

from __future__ import annotations

from collections.abc import Iterable

from eicontract.violations import Violation

CLAUSE = "NO-5XX"
CLAIMS: tuple[str, ...] = ("decision.no-5xx",)  # the claims rows this module implements


def check_no_server_error(request: str, status: int | None) -> list[Violation]:
    """One answer: a 5xx is a violation; no answer at all (None) is the transport's business."""
    if status is not None and 500 <= status <= 599:
        return [Violation(CLAUSE, f"{request} answered HTTP {status}", {"request": request, "status": status})]
    return []


def check_answers(answers: Iterable[tuple[str, int | None]]) -> list[Violation]:
    """Every (request, status) of a hunt."""
    return [v for request, status in answers for v in check_no_server_error(request, status)]
