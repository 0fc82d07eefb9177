"""Filters of the classify result page, judged against the unfiltered listing.

Each filter is a set of READINGS: named predicates over a sample (the ``sample`` object of a
ModelResult). Where the documents are explicit there is one reading; where they are
ambiguous there are several. Given the unfiltered listing and the server's filtered answer:

- FILTER-SOUND: every returned sample satisfies the UNION of the readings (and is a sample
  of the unfiltered listing);
- FILTER-COMPLETE: every sample satisfying the INTERSECTION of the readings is returned;
- an Observation per ambiguous filter names the readings that reproduce the answer exactly.

Several filters in one query are ANDed. Each reading is evaluated in one pass over the
listing, and answers are compared as sets of ids, so a check is O(n) in the listing.
"""

from __future__ import annotations

import heapq
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from itertools import pairwise, product
from typing import Any, Literal, TypeGuard

from eicontract.oracles._common import (
    MAX_EXAMPLES,
    Findings,
    as_number,
    clip,
    format_instant,
    get_path,
    is_int,
    is_number,
    parse_instant,
    result_sample_id,
)
from eicontract.oracles.envelope import check_failure, check_not_a_key_refusal
from eicontract.violations import Observation, Violation

# The claims rows (contract/data/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "reading.metadata-bare",
    "reading.data-type",
    "reading.metadata-neq-absent",
    "reading.metadata-or-extra",
    "reading.metadata-nometa-anded",
    "reading.range-bounds",
    "reading.filename-case",
    "reading.search-case",
    "reading.search-tokens",
    "reading.labels-multi",
    "reading.labels-case",
)

Sample = Mapping[str, Any]
Predicate = Callable[[Sample], bool]

