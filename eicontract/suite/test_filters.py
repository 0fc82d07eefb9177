"""Clause group 5: filter semantics, judged inside id windows, whatever the listing's size.

minId (>=) and maxId (<) are documented exactly, so an id window is a small sub-listing that can
be read whole. A filter inside a window (filter AND window) is judged against the window read
whole; every pair of filters is composed inside a window, with a page of the pair and its
totalCount. Filter values come from the window's own samples: for the numeric and date bounds, a
data value, just below and above it, a value between it and the next, dates in other zones.
Where the documents are ambiguous the oracle checks soundness against the loosest reading and
completeness against the strictest, and records which reading the server follows.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from itertools import combinations
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.drive.evidence import judged, judged_on_listing
from eicontract.drive.pagesize import read_page
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.drive.windows import Window, read_window, split_point
from eicontract.oracles import filters, paging
from eicontract.oracles.envelope import check_failure
from eicontract.oracles.paging import page_ids
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

# Values no reading can parse: a server must answer each with an error, never a listing.
MALFORMED = [
    ("metadata", '[{ "key": "distance", "op": "eq", "values": ["1.5", "2.9"], "key": "comments", '
                 'exclude: ["faulty"] }]'),  # the seed's own example: unquoted key, duplicate key
    ("metadata", "not json"),
    ("metadata", '{"key": "a", "op": "eq"}'),  # an object, not a list
    ("metadata", '[{"key": "a", "op": "like", "values": ["x"]}]'),
    ("metadata", "[{"),
    # values of the wrong type: the contract's schema says an array of strings (API-FACTS: `"values": [...]`)
    ("metadata", '[{"key": "a", "op": "eq", "values": "abc"}]'),  # a string, not a list
    ("metadata", '[{"key": "a", "op": "eq", "values": [1, 2]}]'),  # numbers, not strings
    # an item of none of the documented forms ({key, op[, values]}, {no_metadata}, {filters_combinator})
    ("metadata", "[{}]"),
    ("metadata", '[{"op": "eq", "values": ["x"]}]'),  # no key
    ("metadata", '[{"no_metadata": true, "key": "a", "op": "eq"}]'),  # two forms in one item
    ("metadata", '[{"filters_combinator": "or", "key": "a", "op": "eq"}]'),
    # API-FACTS: duplicate keys are malformed (the seed's example), also when nothing else is wrong
    ("metadata", '[{"key": "a", "op": "eq", "values": ["x"], "key": "b"}]'),
    # the combinator is "and" or "or" (API-FACTS), nothing that sorts near them
    ("metadata", '[{"key": "a", "op": "eq"}, {"filters_combinator": ""}]'),
    ("metadata", '[{"key": "a", "op": "eq"}, {"filters_combinator": "nor"}]'),
    ("metadata", '[{"key": "a", "op": "eq"}, {"filters_combinator": "xor"}]'),
    ("labels", "idle"),
    ("labels", '{"idle": true}'),
    ("labels", "[\"idle\""),
    ("minLength", "long"),
    ("maxFrequency", "high"),
    ("minId", "first"),
    ("minLabel", "one"),
    ("minDate", "yesterday"),
    ("maxDate", "2024-13-45T99:00:00Z"),
    ("minDate", "2024-01-01T00:00:61Z"),  # no minute has a 61st second (a leap second is :60)
    ("signatureValidity", "sometimes"),
]
TEXT_VALUES = 3  # values per window of a filter that is not a bound (metadata: one per shape, at least)
ID_FILTERS = ("minId", "maxId")
PAIRS = list(combinations(filters.FILTER_NAMES, 2))


class WindowReads:
    """Filtered reads inside the discovery windows, each read once per session (pairs share them)."""

    def __init__(self, target: Target, dataset: Dataset) -> None:
        self.target, self.dataset = target, dataset
        self._reads: dict[tuple[int, int, tuple[tuple[str, str], ...]], Sweep] = {}

    def read(self, window: Window, query: dict[str, str]) -> Sweep:
        """The listing of `query` (window bounds included), read whole within the window's bound."""
        rest = {k: v for k, v in query.items() if k not in ID_FILTERS}
        lo, hi = int(query["minId"]), int(query["maxId"])
        key = (lo, hi, tuple(sorted(rest.items())))
        if key not in self._reads:
            self._reads[key] = read_window(self.target.client, self.target.settings.project_id, lo, hi, rest)
        return self._reads[key]

    def values(self, name: str, window: Window) -> list[str]:
        """The filter's values in this window (seeded by filter and window): bounds around one data
        value; other filters' values from the window's samples, those that split it first."""
        rng = random.Random(f"{self.target.settings.seed}:{name}:{window.lo}")
        samples = window.sweep.results
        if name in filters.BOUND_FIELDS:
            found = filters.data_values(samples, name)
            if not found:
                return filters.candidate_values(samples, name)[:1]
            chosen = filters.boundary_values(found, rng.randrange(len(found)), name)
            return [v for v in chosen if name not in ID_FILTERS or window.lo <= int(v) <= window.hi]
        candidates = filters.candidate_values(samples, name)
        rng.shuffle(candidates)
        by_id = filters.index_samples(samples)
        ranked = sorted(candidates, key=lambda v: (not _splits(by_id, name, v), not _parts_matter(by_id, name, v)))
        shapes: dict[object, str] = {}
        for value in ranked:  # one value of each shape first (metadata: items, combinator, no_metadata)
            shapes.setdefault(_shape(name, value), value)
        return list(dict.fromkeys([*shapes.values(), *ranked]))[:max(TEXT_VALUES, len(shapes))]


