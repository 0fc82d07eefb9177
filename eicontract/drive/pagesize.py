"""Reading a listing page at the size the target answers: its maximum limit learned, not assumed.

"Maximum number of results" names no maximum, so a server may refuse a limit above its own, or a
page reaching past a window of its own (offset + limit above N), with the failure envelope
(docs/CLAIMS.md, decision.large-limit-offset). Every read of data (sweeps, regions, windows,
discovery) goes through `read_page`: a page refused with the failure envelope is asked again at
half the limit (bounded: MAX_STEPS requests), and what was answered and refused is remembered on
the client (`ApiClient.page_limit`), so later reads ask at most that at once. A refusal of a
page no larger and reaching no farther than one answered is no lesson about the size (a refused
filter, say): it is returned as it is, for the caller's oracles to judge.

So the order of reads sets what a refused filter costs: one request once an unfiltered page as
large, reaching as far, was answered, up to MAX_STEPS before (a refused filter and a refused size
look alike, and telling them apart costs a request of its own, more than it saves on a target with
a maximum). The suite's discovery (suite/conftest.py, which every filtered read depends on) reads
the unfiltered listing first.
"""

from __future__ import annotations

from collections.abc import Mapping

from eicontract.http.client import ApiClient, Exchange
from eicontract.oracles.envelope import check_failure
from eicontract.oracles.paging import page_results

# 100 -> 50 -> 25 -> 12 -> 6 -> 3 -> 1: the sizes the gate reads at are learned within 7 requests
MAX_STEPS = 7
# refusals that are about the key, the project or the pace, never about a page's size
_NOT_ABOUT_SIZE = frozenset({401, 403, 404, 429})


def is_refusal(exchange: Exchange) -> bool:
    """The target refused the request with the failure envelope (a client error, or success:
    false): the legal way to refuse a limit above its maximum."""
    status = exchange.status
    if status is None or status >= 500 or status in _NOT_ABOUT_SIZE or page_results(exchange.body) is not None:
        return False
    failed = status >= 400 or (isinstance(exchange.body, dict) and exchange.body.get("success") is False)
    return failed and not check_failure(exchange.body, status)


def read_page(client: ApiClient, project_id: int, params: Mapping[str, str | int]) -> tuple[Exchange, int]:
    """The listing page `params` asks for, with at most its (integer) `limit` results: the
    exchange, and the limit it was asked with (smaller where the target refused more). When every size
    down to 1 is refused, the last refusal is returned and nothing is learned (the refusal is
    then about the query, not the page size)."""
    memory = client.page_limit
    offset = int(params.get("offset", 0))
    asked = memory.fit(int(params["limit"]), offset)
    refused: int | None = None
    for _ in range(MAX_STEPS):
        exchange = client.page(project_id, {**params, "limit": asked})
        if not is_refusal(exchange):
            if exchange.status is not None and exchange.status < 400 and page_results(exchange.body) is not None:
                memory.saw_answered(asked, offset)
                if refused is not None:
                    memory.saw_refused(refused, offset)
            return exchange, asked
        if asked <= 1 or memory.answers(offset, asked):
            return exchange, asked  # not about the size: a page known to be answered, or the smallest
        refused, asked = asked, max(1, asked // 2)
    return exchange, asked
