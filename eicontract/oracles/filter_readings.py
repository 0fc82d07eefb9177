"""What a filter of the classify result page means: its wire value parsed, and its READINGS.

Each filter is a set of readings: named predicates over a sample (the ``sample`` object of a
ModelResult). Where the documents are explicit there is one reading; where they are ambiguous
there are several (the metadata filter's: eicontract.oracles.filter_metadata). Also here: a
listing as id -> sample, and what a filter's readings select of it. The checks that judge a
server's answer with these are in eicontract.oracles.filters. Pure: no I/O.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from eicontract.oracles._common import (
    as_number,
    clip,
    is_int,
    is_mapping,
    is_number,
    parse_instant,
    result_sample_id,
    strict_json,
)
from eicontract.oracles.filter_metadata import metadata_readings

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
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
# check_filter and the filter values (see paging.slim_page), and the two the job tests choose
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
# The bounds by wire type (an integer, a number, a date-time).
INTEGER_BOUNDS = ("minLength", "maxLength", "minId", "maxId")
NUMBER_BOUNDS = ("minFrequency", "maxFrequency", "minLabel", "maxLabel")
DATE_BOUNDS = ("minDate", "maxDate")


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



def _parse_string_list(wire_name: str, value: str) -> list[str]:
    parsed = strict_json(wire_name, value)
    if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
        raise ValueError(f"{wire_name}: expected a JSON array of strings, got {clip(value)}")
    if not parsed:
        # The documents do not say whether [] filters out everything or nothing.
        raise ValueError(f"{wire_name}: an empty list has no documented meaning")
    return parsed


# --- sample fields ------------------------------------------------------------------------

def number_field(field: str) -> Callable[[Sample], float | None]:
    return lambda sample: as_number(sample.get(field))


def numeric_label(sample: Sample) -> float | None:
    """A label read as a number (regression); a non-numeric label has no value."""
    label = sample.get("label")
    if is_number(label):
        return float(label)
    if isinstance(label, str) and _NUMBER.fullmatch(label) and math.isfinite(float(label)):
        return float(label)
    return None


def sample_id(sample: Sample) -> float | None:
    found = sample.get("id")
    return float(found) if is_int(found) else None


def added(sample: Sample) -> datetime | None:
    return parse_instant(sample.get("added"))


def text_field(sample: Sample, field: str) -> str:
    found = sample.get(field)
    return found if isinstance(found, str) else ""


# What each bound compares, by wire name.
BOUND_FIELDS: dict[str, Callable[[Sample], Any]] = {
    "minLength": number_field("totalLengthMs"), "maxLength": number_field("totalLengthMs"),
    "minId": sample_id, "maxId": sample_id,
    "minFrequency": number_field("frequency"), "maxFrequency": number_field("frequency"),
    "minLabel": numeric_label, "maxLabel": numeric_label,
    "minDate": added, "maxDate": added,
}


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
        Reading("case-sensitive substring", lambda s: value in text_field(s, "filename")),
        Reading("case-insensitive substring",
                lambda s: folded in text_field(s, "filename").casefold()),
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
        name, ident = norm(text_field(sample, "filename")), str(sample.get("id"))
        return all(norm(t) == ident or norm(t) in name for t in value.split())

    def whole_query(sample: Sample, fold: bool) -> bool:
        norm, whole = _same(fold), value.strip()
        return whole == str(sample.get("id")) or norm(whole) in norm(text_field(sample, "filename"))

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



# --- parse_filter -------------------------------------------------------------------------

# "longer than" and the like leave strict or inclusive open (reading.range-bounds); the id and
# label bounds are documented exactly. Each bound's operators, and the field its evidence shows.
_BOUND_OPS: dict[str, tuple[str, ...]] = {
    "minLength": (">", ">="), "maxLength": ("<", "<="), "minFrequency": (">", ">="),
    "maxFrequency": ("<", "<="), "minDate": (">", ">="), "maxDate": ("<", "<="),
    "minId": (">=",), "maxId": ("<",), "minLabel": (">=",), "maxLabel": ("<",),
}
_BOUND_SHOWN = {"Length": "totalLengthMs", "Frequency": "frequency", "Date": "added", "Id": "id",
                "Label": "label"}


def _parse_bound(wire_name: str, value: str) -> Any:
    if wire_name in INTEGER_BOUNDS:
        return _parse_integer(wire_name, value)
    if wire_name in DATE_BOUNDS:
        return _parse_date(wire_name, value)
    return _parse_number(wire_name, value)


def _readings_for(wire_name: str, value: str) -> tuple[tuple[Reading, ...], tuple[str, ...]]:
    """The readings of one filter and the fields they look at; ValueError when unknown."""
    if wire_name in BOUND_FIELDS:
        bound = _parse_bound(wire_name, value)
        return (_bound_readings(BOUND_FIELDS[wire_name], bound, _BOUND_OPS[wire_name]),
                (_BOUND_SHOWN[wire_name[3:]],))
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
        named = metadata_readings(value)
        return tuple(Reading(name, predicate) for name, predicate in named), ("metadata",)
    raise ValueError(f"unknown filter {wire_name!r}; filters are {', '.join(FILTER_NAMES)}")


def parse_filter(wire_name: str, value: str) -> ParsedFilter:
    """A filter's readings; a clear ValueError for a value the oracle cannot evaluate."""
    if not isinstance(value, str):
        raise ValueError(f"{wire_name}: a wire value is a string, got {type(value).__name__}")
    readings, fields = _readings_for(wire_name, value)
    return ParsedFilter(wire_name, value, readings, fields)