def _splits(by_id: dict[int, Any], name: str, value: str) -> bool:
    required, allowed = filters.selects(by_id, name, value)
    return required > 0 and allowed < len(by_id)


def _shape(name: str, value: str) -> object:
    """What kind of value this is: for metadata, how many items, which options it has and the ops of
    its items without values (a key-only eq and a key-only neq are shapes of their own: API-FACTS
    gives them their own meaning, every sample with the key or every sample without it)."""
    if name != "metadata":
        return None
    parsed = json.loads(value)
    items = [e for e in parsed if "key" in e]
    return (len(items), tuple(sorted(k for e in parsed for k in e if k not in ("key", "op", "values"))),
            tuple(sorted(e["op"] for e in items if not e.get("values"))))


def _parts_matter(by_id: dict[int, Any], name: str, value: str) -> bool:
    """A metadata filter of several items selects, on this window, what none of its items alone does:
    each item and the way they combine show in the answer."""
    if name != "metadata":
        return True
    items = [e for e in json.loads(value) if "key" in e]
    if len(items) < 2:
        return False
    whole = filters.selects(by_id, name, value)
    return all(filters.selects(by_id, name, json.dumps([item])) != whole for item in items)


def _query(window: Window, *chosen: tuple[str, str]) -> dict[str, str]:
    return {**window.query, **dict(chosen)}


def _refused(query: dict[str, str], result: Sweep) -> bool:
    """A dataType value the server does not know, refused with the failure envelope: a reading
    (docs/CLAIMS.md page.param.dataType); a 5xx or success: true is still unanswered."""
    if result.complete or filters.DATA_TYPE not in query or not result.exchanges:
        return False
    last = result.exchanges[-1]
    return last.status is not None and not check_failure(last.body, last.status, clause_id="FILTER-COMPLETE")


def _unanswered(query: dict[str, str], result: Sweep) -> list[Violation]:
    if result.complete or _refused(query, result):
        return []
    return [Violation("FILTER-COMPLETE", f"a valid filter {query} was not answered with a listing: "
                                         f"{result.problem}")]


def _judged(result: Sweep, unanswered: list[Violation], found: list[Violation]) -> list[Violation]:
    """A filtered listing's violations with the page that shows each (an unanswered listing: its last page)."""
    return judged_on_listing(result.exchanges[-1:], unanswered) + judged_on_listing(result.exchanges, found)


def _totals(result: Sweep) -> list[Violation]:
    """PAGE-TOTAL on a filtered listing read whole: its totalCount is its length."""
    return paging.check_total(result.reads, len(result.ids)).violations if result.complete else []


