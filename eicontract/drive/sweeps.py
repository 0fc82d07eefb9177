"""Reading a whole listing page by page: the recorded input of the paging and filter oracles.

A sweep steps the offset by the number of results each page returned (a server may return
fewer than `limit` on any page) and stops at the first empty page, an error, the bound, or a page
that makes no progress (every sample on it already listed: a listing that never ends).

A 100k-sample listing kept whole costs gigabytes. For large listings, check each page as it
arrives (`on_page`) and keep only what the sweep oracles need (`keep=paging.slim_page`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from eicontract.drive.pagesize import read_page
from eicontract.http.client import ApiClient, Exchange
from eicontract.oracles.paging import PageRead, page_ids, page_results


@dataclass(frozen=True, slots=True)
class Sweep:
    reads: list[PageRead]
    exchanges: list[Exchange]
    complete: bool  # ended on an empty page, or at the totalCount (trust_total); not on an error or the bound
    problem: str = ""
    bounded: bool = False  # ended on the bound: the listing is longer than the sweep may read
    # Computed once: properties read them in loops, and a 100k listing is slow to rebuild.
    ids: list[int] = field(init=False, repr=False, compare=False)
    results: list[object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", [i for read in self.reads for i in page_ids(read.body)])
        object.__setattr__(self, "results",
                           [r for read in self.reads for r in (page_results(read.body) or [])])


def _forget_body(client: ApiClient, whole: Exchange, kept: Exchange) -> None:
    """The client's recent-exchange history holds the whole page too (20 pages of 1000
    results are over a gigabyte): put the kept one in its place."""
    history = client.history
    if history and history[-1] is whole:
        history[-1] = kept


def _reached(totals: set[object], listed: int) -> bool:
    """Every page so far gave the same integer totalCount, and the sweep has listed that many."""
    if len(totals) != 1:
        return False
    total = next(iter(totals))
    return isinstance(total, int) and not isinstance(total, bool) and total == listed


def _pages_per_page(client: ApiClient, page_size: int) -> int:
    """How many pages of the size the target answers make one page of `page_size`."""
    return -(-page_size // client.page_limit.fit(page_size))


def sweep(
    client: ApiClient,
    project_id: int,
    filters: Mapping[str, str] | None = None,
    *,
    page_size: int = 100,
    max_pages: int = 1000,
    on_page: Callable[[PageRead], None] | None = None,
    keep: Callable[[Any], Any] | None = None,
    trust_total: bool = False,
) -> Sweep:
    """on_page: called with each listing page as it arrives, whole (to check it there);
    keep: what of each such page's body the sweep keeps (default: all of it), in its reads
    and exchanges. Failed pages are kept whole. trust_total: end without the empty page once
    the listed samples reach the totalCount that every page so far gave (a short listing then
    costs one request; a wrong totalCount still reads on, and the PAGE-TOTAL oracle sees it).
    Pages are asked at most at the target's maximum limit as learned (drive/pagesize.py);
    max_pages counts pages of page_size, so smaller pages may take proportionally more."""
    reads: list[PageRead] = []
    exchanges: list[Exchange] = []
    seen: set[int] = set()
    totals: set[object] = set()
    offset = pages = 0
    while pages < max_pages * _pages_per_page(client, page_size):
        pages += 1
        exchange, limit = read_page(client, project_id, {**(filters or {}), "limit": page_size, "offset": offset})
        exchanges.append(exchange)
        if isinstance(exchange.body, dict) and exchange.body.get("success") is False:
            error = exchange.body.get("error")
            return Sweep(reads, exchanges, False, f"page at offset {offset} failed: {exchange.summary()}: {error}")
        results = page_results(exchange.body) if exchange.ok_json else None
        if exchange.status is None or results is None or (exchange.status >= 400):
            return Sweep(reads, exchanges, False, f"page at offset {offset} failed: {exchange.summary()}")
        read = PageRead(limit, offset, exchange.body)
        if on_page is not None:
            on_page(read)
        if keep is not None:
            kept = keep(exchange.body)
            read, exchanges[-1] = replace(read, body=kept), replace(exchange, body=kept)
            _forget_body(client, exchange, exchanges[-1])
        reads.append(read)
        if not results:
            return Sweep(reads, exchanges, True)
        ids = page_ids(exchange.body)
        if ids and seen.issuperset(ids):
            return Sweep(reads, exchanges, False, f"the page at offset {offset} only repeats samples already "
                                                  "listed: the listing never ends")
        seen.update(ids)
        offset += len(results)
        totals.add(exchange.body.get("totalCount") if isinstance(exchange.body, dict) else None)
        if trust_total and _reached(totals, offset):
            return Sweep(reads, exchanges, True)
    return Sweep(reads, exchanges, False, f"no empty page within {max_pages} pages of {page_size}", bounded=True)
