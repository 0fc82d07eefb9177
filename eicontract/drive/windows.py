"""Bounded reads of a listing of any size: its end, regions at offsets, and id windows.

The quick profile never reads a whole listing. It finds the end by a galloping search (limit-1
probes at doubling offsets, then bisection: about 2 log2(n) requests; a probe refused with the
failure envelope lies past a window the server answers within, an upper bound like an empty
page, and the end is the smallest offset answered empty), reads regions (a run of
samples from an offset) across the whole range, and reads id windows (`minId` >= lo, `maxId` < hi,
both documented exactly): small sub-listings, read whole, inside which filters are judged.
The planners are pure (seeded `random.Random` in, offsets and bounds out).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from eicontract.drive.pagesize import is_refusal, read_page
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.http.client import ApiClient, Exchange
from eicontract.oracles.paging import PageRead, page_ids, page_results

MAX_OFFSET = 2**31  # the gallop gives up here: no listing is that long
WINDOW_TARGET = 40  # samples a window should hold
WINDOW_PAGES = 4  # pages of 100 a window read may take; a longer one is narrowed
WINDOW_TRIES = 5
REGION = 100  # samples of an unfiltered region (one page of 100)


@dataclass(frozen=True, slots=True)
class End:
    """The listing's length by offsets: the smallest offset answered with an empty page."""

    length: int | None  # None: no end found (see problem)
    probes: list[PageRead]
    problem: str = ""
    estimate: int | None = None  # no end found, but offsets from estimate - 1 on all give one sample
    refused: list[PageRead] = field(default_factory=list)  # probes refused with the failure envelope


def _probe(client: ApiClient, project_id: int, offset: int, filters: Mapping[str, str]) -> PageRead:
    exchange = client.page(project_id, {**filters, "limit": 1, "offset": offset})
    return PageRead(1, offset, exchange.body if not is_refusal(exchange) else _Refused(exchange.body))


@dataclass(frozen=True, slots=True)
class _Refused:
    """A probe's body refused with the failure envelope (told apart from a page until sorted)."""

    body: object


def find_end(client: ApiClient, project_id: int, start: int,
             filters: Mapping[str, str] | None = None) -> End:
    """Gallop from `start` (an offset believed inside the listing, or 0) by doubling, then bisect.
    A probe that repeats the sample of an earlier probe means offsets past the end give data."""
    query = dict(filters or {})
    probes: list[PageRead] = []
    seen: dict[int, int] = {}
    inside, offset = -1, max(0, start)
    while True:
        if offset > MAX_OFFSET:
            return _end(None, probes, f"no empty page at any offset up to {MAX_OFFSET}")
        read = _probe(client, project_id, offset, query)
        probes.append(read)
        found = _found(read)
        if found is None:
            return _end(None, probes, f"the probe at offset {offset} (limit 1) got no result array")
        if not found:
            break
        repeated = next((i for i in found if i in seen), None)
        if repeated is not None:
            first = seen[repeated]
            below = max((o for o in seen.values() if o < first), default=-1)
            last = _first_giving(client, project_id, query, probes, below, first, repeated)
            return _end(None, probes, f"offsets {seen[repeated]} and {offset} (limit 1) both give sample "
                                      f"{repeated}: an offset past the end gives data, not an empty page",
                        estimate=last + 1)
        seen.update((i, offset) for i in found)
        inside, offset = offset, max(offset * 2, offset + 1)
    empty = offset
    while empty - inside > 1:
        middle = (inside + empty) // 2
        read = _probe(client, project_id, middle, query)
        probes.append(read)
        found = _found(read)
        if found is None:
            return _end(None, probes, f"the probe at offset {middle} (limit 1) got no result array")
        inside, empty = (middle, empty) if found else (inside, middle)
    if any(isinstance(p.body, _Refused) and p.offset == empty for p in probes):
        return _end(None, probes, f"the probe at offset {empty} (limit 1), just past sample {inside}, was "
                                  f"refused: no offset was answered with an empty page")
    return _end(empty, probes)


def _end(length: int | None, probes: list[PageRead], problem: str = "", estimate: int | None = None) -> End:
    """The End, its refused probes told apart from the pages (their bodies as sent)."""
    pages = [p for p in probes if not isinstance(p.body, _Refused)]
    refused = [PageRead(p.limit, p.offset, p.body.body) for p in probes if isinstance(p.body, _Refused)]
    return End(length, pages, problem, estimate, refused)


def _first_giving(client: ApiClient, project_id: int, query: Mapping[str, str], probes: list[PageRead],
                  below: int, at: int, sample_id: int) -> int:
    """The smallest offset in (below, at] whose probe gives `sample_id` (or nothing): where a
    listing that repeats its last sample past the end really ends."""
    while at - below > 1:
        middle = (below + at) // 2
        read = _probe(client, project_id, middle, query)
        probes.append(read)
        found = _found(read)
        below, at = (below, middle) if not found or sample_id in found else (middle, at)
    return at


def _found(read: PageRead) -> list[int] | None:
    """The ids on a probe, [] for an empty page or a refused one (past the server's window: an
    upper bound alike), None when it has no result array."""
    if isinstance(read.body, _Refused):
        return []
    results = page_results(read.body)
    if results is None:
        return None
    return page_ids(read.body) if results else []