@pytest.fixture(scope="session")
def window_reads(target: Target, dataset: Dataset) -> WindowReads:
    return WindowReads(target, dataset)


def _windows_for(dataset: Dataset, name: str) -> list[Window]:
    """The top window (the highest ids) and one other, in turn per filter."""
    windows = sorted(dataset.windows, key=lambda w: w.lo)
    index = filters.FILTER_NAMES.index(name)
    return list(dict.fromkeys([windows[-1], windows[index % len(windows)]]))


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE", "PAGE-TOTAL")
@pytest.mark.parametrize("name", filters.FILTER_NAMES, ids=lambda f: f"filter={f}")
def test_one_filter_inside_windows(dataset: Dataset, window_reads: WindowReads,
                                   observe: Callable[[list[Observation]], None], name: str) -> None:
    """Every filter, every run, in two windows (the top one included), judged on the window read whole."""
    violations: list[Violation] = []
    for window in _windows_for(dataset, name):
        answers: dict[str, list[int]] = {}  # dataType: the answer of each accepted value
        for value in window_reads.values(name, window):
            query = _query(window, (name, value))
            result = window_reads.read(window, query)
            if _refused(query, result):
                observe([Observation(f"filter:{name}", "refused", f"{name}={value} refused with the failure envelope")])
                continue
            findings = filters.check_filter(window.sweep.results, result.results, query)
            observe(findings.observations)
            violations += _judged(result, _unanswered(query, result), findings.violations + _totals(result))
            if result.complete:
                answers[value] = result.ids
        if name == filters.DATA_TYPE:
            violations += filters.check_data_types(answers, f"window [{window.lo}, {window.hi})")
    expect_no_violations(violations)


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE", "FILTER-COMPOSE", "PAGE-TOTAL")
def test_id_windows_partition(target: Target, dataset: Dataset, window_reads: WindowReads) -> None:
    """A window holds exactly its ids (those seen at offsets included); split at a data id, its two
    halves are disjoint and together give the window."""
    seen = [r for read in dataset.reads for r in (paging.page_results(read.body) or [])]
    violations: list[Violation] = []
    for window in dataset.windows:
        violations += _unanswered(window.query, window.sweep) + _totals(window.sweep)
        reference = filters.index_samples([*seen, *window.sweep.results])
        violations += filters.check_filter(reference, window.sweep.results, window.query).violations
        middle = split_point(window.ids)
        if middle is None or not window.sweep.complete:
            continue
        left_query, right_query = _query(window, ("maxId", str(middle))), _query(window, ("minId", str(middle)))
        left, right = window_reads.read(window, left_query), window_reads.read(window, right_query)
        for query, half in ((left_query, left), (right_query, right)):
            violations += _judged(half, _unanswered(query, half), _totals(half) + filters.check_filter(
                filters.index_samples([*window.sweep.results, *half.results]), half.results, query).violations)
        violations += filters.check_partition(window.ids, left.ids, right.ids, middle)
    expect_no_violations(violations)


def _visible_pair(reads: WindowReads, windows: list[Window], a: str,
                  b: str) -> tuple[Window, str, str] | None:
    """A window (the pair's own first) and values for A and B where each filter shows in the pair:
    A and B together select less than each alone (so neither can be ignored unseen); else the first
    values of the first window."""
    first: tuple[Window, str, str] | None = None
    for window in windows:
        by_id = filters.index_samples(window.sweep.results)
        for va in reads.values(a, window):
            for vb in reads.values(b, window):
                first = first or (window, va, vb)
                sa, sb = filters.selection(by_id, a, va), filters.selection(by_id, b, vb)
                if sa & sb not in (sa, sb):
                    return window, va, vb
    return first


