"""The `metadata` filter's language and its readings: a JSON array of items `{key, op, values?}`
and the options `{no_metadata}` and `{filters_combinator}` (API-FACTS, the seed's examples).

Where the documents leave room (neq on a sample without the key, what `or` adds, no_metadata
under `and`, bare samples), each open point doubles the readings: one named predicate over a
sample per combination of the points a query exercises. Pure: a wire value in, readings out;
eicontract.oracles.filter_readings makes them the filter's readings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import product
from typing import Any, Literal

from eicontract.oracles._common import clip, is_mapping, strict_json

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "reading.metadata-bare",
    "reading.metadata-neq-absent",
    "reading.metadata-or-extra",
    "reading.metadata-nometa-anded",
)

Sample = Mapping[str, Any]
NamedPredicate = tuple[str, Callable[[Sample], bool]]


@dataclass(frozen=True, slots=True)
class MetaItem:
    key: str
    op: Literal["eq", "neq"]
    values: frozenset[str] | None  # None: every value of the key


@dataclass(frozen=True, slots=True)
class MetaQuery:
    items: tuple[MetaItem, ...]
    no_metadata: bool
    combinator: Literal["and", "or"] | None  # None: the default, logical OR


def parse_metadata(value: str) -> MetaQuery:
    """The query a wire value states; a clear ValueError for one with no documented meaning."""
    parsed = strict_json("metadata", value)
    if not isinstance(parsed, list):
        raise ValueError(f"metadata: expected a JSON array, got {clip(value)}")
    items: list[MetaItem] = []
    options: dict[str, Any] = {}
    for entry in parsed:
        if isinstance(entry, dict) and len(entry) == 1 and next(iter(entry)) in (
                "no_metadata", "filters_combinator"):
            (name, option), = entry.items()
            if name in options:
                raise ValueError(f"metadata: option {name} given twice")
            options[name] = option
        else:
            items.append(_parse_item(entry))
    return _query(items, options)


def _query(items: list[MetaItem], options: Mapping[str, Any]) -> MetaQuery:
    no_metadata = options.get("no_metadata", False)
    combinator = options.get("filters_combinator")
    if not isinstance(no_metadata, bool):
        raise ValueError(f"metadata: no_metadata must be a boolean, got {clip(no_metadata)}")
    if combinator not in (None, "and", "or"):
        raise ValueError(f"metadata: filters_combinator must be 'and' or 'or', got "
                         f"{clip(combinator)}")
    if not items and not no_metadata:
        raise ValueError("metadata: no filter item: an empty filter has no documented meaning")
    return MetaQuery(tuple(items), no_metadata, combinator)


def _parse_item(entry: object) -> MetaItem:
    if not isinstance(entry, dict) or not set(entry) <= {"key", "op", "values"}:
        raise ValueError(f"metadata: expected an item {{key, op, values?}}, got {clip(entry)}")
    key, op, values = entry.get("key"), entry.get("op"), entry.get("values")
    if not isinstance(key, str) or not key:
        raise ValueError(f"metadata: item key must be a non-empty string, got {clip(key)}")
    if op not in ("eq", "neq"):
        raise ValueError(f"metadata: item op must be 'eq' or 'neq', got {clip(op)}")
    if values is not None and (not isinstance(values, list)
                               or not all(isinstance(v, str) for v in values)):
        raise ValueError(f"metadata: item values must be an array of strings, got {clip(values)}")
    # The client documents an empty values array as "every value of the key", like no values.
    return MetaItem(key, op, frozenset(values) if values else None)


def _item_match(metadata: Mapping[str, Any], item: MetaItem, neq_loose: bool) -> bool:
    present = item.key in metadata
    # Metadata values are strings; any other value (even an unhashable one) is never listed.
    value = metadata.get(item.key)
    listed = item.values is not None and isinstance(value, str) and value in item.values
    if item.op == "eq":
        return present and (item.values is None or listed)
    if item.values is None:
        return not present
    return (not present or not listed) if neq_loose else (present and not listed)


def _match(
    sample: Sample, query: MetaQuery, neq_loose: bool, or_extra: bool, nometa_anded: bool,
    bare_only_flag: bool = False,
) -> bool:
    found = sample.get("metadata")
    metadata: Mapping[str, Any] = found if is_mapping(found) else {}
    empty = not metadata
    # bare_only_flag: "To include samples without any metadata, use { no_metadata: true }" read
    # as: a sample without metadata matches no key item, only no_metadata.
    hits = ([False] * len(query.items) if empty and bare_only_flag
            else [_item_match(metadata, item, neq_loose) for item in query.items])
    if query.combinator == "and":
        if query.no_metadata and nometa_anded:
            return empty and all(hits)
        return (bool(hits) and all(hits)) or (query.no_metadata and empty)
    named = {item.key for item in query.items}
    return (any(hits) or (query.no_metadata and empty)
            or (or_extra and any(k not in named for k in metadata)))


def metadata_readings(value: str) -> tuple[NamedPredicate, ...]:
    """One named predicate per combination of the ambiguities this query exercises."""
    query = parse_metadata(value)
    dimensions: list[tuple[str, tuple[str, str]]] = []  # (flag, (name when off, name when on))
    if any(i.op == "neq" and i.values is not None for i in query.items):
        dimensions.append(("neq_loose", ("neq: key present and value not listed",
                                         "neq: key absent or value not listed")))
    if query.combinator == "or":
        # The client's text: "samples with metadata keys not present in the filters are included".
        dimensions.append(("or_extra", ("or: matching items only",
                                        "or: also samples with a metadata key no item names")))
    if any(i.op == "neq" for i in query.items):
        # A neq item can match a sample without metadata (claims row reading.metadata-bare).
        dimensions.append(("bare_only", ("bare samples: matched by items like any sample",
                                         "bare samples: only with no_metadata")))
    if query.combinator == "and" and query.no_metadata and query.items:
        dimensions.append(("nometa_anded", ("no_metadata: ORed with the ANDed items",
                                            "no_metadata: ANDed with the items")))
    readings: list[NamedPredicate] = []
    for switches in product((False, True), repeat=len(dimensions)):
        on = {flag for (flag, _), switch in zip(dimensions, switches, strict=True) if switch}
        name = "; ".join(names[switch] for (_, names), switch
                         in zip(dimensions, switches, strict=True)) or "documented"
        readings.append((name, partial(
            _match, query=query, neq_loose="neq_loose" in on, or_extra="or_extra" in on,
            nometa_anded="nometa_anded" in on, bare_only_flag="bare_only" in on)))
    return tuple(readings)
