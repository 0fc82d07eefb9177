"""Filter values drawn from a listing's own samples, as hypothesis strategies that shrink.

`filter_values(samples, name)` draws wire values of one filter from the samples: for a bound, a
data value and its neighbours (just below and above it, between it and the next, a date in
other zones); for labels, a list of the samples' labels; for metadata, a list of items over the
samples' keys and values with an optional combinator or no_metadata; filename, search and
dataType from the samples' own names, ids and types. Each strategy shrinks toward the simplest
filter: one label, one metadata item without options, a data value itself. Where the samples
allow, the ingredients that split them (select some samples, not all) come first, so the
simplest value (hypothesis tries it first) is also one that shows the filter working.

`candidate_values` lists every value a (small) listing offers, for the benchmarks and the
robustness tests that want them all. Every value here is accepted by
eicontract.oracles.filter_readings.parse_filter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

from eicontract.oracles._common import format_instant
from eicontract.oracles.filter_readings import (
    BOUND_FIELDS,
    DATE_BOUNDS,
    FILTER_NAMES,
    INTEGER_BOUNDS,
    Sample,
    index_samples,
    sample_of,
    selects,
    text_field,
)
from eicontract.oracles.metadata_shapes import ABSENT, key_values

NO_SUCH = ABSENT  # a value no sample holds: a filter that must select nothing (the one spelling)
NO_METADATA = json.dumps([{"no_metadata": True}])
# Other zones than the API's own 'Z': the same instant must select the same samples.
ZONES = (timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30)))
DEFAULTS = {"minDate": "2000-01-01T00:00:00.000Z", "maxDate": "2000-01-01T00:00:00.000Z"}
MAX_LABELS = 3  # labels in one drawn list
MAX_ITEMS = 3  # metadata items in one drawn filter
RANK_WORK = 200_000  # ingredients x samples beyond which ingredients are not ranked (a pass each)


# --- the data a bound compares, and the values around one of them -------------------------------

def _samples(samples: Iterable[object]) -> list[Sample]:
    return [s for s in map(sample_of, samples) if s is not None]


def data_values(samples: Iterable[object], wire_name: str) -> list[Any]:
    """The distinct values a bound filter compares, in order (numbers or instants)."""
    get = BOUND_FIELDS[wire_name]
    return sorted({v for v in map(get, _samples(samples)) if v is not None})


def _number_text(value: float) -> str:
    return str(int(value)) if abs(value) < 2**53 and float(value).is_integer() else repr(value)


def _zoned(instant: datetime, zone: timezone) -> str:
    return instant.astimezone(zone).isoformat(timespec="milliseconds")


def boundary_values(ordered: Sequence[Any], at: int, wire_name: str) -> list[str]:
    """Wire values around the data value ordered[at], the value itself first: just below and just
    above it, and (numbers, dates) a value between it and its upper neighbour; dates also in other
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


# --- the ingredients of the other filters --------------------------------------------------------

def _labels(samples: Iterable[Sample]) -> list[str]:
    found: set[str] = set()
    for sample in samples:
        label, others = sample.get("label"), sample.get("structuredLabelsList")
        found.update(x for x in [label, *(others if isinstance(others, list) else [])] if isinstance(x, str))
    return sorted(found)


