"""limit and offset at their boundaries (oracles/boundaries.py has the readings accepted).

limit 0, 1 and very large; offset 0, the last sample, the end, past the end and very large; a
date filter at a leap second. Each
probe is one page read: the cost is a dozen requests whatever the listing's size. The reference
is the first page of 100 (and the listing's size as discovery found it); a very large limit is
asked inside an id window read whole, so its answer is bounded too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import pytest

from eicontract.drive.evidence import judged
from eicontract.drive.pagesize import read_page
from eicontract.http.client import Exchange
from eicontract.oracles import boundaries, max_limit
from eicontract.oracles._common import format_instant, is_int, parse_instant
from eicontract.oracles.boundaries import INT32_LIMIT
from eicontract.oracles.paging import PageRead, page_ids, page_results
from eicontract.oracles.unknown import check_unknown_id
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

REFERENCE = 100
LARGE_LIMITS = (10_000, 2**31 - 1, 2**53, 10**20)
LARGE_OFFSETS = (2**31 - 1, 2**31, 2**53, 10**20)


class Huge(NamedTuple):
    """An integer at or past 64 bits: its text as sent, and a stand-in the oracles compare and
    print (Python refuses to print an int of more than 4300 digits)."""
    name: str
    text: str
    value: int  # the integer itself, or 10**100 for the 5000-digit one (past any data alike)
    bound: float  # for the filter oracle: the value, or inf when no float holds it


# 64-bit signed/unsigned edges, past the 40 digits a server may cap at, past int()'s 4300 digits
HUGE = (
    Huge("2**63-1", str(2**63 - 1), 2**63 - 1, 2**63 - 1),
    Huge("2**63", str(2**63), 2**63, 2**63),
    Huge("2**64", str(2**64), 2**64, 2**64),
    Huge("10**41", str(10**41), 10**41, 10**41),
    Huge("5000 digits", "1" + "0" * 4999, 10**100, math.inf),
)
HUGE_IDS = [h.name for h in HUGE]
# ... and below 64 bits, for the numeric filters (a negative limit or offset is PAGE-PARAMS' case)
NEGATIVE_HUGE = (
    Huge("-2**63-1", str(-(2**63) - 1), -(2**63) - 1, -(2**63) - 1),
    Huge("-2**64", str(-(2**64)), -(2**64), -(2**64)),
    Huge("-10**41", str(-(10**41)), -(10**41), -(10**41)),  # past the 40 digits a server may cap at
)


@pytest.fixture(autouse=True)
def _discovered(dataset: Dataset) -> None:
    """Discovery first: a listing it finds unusable (not JSON, 5xx) ends the run with exit 2 and
    the reason, before any boundary is judged on answers that say nothing about the boundary."""


def _page(target: Target, params: dict[str, int | str]) -> tuple[Any, int]:
    _, body, status = _sent(target, params)
    return body, status


def _sent(target: Target, params: dict[str, int | str]) -> tuple[Exchange, Any, int]:
    """The page, with the exchange it came from (what a violation found on it is judged on)."""
    exchange = target.client.page(target.settings.project_id, params)
    return exchange, exchange.body, exchange.status or 599  # no answer: judged like a 5xx


def _first_ids(target: Target) -> list[int]:
    exchange, _ = read_page(target.client, target.settings.project_id, {"limit": REFERENCE, "offset": 0})
    body, status = exchange.body, exchange.status or 599
    if not 200 <= status < 300:
        pytest.skip(f"the first page failed (HTTP {status}): the paging clauses own that")
    return page_ids(body)


def _window(dataset: Dataset) -> tuple[dict[str, str], list[int]]:
    """An id window discovery read whole (the smallest with samples): a very large limit is asked
    inside it, so the answer holds at most the window, whatever the listing's size (a limit of
    10**20 on a listing of 100,000 would be a 60 MB page)."""
    windows = [w for w in getattr(dataset, "windows", []) if w.ids]
    if not windows:
        pytest.skip("discovery read no id window with samples")
    window = min(windows, key=lambda w: len(w.ids))
    return dict(window.query), list(window.ids)


def _size(dataset: Dataset) -> int:
    return int(getattr(dataset, "size", 0) or len(dataset.ids))


@pytest.mark.clause("PAGE-LIMIT")
def test_limit_zero(target: Target, observe: Callable[[list[Observation]], None]) -> None:
    default_body, _ = _page(target, {})
    exchange, body, status = _sent(target, {"limit": 0, "offset": 0})
    findings = boundaries.check_limit_zero(body, status, page_ids(default_body))
    observe(findings.observations)
    expect_no_violations(judged(exchange, findings.violations))


@pytest.mark.clause("PAGE-LIMIT", "PAGE-COMPLETE")
def test_limit_one(target: Target) -> None:
    reference = _first_ids(target)
    violations: list[Violation] = []
    for offset in dict.fromkeys((0, 1, len(reference) - 1)):
        if 0 <= offset < len(reference):
            exchange, body, status = _sent(target, {"limit": 1, "offset": offset})
            violations += judged(exchange, boundaries.check_limit_page(body, status, 1, offset,
                                                                       reference[offset:offset + 1]).violations)
    expect_no_violations(violations)


@pytest.mark.clause("PAGE-LIMIT", "PAGE-COMPLETE")
@pytest.mark.parametrize("limit", LARGE_LIMITS, ids=lambda n: f"limit={n}")
def test_a_very_large_limit(target: Target, dataset: Dataset, limit: int,
                            observe: Callable[[list[Observation]], None]) -> None:
    query, reference = _window(dataset)
    exchange, body, status = _sent(target, {**query, "limit": limit, "offset": 0})
    findings = boundaries.check_limit_page(body, status, limit, 0, reference, large=True)
    observe(findings.observations)
    expect_no_violations(judged(exchange, findings.violations))


@pytest.mark.clause("PAGE-COMPLETE", "PAGE-PAST-END")
def test_the_last_sample_and_the_end(target: Target, dataset: Dataset) -> None:
    size = _size(dataset)
    body, status = _page(target, {"limit": 5, "offset": size - 1})
    last = boundaries.check_limit_page(body, status, 5, size - 1, []).violations
    if not last and len(page_ids(body)) != 1:
        last = [Violation("PAGE-COMPLETE", f"offset={size - 1} (the last of {size} samples): expected "
                                           f"1 result, got {len(page_ids(body))}")]
    violations = last
    for offset in (size, size + 1):
        exchange = target.client.page(target.settings.project_id, {"limit": 5, "offset": offset})
        violations += judged(exchange, boundaries.check_large_offset(exchange.body, exchange.status or 599,
                                                                     offset).violations)
    expect_no_violations(violations)


@pytest.mark.clause("PAGE-PAST-END", "PAGE-LIMIT")
@pytest.mark.parametrize("offset", LARGE_OFFSETS, ids=lambda n: f"offset={n}")
def test_a_very_large_offset(target: Target, offset: int, observe: Callable[[list[Observation]], None]) -> None:
    exchange = target.client.page(target.settings.project_id, {"limit": 5, "offset": offset})
    # below 2**31 a refusal is still a reading: a page past a window of the server's (max_limit)
    refusal = max_limit.judge_refusal(PageRead(5, offset, exchange.body), exchange.status or 599,
                                      target.client.page_limit.pages) if offset < INT32_LIMIT else None
    findings = refusal or boundaries.check_large_offset(exchange.body, exchange.status or 599, offset)
    observe(findings.observations)
    expect_no_violations(judged(exchange, findings.violations))


# --- integers at and past 64 bits (docs/CLAIMS.md, decision.huge-integers) ----------------

@pytest.mark.clause("PAGE-LIMIT", "PAGE-COMPLETE")
@pytest.mark.parametrize("huge", HUGE, ids=[f"limit={name}" for name in HUGE_IDS])
def test_a_huge_limit(target: Target, dataset: Dataset, huge: Huge,
                      observe: Callable[[list[Observation]], None]) -> None:
    query, reference = _window(dataset)
    exchange, body, status = _sent(target, {**query, "limit": huge.text, "offset": 0})
    findings = boundaries.check_limit_page(body, status, huge.value, 0, reference, large=True, shown=huge.name)
    observe(findings.observations)
    expect_no_violations(judged(exchange, findings.violations))


@pytest.mark.clause("PAGE-PAST-END")
@pytest.mark.parametrize("huge", HUGE, ids=[f"offset={name}" for name in HUGE_IDS])
def test_a_huge_offset(target: Target, huge: Huge, observe: Callable[[list[Observation]], None]) -> None:
    exchange, body, status = _sent(target, {"limit": 5, "offset": huge.text})
    findings = boundaries.check_large_offset(body, status, huge.value, shown=huge.name)
    observe(findings.observations)
    expect_no_violations(judged(exchange, findings.violations))


@pytest.mark.clause("SCHEMA-NEGATIVE", "FILTER-SOUND", "FILTER-COMPLETE")
@pytest.mark.parametrize("param", sorted(boundaries.FILTER_FIELDS), ids=lambda f: f"filter={f}")
def test_a_numeric_filter_at_a_huge_bound(target: Target, param: str,
                                          observe: Callable[[list[Observation]], None]) -> None:
    """Every huge value of one filter, positive and negative: read exactly (a min past every
    sample selects none, a max past every sample drops none, and the other way round below every
    sample) or rejected; never a 5xx. Eight requests, limit 5."""
    reference_body, status = _page(target, {"limit": 5, "offset": 0})
    if not 200 <= status < 300:
        pytest.skip(f"the first page failed (HTTP {status}): the paging clauses own that")
    reference = page_results(reference_body) or []
    violations: list[Violation] = []
    for huge in (*HUGE, *NEGATIVE_HUGE):
        body, status = _page(target, {"limit": 5, "offset": 0, param: huge.text})
        findings = boundaries.check_huge_filter(body, status, param, huge.bound, huge.name, reference)
        observe(findings.observations)
        violations += findings.violations
    expect_no_violations(violations)


@pytest.mark.clause("CLASSIFY-UNKNOWN")
@pytest.mark.parametrize("unknown", ["sample", "block"], ids=lambda u: f"unknown-{u}")
def test_classify_of_a_huge_id_fails(target: Target, dataset: Dataset, unknown: str) -> None:
    """A sample or learn block id at or past 64 bits names nothing: the failure envelope, never
    a result or a job (an id read as another, smaller one), never a 5xx."""
    project, block, sample = target.settings.project_id, min(dataset.blocks), dataset.classify_ids[0]
    violations: list[Violation] = []
    for huge in HUGE:
        ids: dict[str, int | str] = {"sample": sample, "block": block, unknown: huge.text}
        exchange = target.client.classify(project, ids["block"], ids["sample"])
        what = f"classify of {unknown} id {huge.name}"
        violations += (check_unknown_id(exchange.body, exchange.status, what) if exchange.status is not None
                       else [Violation("CLASSIFY-UNKNOWN", f"{what}: no answer ({exchange.error})")])
    expect_no_violations(violations)


# --- a leap second in a date filter ---------------------------------------------------------

@pytest.mark.clause("SCHEMA-NEGATIVE", "FILTER-SOUND", "FILTER-COMPLETE")
@pytest.mark.parametrize("param", ["minDate", "maxDate"], ids=lambda f: f"filter={f}")
def test_a_date_filter_at_a_leap_second(target: Target, dataset: Dataset, param: str,
                                        observe: Callable[[list[Observation]], None]) -> None:
    """hh:mm:60 inside an id window read whole: rejected, or the page of the instant it means
    (hh:mm:59 plus one second); never a 5xx. Four requests: the historic leap second and one at
    the end of the minute a window sample was added in, each beside its plain instant."""
    query, ids = _window(dataset)
    added = [t for i in ids if (t := parse_instant((dataset.sample(i) or {}).get("added"))) is not None]
    paging: dict[str, int | str] = {**query, "limit": len(ids), "offset": 0}
    expect_no_violations([v for leap, instant in boundaries.leap_second_dates(added)
                          for v in _leap_second(target, paging, param, leap, instant, observe)])


def _leap_second(target: Target, query: dict[str, int | str], param: str, leap: str, instant: datetime,
                 observe: Callable[[list[Observation]], None]) -> list[Violation]:
    """One leap second beside the plain instant it means, both in the same query."""
    body, status = _page(target, {**query, param: leap})
    same, same_status = _page(target, {**query, param: format_instant(instant)})
    findings = boundaries.check_leap_second(body, status, param, leap, same if 200 <= same_status < 300 else None)
    observe(findings.observations)
    return findings.violations


@pytest.mark.clause("SCHEMA-NEGATIVE", "FILTER-SOUND", "FILTER-COMPLETE")
@pytest.mark.parametrize("param", ["minDate", "maxDate"], ids=lambda f: f"filter={f}")
def test_a_leap_second_next_to_a_sample(target: Target, dataset: Dataset, param: str,
                                        observe: Callable[[list[Observation]], None]) -> None:
    """The leap second just after a sample added at hh:mm:59.x, and just before one added at
    hh:mm:00.x, each in the sample's own id window: rejected, or the page of the instant it means
    (a server that reads :60 a second or two off selects the sample differently). At most four
    requests; skipped when no discovered sample was added in such a second."""
    added = {i: t for s in dataset.samples if is_int(i := s.get("id"))
             and (t := parse_instant(s.get("added"))) is not None}
    probes = boundaries.leap_second_neighbours(added)
    if not probes:
        pytest.skip("no discovered sample was added in the first or last second of a minute")
    expect_no_violations([v for sample_id, leap, instant in probes
                          for v in _leap_second(target, {"minId": sample_id, "maxId": sample_id + 1, "limit": 5,
                                                         "offset": 0}, param, leap, instant, observe)])


# --- a date whose '+' came unencoded (a space: what the official Python client sends) --------

@pytest.mark.clause("SCHEMA-NEGATIVE", "FILTER-SOUND", "FILTER-COMPLETE")
@pytest.mark.parametrize("param", ["minDate", "maxDate"], ids=lambda f: f"filter={f}")
def test_a_date_filter_whose_plus_came_unencoded(target: Target, dataset: Dataset, param: str,
                                                 observe: Callable[[list[Observation]], None]) -> None:
    """A window sample's date at +01:00, once with its '+' and once with a space there, inside an id
    window read whole: rejected, or the same page; never a 5xx. Two requests."""
    query, ids = _window(dataset)
    added = sorted(t for i in ids if (t := parse_instant((dataset.sample(i) or {}).get("added"))) is not None)
    if not added:
        pytest.skip("the window's samples carry no added date")
    plus, spaced = boundaries.unencoded_plus(added[len(added) // 2])
    paging: dict[str, int | str] = {**query, "limit": len(ids), "offset": 0}
    same, same_status = _page(target, {**paging, param: plus})
    body, status = _page(target, {**paging, param: spaced})
    findings = boundaries.check_unencoded_plus(body, status, param, spaced,
                                               same if 200 <= same_status < 300 else None)
    observe(findings.observations)
    expect_no_violations(findings.violations)
