"""Clause group 4: paging invariants, judged on regions of the listing, whatever its size.

Discovery (the `dataset` fixture) read the listing's end by a galloping search, regions of 100 at
drawn offsets (the first and the deepest included) and id windows. Here: every page read obeys
the page rules and agrees on totalCount; the end, the totalCount and the totals of id windows
that partition the listing agree; each region reads the same at other page sizes; any page reads
the same twice; offsets past the end are empty. The thorough profile also sweeps the whole
listing (up to --max-listing) at several page sizes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.drive.evidence import judged
from eicontract.drive.pagesize import read_page
from eicontract.drive.probe import shorter_than_expected
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.drive.windows import read_region
from eicontract.http.client import Exchange
from eicontract.oracles import boundaries, max_limit, paging
from eicontract.oracles.schema import check_schema
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Counts, Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

BAD_NUMBERS = ("-1", "-100", "1.5", "abc", "", "1e3", "0x10", " 5")
REGION_COMPARED = 60  # samples of each region read again at other page sizes
REGION_SIZES = 2  # other page sizes per region


PAGE_WITHOUT_OFFSET = 20


def _read(target: Target, limit: int, offset: int) -> paging.PageRead:
    return _exchange_read(target, limit, offset)[1]


def _exchange_read(target: Target, limit: int, offset: int) -> tuple[Exchange, paging.PageRead]:
    """The page and the exchange it came from (the evidence of what is judged on it)."""
    exchange = target.client.page(target.settings.project_id, {"limit": limit, "offset": offset})
    return exchange, paging.PageRead(limit, offset, exchange.body)


@pytest.mark.clause("PAGE-LIMIT", "PAGE-DISJOINT", "PAGE-PREDICTIONS", "PAGE-TOTAL", "SCHEMA-RESPONSE")
def test_every_page_read(target: Target, dataset: Dataset, counts: Counts,
                         observe: Callable[[list[Observation]], None]) -> None:
    """Every page discovery read (regions, end probes, windows): the page rules, the schema, and
    one totalCount: the listing's on unfiltered pages, the window's length on a window."""
    violations: list[Violation] = []
    sent = {id(e.body): e for e in [*(e for r in dataset.regions for e in r.exchanges),
                                     *(e for w in dataset.windows for e in w.sweep.exchanges)]
            if isinstance(e.body, dict)}  # a body object is its page's (None and [] are shared)
    for read in dataset.reads + [r for w in dataset.windows for r in w.sweep.reads]:
        found = check_schema(read.body, "page-response", target.settings.strictness,
                             where=f"page limit={read.limit} offset={read.offset}") + paging.check_page(read)
        exchange = sent.get(id(read.body))  # the page's own exchange (an end probe keeps none)
        violations += judged(exchange, found) if exchange is not None else found
    expected = paging.listing_total(counts.length, counts.total, counts.windows_total)
    findings = paging.check_total(dataset.reads + dataset.end.probes, expected) if expected is not None \
        else None
    for window in dataset.windows:
        if window.sweep.complete:
            violations += paging.check_total(window.sweep.reads, len(window.ids)).violations
    if findings is not None:
        observe(findings.observations)
        violations += findings.violations
    learned = target.client.page_limit  # what the reads learned (drive/pagesize.py): a reading
    observe(max_limit.limit_readings(learned.pages, learned.refusals))
    for probe in dataset.end.refused:  # an end probe refused: past a window, judged as a refusal
        refusal = max_limit.judge_refusal(probe, 400, learned.pages)  # its status is not kept: any 4xx
        if refusal is not None:
            observe(refusal.observations)
            violations += refusal.violations
    expect_no_violations(violations)


@pytest.mark.clause("PAGE-PAST-END", "PAGE-COMPLETE", "PAGE-TOTAL")
def test_the_end_agrees_with_the_counts(dataset: Dataset, counts: Counts) -> None:
    """The end by offsets, the totalCount, and the totals of id windows that partition the listing."""
    if dataset.end.length is None:
        expect_no_violations([Violation("PAGE-PAST-END", f"the listing's end was not found: "
                                                         f"{dataset.end.problem}")])
    expect_no_violations(paging.check_counts(counts.length, counts.total, counts.windows_total,
                                             len(counts.reads)))


@pytest.mark.clause("PAGE-COMPLETE")
def test_a_page_without_an_offset_starts_at_the_beginning(target: Target, dataset: Dataset) -> None:
    """offset left out: the page at offset 0 (discovery's first region), whatever the reading of
    'offset in results'; no sample skipped."""
    exchange, limit = read_page(target.client, target.settings.project_id, {"limit": PAGE_WITHOUT_OFFSET})
    wanted = dataset.regions[0].ids[:limit]
    seen = paging.page_ids(exchange.body)
    if seen != wanted:
        expect_no_violations([Violation("PAGE-COMPLETE", f"limit={limit} without an offset: ids "
                                        f"{seen[:8]}..., but the page at offset 0 starts {wanted[:8]}... "
                                        f"({exchange.summary()})", {"seen": seen[:20], "wanted": wanted})])


@pytest.mark.clause("PAGE-COMPLETE")
def test_the_page_without_a_limit_or_an_offset_is_the_listing_from_its_start(target: Target,
                                                                            dataset: Dataset) -> None:
    """Neither sent: the server's default page (any length) from the first sample, none skipped."""
    exchange = target.client.page(target.settings.project_id, {})
    if exchange.status is None or exchange.status >= 400 or paging.page_results(exchange.body) is None:
        pytest.skip(f"the page without a limit was not answered ({exchange.summary()}): "
                    f"the schema and 5xx clauses judge that")
    found = boundaries.check_default_page(paging.page_ids(exchange.body), dataset.regions[0].ids)
    expect_no_violations(judged(exchange, found))


@pytest.mark.clause("PAGE-COMPLETE")
def test_the_listing_holds_the_known_samples(target: Target, dataset: Dataset) -> None:
    """--expect-samples (or the embedded server's own data): the listing is no shorter than that."""
    if target.expected_samples is None:
        pytest.skip("the project's size is not known (pass --expect-samples N to check it)")
    violation = shorter_than_expected(dataset.end.length, target.expected_samples)
    expect_no_violations([violation] if violation is not None else [])


@pytest.mark.clause("PAGE-COMPLETE", "PAGE-DISJOINT", "PAGE-STABLE")
def test_regions_agree_whatever_the_page_size(target: Target, dataset: Dataset) -> None:
    """Each region (offset 0 and the deepest included) read again at other page sizes (seeded)."""
    rng = random.Random(target.settings.seed)
    violations: list[Violation] = []
    for region in dataset.regions:
        reference = region.ids[:REGION_COMPARED]
        for page_size in sorted({rng.randint(3, 45) for _ in range(REGION_SIZES)}):
            again = read_region(target.client, target.settings.project_id, region.offset, len(reference),
                                page_size)
            violations += paging.check_region(reference, again.reads, page_size)
    expect_no_violations(violations)


@pytest.mark.clause("PAGE-LIMIT", "PAGE-PREDICTIONS", "PAGE-STABLE")
def test_any_page(target: Target, dataset: Dataset, run_property: Callable[..., None],
                  observe: Callable[[list[Observation]], None]) -> None:
    regions = {region.offset: region for region in dataset.regions}
    learned = target.client.page_limit  # what the reads so far learned: one maximum or window with it
    answered: set[max_limit.Page] = set(learned.pages)
    refused: set[max_limit.Page] = set(learned.refusals)  # (offset, limit) pairs (a reading, observed)

    # the region is drawn by its offset: the minimal example reads `region=0, shift=0, limit=1`
    # (hypothesis prints a dataclass field by field, a region's pages whole)
    @given(region=st.sampled_from(list(regions)), shift=st.integers(0, 99), limit=st.integers(1, 120))
    def prop(region: int, shift: int, limit: int) -> None:
        offset = region + shift
        (sent, first), (again, second) = _exchange_read(target, limit, offset), _exchange_read(target, limit, offset)
        refusals = [max_limit.limit_refusal(read, exchange.status or 0)
                    for exchange, read in ((sent, first), (again, second))]
        if refusals[0] is not None or refusals[1] is not None:
            _judge_refusal(limit, [(sent, first, refusals[0]), (again, second, refusals[1])])
            return
        answered.add((offset, limit))
        violations = judged(sent, paging.check_page(first)) + judged(again, paging.check_stable(first, second))
        known = regions[region].ids[shift:shift + limit]  # what the region read there
        seen = paging.page_ids(first.body)[:len(known)]
        if first.body is not None and len(seen) == len(known):
            violations += judged(sent, paging.compare_sweeps(known, seen))
        # this page against the refusals so far (each earlier one was judged when it came)
        expect_no_violations(violations + judged(sent, max_limit.check_limit_consistent([(offset, limit)], refused)))

    def _judge_refusal(limit: int, reads: list[tuple[Exchange, paging.PageRead, Any]]) -> None:
        """A page refused by its size: each read a proper refusal, both reads alike
        (PAGE-STABLE), no answered page as large and reaching as far (PAGE-LIMIT)."""
        violations: list[Violation] = []
        for exchange, read, refusal in reads:
            if refusal is None:
                violations.append(Violation("PAGE-STABLE", f"page limit={limit} offset={read.offset} "
                                            f"was refused once and answered once"))
                continue
            observe(refusal.observations)
            violations += judged(exchange, refusal.violations)
        offset = reads[0][1].offset
        observe(max_limit.limit_readings(answered, [(offset, limit)]))
        refused.add((offset, limit))
        expect_no_violations(violations + judged(reads[0][0], max_limit.check_limit_consistent(answered,
                                                                                               [(offset, limit)])))

    run_property(prop)


@pytest.mark.clause("PAGE-PAST-END", "PAGE-LIMIT")
def test_an_offset_past_the_end_is_empty(target: Target, dataset: Dataset, run_property: Callable[..., None],
                                         observe: Callable[[list[Observation]], None]) -> None:
    size = dataset.end.length
    if size is None:
        pytest.skip("no end found: test_the_end_agrees_with_the_counts reports it")

    @given(beyond=st.one_of(st.integers(0, 1000), st.just(10**9)), limit=st.integers(1, 100))
    def prop(beyond: int, limit: int) -> None:
        # the limit at most the target's maximum; a page refused past a window: judged as a refusal
        learned = target.client.page_limit
        exchange, read = _exchange_read(target, learned.fit(limit), size + beyond)
        refusal = max_limit.judge_refusal(read, exchange.status or 0, learned.pages)
        if refusal is not None:
            observe(refusal.observations)
            expect_no_violations(judged(exchange, refusal.violations))
            return
        if paging.page_results(read.body) == []:
            learned.saw_answered(read.limit, read.offset)  # answered: a later refusal is judged by it
        expect_no_violations(judged(exchange, paging.check_past_end(read, size)))

    run_property(prop, examples=max(5, target.settings.profile.examples // 3))


@pytest.mark.clause("PAGE-PARAMS")
@pytest.mark.parametrize(("param", "value"), [(p, v) for p in ("limit", "offset") for v in BAD_NUMBERS],
                         ids=[f"{p}={v!r}" for p in ("limit", "offset") for v in BAD_NUMBERS])
def test_a_bad_limit_or_offset_is_rejected(target: Target, param: str, value: str) -> None:
    other = "offset" if param == "limit" else "limit"
    exchange = target.client.page(target.settings.project_id, {param: value, other: "5" if other == "limit" else "0"})
    if exchange.status is None:
        expect_no_violations([Violation("PAGE-PARAMS", f"{param}={value!r}: no answer ({exchange.error})")])
    expect_no_violations(judged(exchange, paging.check_bad_param(exchange.body, exchange.status or 0,
                                                                 f"{param}={value!r}")))


# --- the whole listing: the thorough profile only ---------------------------------------------

@pytest.mark.clause("PAGE-LIMIT", "PAGE-DISJOINT", "PAGE-COMPLETE", "PAGE-PREDICTIONS", "PAGE-TOTAL")
def test_the_whole_listing(whole_listing: Sweep, observe: Callable[[list[Observation]], None]) -> None:
    violations: list[Violation] = []
    if not whole_listing.complete:
        violations.append(Violation("PAGE-COMPLETE", f"the listing did not end on an empty page: "
                                                     f"{whole_listing.problem}"))
    for read in whole_listing.reads:
        violations += paging.check_page(read)
    violations += paging.check_sweep(whole_listing.reads, 100)
    total = paging.check_total(whole_listing.reads, len(whole_listing.ids))
    observe(total.observations)
    expect_no_violations(violations + total.violations)


@pytest.mark.clause("PAGE-COMPLETE", "PAGE-DISJOINT", "PAGE-STABLE")
def test_whole_sweeps_agree_whatever_the_page_size(target: Target, whole_listing: Sweep,
                                                   run_property: Callable[..., None]) -> None:
    size = len(whole_listing.ids)

    @given(page_size=st.integers(1, max(1, min(size + 1, 150))))
    def prop(page_size: int) -> None:
        bound = 2 * size // page_size + 3
        result = sweep(target.client, target.settings.project_id, page_size=page_size, max_pages=bound)
        violations = paging.check_sweep(result.reads, page_size) + paging.compare_sweeps(whole_listing.ids,
                                                                                          result.ids)
        if not result.complete:
            violations.append(Violation("PAGE-COMPLETE", f"sweep with page size {page_size}: {result.problem}"))
        expect_no_violations(violations)

    run_property(prop, examples=max(3, target.settings.profile.examples // 3))