@dataclass(frozen=True, slots=True)
class Region:
    """Unfiltered pages read from `offset` at one page size, up to `length` samples."""

    offset: int
    page_size: int
    reads: list[PageRead]
    ids: list[int] = field(init=False, repr=False, compare=False)
    exchanges: list[Exchange] = field(default_factory=list, repr=False, compare=False)  # one per read: the evidence

    def __repr__(self) -> str:  # a region is named by where it is, not by its pages
        return f"Region(offset={self.offset}, page_size={self.page_size}, {len(self.reads)} reads)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", [i for read in self.reads for i in page_ids(read.body)])


def read_region(client: ApiClient, project_id: int, offset: int, length: int, page_size: int) -> Region:
    """Pages of `page_size` (at most the target's maximum limit as learned) from `offset`, each
    offset stepped by what the last page returned, until `length` samples, an empty page, a
    failed page, or a page bound."""
    reads: list[PageRead] = []
    exchanges: list[Exchange] = []
    at, listed = offset, 0
    for _ in range(2 * -(-length // client.page_limit.fit(page_size)) + 2):
        if listed >= length:
            break
        exchange, limit = read_page(client, project_id, {"limit": page_size, "offset": at})
        exchanges.append(exchange)
        body = exchange.body
        reads.append(PageRead(limit, at, body))
        results = page_results(body)
        if not results:
            break
        at, listed = at + len(results), listed + len(results)
    return Region(offset, page_size, reads, exchanges=exchanges)


def plan_offsets(length: int, count: int, rng: random.Random, span: int = REGION) -> list[int]:
    """`count` region offsets across [0, length): the start, the deepest region, and one drawn in
    each of the strata between (seeded)."""
    last = max(0, length - span)
    offsets = [0, last]
    inner = max(0, count - 2)
    for k in range(inner):
        low, high = last * k // max(1, inner), last * (k + 1) // max(1, inner)
        offsets.append(rng.randint(low, max(low, high)))
    return sorted(dict.fromkeys(offsets))[:max(1, count)]


# --- id windows -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)  # eq=False: hashed by identity (a sweep holds lists)
class Window:
    """The samples with lo <= id < hi, read whole (or as far as the bound allowed)."""

    lo: int
    hi: int
    sweep: Sweep

    @property
    def query(self) -> dict[str, str]:
        return {"minId": str(self.lo), "maxId": str(self.hi)}

    @property
    def ids(self) -> list[int]:
        return self.sweep.ids

    def __repr__(self) -> str:
        return f"Window([{self.lo}, {self.hi}), {len(self.sweep.ids)} samples)"


def read_window(client: ApiClient, project_id: int, lo: int, hi: int,
                filters: Mapping[str, str] | None = None, max_pages: int = WINDOW_PAGES) -> Sweep:
    query = {**(filters or {}), "minId": str(lo), "maxId": str(hi)}
    return sweep(client, project_id, query, page_size=100, max_pages=max_pages, trust_total=True)


def fit_window(client: ApiClient, project_id: int, lo: int, hi: int) -> Window:
    """The window [lo, hi), narrowed (hi moved towards lo) while it holds more than the bound."""
    for _ in range(WINDOW_TRIES):
        read = read_window(client, project_id, lo, hi)
        if not read.bounded or hi - lo <= 1:
            return Window(lo, hi, read)
        hi = lo + max(1, (hi - lo) // 4)
    return Window(lo, hi, read_window(client, project_id, lo, hi))


def plan_windows(seen: Sequence[int], length: int, count: int, rng: random.Random,
                 target: int = WINDOW_TARGET) -> list[tuple[int, int]]:
    """`count` id windows [lo, hi) with data ids as bounds: the lowest ids, the highest ids (the
    top of the range), and one anchored in each id stratum between (seeded). A window's span
    follows the ids seen close to its anchor, else the density of the whole range."""
    ordered = sorted(set(seen))
    if not ordered:
        return []
    density = max(1, length) / (ordered[-1] - ordered[0] + 1)
    span = max(2, round(target / min(1.0, density)))
    anchors = [0, max(0, len(ordered) - target)]
    inner = max(0, count - 2)
    for k in range(inner):
        low = len(ordered) * (k + 1) // (inner + 2)
        high = len(ordered) * (k + 2) // (inner + 2)
        anchors.append(rng.randint(low, max(low, high - 1)))
    windows = [_window_at(ordered, a, span, target) for a in sorted(dict.fromkeys(anchors))]
    return sorted(dict.fromkeys(windows))[:count]


def _window_at(ordered: Sequence[int], anchor: int, span: int, target: int) -> tuple[int, int]:
    lo = ordered[anchor]
    top = anchor + target
    if top < len(ordered) and ordered[top] - lo <= 3 * span:
        return lo, ordered[top]  # a data id as the upper bound: maxId's "<" matters there
    if top >= len(ordered):
        return lo, ordered[-1] + 1  # the top of the range: the highest id seen is inside
    return lo, lo + span


def split_point(ids: Sequence[int]) -> int | None:
    """A data id in the middle of a window (its lower half ends just before it), if any."""
    ordered = sorted(set(ids))
    return ordered[len(ordered) // 2] if len(ordered) >= 2 else None


def partition(bounds: Sequence[int]) -> list[tuple[int | None, int | None]]:
    """Id windows that together cover every id: (None, b1), [b1, b2), ..., [bk, None)."""
    edges: list[int | None] = [None, *sorted(set(bounds)), None]
    return [(edges[k], edges[k + 1]) for k in range(len(edges) - 1)]


def bounds_between(ordered: Sequence[int], count: int) -> list[int]:
    """`count` data ids spread evenly through a sorted id list (partition boundaries)."""
    if not ordered or count <= 0:
        return []
    return sorted({ordered[min(len(ordered) - 1, len(ordered) * k // (count + 1))]
                   for k in range(1, count + 1)})