# The sample fields the readings and the evidence look at: all a listing needs to keep for
# check_filter and candidate_values (see paging.slim_page), and the two the job tests choose
# samples by (suite/test_jobs.processing_failed).
SAMPLE_FIELDS = (
    "id", "filename", "totalLengthMs", "frequency", "signatureValidate", "label",
    "structuredLabelsList", "chartType", "metadata", "added", "processingError", "isProcessing",
)
FILTER_NAMES = (
    "labels", "filename", "minLength", "maxLength", "minFrequency", "maxFrequency",
    "signatureValidity", "minLabel", "maxLabel", "search", "dataType", "minId", "maxId",
    "metadata", "minDate", "maxDate",
)
# Beyond this many reading combinations the observation gives up (it never fails the gate).
MAX_COMBINATIONS = 256
NO_SUCH = "zz-no-such-value"


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read a filter: a name for reports and a predicate over a sample.

    A bound reading also gives its parts: predicate(s) == test(key(s)). The readings of one
    filter share `key`, so a check computes it (e.g. parses a date) once per sample."""

    name: str
    predicate: Predicate
    key: Callable[[Sample], Any] | None = None
    test: Callable[[Any], bool] | None = None


@dataclass(frozen=True, slots=True)
class ParsedFilter:
    """A filter as sent on the wire, with its readings and the sample fields it looks at."""

    wire_name: str
    value: str
    readings: tuple[Reading, ...]
    fields: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.readings) > 1

    @property
    def topic(self) -> str:
        return f"filter:{self.wire_name}"


# --- wire values --------------------------------------------------------------------------

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")


def _parse_number(wire_name: str, value: str) -> float:
    if not _NUMBER.fullmatch(value) or not math.isfinite(float(value)):
        raise ValueError(f"{wire_name}: expected a finite number, got {value!r}")
    return float(value)


def _parse_integer(wire_name: str, value: str) -> int:
    if not _INTEGER.fullmatch(value):
        raise ValueError(f"{wire_name}: expected an integer, got {value!r}")
    return int(value)


def _parse_date(wire_name: str, value: str) -> datetime:
    instant = parse_instant(value)
    # A date-time without an offset would be read in the server's zone: we cannot evaluate it.
    if instant is None or datetime.fromisoformat(value).tzinfo is None:
        raise ValueError(f"{wire_name}: expected an ISO-8601 date-time with 'Z' or an offset, "
                         f"got {value!r}")
    return instant


def _strict_json(wire_name: str, value: str) -> Any:
    """JSON that rejects duplicate keys and NaN/Infinity: their meaning is not defined."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{wire_name}: duplicate keys in a JSON object: {sorted(keys)}")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        raise ValueError(f"{wire_name}: {name} is not JSON")

    try:
        return json.loads(value, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as error:
        raise ValueError(f"{wire_name}: not valid JSON ({error.msg} at {error.pos})") from None


def _parse_string_list(wire_name: str, value: str) -> list[str]:
    parsed = _strict_json(wire_name, value)
    if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
        raise ValueError(f"{wire_name}: expected a JSON array of strings, got {clip(value)}")
    if not parsed:
        # The documents do not say whether [] filters out everything or nothing.
        raise ValueError(f"{wire_name}: an empty list has no documented meaning")
    return parsed


# --- sample fields ------------------------------------------------------------------------

def _number_field(field: str) -> Callable[[Sample], float | None]:
    return lambda sample: as_number(sample.get(field))


def _numeric_label(sample: Sample) -> float | None:
    """A label read as a number (regression); a non-numeric label has no value."""
    label = sample.get("label")
    if is_number(label):
        return float(label)
    if isinstance(label, str) and _NUMBER.fullmatch(label) and math.isfinite(float(label)):
        return float(label)
    return None


def _sample_id(sample: Sample) -> float | None:
    found = sample.get("id")
    return float(found) if is_int(found) else None


def _added(sample: Sample) -> datetime | None:
    return parse_instant(sample.get("added"))


def _text(sample: Sample, field: str) -> str:
    found = sample.get(field)
    return found if isinstance(found, str) else ""


# --- readings -----------------------------------------------------------------------------

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


def _compare(sample: Sample, get: Callable[[Sample], Any], op: str, bound: Any) -> bool:
    seen = get(sample)
    return seen is not None and _OPERATORS[op](seen, bound)


def _bounded(seen: Any, op: str, bound: Any) -> bool:
    return seen is not None and _OPERATORS[op](seen, bound)


def _bound_readings(
    get: Callable[[Sample], Any], bound: Any, ops: Sequence[str]
) -> tuple[Reading, ...]:
    """One reading per operator: ('>', '>=') for "longer than", ('>=',) when explicit."""
    names = {">": "strict (>)", ">=": "inclusive (>=)", "<": "strict (<)", "<=": "inclusive (<=)"}
    return tuple(Reading(names[op] if len(ops) > 1 else f"documented ({op})",
                         partial(_compare, get=get, op=op, bound=bound),
                         key=get, test=partial(_bounded, op=op, bound=bound)) for op in ops)


def _filename_readings(value: str) -> tuple[Reading, ...]:
    folded = value.casefold()
    return (
        Reading("case-sensitive substring", lambda s: value in _text(s, "filename")),
        Reading("case-insensitive substring",
                lambda s: folded in _text(s, "filename").casefold()),
    )


def _same(fold: bool) -> Callable[[str], str]:
    return str.casefold if fold else str


def _labels_readings(wanted: frozenset[str]) -> tuple[Reading, ...]:
    """Whether a multi-label sample's other labels count, and case folding (reading.labels-case):
    neither is documented."""
    def single(sample: Sample, fold: bool) -> bool:
        label, norm = sample.get("label"), _same(fold)
        return isinstance(label, str) and norm(label) in {norm(w) for w in wanted}

    def multi(sample: Sample, fold: bool) -> bool:
        others, norm = sample.get("structuredLabelsList"), _same(fold)
        extra = others if isinstance(others, list) else []
        folded = {norm(w) for w in wanted}
        return single(sample, fold) or any(isinstance(x, str) and norm(x) in folded for x in extra)

    return (Reading("label in list", partial(single, fold=False)),
            Reading("label or any structuredLabelsList entry in list", partial(multi, fold=False)),
            Reading("label in list (case-insensitive)", partial(single, fold=True)),
            Reading("label or any structuredLabelsList entry in list (case-insensitive)",
                    partial(multi, fold=True)))


def _search_readings(value: str) -> tuple[Reading, ...]:
    """Tokens or the whole query, and case folding (reading.search-case): neither is documented
    ("search query, <id> <name>")."""
    def every_token(sample: Sample, fold: bool) -> bool:
        norm = _same(fold)
        name, ident = norm(_text(sample, "filename")), str(sample.get("id"))
        return all(norm(t) == ident or norm(t) in name for t in value.split())

    def whole_query(sample: Sample, fold: bool) -> bool:
        norm, whole = _same(fold), value.strip()
        return whole == str(sample.get("id")) or norm(whole) in norm(_text(sample, "filename"))

    return (Reading("every token is the id or in the filename (case-insensitive)",
                    partial(every_token, fold=True)),
            Reading("whole query is the id or in the filename (case-insensitive)",
                    partial(whole_query, fold=True)),
            Reading("every token is the id or in the filename (case-sensitive)",
                    partial(every_token, fold=False)),
            Reading("whole query is the id or in the filename (case-sensitive)",
                    partial(whole_query, fold=False)))


def _signature_reading(value: str) -> tuple[Reading, ...]:
    # An absent signatureValidate counts as not valid: a sample is valid only when it says so.
    predicates: dict[str, Predicate] = {
        "both": lambda s: True,
        "valid": lambda s: s.get("signatureValidate") is True,
        "invalid": lambda s: s.get("signatureValidate") is not True,
    }
    if value not in predicates:
        raise ValueError(f"signatureValidity: expected both, valid or invalid, got {value!r}")
    return (Reading(f"documented ({value})", predicates[value]),)


# --- metadata -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _MetaItem:
    key: str
    op: Literal["eq", "neq"]
    values: frozenset[str] | None  # None: every value of the key


@dataclass(frozen=True, slots=True)
class _MetaQuery:
    items: tuple[_MetaItem, ...]
    no_metadata: bool
    combinator: Literal["and", "or"] | None  # None: the default, logical OR


def _parse_metadata(value: str) -> _MetaQuery:
    parsed = _strict_json("metadata", value)
    if not isinstance(parsed, list):
        raise ValueError(f"metadata: expected a JSON array, got {clip(value)}")
    items: list[_MetaItem] = []
    options: dict[str, Any] = {}
    for entry in parsed:
        if isinstance(entry, dict) and len(entry) == 1 and next(iter(entry)) in (
                "no_metadata", "filters_combinator"):
            (name, option), = entry.items()
            if name in options:
                raise ValueError(f"metadata: option {name} given twice")
            options[name] = option
        else:
            items.append(_parse_meta_item(entry))
    return _meta_query(items, options)


def _meta_query(items: list[_MetaItem], options: Mapping[str, Any]) -> _MetaQuery:
    no_metadata = options.get("no_metadata", False)
    combinator = options.get("filters_combinator")
    if not isinstance(no_metadata, bool):
        raise ValueError(f"metadata: no_metadata must be a boolean, got {clip(no_metadata)}")
    if combinator not in (None, "and", "or"):
        raise ValueError(f"metadata: filters_combinator must be 'and' or 'or', got "
                         f"{clip(combinator)}")
    if not items and not no_metadata:
        raise ValueError("metadata: no filter item: an empty filter has no documented meaning")
    return _MetaQuery(tuple(items), no_metadata, combinator)


def _parse_meta_item(entry: object) -> _MetaItem:
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
    return _MetaItem(key, op, frozenset(values) if values else None)


def _meta_item_match(metadata: Mapping[str, Any], item: _MetaItem, neq_loose: bool) -> bool:
    present = item.key in metadata
    # Metadata values are strings; any other value (even an unhashable one) is never listed.
    value = metadata.get(item.key)
    listed = item.values is not None and isinstance(value, str) and value in item.values
    if item.op == "eq":
        return present and (item.values is None or listed)
    if item.values is None:
        return not present
    return (not present or not listed) if neq_loose else (present and not listed)


def _meta_match(
    sample: Sample, query: _MetaQuery, neq_loose: bool, or_extra: bool, nometa_anded: bool,
    bare_only_flag: bool = False,
) -> bool:
    found = sample.get("metadata")
    metadata: Mapping[str, Any] = found if _is_mapping(found) else {}
    empty = not metadata
    # bare_only_flag: "To include samples without any metadata, use { no_metadata: true }" read
    # as: a sample without metadata matches no key item, only no_metadata.
    hits = ([False] * len(query.items) if empty and bare_only_flag
            else [_meta_item_match(metadata, item, neq_loose) for item in query.items])
    if query.combinator == "and":
        if query.no_metadata and nometa_anded:
            return empty and all(hits)
        return (bool(hits) and all(hits)) or (query.no_metadata and empty)
    named = {item.key for item in query.items}
    return (any(hits) or (query.no_metadata and empty)
            or (or_extra and any(k not in named for k in metadata)))


def _metadata_readings(query: _MetaQuery) -> tuple[Reading, ...]:
    """One reading per combination of the ambiguities this query exercises."""
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
    readings = []
    for switches in product((False, True), repeat=len(dimensions)):
        on = {flag for (flag, _), switch in zip(dimensions, switches, strict=True) if switch}
        name = "; ".join(names[switch] for (_, names), switch
                         in zip(dimensions, switches, strict=True)) or "documented"
        readings.append(Reading(name, partial(
            _meta_match, query=query, neq_loose="neq_loose" in on, or_extra="or_extra" in on,
            nometa_anded="nometa_anded" in on, bare_only_flag="bare_only" in on)))
    return tuple(readings)


# --- parse_filter -------------------------------------------------------------------------

def _ops(strict: str) -> tuple[str, str]:
    return (strict, strict + "=")


def _readings_for(wire_name: str, value: str) -> tuple[tuple[Reading, ...], tuple[str, ...]]:
    """The readings of one filter and the fields they look at; ValueError when unknown."""
    if wire_name in ("minLength", "maxLength"):
        bound = _parse_integer(wire_name, value)
        return (_bound_readings(_number_field("totalLengthMs"), bound,
                                _ops(">" if wire_name == "minLength" else "<")), ("totalLengthMs",))
    if wire_name in ("minFrequency", "maxFrequency"):
        number = _parse_number(wire_name, value)
        return (_bound_readings(_number_field("frequency"), number,
                                _ops(">" if wire_name == "minFrequency" else "<")), ("frequency",))
    if wire_name in ("minDate", "maxDate"):
        instant = _parse_date(wire_name, value)
        return (_bound_readings(_added, instant, _ops(">" if wire_name == "minDate" else "<")),
                ("added",))
    if wire_name in ("minId", "maxId"):
        ident = _parse_integer(wire_name, value)
        return (_bound_readings(_sample_id, ident, (">=" if wire_name == "minId" else "<",)),
                ("id",))
    if wire_name in ("minLabel", "maxLabel"):
        number = _parse_number(wire_name, value)
        return (_bound_readings(_numeric_label, number,
                                (">=" if wire_name == "minLabel" else "<",)), ("label",))
    return _text_readings_for(wire_name, value)


def _text_readings_for(wire_name: str, value: str) -> tuple[tuple[Reading, ...], tuple[str, ...]]:
    if wire_name == "filename":
        return _filename_readings(value), ("filename",)
    if wire_name == "labels":
        wanted = frozenset(_parse_string_list(wire_name, value))
        return _labels_readings(wanted), ("label", "structuredLabelsList")
    if wire_name == "search":
        return _search_readings(value), ("id", "filename")
    if wire_name == "dataType":
        # Our reading: the data type is the sample's chartType.
        return (Reading("chartType equals", lambda s: s.get("chartType") == value),), ("chartType",)
    if wire_name == "signatureValidity":
        return _signature_reading(value), ("signatureValidate",)
    if wire_name == "metadata":
        return _metadata_readings(_parse_metadata(value)), ("metadata",)
    raise ValueError(f"unknown filter {wire_name!r}; filters are {', '.join(FILTER_NAMES)}")


def parse_filter(wire_name: str, value: str) -> ParsedFilter:
    """A filter's readings; a clear ValueError for a value the oracle cannot evaluate."""
    if not isinstance(value, str):
        raise ValueError(f"{wire_name}: a wire value is a string, got {type(value).__name__}")
    readings, fields = _readings_for(wire_name, value)
    return ParsedFilter(wire_name, value, readings, fields)


# --- ids and samples ----------------------------------------------------------------------

def _is_mapping(value: object) -> TypeGuard[Sample]:
    # dict first: decoded JSON is dicts, and the Mapping ABC check is slow on 100k samples.
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


def _sample_of(item: object) -> Sample | None:
    """A sample object, from a sample or from a ModelResult ({sampleId, sample, ...})."""
    if not _is_mapping(item):
        return None
    inner = item.get("sample")
    return inner if _is_mapping(inner) else item


def _id_of(item: object) -> int | None:
    return result_sample_id(item)  # the one id rule (oracles/_common.py)


def ids_of(items: Iterable[object]) -> list[int]:
    """Sample ids from ids, samples or ModelResults; items without an id are skipped."""
    return [i for i in map(_id_of, items) if i is not None]


def index_samples(items: Iterable[object]) -> dict[int, Sample]:
    """id -> sample, from samples or ModelResults (the first of a repeated id wins)."""
    index: dict[int, Sample] = {}
    for item in items:
        sample, ident = _sample_of(item), _id_of(item)
        if sample is not None and ident is not None:
            index.setdefault(ident, sample)
    return index


# --- soundness, completeness, observations -------------------------------------------------

def _query_text(filters: Mapping[str, str], limit: int = 160) -> str:
    text = " & ".join(f"{k}={v}" for k, v in filters.items()) or "(no filter)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _evidence(by_id: Mapping[int, Sample], ids: Iterable[int], fields: Iterable[str]) -> list[Any]:
    chosen = heapq.nsmallest(MAX_EXAMPLES, ids)
    wanted = tuple(dict.fromkeys(fields))
    return [{"id": i, **{f: _short(by_id[i].get(f)) for f in wanted if f != "id"}}
            for i in chosen]


def _short(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= 60:
        return value
    return clip(value, 60)


def _matching(by_id: Mapping[int, Sample], f: ParsedFilter) -> list[frozenset[int]]:
    """The ids each reading of ``f`` selects, one pass per reading (a shared key once)."""
    key = f.readings[0].key
    if key is None or any(r.key is not key or r.test is None for r in f.readings):
        return [frozenset(i for i, sample in by_id.items() if r.predicate(sample))
                for r in f.readings]
    keyed = [(i, k) for i, k in zip(by_id, map(key, by_id.values()), strict=True) if k is not None]
    return [frozenset(i for i, k in keyed if r.test(k)) for r in f.readings if r.test is not None]


def check_filter(
    unfiltered: Sequence[object] | Mapping[int, Sample], returned: Sequence[object],
    filters: Mapping[str, str],
) -> Findings:
    """Judge one filtered listing (``returned``) against the unfiltered listing.

    ``unfiltered`` holds samples or ModelResults, or is index_samples() of them (build it
    once when checking many filters against one listing); ``returned`` holds samples,
    ModelResults or ids. ``filters`` maps wire names to wire values, all of them filters.
    Read the two listings with the same non-filter parameters (category, impulseId). Raises
    ValueError for a filter the oracle cannot evaluate (see parse_filter)."""
    by_id = unfiltered if isinstance(unfiltered, Mapping) else index_samples(unfiltered)
    if DATA_TYPE in filters:
        return _check_data_type(by_id, returned, filters)
    return _check_readings(by_id, returned, filters)


# --- dataType (docs/CLAIMS.md page.param.dataType) -----------------------------------------
# The seed says only "a particular data type": the sample's chartType is one reading, a data type
# the reply does not show (e.g. read from the sensors) another. Every reading agrees that the
# answer satisfies the other filters, and that a sample has one data type (check_data_types);
# which reading reproduces the answer is observed, and completeness is not judged.
DATA_TYPE = "dataType"
DATA_TYPE_SHOWN = "chartType equals"
DATA_TYPE_HIDDEN = "a data type the reply does not show"


def _check_data_type(by_id: Mapping[int, Sample], returned: Sequence[object],
                     filters: Mapping[str, str]) -> Findings:
    others = {k: v for k, v in filters.items() if k != DATA_TYPE}
    found = _check_readings(by_id, returned, others)
    shown = not _check_readings(by_id, returned, filters).violations
    reading = Observation(f"filter:{DATA_TYPE}", DATA_TYPE_SHOWN if shown else DATA_TYPE_HIDDEN,
                          f"{DATA_TYPE}={filters[DATA_TYPE]}")
    return Findings([v for v in found.violations if v.clause != "FILTER-COMPLETE"],
                    [*found.observations, reading])


def check_data_types(answers: Mapping[str, Iterable[int]], where: str) -> list[Violation]:
    """FILTER-SOUND: the answers for different dataType values (the same other filters) share
    no sample: a sample has one data type, whichever field holds it (a server that ignores
    dataType answers every value with the same samples)."""
    seen: dict[int, str] = {}
    for value, ids in answers.items():
        for ident in ids:
            if ident in seen:
                return [Violation("FILTER-SOUND", f"{where}: sample {ident} was returned for "
                                  f"dataType={seen[ident]} and for dataType={value}: a sample has "
                                  f"one data type", {"sample": ident, "values": [seen[ident], value]})]
            seen[ident] = value
    return []


def _check_readings(by_id: Mapping[int, Sample], returned: Sequence[object],
                    filters: Mapping[str, str]) -> Findings:
    parsed = [parse_filter(name, value) for name, value in filters.items()]
    query = _query_text(filters)
    returned_ids = set(ids_of(returned))
    known = frozenset(returned_ids & by_id.keys())
    matches = {f.wire_name: _matching(by_id, f) for f in parsed}
    violations = _foreign_violations(returned, returned_ids - known, query)
    for f in parsed:
        violations += _soundness(f, matches[f.wire_name], known, by_id)
    violations += _completeness(parsed, matches, known, by_id, query)
    return Findings(violations, _observations(parsed, matches, known, by_id))


def _foreign_violations(returned: Sequence[object], foreign: set[int], query: str) -> list[Violation]:
    out = []
    anonymous = sum(1 for item in returned if _id_of(item) is None)
    if foreign:
        out.append(Violation("FILTER-SOUND", f"{query}: {len(foreign)} returned ids are not in the "
                             f"unfiltered listing, e.g. {min(foreign)}",
                             {"query": query, "ids": heapq.nsmallest(MAX_EXAMPLES, foreign)}))
    if anonymous:
        out.append(Violation("FILTER-SOUND", f"{query}: {anonymous} returned entries carry no "
                             f"sample id, so they cannot be shown to satisfy the filter",
                             {"query": query}))
    return out


def _soundness(
    f: ParsedFilter, sets: list[frozenset[int]], known: frozenset[int], by_id: Mapping[int, Sample]
) -> list[Violation]:
    bad = known - frozenset().union(*sets)
    if not bad:
        return []
    names = " / ".join(r.name for r in f.readings)
    shown = _evidence(by_id, bad, f.fields)
    return [Violation("FILTER-SOUND", f"{f.wire_name}={f.value}: {len(bad)} of {len(known)} "
                      f"returned samples satisfy no documented reading ({names}); e.g. "
                      f"{clip(shown[0])}", {"filter": f.wire_name, "value": f.value,
                                            "count": len(bad), "samples": shown})]


def _completeness(
    parsed: Sequence[ParsedFilter],
    matches: Mapping[str, list[frozenset[int]]],
    known: frozenset[int],
    by_id: Mapping[int, Sample],
    query: str,
) -> list[Violation]:
    required = set(by_id)
    for f in parsed:
        for ids in matches[f.wire_name]:
            required &= ids
    missing = required - known
    if not missing:
        return []
    fields = [field for f in parsed for field in f.fields]
    shown = _evidence(by_id, missing, fields)
    return [Violation("FILTER-COMPLETE", f"{query}: {len(missing)} samples satisfy every reading "
                      f"but were not returned ({len(known)} returned, {len(required)} required); "
                      f"e.g. {clip(shown[0])}",
                      {"query": query, "count": len(missing), "samples": shown})]


def _observations(
    parsed: Sequence[ParsedFilter],
    matches: Mapping[str, list[frozenset[int]]],
    known: frozenset[int],
    by_id: Mapping[int, Sample],
) -> list[Observation]:
    """For each ambiguous filter, the readings that take part in an exact reproduction."""
    ambiguous = [f for f in parsed if f.ambiguous]
    if not ambiguous:
        return []
    if math.prod(len(f.readings) for f in ambiguous) > MAX_COMBINATIONS:
        return [Observation(f.topic, "inconclusive", "too many reading combinations")
                for f in ambiguous]
    base = frozenset(by_id)
    for f in parsed:
        if not f.ambiguous:
            base &= matches[f.wire_name][0]
    exact: list[set[int]] = [set() for _ in ambiguous]
    for combination in product(*(range(len(f.readings)) for f in ambiguous)):
        answer = base
        for f, r in zip(ambiguous, combination, strict=True):
            answer &= matches[f.wire_name][r]
        if answer == known:
            for slot, r in zip(exact, combination, strict=True):
                slot.add(r)
    return [_observation(f, matches[f.wire_name], hits) for f, hits in
            zip(ambiguous, exact, strict=True)]


def _observation(f: ParsedFilter, sets: list[frozenset[int]], hits: set[int]) -> Observation:
    detail = f"{f.wire_name}={f.value}"
    if not hits:
        return Observation(f.topic, "none", f"{detail}: no documented reading reproduces the answer")
    if len(hits) == len(f.readings):
        why = ("the readings agree on this data" if all(s == sets[0] for s in sets)
               else "the readings differ only on samples the other filters exclude")
        return Observation(f.topic, "inconclusive", f"{detail}: {why}")
    return Observation(f.topic, " | ".join(f.readings[r].name for r in sorted(hits)), detail)


# --- composition, paging, malformed ---------------------------------------------------------

def check_composition(
    result_a: Iterable[object], result_b: Iterable[object], result_ab: Iterable[object]
) -> list[Violation]:
    """FILTER-COMPOSE: ids(A and B) == ids(A) & ids(B). Items are ids, samples or
    ModelResults of the three (complete) filtered listings."""
    a, b, ab = set(ids_of(result_a)), set(ids_of(result_b)), set(ids_of(result_ab))
    expected = a & b
    missing, extra = expected - ab, ab - expected
    if not missing and not extra:
        return []
    return [Violation("FILTER-COMPOSE", f"expected A and B to give the {len(expected)} samples in "
                      f"both A ({len(a)}) and B ({len(b)}); got {len(ab)}: {len(missing)} missing, "
                      f"{len(extra)} extra",
                      {"missing": heapq.nsmallest(MAX_EXAMPLES, missing),
                       "extra": heapq.nsmallest(MAX_EXAMPLES, extra)})]


def check_filter_paging(
    filtered_full_ids: Sequence[int], page_ids: Sequence[int], offset: int, limit: int
) -> list[Violation]:
    """FILTER-PAGING: a filtered page is filtered_full[offset:offset + limit], in the stable
    order of the full filtered listing."""
    expected = list(filtered_full_ids[offset:offset + limit])
    seen = list(page_ids)
    if seen == expected:
        return []
    at = next((i for i, (x, y) in enumerate(zip(expected, seen, strict=False)) if x != y),
              min(len(expected), len(seen)))
    return [Violation("FILTER-PAGING", f"filtered page limit={limit} offset={offset}: expected "
                      f"{len(expected)} ids (the filtered listing's slice), got {len(seen)}; first "
                      f"difference at position {at}",
                      {"offset": offset, "limit": limit, "expected": expected[at:at + MAX_EXAMPLES],
                       "seen": seen[at:at + MAX_EXAMPLES]})]


def check_malformed(
    body: object, status: int, unfiltered_count: int, *, limit: int | None = None,
    context: str = "malformed filter",
) -> list[Violation]:
    """FILTER-MALFORMED: a malformed filter is an error. A success that looks like the
    unfiltered listing (the filter silently ignored) is called out as such."""
    violations = check_failure(body, status, clause_id="FILTER-MALFORMED", context=context)
    violations += check_not_a_key_refusal(status, "FILTER-MALFORMED", context)
    if not any(v.clause == "FILTER-MALFORMED" for v in violations) or not _looks_unfiltered(
            body, unfiltered_count, limit):
        return violations
    return [v for v in violations if v.clause != "FILTER-MALFORMED"] + [
        Violation("FILTER-MALFORMED", f"{context}: expected an error, got the unfiltered listing "
                  f"(the filter was silently ignored; {unfiltered_count} samples unfiltered)",
                  {"status": status, "unfiltered_count": unfiltered_count})]


def check_unmatchable(body: object, status: int, context: str) -> list[Violation]:
    """A filter no sample can match whose reading the documents leave open (a metadata key that is
    not Unicode text, a lone surrogate): rejected with the failure envelope, or read as a filter
    that selects nothing. Never a 5xx (SCHEMA-NEGATIVE), never samples (FILTER-SOUND)."""
    if status >= 500:
        return [Violation("SCHEMA-NEGATIVE", f"{context}: HTTP {status}, never a 5xx", {"status": status})]
    if status >= 400 or get_path(body, "success") is False:
        return [v for v in check_failure(body, status, context=context) if v.clause != "SCHEMA-NEGATIVE"]
    result = get_path(body, "result")
    if isinstance(result, list) and result:
        return [Violation("FILTER-SOUND", f"{context}: no sample has this key, yet {len(result)} results",
                          {"status": status, "results": len(result)})]
    return []


def _looks_unfiltered(body: object, unfiltered_count: int, limit: int | None) -> bool:
    total = get_path(body, "totalCount")
    if is_int(total):
        return total == unfiltered_count
    result = get_path(body, "result")
    if not isinstance(result, list) or unfiltered_count == 0:
        return False
    return len(result) == (unfiltered_count if limit is None else min(limit, unfiltered_count))


# --- candidate values -----------------------------------------------------------------------

def _number_text(value: float) -> str:
    return str(int(value)) if abs(value) < 2**53 and float(value).is_integer() else repr(value)


def _neighbours(values: Iterable[float]) -> list[float]:
    """Each value, the midpoints between neighbours, and one below/above the ends."""
    ordered = sorted(set(values))
    if not ordered:
        return []
    mids = [a / 2 + b / 2 for a, b in pairwise(ordered)]  # halves first: no overflow
    return sorted(v for v in {*ordered, *mids, ordered[0] - 1, ordered[-1] + 1}
                  if math.isfinite(v))


def _integer_candidates(values: Iterable[float]) -> list[str]:
    out: set[int] = set()
    for value in values:
        low, high = math.floor(value), math.ceil(value)
        out.update((low - 1, low, high, high + 1))
    return [str(v) for v in sorted(v for v in out if v >= 0)]


def _numbers(samples: Iterable[Sample], get: Callable[[Sample], float | None]) -> list[float]:
    return [v for v in map(get, samples) if v is not None]


def _date_candidates(samples: Iterable[Sample]) -> list[str]:
    step = timedelta(milliseconds=1)
    instants = {i for i in map(_added, samples) if i is not None}
    return [format_instant(t) for t in sorted({t + d for t in instants for d in (-step, 0 * step,
                                                                                step)})]


def _filename_candidates(samples: Iterable[Sample]) -> list[str]:
    out: dict[str, None] = {}
    for name in sorted({_text(s, "filename") for s in samples} - {""}):
        half = name[: max(1, len(name) // 2)]
        for candidate in (name, name.swapcase(), half, half.swapcase(), name[-4:]):
            out[candidate] = None
    out[NO_SUCH] = None
    return list(out)


def _label_candidates(samples: Iterable[Sample]) -> list[str]:
    labels: set[str] = set()
    for sample in samples:
        label, others = sample.get("label"), sample.get("structuredLabelsList")
        labels.update(x for x in [label, *(others if isinstance(others, list) else [])]
                      if isinstance(x, str))
    ordered = sorted(labels)
    lists = [[x] for x in ordered] + [list(p) for p in pairwise(ordered)]
    lists += [ordered] if ordered else []
    return [json.dumps(x) for x in [*lists, [NO_SUCH]]]


def _search_candidates(samples: Iterable[Sample]) -> list[str]:
    out: dict[str, None] = {}
    for sample in samples:
        ident, name = sample.get("id"), _text(sample, "filename")
        for candidate in (str(ident), name, f"{ident} {name}", name.swapcase()):
            if candidate.strip():
                out[candidate] = None
    out[NO_SUCH] = None
    return list(out)


def _metadata_candidates(samples: Iterable[Sample]) -> list[str]:
    pairs: set[tuple[str, str]] = set()
    for sample in samples:
        found = sample.get("metadata")
        if isinstance(found, Mapping):
            pairs.update((k, v) for k, v in found.items() if isinstance(k, str) and k
                         and isinstance(v, str))
    filters: list[list[dict[str, Any]]] = [[{"no_metadata": True}]]
    for key in sorted({k for k, _ in pairs}):
        filters += [[{"key": key, "op": op}] for op in ("eq", "neq")]
    ordered = sorted(pairs)
    for key, value in ordered:
        filters += [[{"key": key, "op": op, "values": [value]}] for op in ("eq", "neq")]
    for (k1, v1), (k2, v2) in pairwise(ordered):
        items: list[dict[str, Any]] = [{"key": k1, "op": "eq", "values": [v1]},
                                       {"key": k2, "op": "neq", "values": [v2]}]
        filters += [items, [*items, {"filters_combinator": "and"}],
                    [*items, {"filters_combinator": "or"}],
                    [items[0], {"no_metadata": True}, {"filters_combinator": "and"}]]
    return [json.dumps(f) for f in filters]


def candidate_values(samples: Iterable[object], wire_name: str) -> list[str]:
    """Wire values for ``wire_name`` drawn from the data: every boundary present (each
    distinct length, frequency, id, date, label) and its neighbours just below and above,
    plus values that match nothing. Every value is accepted by parse_filter."""
    items = [s for s in map(_sample_of, samples) if s is not None]
    if wire_name in ("minLength", "maxLength"):
        return _integer_candidates(_numbers(items, _number_field("totalLengthMs"))) or ["0"]
    if wire_name in ("minId", "maxId"):
        return _integer_candidates(_numbers(items, _sample_id)) or ["0"]
    if wire_name in ("minFrequency", "maxFrequency"):
        found = _neighbours(_numbers(items, _number_field("frequency")))
        return [_number_text(v) for v in found] or ["0"]
    if wire_name in ("minLabel", "maxLabel"):
        return [_number_text(v) for v in _neighbours(_numbers(items, _numeric_label))] or ["0"]
    if wire_name in ("minDate", "maxDate"):
        return _date_candidates(items) or ["2000-01-01T00:00:00.000Z"]
    simple: dict[str, Callable[[list[Sample]], list[str]]] = {
        "filename": _filename_candidates,
        "labels": _label_candidates,
        "search": _search_candidates,
        "metadata": _metadata_candidates,
        "dataType": lambda xs: [*sorted({_text(s, "chartType") for s in xs} - {""}), NO_SUCH],
        "signatureValidity": lambda xs: ["both", "valid", "invalid"],
    }
    if wire_name not in simple:
        raise ValueError(f"unknown filter {wire_name!r}; filters are {', '.join(FILTER_NAMES)}")
    return simple[wire_name](items)


# --- boundaries and selections (the bounded suite picks its values with these) ---------------

INTEGER_BOUNDS = ("minLength", "maxLength", "minId", "maxId")
NUMBER_BOUNDS = ("minFrequency", "maxFrequency", "minLabel", "maxLabel")
DATE_BOUNDS = ("minDate", "maxDate")
BOUND_FIELDS: dict[str, Callable[[Sample], Any]] = {
    "minLength": _number_field("totalLengthMs"), "maxLength": _number_field("totalLengthMs"),
    "minId": _sample_id, "maxId": _sample_id,
    "minFrequency": _number_field("frequency"), "maxFrequency": _number_field("frequency"),
    "minLabel": _numeric_label, "maxLabel": _numeric_label,
    "minDate": _added, "maxDate": _added,
}
# Other zones than the API's own 'Z': the same instant must select the same samples.
ZONES = (timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30)))


def data_values(samples: Iterable[object], wire_name: str) -> list[Any]:
    """The distinct values a bound filter compares, in order (numbers or instants)."""
    get = BOUND_FIELDS[wire_name]
    items = (s for s in map(_sample_of, samples) if s is not None)
    return sorted({v for v in map(get, items) if v is not None})


def boundary_values(ordered: Sequence[Any], at: int, wire_name: str) -> list[str]:
    """Wire values around the data value ordered[at]: the value itself, just below and just above
    it, and (numbers, dates) a value between it and its upper neighbour; dates also in other
    zones. Integer parameters get integers only."""
    value = ordered[at]
    upper = ordered[at + 1] if at + 1 < len(ordered) else None
    if wire_name in INTEGER_BOUNDS:
        whole = int(value)
        return [str(v) for v in dict.fromkeys((whole, whole - 1, whole + 1)) if v >= 0]
    if wire_name in DATE_BOUNDS:
        step = timedelta(milliseconds=1)
        out = [format_instant(value), format_instant(value - step), format_instant(value + step)]
        out += [_zoned(value, ZONES[0]), _zoned(value + step, ZONES[1])]
        if upper is not None and upper - value > 2 * step:
            out.append(format_instant(value + (upper - value) / 2))
        return list(dict.fromkeys(out))
    gap = (upper - value) if upper is not None else 1.0
    near = min(gap / 4, 0.5)
    candidates = [value, value - near, value + near] + ([value + gap / 2] if upper is not None else [])
    return list(dict.fromkeys(_number_text(v) for v in candidates if math.isfinite(v)))


def _zoned(instant: datetime, zone: timezone) -> str:
    return instant.astimezone(zone).isoformat(timespec="milliseconds")


def selects(by_id: Mapping[int, Sample], wire_name: str, value: str) -> tuple[int, int]:
    """How many samples every reading of the filter selects, and how many some reading does."""
    sets = _matching(by_id, parse_filter(wire_name, value))
    return len(frozenset.intersection(*sets)), len(frozenset().union(*sets))


def selection(by_id: Mapping[int, Sample], wire_name: str, value: str) -> frozenset[int]:
    """The ids every reading of the filter selects."""
    return frozenset.intersection(*_matching(by_id, parse_filter(wire_name, value)))


def check_partition(whole: Iterable[object], left: Iterable[object], right: Iterable[object],
                    split: int) -> list[Violation]:
    """FILTER-COMPOSE: an id window split at `split` (maxId=split on the left, minId=split on the
    right) gives two disjoint halves whose union is the window. Items: ids, samples or results."""
    w, a, b = set(ids_of(whole)), set(ids_of(left)), set(ids_of(right))
    out = []
    both = a & b
    if both:
        out.append(Violation("FILTER-COMPOSE", f"an id window split at {split}: {len(both)} samples in both "
                             f"halves (maxId={split} and minId={split}), e.g. {min(both)}",
                             {"split": split, "ids": heapq.nsmallest(MAX_EXAMPLES, both)}))
    missing, extra = w - (a | b), (a | b) - w
    if missing or extra:
        out.append(Violation("FILTER-COMPOSE", f"an id window split at {split}: the halves together give "
                             f"{len(a | b)} samples, the window {len(w)}: {len(missing)} missing, "
                             f"{len(extra)} extra", {"split": split,
                                                     "missing": heapq.nsmallest(MAX_EXAMPLES, missing),
                                                     "extra": heapq.nsmallest(MAX_EXAMPLES, extra)}))
    return out
