"""sqlite storage of the samples and the page query: filters and order are SQL.

One in-memory connection, created with check_same_thread=False because the app is built on
one thread and served from the event-loop thread; it is only ever used from that one thread.

Paging slices a listing: the ordered ids of one filter query, read once and kept (the data
never changes) for the most recently used queries. SQL OFFSET costs O(offset) and a filtered
COUNT a full scan, so a 1000-page sweep of 100k samples re-running them per page would be
quadratic; slicing the kept listing is O(limit) per page.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from eicontract.server.dataset import Dataset, SampleRecord

DEFAULT_CATEGORY = "testing"  # what the vendor client documents when category is not given
SQLITE_MAX_INT = 2**63 - 1
SQLITE_MIN_INT = -(2**63)
# Filter queries whose listings are kept: 8 bytes an id, so at most ~30 MB at 100k samples.
LISTINGS_KEPT = 32

Combinator = Literal["and", "or"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNSEEN = object()


@dataclass(frozen=True, slots=True)
class MetadataItem:
    """One metadata filter item. op "none" is {"no_metadata": true}."""

    op: Literal["eq", "neq", "none"]
    key: str = ""
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MetadataFilter:
    items: tuple[MetadataItem, ...]
    # None = not given: the seed's default, items are ORed; newer clients may ask for "and".
    # Kept apart from an explicit "or": a server may read "not given" otherwise.
    combinator: Combinator | None = None


@dataclass(frozen=True, slots=True)
class PageFilters:
    """Parsed page filters; None = not given."""

    category: str = DEFAULT_CATEGORY
    labels: tuple[str, ...] | None = None
    filename: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_frequency: float | None = None
    max_frequency: float | None = None
    signature_valid: bool | None = None  # None = "both"
    min_label: float | None = None
    max_label: float | None = None
    search: tuple[str, ...] | None = None
    data_type: str | None = None
    min_id: int | None = None
    max_id: int | None = None
    metadata: MetadataFilter | None = None
    min_date: datetime | None = None
    max_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class PagePlan:
    """One page query: the filters, the slice and the order (ids ascending, the reference's
    stable order). How SQL reads the filters is the store's Reading."""

    filters: PageFilters = field(default_factory=PageFilters)
    limit: int = 100
    offset: int = 0
    descending: bool = False


Condition = tuple[str, list[object]]

_SCHEMA = """
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    filename TEXT NOT NULL,
    filename_lc TEXT NOT NULL,
    label TEXT NOT NULL,
    label_num REAL,
    category TEXT NOT NULL,
    frequency REAL NOT NULL,
    total_length_ms REAL NOT NULL,
    signature_valid INTEGER NOT NULL,
    chart_type TEXT NOT NULL,
    added_us INTEGER NOT NULL
);
CREATE TABLE metadata (
    sample_id INTEGER NOT NULL REFERENCES samples(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (sample_id, key)
) WITHOUT ROWID;
"""
# Built after the rows are in (faster than keeping it up to date row by row). (category, id)
# serves every listing: the category is always given, and id windows (minId/maxId) are ranges
# in it. Indexes on the other filter columns were measured and left out: at 100,000 samples each
# costs ~0.15 s of startup, and a listing is read once per filter set and then kept.
_INDEXES = """
CREATE INDEX samples_category ON samples(category, id);
"""


def epoch_us(moment: datetime) -> int:
    """Exact microseconds since the epoch, so dates compare without float rounding."""
    delta = moment - _EPOCH  # aware subtraction: no overflow near year 1 or 9999
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def sql_int(value: int) -> int:
    """Clamp to sqlite's 64-bit range; the data is far from both ends, so meaning is kept."""
    return max(SQLITE_MIN_INT, min(SQLITE_MAX_INT, value))