# --- ids and samples ----------------------------------------------------------------------

def sample_of(item: object) -> Sample | None:
    """A sample object, from a sample or from a ModelResult ({sampleId, sample, ...})."""
    if not is_mapping(item):
        return None
    inner = item.get("sample")
    return inner if is_mapping(inner) else item


def _id_of(item: object) -> int | None:
    return result_sample_id(item)  # the one id rule (oracles/_common.py)


def ids_of(items: Iterable[object]) -> list[int]:
    """Sample ids from ids, samples or ModelResults; items without an id are skipped."""
    return [i for i in map(_id_of, items) if i is not None]


def index_samples(items: Iterable[object]) -> dict[int, Sample]:
    """id -> sample, from samples or ModelResults (the first of a repeated id wins)."""
    index: dict[int, Sample] = {}
    for item in items:
        sample, ident = sample_of(item), _id_of(item)
        if sample is not None and ident is not None:
            index.setdefault(ident, sample)
    return index


# --- what a filter selects of a listing --------------------------------------------------------

def matching(by_id: Mapping[int, Sample], f: ParsedFilter) -> list[frozenset[int]]:
    """The ids each reading of ``f`` selects, one pass per reading (a shared key once)."""
    key = f.readings[0].key
    if key is None or any(r.key is not key or r.test is None for r in f.readings):
        return [frozenset(i for i, sample in by_id.items() if r.predicate(sample))
                for r in f.readings]
    keyed = [(i, k) for i, k in zip(by_id, map(key, by_id.values()), strict=True) if k is not None]
    return [frozenset(i for i, k in keyed if r.test(k)) for r in f.readings if r.test is not None]


def selects(by_id: Mapping[int, Sample], wire_name: str, value: str) -> tuple[int, int]:
    """How many samples every reading of the filter selects, and how many some reading does."""
    sets = matching(by_id, parse_filter(wire_name, value))
    return len(frozenset.intersection(*sets)), len(frozenset().union(*sets))


def selection(by_id: Mapping[int, Sample], wire_name: str, value: str) -> frozenset[int]:
    """The ids every reading of the filter selects."""
    return frozenset.intersection(*matching(by_id, parse_filter(wire_name, value)))
