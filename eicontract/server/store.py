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
from dataclasses import dataclass, field, replace
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
    # Kept apart from an explicit "or" because the fault metadata-anded acts only on None.
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
    """How to run one page query. The defaults are the contract; faults change the knobs."""

    filters: PageFilters = field(default_factory=PageFilters)
    limit: int = 100
    offset: int = 0
    combinator: Combinator = "and"  # between different filters
    max_id_op: Literal["<", "<="] = "<"  # operators come from code (faults), never from input
    min_label_op: Literal[">=", ">"] = ">="
    descending: bool = False
    filter_after_paging: bool = False
    inclusive_bounds: bool = False  # min/max length, frequency and date as >= / <=
    metadata_bare_strict: bool = False  # variant: metadata-less samples match no key item
    case_sensitive: bool = False  # variant: filename and search match case-sensitively
    labels_folded: bool = False  # variant labels-case-insensitive
    neq_loose: bool = False  # variant neq-loose: a neq item with values also matches a missing key
    search_whole: bool = False  # variant search-whole: the whole query is the id or in the filename
    metadata_or_extra: bool = False  # variant metadata-or-extra
    nometa_ored: bool = False  # variant nometa-ored
    labels_also_ids: tuple[int, ...] = ()  # variant labels-multi: ids a structured label matches
    metadata_drops_empty: bool = False  # fault: filtered listings lose metadata-less samples
    labels_ignored_from_id: int | None = None  # fault: `labels` does not apply to ids >= this
    labels_prefix: bool = False  # fault labels-prefix: a label matches when it starts with a value


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
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._load(dataset.samples)
        self._listings: OrderedDict[tuple[object, ...], array[int]] = OrderedDict()
        self._unfiltered: dict[str, int] = {}

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
        where, params = _where(plan)
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

    def count_unfiltered(self, category: str) -> int:
        found = self._unfiltered.get(category)
        if found is None:  # the data never changes: counted once per category
            sql = "SELECT COUNT(*) FROM samples WHERE category = ?"
            found = self._unfiltered[category] = int(self._db.execute(sql, [category]).fetchone()[0])
        return found

    def page_ids(self, plan: PagePlan) -> list[int]:
        if plan.filter_after_paging:
            return self._page_then_filter(plan)
        if plan.limit < 0 or plan.offset < 0:  # not reachable from a request; SQL's meaning
            return self._page_sql(plan)
        ids = self.listing(plan)
        if not plan.descending:
            return ids[plan.offset:plan.offset + plan.limit].tolist()
        stop = len(ids) - plan.offset  # the descending listing, sliced from the end
        return ids[max(0, stop - plan.limit):max(0, stop)].tolist()[::-1]

    def _page_sql(self, plan: PagePlan) -> list[int]:
        where, params = _where(plan)
        sql = (f"SELECT s.id FROM samples s WHERE s.category = ?{where} "
               f"ORDER BY s.id {_direction(plan)} LIMIT ? OFFSET ?")
        args = [plan.filters.category, *params, sql_int(plan.limit), sql_int(plan.offset)]
        return [row[0] for row in self._db.execute(sql, args)]

    def _page_then_filter(self, plan: PagePlan) -> list[int]:
        # The wrong order, on purpose (fault filter-after-paging): slice first, filter the slice.
        where, params = _where(plan)
        sql = (f"SELECT s.id FROM (SELECT * FROM samples WHERE category = ? "
               f"ORDER BY id {_direction(plan)} LIMIT ? OFFSET ?) s WHERE 1 = 1{where} "
               f"ORDER BY s.id {_direction(plan)}")
        args = [plan.filters.category, sql_int(plan.limit), sql_int(plan.offset), *params]
        return [row[0] for row in self._db.execute(sql, args)]

    def samples(self, ids: Sequence[int]) -> list[SampleRecord]:
        return [s for s in map(self.dataset.sample, ids) if s is not None]


def _direction(plan: PagePlan) -> str:
    return "DESC" if plan.descending else "ASC"


def _where(plan: PagePlan) -> Condition:
    """The filters as ' AND (...)', combined with plan.combinator; '' when there are none."""
    conditions = filter_conditions(plan)
    if not conditions:
        return "", []
    joiner = " AND " if plan.combinator == "and" else " OR "
    sql = joiner.join(f"({c})" for c, _ in conditions)
    if plan.metadata_drops_empty:  # as if the filtered query inner-joined the metadata table
        sql = f"{_HAS_METADATA} AND ({sql})"
    return f" AND ({sql})", [p for _, params in conditions for p in params]