class Store:
    def __init__(self, dataset: Dataset, reading: Reading | None = None) -> None:
        self.dataset = dataset
        self.reading = reading or Reading()  # the store seam: how SQL reads the filters
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._load(dataset.samples)
        self._listings: OrderedDict[tuple[object, ...], array[int]] = OrderedDict()

    def _load(self, samples: Sequence[SampleRecord]) -> None:
        # Values repeat (labels from a pool, `added` in groups): convert each distinct one once.
        numeric: dict[str, float | None] = {}
        last_added, added_us = None, 0
        rows = []
        for s in samples:
            label_num = numeric.get(s.label, _UNSEEN)
            if label_num is _UNSEEN:
                label_num = numeric[s.label] = s.numeric_label
            if s.added != last_added:
                last_added, added_us = s.added, epoch_us(s.added)
            rows.append((s.id, s.filename, s.filename.lower(), s.label, label_num, s.category,
                         s.frequency, s.total_length_ms, int(s.signature_valid), s.chart_type,
                         added_us))
        self._db.executemany("INSERT INTO samples VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        self._db.executemany(
            "INSERT INTO metadata VALUES (?,?,?)",
            [(s.id, k, v) for s in samples if s.metadata for k, v in s.metadata.items()],
        )
        self._db.executescript(_INDEXES)
        self._db.commit()

    def listing(self, plan: PagePlan) -> array[int]:
        """The ids matching the plan's filters, ascending (kept for the recent queries)."""
        where, params = self.reading.where(plan.filters)
        key = (plan.filters.category, where, *params)
        found = self._listings.get(key)
        if found is not None:
            self._listings.move_to_end(key)
            return found
        sql = f"SELECT s.id FROM samples s WHERE s.category = ?{where} ORDER BY s.id ASC"
        found = array("q", (row[0] for row in self._db.execute(sql, [plan.filters.category,
                                                                       *params])))
        self._listings[key] = found
        if len(self._listings) > LISTINGS_KEPT:
            self._listings.popitem(last=False)
        return found

    def count(self, plan: PagePlan) -> int:
        """Number of samples matching the filters (the listing's length)."""
        return len(self.listing(plan))

    def page_ids(self, plan: PagePlan) -> list[int]:
        """The page: a slice of the kept listing (limit and offset are never negative: params
        refuses them, and no seam makes one)."""
        own = self.reading.own_page(self._db, plan)
        if own is not None:
            return own
        ids = self.listing(plan)
        if not plan.descending:
            return ids[plan.offset:plan.offset + plan.limit].tolist()
        stop = len(ids) - plan.offset  # the descending listing, sliced from the end
        return ids[max(0, stop - plan.limit):max(0, stop)].tolist()[::-1]

    def samples(self, ids: Sequence[int]) -> list[SampleRecord]:
        return [s for s in map(self.dataset.sample, ids) if s is not None]