@pytest.mark.clause("FILTER-COMPOSE", "FILTER-PAGING", "PAGE-TOTAL")
def test_every_pair_of_filters(target: Target, dataset: Dataset, window_reads: WindowReads) -> None:
    """All pairs of filters, every run, each in a window: A and B give the intersection of A and B;
    a page of the pair is a slice of it; its totalCount is its length."""
    windows = sorted(dataset.windows, key=lambda w: w.lo)
    rng = random.Random(target.settings.seed)
    violations: list[Violation] = []
    for index, (a, b) in enumerate(PAIRS):
        turn = index % len(windows)  # pairs spread over the windows, each starting at its own
        chosen = _visible_pair(window_reads, windows[turn:] + windows[:turn], a, b)
        if chosen is None:
            continue
        window, va, vb = chosen
        qa, qb = _query(window, (a, va)), _query(window, (b, vb))
        qab = _query(window, (a, va), (b, vb))
        ra, rb, rab = window_reads.read(window, qa), window_reads.read(window, qb), window_reads.read(window, qab)
        if any(_refused(q, r) for q, r in ((qa, ra), (qb, rb), (qab, rab))):
            continue  # a dataType value the server refuses: nothing to compose (test_one_filter_inside_windows)
        unanswered = _unanswered(qa, ra) + _unanswered(qb, rb) + _unanswered(qab, rab)
        if unanswered:
            violations += unanswered
            continue
        violations += filters.check_composition(ra.ids, rb.ids, rab.ids) + _totals(rab)
        limit, offset = rng.randint(1, max(1, len(rab.ids))), rng.randint(0, len(rab.ids))
        page, limit = read_page(target.client, target.settings.project_id, {**qab, "limit": limit, "offset": offset})
        violations += judged(page, filters.check_filter_paging(rab.ids, page_ids(page.body), offset, limit))
    expect_no_violations(violations)


@pytest.mark.clause("FILTER-MALFORMED")
@pytest.mark.parametrize(("name", "value"), MALFORMED, ids=[f"{n}={v[:24]}" for n, v in MALFORMED])
def test_a_malformed_filter_is_an_error(target: Target, dataset: Dataset, name: str, value: str) -> None:
    exchange = target.client.page(target.settings.project_id, {name: value, "limit": 20})
    if exchange.status is None:
        expect_no_violations([Violation("FILTER-MALFORMED", f"{name}={value!r}: no answer ({exchange.error})")])
    expect_no_violations(judged(exchange, filters.check_malformed(exchange.body, exchange.status or 0, dataset.size,
                                                                  limit=20, context=f"{name}={value!r}")))


# A metadata key that JSON can spell but Unicode cannot hold (a lone surrogate): the documents
# leave it open whether that is malformed, and no sample has such a key.
NOT_TEXT = '[{"key": "\\ud800", "op": "eq"}]'


@pytest.mark.clause("SCHEMA-NEGATIVE", "FILTER-SOUND", "ENVELOPE-ERROR")
def test_a_metadata_key_that_is_not_text(target: Target, dataset: Dataset) -> None:
    exchange = target.client.page(target.settings.project_id, {"metadata": NOT_TEXT, "limit": 20})
    if exchange.status is None:
        expect_no_violations([Violation("SCHEMA-NEGATIVE", f"metadata={NOT_TEXT}: no answer ({exchange.error})")])
    expect_no_violations(judged(exchange, filters.check_unmatchable(exchange.body, exchange.status or 0,
                                                                    f"metadata={NOT_TEXT}")))


# --- the whole listing: the thorough profile only ---------------------------------------------

@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE")
@pytest.mark.parametrize("name", filters.FILTER_NAMES, ids=lambda f: f"filter={f}")
def test_one_filter_on_the_whole_listing(target: Target, whole_listing: Sweep, run_property: Callable[..., None],
                                         observe: Callable[[list[Observation]], None], name: str) -> None:
    candidates = filters.candidate_values(whole_listing.results, name)
    index = filters.index_samples(whole_listing.results)

    @given(value=st.sampled_from(candidates))
    def prop(value: str) -> None:
        result = sweep(target.client, target.settings.project_id, {name: value}, page_size=100,
                       max_pages=len(whole_listing.ids) // 100 + 5)
        findings = filters.check_filter(index, result.results, {name: value})
        observe(findings.observations)
        expect_no_violations(_judged(result, _unanswered({name: value}, result), findings.violations + _totals(result)))

    run_property(prop, examples=max(8, target.settings.profile.examples // 2))
