"""Clause group 5: filter semantics, judged inside id windows, whatever the listing's size.

minId (>=) and maxId (<) are documented exactly, so an id window is a small sub-listing that can
be read whole. A filter inside a window (filter AND window) is judged against the window read
whole; every pair of filters is composed inside a window, with a page of the pair and its
totalCount. Filter values are drawn by hypothesis from the window's own samples
(eicontract.drive.filter_values: for the numeric and date bounds, a data value, just below and above
it, a value between it and the next, dates in other zones; lists of labels; metadata items with
their options), under the run's seed, so a failing filter shrinks to the simplest that still fails.
Where the documents are ambiguous the oracle checks soundness against the loosest reading and
completeness against the strictest, and records which reading the server follows.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.drive.evidence import judged, judged_on_listing
from eicontract.drive.filter_values import filter_values
from eicontract.drive.pagesize import read_page
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.drive.windows import Window, read_window, split_point
from eicontract.http.client import Exchange
from eicontract.oracles import filters, paging
from eicontract.oracles.envelope import check_failure
from eicontract.oracles.filter_readings import FILTER_NAMES, Sample, index_samples, selection
from eicontract.oracles.paging import page_ids
from eicontract.pytest.fixtures import Target
from eicontract.reporting.record import Recorder
from eicontract.suite.dataset import Dataset
from eicontract.violations import ContractViolation, Observation, Violation, expect_no_violations

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
ID_FILTERS = ("minId", "maxId")
PAIRS = list(combinations(FILTER_NAMES, 2))
# Values drawn per filter (quick profile; thorough: a third of its examples): about what two windows
# of three to five values each took; metadata twice that, for its shapes (items, combinator,
# no_metadata, items without values).
VALUE_EXAMPLES = 8
PAIR_TRIES = 12  # draws a pair of filters takes to find values where each filter shows


class WindowReads:
    """Filtered reads inside the discovery windows, each read once per session (pairs share them,
    and hypothesis' shrinking reads a value again for free)."""

    def __init__(self, target: Target, dataset: Dataset) -> None:
        self.target, self.dataset = target, dataset
        self._reads: dict[tuple[int, int, tuple[tuple[str, str], ...]], Sweep] = {}
        self._pages: dict[tuple[tuple[tuple[str, str], ...], int, int], tuple[Exchange, int]] = {}
        self._values: dict[tuple[str, int], st.SearchStrategy[str]] = {}
        self._index: dict[int, dict[int, Sample]] = {}

    def read(self, window: Window, query: dict[str, str]) -> Sweep:
        """The listing of `query` (window bounds included), read whole within the window's bound."""
        rest = {k: v for k, v in query.items() if k not in ID_FILTERS}
        lo, hi = int(query["minId"]), int(query["maxId"])
        key = (lo, hi, tuple(sorted(rest.items())))
        if key not in self._reads:
            self._reads[key] = read_window(self.target.client, self.target.settings.project_id, lo, hi, rest)
        return self._reads[key]

    def page(self, query: dict[str, str], limit: int, offset: int) -> tuple[Exchange, int]:
        """A page of `query` (at most the target's maximum limit: drive/pagesize), and the limit it
        was asked with."""
        key = (tuple(sorted(query.items())), limit, offset)
        if key not in self._pages:
            self._pages[key] = read_page(self.target.client, self.target.settings.project_id,
                                         {**query, "limit": limit, "offset": offset})
        return self._pages[key]

    def values(self, name: str, window: Window) -> st.SearchStrategy[str]:
        """The filter's values drawn from the window's samples (an id bound kept inside the window)."""
        key = (name, window.lo)
        if key not in self._values:
            drawn = filter_values(window.sweep.results, name)
            if name in ID_FILTERS:  # the filter's bound replaces the window's: keep it inside
                drawn = drawn.map(lambda v: str(min(max(int(v), window.lo), window.hi)))
            self._values[key] = drawn
        return self._values[key]

    def index(self, window: Window) -> dict[int, Sample]:
        if window.lo not in self._index:
            self._index[window.lo] = index_samples(window.sweep.results)
        return self._index[window.lo]


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
    index = FILTER_NAMES.index(name)
    return list(dict.fromkeys([windows[-1], windows[index % len(windows)]]))


def _value_examples(target: Target, name: str) -> int:
    return max(VALUE_EXAMPLES * (2 if name == "metadata" else 1), target.settings.profile.examples // 3)


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE", "PAGE-TOTAL")
@pytest.mark.parametrize("name", FILTER_NAMES, ids=lambda f: f"filter={f}")
def test_one_filter_inside_windows(target: Target, dataset: Dataset, window_reads: WindowReads,
                                   run_property: Callable[..., None],
                                   observe: Callable[[list[Observation]], None], name: str) -> None:
    """Every filter, every run, drawn in two windows (the top one first), judged on the window read whole."""
    windows = {w.lo: w for w in _windows_for(dataset, name)}
    answers: dict[int, dict[str, list[int]]] = {}  # dataType: per window, the answer of each accepted value

    # a window is drawn by its lowest id: the minimal example reads `case=(lo, value)` (hypothesis
    # prints a dataclass field by field, a window's pages whole)
    @given(case=st.sampled_from(list(windows)).flatmap(
        lambda lo: st.tuples(st.just(lo), window_reads.values(name, windows[lo]))))
    def prop(case: tuple[int, str]) -> None:
        window, value = windows[case[0]], case[1]
        query = _query(window, (name, value))
        result = window_reads.read(window, query)
        if _refused(query, result):
            observe([Observation(f"filter:{name}", "refused", f"{name}={value} refused with the failure envelope")])
            return
        findings = filters.check_filter(window.sweep.results, result.results, query)
        observe(findings.observations)
        violations = _judged(result, _unanswered(query, result), findings.violations + _totals(result))
        if name == filters.DATA_TYPE and result.complete:
            seen = answers.setdefault(window.lo, {})
            seen[value] = result.ids
            violations += filters.check_data_types(seen, f"window [{window.lo}, {window.hi})")
        expect_no_violations(violations)

    run_property(prop, examples=_value_examples(target, name))


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE", "FILTER-COMPOSE", "PAGE-TOTAL")
def test_id_windows_partition(target: Target, dataset: Dataset, window_reads: WindowReads) -> None:
    """A window holds exactly its ids (those seen at offsets included); split at a data id, its two
    halves are disjoint and together give the window."""
    seen = [r for read in dataset.reads for r in (paging.page_results(read.body) or [])]
    violations: list[Violation] = []
    for window in dataset.windows:
        violations += _unanswered(window.query, window.sweep) + _totals(window.sweep)
        reference = index_samples([*seen, *window.sweep.results])
        violations += filters.check_filter(reference, window.sweep.results, window.query).violations
        middle = split_point(window.ids)
        if middle is None or not window.sweep.complete:
            continue
        left_query, right_query = _query(window, ("maxId", str(middle))), _query(window, ("minId", str(middle)))
        left, right = window_reads.read(window, left_query), window_reads.read(window, right_query)
        for query, half in ((left_query, left), (right_query, right)):
            violations += _judged(half, _unanswered(query, half), _totals(half) + filters.check_filter(
                index_samples([*window.sweep.results, *half.results]), half.results, query).violations)
        violations += filters.check_partition(window.ids, left.ids, right.ids, middle)
    expect_no_violations(violations)


def _pair_values(reads: WindowReads, windows: list[Window], a: str,
                 b: str) -> st.SearchStrategy[tuple[int, str, str]]:
    """A window (the pair's own first, then the others in turn; by its lowest id) and values for A
    and B where each filter shows in the pair: A and B together select less than each alone (so
    neither can be ignored unseen); else the last try's."""

    @st.composite
    def pair(draw: st.DrawFn) -> tuple[int, str, str]:
        for attempt in range(PAIR_TRIES):
            window = windows[attempt % len(windows)]
            va, vb = draw(reads.values(a, window)), draw(reads.values(b, window))
            by_id = reads.index(window)
            sa, sb = selection(by_id, a, va), selection(by_id, b, vb)
            if sa & sb not in (sa, sb):
                break
        return window.lo, va, vb

    return pair()


def _check_pair(reads: WindowReads, window: Window, a: str, b: str, va: str, vb: str, limit_shift: int,
                offset_shift: int) -> None:
    """A and B give the intersection of A and B; a page of the pair is a slice of it; its totalCount
    is its length. The page's limit and offset are drawn as shifts from a page in the middle of the
    pair's listing (a quarter of it, from its middle): the simplest page starts inside the listing,
    where a server that pages before it filters shows (at offset 0 it often would not)."""
    qa, qb, qab = _query(window, (a, va)), _query(window, (b, vb)), _query(window, (a, va), (b, vb))
    ra, rb, rab = reads.read(window, qa), reads.read(window, qb), reads.read(window, qab)
    if any(_refused(q, r) for q, r in ((qa, ra), (qb, rb), (qab, rab))):
        return  # a dataType value the server refuses: nothing to compose (test_one_filter_inside_windows)
    expect_no_violations(_unanswered(qa, ra) + _unanswered(qb, rb) + _unanswered(qab, rab))
    violations = filters.check_composition(ra.ids, rb.ids, rab.ids) + _totals(rab)
    size = len(rab.ids)
    limit, offset = 1 + (max(1, size // 4) - 1 + limit_shift) % max(1, size), (size // 2 + offset_shift) % (size + 1)
    page, limit = reads.page(qab, limit, offset)
    violations += judged(page, filters.check_filter_paging(rab.ids, page_ids(page.body), offset, limit))
    expect_no_violations(violations)


def _pair_property(reads: WindowReads, windows: list[Window], a: str, b: str) -> Callable[..., None]:
    by_lo = {w.lo: w for w in windows}

    @given(case=_pair_values(reads, windows, a, b), limit_shift=st.integers(0, 10_000),
           offset_shift=st.integers(0, 10_000))
    def prop(case: tuple[int, str, str], limit_shift: int, offset_shift: int) -> None:
        lo, va, vb = case
        _check_pair(reads, by_lo[lo], a, b, va, vb, limit_shift, offset_shift)

    return prop


@pytest.mark.clause("FILTER-COMPOSE", "FILTER-PAGING", "PAGE-TOTAL")
def test_every_pair_of_filters(target: Target, dataset: Dataset, window_reads: WindowReads,
                               run_property: Callable[..., None], ei_recorder: Recorder) -> None:
    """All pairs of filters, every run, each in a window, each a property of its own (the quick profile
    draws one example of each: the simplest values where both filters show). Every pair is judged
    and every failing pair reported: the first shrunk to its simplest values (the run's minimal
    example), the others as drawn (shrinking each would cost a broken server many requests)."""
    windows = sorted(dataset.windows, key=lambda w: w.lo)
    examples = max(1, target.settings.profile.examples // 100)
    violations: list[Violation] = []
    first_example: dict[str, str] | None = None
    for index, (a, b) in enumerate(PAIRS):
        turn = index % len(windows)  # pairs spread over the windows, each starting at its own
        try:
            run_property(_pair_property(window_reads, windows[turn:] + windows[:turn], a, b), examples=examples,
                         shrink=not violations)
        except ContractViolation as failed:
            violations += failed.violations
            first_example = first_example or ei_recorder.example
    ei_recorder.example = first_example
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
@pytest.mark.parametrize("name", FILTER_NAMES, ids=lambda f: f"filter={f}")
def test_one_filter_on_the_whole_listing(target: Target, whole_listing: Sweep, run_property: Callable[..., None],
                                         observe: Callable[[list[Observation]], None], name: str) -> None:
    index = index_samples(whole_listing.results)
    swept: dict[str, Sweep] = {}  # a value drawn again (or replayed while shrinking) is not read again

    @given(value=filter_values(whole_listing.results, name))
    def prop(value: str) -> None:
        if value not in swept:
            swept[value] = sweep(target.client, target.settings.project_id, {name: value}, page_size=100,
                                 max_pages=len(whole_listing.ids) // 100 + 5)
        result = swept[value]
        findings = filters.check_filter(index, result.results, {name: value})
        observe(findings.observations)
        expect_no_violations(_judged(result, _unanswered({name: value}, result), findings.violations + _totals(result)))

    run_property(prop, examples=max(8, target.settings.profile.examples // 2))
