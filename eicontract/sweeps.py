"""Reading a whole listing page by page: the recorded input of the paging and filter oracles.

A sweep steps the offset by the number of results each page returned (a server may return
fewer than `limit` on any page) and stops at the first empty page, an error, the bound, or a page
that makes no progress (every sample on it already listed: a listing that never ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eicontract.client import ApiClient, Exchange
from eicontract.oracles.paging import PageRead, page_ids, page_results


@dataclass(frozen=True, slots=True)
class Sweep:
    reads: list[PageRead]
    exchanges: list[Exchange]
    complete: bool  # ended on an empty page (not on an error or the bound)
    problem: str = ""

    @property
    def ids(self) -> list[int]:
        return [i for read in self.reads for i in page_ids(read.body)]

    @property
    def results(self) -> list[object]:
        return [r for read in self.reads for r in (page_results(read.body) or [])]


def sweep(
    client: ApiClient,
    project_id: int,
    filters: Mapping[str, str] | None = None,
    *,
    page_size: int = 100,
    max_pages: int = 1000,
) -> Sweep:
    reads: list[PageRead] = []
    exchanges: list[Exchange] = []
    seen: set[int] = set()
    offset = 0
    for _ in range(max_pages):
        exchange = client.page(project_id, {**(filters or {}), "limit": page_size, "offset": offset})
        exchanges.append(exchange)
        if isinstance(exchange.body, dict) and exchange.body.get("success") is False:
            error = exchange.body.get("error")
            return Sweep(reads, exchanges, False, f"page at offset {offset} failed: {exchange.summary()}: {error}")
        results = page_results(exchange.body) if exchange.ok_json else None
        if exchange.status is None or results is None or (exchange.status >= 400):
            return Sweep(reads, exchanges, False, f"page at offset {offset} failed: {exchange.summary()}")
        reads.append(PageRead(page_size, offset, exchange.body))
        if not results:
            return Sweep(reads, exchanges, True)
        ids = page_ids(exchange.body)
        if ids and seen.issuperset(ids):
            return Sweep(reads, exchanges, False, f"the page at offset {offset} only repeats samples already "
                                                  "listed: the listing never ends")
        seen.update(ids)
        offset += len(results)
    return Sweep(reads, exchanges, False, f"no empty page within {max_pages} pages of {page_size}")