class Reading:
    """The store seam: how the page query reads the filters in SQL. Every method is the
    contract's reading; a subclass (store_seams.py) may read one otherwise."""

    def own_page(self, db: sqlite3.Connection, plan: PagePlan) -> list[int] | None:
        """The page's ids by a query of the reading's own; None: the page is a slice of the
        listing (the contract)."""
        return None

    def where(self, f: PageFilters) -> Condition:
        """The filters as ' AND (...)', all of them ANDed; '' when there are none."""
        conditions = self.conditions(f)
        if not conditions:
            return "", []
        sql = " AND ".join(f"({c})" for c, _ in conditions)
        return f" AND ({sql})", [p for _, params in conditions for p in params]

    def conditions(self, f: PageFilters) -> list[Condition]:
        """One SQL condition per given filter, in a fixed order."""
        out: list[Condition] = []
        if f.labels is not None:
            out.append(self.labels(f.labels))
        if f.filename is not None:
            out.append(self.filename(f.filename))
        out.extend(self.range("s.total_length_ms", f.min_length, f.max_length))
        out.extend(self.range("s.frequency", f.min_frequency, f.max_frequency))
        if f.signature_valid is not None:
            out.append(("s.signature_valid = ?", [int(f.signature_valid)]))
        if f.min_label is not None:
            out.append(self.min_label(f.min_label))
        if f.max_label is not None:
            out.append(("s.label_num IS NOT NULL AND s.label_num < ?", [f.max_label]))
        if f.search:
            out.append(self.search(f.search))
        if f.data_type is not None:
            out.append(self.data_type(f.data_type))
        if f.min_id is not None:
            out.append(("s.id >= ?", [sql_int(f.min_id)]))
        if f.max_id is not None:
            out.append(self.max_id(f.max_id))
        if f.metadata is not None and f.metadata.items:
            out.append(self.metadata(f.metadata))
        out.extend(self.range("s.added_us", _us(f.min_date), _us(f.max_date)))
        return out

    def labels(self, labels: tuple[str, ...]) -> Condition:
        return f"s.label IN ({_marks(labels)})", list(labels)

    def data_type(self, value: str) -> Condition:
        """The sample's chartType (what its replies show)."""
        return "s.chart_type = ?", [value]

    def filename(self, text: str) -> Condition:
        """A case-insensitive substring; instr, not LIKE: '%' and '_' in the query are literal."""
        return "instr(s.filename_lc, ?) > 0", [text.lower()]

    def range(self, column: str, low: float | None, high: float | None) -> list[Condition]:
        """Both ends strict: minX means "more than X", maxX means "less than X" (the contract
        allows either reading)."""
        return bounds(column, low, high, ">", "<")

    def min_label(self, value: float) -> Condition:
        return "s.label_num IS NOT NULL AND s.label_num >= ?", [value]

    def max_id(self, value: int) -> Condition:
        return "s.id < ?", [sql_int(value)]

    def search(self, tokens: Sequence[str]) -> Condition:
        """Every token is the id (as written) or a case-insensitive substring of the filename."""
        return search_condition(tokens, exact_case=False)

    def metadata(self, metadata: MetadataFilter) -> Condition:
        """The items ORed (not given: the seed's default) or ANDed (filters_combinator)."""
        return join_items([metadata_item(i) for i in metadata.items], metadata.combinator)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_us(moment)


def bounds(column: str, low: float | None, high: float | None, above: str,
           below: str) -> list[Condition]:
    """column `above` low and column `below` high, for the ends given."""
    out: list[Condition] = []
    if low is not None:
        out.append((f"{column} {above} ?", [_bindable(low)]))
    if high is not None:
        out.append((f"{column} {below} ?", [_bindable(high)]))
    return out


def _bindable(value: float) -> float:
    return sql_int(value) if isinstance(value, int) else value


def search_condition(tokens: Sequence[str], exact_case: bool) -> Condition:
    """Every token is the id (as written) or a substring of the filename."""
    column = "s.filename" if exact_case else "s.filename_lc"
    parts = [f"(CAST(s.id AS TEXT) = ? OR instr({column}, ?) > 0)" for _ in tokens]
    params: list[object] = [p for t in tokens for p in (t, t if exact_case else t.lower())]
    return " AND ".join(parts), params


HAS_KEY = "EXISTS (SELECT 1 FROM metadata m WHERE m.sample_id = s.id AND m.key = ?"
HAS_METADATA = "EXISTS (SELECT 1 FROM metadata m WHERE m.sample_id = s.id)"


def metadata_item(item: MetadataItem) -> Condition:
    if item.op == "none":
        return f"NOT {HAS_METADATA}", []
    if not item.values:  # eq: has the key at all; neq: lacks it
        sql = f"{HAS_KEY})"
        return (sql if item.op == "eq" else f"NOT {sql}"), [item.key]
    negate = "NOT " if item.op == "neq" else ""
    return (f"{HAS_KEY} AND m.value {negate}IN ({_marks(item.values)}))",
            [item.key, *item.values])


def join_items(conditions: Sequence[Condition], combinator: Combinator | None) -> Condition:
    joiner = " AND " if combinator == "and" else " OR "
    return (joiner.join(f"({c})" for c, _ in conditions),
            [p for _, params in conditions for p in params])