def filter_conditions(plan: PagePlan) -> list[Condition]:
    """One SQL condition per given filter, in a fixed order."""
    f = plan.filters
    out: list[Condition] = []
    if f.labels is not None:
        labels: Condition = ((f"lower(s.label) IN ({_marks(f.labels)})", [x.lower() for x in f.labels])
                             if plan.labels_folded else (f"s.label IN ({_marks(f.labels)})", list(f.labels)))
        if plan.labels_prefix:  # fault labels-prefix
            labels = (" OR ".join("substr(s.label, 1, length(?)) = ?" for _ in f.labels) or "0",
                      [p for label in f.labels for p in (label, label)])
        if plan.labels_also_ids:  # legal variant labels-multi
            labels = (f"({labels[0]} OR s.id IN ({_marks(plan.labels_also_ids)}))",
                      [*labels[1], *plan.labels_also_ids])
        if plan.labels_ignored_from_id is not None:  # fault deep-filter-ignored
            labels = (f"({labels[0]} OR s.id >= ?)", [*labels[1], plan.labels_ignored_from_id])
        out.append(labels)
    if f.filename is not None:  # instr, not LIKE: '%' and '_' in the query are literal
        out.append(("instr(s.filename, ?) > 0", [f.filename]) if plan.case_sensitive
                   else ("instr(s.filename_lc, ?) > 0", [f.filename.lower()]))
    inclusive = plan.inclusive_bounds
    out.extend(_range("s.total_length_ms", f.min_length, f.max_length, inclusive))
    out.extend(_range("s.frequency", f.min_frequency, f.max_frequency, inclusive))
    if f.signature_valid is not None:
        out.append(("s.signature_valid = ?", [int(f.signature_valid)]))
    if f.min_label is not None:
        out.append((f"s.label_num IS NOT NULL AND s.label_num {plan.min_label_op} ?",
                    [f.min_label]))
    if f.max_label is not None:
        out.append(("s.label_num IS NOT NULL AND s.label_num < ?", [f.max_label]))
    if f.search:
        tokens = (" ".join(f.search),) if plan.search_whole else f.search
        out.append(_search(tokens, plan.case_sensitive))
    if f.data_type is not None:
        out.append(("s.chart_type = ?", [f.data_type]))
    if f.min_id is not None:
        out.append(("s.id >= ?", [sql_int(f.min_id)]))
    if f.max_id is not None:
        out.append((f"s.id {plan.max_id_op} ?", [sql_int(f.max_id)]))
    if f.metadata is not None and f.metadata.items:
        out.append(_metadata_variants(plan, *_metadata(f.metadata, plan.metadata_bare_strict,
                                                       plan.neq_loose)))
    out.extend(_range("s.added_us", _us(f.min_date), _us(f.max_date), inclusive))
    return out


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_us(moment)


def _range(column: str, low: float | None, high: float | None,
           inclusive: bool = False) -> list[Condition]:
    """Both ends strict: minX means "more than X", maxX means "less than X" (the contract
    allows either reading; inclusive=True is the legal variant inclusive-bounds)."""
    above, below = (">=", "<=") if inclusive else (">", "<")
    out: list[Condition] = []
    if low is not None:
        out.append((f"{column} {above} ?", [_bindable(low)]))
    if high is not None:
        out.append((f"{column} {below} ?", [_bindable(high)]))
    return out


def _bindable(value: float) -> float:
    return sql_int(value) if isinstance(value, int) else value


def _search(tokens: Sequence[str], case_sensitive: bool = False) -> Condition:
    """Every token is the id (as written) or a case-insensitive substring of the filename
    (case-sensitive: the legal variant of that name)."""
    column = "s.filename" if case_sensitive else "s.filename_lc"
    parts = [f"(CAST(s.id AS TEXT) = ? OR instr({column}, ?) > 0)" for _ in tokens]
    params: list[object] = [p for t in tokens for p in (t, t if case_sensitive else t.lower())]
    return " AND ".join(parts), params


_HAS_KEY = "EXISTS (SELECT 1 FROM metadata m WHERE m.sample_id = s.id AND m.key = ?"
_HAS_METADATA = "EXISTS (SELECT 1 FROM metadata m WHERE m.sample_id = s.id)"


def _metadata_item(item: MetadataItem, bare_strict: bool = False, neq_loose: bool = False) -> Condition:
    if item.op == "none":
        return f"NOT {_HAS_METADATA}", []
    if bare_strict:  # legal variant metadata-bare-strict: only no_metadata lists bare samples
        condition, params = _metadata_item(item, neq_loose=neq_loose)
        return f"{_HAS_METADATA} AND ({condition})", params
    if neq_loose and item.op == "neq" and item.values:  # legal variant neq-loose: no listed value
        condition, params = _metadata_item(replace(item, op="eq"))
        return f"NOT ({condition})", params
    if not item.values:  # eq: has the key at all; neq: lacks it
        sql = f"{_HAS_KEY})"
        return (sql if item.op == "eq" else f"NOT {sql}"), [item.key]
    negate = "NOT " if item.op == "neq" else ""
    return (f"{_HAS_KEY} AND m.value {negate}IN ({_marks(item.values)}))",
            [item.key, *item.values])


def _metadata_variants(plan: PagePlan, sql: str, params: list[object]) -> Condition:
    """The legal variants metadata-or-extra (or: also a sample with a key no item names) and
    nometa-ored (and: no_metadata ORed with the ANDed items)."""
    metadata = plan.filters.metadata
    assert metadata is not None
    keyed = [i for i in metadata.items if i.op != "none"]
    if plan.metadata_or_extra and metadata.combinator == "or" and keyed:
        keys = sorted({i.key for i in keyed})
        return (f"({sql}) OR EXISTS (SELECT 1 FROM metadata m WHERE m.sample_id = s.id AND "
                f"m.key NOT IN ({_marks(keys)}))", [*params, *keys])
    if plan.nometa_ored and metadata.combinator == "and" and keyed and len(keyed) < len(metadata.items):
        anded = [_metadata_item(i, plan.metadata_bare_strict, plan.neq_loose) for i in keyed]
        return (" AND ".join(f"({c})" for c, _ in anded) + f" OR NOT {_HAS_METADATA}",
                [p for _, ps in anded for p in ps])
    return sql, params


def _metadata(metadata: MetadataFilter, bare_strict: bool = False, neq_loose: bool = False) -> Condition:
    conditions = [_metadata_item(i, bare_strict, neq_loose) for i in metadata.items]
    joiner = " AND " if metadata.combinator == "and" else " OR "
    return (joiner.join(f"({c})" for c, _ in conditions),
            [p for _, params in conditions for p in params])
