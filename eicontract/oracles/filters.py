"""Filters of the classify result page, judged against the unfiltered listing.

Each filter is a set of READINGS (eicontract.oracles.filter_readings). Given the unfiltered
listing and the server's filtered answer:

- FILTER-SOUND: every returned sample satisfies the UNION of the readings (and is a sample
  of the unfiltered listing);
- FILTER-COMPLETE: every sample satisfying the INTERSECTION of the readings is returned;
- an Observation per ambiguous filter names the readings that reproduce the answer exactly.

Several filters in one query are ANDed. Each reading is evaluated in one pass over the
listing, and answers are compared as sets of ids, so a check is O(n) in the listing. Also here:
FILTER-COMPOSE (two filters, an id window split in two), FILTER-PAGING, FILTER-MALFORMED, and a
filter no sample can match. The values the suite sends are drawn elsewhere
(eicontract.drive.filter_values).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from typing import Any

from eicontract.oracles._common import MAX_EXAMPLES, Findings, clip, get_path, is_int, result_sample_id
from eicontract.oracles.envelope import check_failure, check_not_a_key_refusal
from eicontract.oracles.filter_readings import (
    ParsedFilter,
    Sample,
    ids_of,
    index_samples,
    matching,
    parse_filter,
)
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map. (The
# readings of each filter are filter_readings' and filter_metadata's rows.)
CLAIMS: tuple[str, ...] = ("reading.data-type",)

# Beyond this many reading combinations the observation gives up (it never fails the gate).
MAX_COMBINATIONS = 256


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
    matches = {f.wire_name: matching(by_id, f) for f in parsed}
    violations = _foreign_violations(returned, returned_ids - known, query)
    for f in parsed:
        violations += _soundness(f, matches[f.wire_name], known, by_id)
    violations += _completeness(parsed, matches, known, by_id, query)
    return Findings(violations, _observations(parsed, matches, known, by_id))


def _foreign_violations(returned: Sequence[object], foreign: set[int], query: str) -> list[Violation]:
    out = []
    anonymous = sum(1 for item in returned if result_sample_id(item) is None)
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
