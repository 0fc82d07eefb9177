"""The store seam's other readings: faults and legal variants that change how SQL reads a filter.

store.Reading is the contract; SwitchedReading reads a filter otherwise where a chosen fault or
variant says so. Each knob below is one catalogue name (faults.py, variants.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from eicontract.server.faults import FaultSet, top_tenth_from
from eicontract.server.store import (
    HAS_METADATA,
    Combinator,
    Condition,
    MetadataFilter,
    MetadataItem,
    PageFilters,
    PagePlan,
    Reading,
    bounds,
    join_items,
    metadata_item,
    search_condition,
    sql_int,
)
from eicontract.server.variants import VariantSet


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


@dataclass(frozen=True)
class SwitchedReading(Reading):
    # faults
    combinator: Combinator = "and"  # filters-ored: "or" between different filters
    max_id_op: str = "<"  # maxid-inclusive: "<="
    min_label_op: str = ">="  # minlabel-strict: ">"
    filters_the_slice: bool = False  # filter-after-paging
    metadata_drops_empty: bool = False  # no-metadata-ignored: as if inner-joined on metadata
    labels_prefix: bool = False  # labels-prefix: a label matches when it starts with a value
    labels_ignored_from_id: int | None = None  # deep-filter-ignored: labels skip ids >= this
    # legal variants
    inclusive_bounds: bool = False  # inclusive-bounds: length, frequency and date as >= / <=
    case_sensitive: bool = False  # case-sensitive: filename and search
    labels_folded: bool = False  # labels-case-insensitive
    search_whole: bool = False  # search-whole: the whole query is the id or in the filename
    bare_strict: bool = False  # metadata-bare-strict: metadata-less samples match no key item
    neq_loose: bool = False  # neq-loose: a neq item with values also matches a missing key
    or_extra: bool = False  # metadata-or-extra
    nometa_ored: bool = False  # nometa-ored
    also_ids: Callable[[tuple[str, ...]], tuple[int, ...]] = lambda labels: ()  # labels-multi
    # datatype-kind: the chart types of a kind of data; None: dataType is the chartType
    data_type_charts: Callable[[str], tuple[str, ...]] | None = None

    def own_page(self, db: sqlite3.Connection, plan: PagePlan) -> list[int] | None:
        """filter-after-paging: slice first, then filter the slice (not the contract)."""
        if not self.filters_the_slice:
            return None
        where, params = self.where(plan.filters)
        direction = "DESC" if plan.descending else "ASC"
        sql = (f"SELECT s.id FROM (SELECT * FROM samples WHERE category = ? "
               f"ORDER BY id {direction} LIMIT ? OFFSET ?) s WHERE 1 = 1{where} "
               f"ORDER BY s.id {direction}")
        args = [plan.filters.category, sql_int(plan.limit), sql_int(plan.offset), *params]
        return [row[0] for row in db.execute(sql, args)]

    def where(self, f: PageFilters) -> Condition:
        conditions = self.conditions(f)
        if not conditions:
            return "", []
        joiner = " AND " if self.combinator == "and" else " OR "
        sql = joiner.join(f"({c})" for c, _ in conditions)
        if self.metadata_drops_empty:  # as if the filtered query inner-joined the metadata table
            sql = f"{HAS_METADATA} AND ({sql})"
        return f" AND ({sql})", [p for _, params in conditions for p in params]

    def labels(self, labels: tuple[str, ...]) -> Condition:
        condition: Condition = ((f"lower(s.label) IN ({_marks(labels)})", [x.lower() for x in labels])
                                if self.labels_folded else super().labels(labels))
        if self.labels_prefix:
            condition = (" OR ".join("substr(s.label, 1, length(?)) = ?" for _ in labels) or "0",
                         [p for label in labels for p in (label, label)])
        also = self.also_ids(labels)
        if also:
            condition = (f"({condition[0]} OR s.id IN ({_marks(also)}))", [*condition[1], *also])
        if self.labels_ignored_from_id is not None:
            condition = (f"({condition[0]} OR s.id >= ?)",
                         [*condition[1], self.labels_ignored_from_id])
        return condition

    def data_type(self, value: str) -> Condition:
        if self.data_type_charts is None:
            return super().data_type(value)
        charts = self.data_type_charts(value)
        return (f"s.chart_type IN ({_marks(charts)})", list(charts)) if charts else ("0", [])

    def filename(self, text: str) -> Condition:
        return ("instr(s.filename, ?) > 0", [text]) if self.case_sensitive else super().filename(text)

    def range(self, column: str, low: float | None, high: float | None) -> list[Condition]:
        if self.inclusive_bounds:
            return bounds(column, low, high, ">=", "<=")
        return super().range(column, low, high)

    def min_label(self, value: float) -> Condition:
        return f"s.label_num IS NOT NULL AND s.label_num {self.min_label_op} ?", [value]

    def max_id(self, value: int) -> Condition:
        return f"s.id {self.max_id_op} ?", [sql_int(value)]

    def search(self, tokens: Sequence[str]) -> Condition:
        tokens = (" ".join(tokens),) if self.search_whole else tokens
        return search_condition(tokens, self.case_sensitive)

    def metadata(self, metadata: MetadataFilter) -> Condition:
        items = [self._item(i, self.bare_strict, self.neq_loose) for i in metadata.items]
        return self._combined(metadata, *join_items(items, metadata.combinator))

    def _item(self, item: MetadataItem, bare_strict: bool, neq_loose: bool) -> Condition:
        if item.op == "none":
            return metadata_item(item)
        if bare_strict:  # only no_metadata lists bare samples
            condition, params = self._item(item, False, neq_loose)
            return f"{HAS_METADATA} AND ({condition})", params
        if neq_loose and item.op == "neq" and item.values:  # no listed value, key or not
            condition, params = metadata_item(replace(item, op="eq"))
            return f"NOT ({condition})", params
        return metadata_item(item)

    def _combined(self, metadata: MetadataFilter, sql: str, params: list[object]) -> Condition:
        """metadata-or-extra (or: also a sample with a key no item names) and nometa-ored (and:
        no_metadata ORed with the ANDed items)."""
        keyed = [i for i in metadata.items if i.op != "none"]
        if self.or_extra and metadata.combinator == "or" and keyed:
            keys = sorted({i.key for i in keyed})
            return (f"({sql}) OR EXISTS (SELECT 1 FROM metadata m WHERE m.sample_id = s.id AND "
                    f"m.key NOT IN ({_marks(keys)}))", [*params, *keys])
        if self.nometa_ored and metadata.combinator == "and" and keyed and len(keyed) < len(metadata.items):
            anded = [self._item(i, self.bare_strict, self.neq_loose) for i in keyed]
            return (" AND ".join(f"({c})" for c, _ in anded) + f" OR NOT {HAS_METADATA}",
                    [p for _, ps in anded for p in ps])
        return sql, params


def switched_reading(faults: FaultSet, variants: VariantSet, ids: Sequence[int]) -> Reading:
    """The store's reading for these faults and variants (ids: every sample id, ascending)."""
    return SwitchedReading(
        combinator="or" if "filters-ored" in faults else "and",
        max_id_op="<=" if "maxid-inclusive" in faults else "<",
        min_label_op=">" if "minlabel-strict" in faults else ">=",
        filters_the_slice="filter-after-paging" in faults,
        metadata_drops_empty="no-metadata-ignored" in faults,
        labels_prefix="labels-prefix" in faults,
        labels_ignored_from_id=top_tenth_from(ids) if "deep-filter-ignored" in faults and ids
        else None,
        inclusive_bounds="inclusive-bounds" in variants,
        case_sensitive="case-sensitive" in variants,
        labels_folded="labels-case-insensitive" in variants,
        search_whole="search-whole" in variants,
        bare_strict="metadata-bare-strict" in variants,
        neq_loose="neq-loose" in variants,
        or_extra="metadata-or-extra" in variants,
        nometa_ored="nometa-ored" in variants,
        also_ids=variants.labels_also_ids,
        data_type_charts=variants.data_type_charts if "datatype-kind" in variants else None,
    )