def _filename_variants(name: str) -> list[str]:
    half = name[: max(1, len(name) // 2)]
    return list(dict.fromkeys((name, name.swapcase(), half, half.swapcase(), name[-4:])))


def _search_variants(sample: Sample) -> list[str]:
    ident, name = sample.get("id"), text_field(sample, "filename")
    return [v for v in dict.fromkeys((str(ident), name, f"{ident} {name}", name.swapcase())) if v.strip()]


def _data_types(samples: Iterable[Sample]) -> list[str]:
    """dataType values: the samples' chart types, then one no sample holds."""
    return [*sorted({text_field(s, "chartType") for s in samples} - {""}), NO_SUCH]


def _item(key: str, op: str, values: list[str] | None) -> dict[str, Any]:
    return {"key": key, "op": op, **({"values": values} if values is not None else {})}


def _metadata_filter(items: list[dict[str, Any]], combinator: str | None, no_metadata: bool) -> str:
    options = [{"no_metadata": True}] * no_metadata + ([{"filters_combinator": combinator}] if combinator else [])
    return json.dumps([*items, *options])


# --- candidate values: every value, as a list ------------------------------------------------------

def _integer_candidates(values: Iterable[float]) -> list[str]:
    out: set[int] = set()
    for value in values:
        low, high = math.floor(value), math.ceil(value)
        out.update((low - 1, low, high, high + 1))
    return [str(v) for v in sorted(v for v in out if v >= 0)]


def _neighbours(values: Iterable[float]) -> list[float]:
    """Each value, the midpoints between neighbours, and one below/above the ends."""
    ordered = sorted(set(values))
    if not ordered:
        return []
    mids = [a / 2 + b / 2 for a, b in pairwise(ordered)]  # halves first: no overflow
    return sorted(v for v in {*ordered, *mids, ordered[0] - 1, ordered[-1] + 1} if math.isfinite(v))


def _bound_candidates(items: list[Sample], wire_name: str) -> list[str]:
    found = data_values(items, wire_name)
    if wire_name in INTEGER_BOUNDS:
        return _integer_candidates(found) or ["0"]
    if wire_name in DATE_BOUNDS:
        step = timedelta(milliseconds=1)
        return [format_instant(t) for t in sorted({t + d for t in found for d in (-step, 0 * step, step)})] \
            or [DEFAULTS[wire_name]]
    return [_number_text(v) for v in _neighbours(found)] or ["0"]


def _metadata_candidates(items: list[Sample]) -> list[str]:
    keys = key_values(items)
    out = [NO_METADATA]
    out += [_metadata_filter([_item(key, op, None)], None, False) for key in keys for op in ("eq", "neq")]
    pairs = [(key, value) for key, values in keys.items() for value in values]
    out += [_metadata_filter([_item(key, op, [value])], None, False) for key, value in pairs for op in ("eq", "neq")]
    for (k1, v1), (k2, v2) in pairwise(pairs):
        both = [_item(k1, "eq", [v1]), _item(k2, "neq", [v2])]
        out += [_metadata_filter(both, None, False), _metadata_filter(both, "and", False),
                _metadata_filter(both, "or", False), _metadata_filter(both[:1], "and", True)]
    return out


def candidate_values(samples: Iterable[object], wire_name: str) -> list[str]:
    """Every wire value for ``wire_name`` the data offers: each boundary present (each distinct
    length, frequency, id, date, label) and its neighbours just below and above, the labels alone,
    in pairs and all together, metadata in each shape, plus values that match nothing."""
    items = _samples(samples)
    if wire_name in BOUND_FIELDS:
        return _bound_candidates(items, wire_name)
    labels = _labels(items)
    lists = [[x] for x in labels] + [list(p) for p in pairwise(labels)] + ([labels] if labels else [])
    names = sorted({text_field(s, "filename") for s in items} - {""})
    listed: dict[str, Callable[[], list[str]]] = {
        "filename": lambda: [*dict.fromkeys(v for n in names for v in _filename_variants(n)), NO_SUCH],
        "labels": lambda: [json.dumps(x) for x in [*lists, [NO_SUCH]]],
        "search": lambda: [*dict.fromkeys(v for s in items for v in _search_variants(s)), NO_SUCH],
        "metadata": lambda: _metadata_candidates(items),
        "dataType": lambda: _data_types(items),
        "signatureValidity": lambda: ["both", "valid", "invalid"],
    }
    if wire_name not in listed:
        raise ValueError(f"unknown filter {wire_name!r}; filters are {', '.join(FILTER_NAMES)}")
    return listed[wire_name]()


# --- strategies: drawn values that shrink toward the simplest filter ------------------------------

def _splitting_first(by_id: Mapping[int, Sample], wire_name: str, values: Sequence[str],
                     wire: Callable[[str], str] = lambda v: v,
                     prefer: Callable[[str], bool] = lambda v: False) -> list[str]:
    """`values` (stable) with those whose filter, wire(value), splits the samples first: every
    reading selects some and none selects all; among those, the preferred ones first. Unranked
    (but for the preference) past RANK_WORK (a whole large listing)."""
    if not by_id or len(by_id) * len(values) > RANK_WORK:
        return sorted(values, key=lambda v: not prefer(v))

    def splits(value: str) -> bool:
        required, allowed = selects(by_id, wire_name, wire(value))
        return required > 0 and allowed < len(by_id)

    return sorted(values, key=lambda v: (not splits(v), not prefer(v)))


def _mixed_case(value: str) -> bool:
    """A text with upper- and lower-case letters: where a server folds the query, or the names,
    or neither, the answer shows it (an all-lower-case query matches alike whether or not the
    server lowers it). A sample's own mixed-case name is one every reading requires it to match."""
    return value != value.lower() and value != value.upper()


def _bound_values(items: list[Sample], by_id: Mapping[int, Sample], wire_name: str) -> st.SearchStrategy[str]:
    """One choice over every data value's boundary values: the middle data values first, each value
    itself before its neighbours, and those that split the samples before those that do not."""
    ordered = data_values(items, wire_name)
    if not ordered:
        return st.just(_bound_candidates(items, wire_name)[0])
    middle = (len(ordered) - 1) / 2
    ranked = sorted(range(len(ordered)), key=lambda i: (abs(i - middle), i))
    values = dict.fromkeys(v for at in ranked for v in boundary_values(ordered, at, wire_name))
    return st.sampled_from(_splitting_first(by_id, wire_name, list(values)))


def _label_lists(items: list[Sample], by_id: Mapping[int, Sample]) -> st.SearchStrategy[str]:
    labels = [*_splitting_first(by_id, "labels", _labels(items), wire=lambda x: json.dumps([x])), NO_SUCH]
    # a plain list, repeats dropped (hypothesis shrinks a plain list more reliably than a unique one)
    return st.lists(st.sampled_from(labels), min_size=1, max_size=MAX_LABELS).map(
        lambda drawn: json.dumps(list(dict.fromkeys(drawn))))


def _metadata_entries(keys: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """Every item the keys and values offer (one value, two values, none: every value of the key; eq
    and neq), then the no_metadata option: the entries of a drawn metadata filter."""
    items = [_item(key, op, [value]) for key, values in keys.items() for value in values for op in ("eq", "neq")]
    items += [_item(key, op, values[:2]) for key, values in keys.items() if len(values) > 1 for op in ("eq", "neq")]
    items += [_item(key, op, None) for key in keys for op in ("eq", "neq")]
    return [*items, {"no_metadata": True}]


def _metadata_filters(items: list[Sample], by_id: Mapping[int, Sample]) -> st.SearchStrategy[str]:
    """A list of entries (one choice each, so one item is as simple as no_metadata alone, and the
    first ranked item simpler still), no_metadata at most once, and a combinator or none."""
    keys = key_values(items)
    entries = [json.dumps(e) for e in _metadata_entries(keys)]
    ranked = [json.loads(e) for e in _splitting_first(by_id, "metadata", entries[:-1], wire=lambda e: f"[{e}]")]
    ranked.append({"no_metadata": True})
    chosen = st.lists(st.sampled_from(range(len(ranked))), min_size=1, max_size=MAX_ITEMS)
    return st.builds(lambda picks, combinator: _metadata_filter([ranked[i] for i in dict.fromkeys(picks)],
                                                                combinator, False),
                     chosen, st.sampled_from((None, "and", "or")))


def _from_samples(items: list[Sample], by_id: Mapping[int, Sample], wire_name: str,
                  variants: Callable[[Sample], list[str]]) -> st.SearchStrategy[str]:
    """One choice over the samples' variants (each sample's own value first; those that split the
    samples first), then a value no sample holds. (One choice each: hypothesis shrinks to the
    shortest choice sequence, then the lowest.)"""
    found = _splitting_first(by_id, wire_name, list(dict.fromkeys(v for s in items for v in variants(s))),
                             prefer=_mixed_case)
    return st.sampled_from([*found, NO_SUCH])


def filter_values(samples: Iterable[object], wire_name: str) -> st.SearchStrategy[str]:
    """Wire values of ``wire_name`` drawn from the samples (see the module's docstring)."""
    items = _samples(samples)
    by_id = index_samples(items)
    if wire_name in BOUND_FIELDS:
        return _bound_values(items, by_id, wire_name)
    if wire_name == "labels":
        return _label_lists(items, by_id)
    if wire_name == "metadata":
        return _metadata_filters(items, by_id)
    if wire_name == "filename":
        named = sorted((s for s in items if text_field(s, "filename")), key=lambda s: text_field(s, "filename"))
        return _from_samples(named, by_id, wire_name, lambda s: _filename_variants(text_field(s, "filename")))
    if wire_name == "search":
        return _from_samples(items, by_id, wire_name, _search_variants)
    if wire_name in ("dataType", "signatureValidity"):
        base = ["valid", "invalid", "both"] if wire_name == "signatureValidity" else _data_types(items)
        return st.sampled_from(_splitting_first(by_id, wire_name, base))
    raise ValueError(f"unknown filter {wire_name!r}; filters are {', '.join(FILTER_NAMES)}")
