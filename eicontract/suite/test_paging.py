"""Clause group 4: paging invariants over limit/offset drawn by hypothesis.

The reference is the session's listing (page size 100); every other sweep must give the same
sequence whatever its page size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.drive.sweeps import sweep
from eicontract.oracles import paging
from eicontract.oracles.schema import check_schema
from eicontract.pytest.fixtures import Target
from eicontract.violations import Observation, Violation, expect_no_violations

BAD_NUMBERS = ("-1", "-100", "1.5", "abc", "", "1e3", "0x10", " 5")


def _read(target: Target, limit: int, offset: int) -> paging.PageRead:
    exchange = target.client.page(target.settings.project_id, {"limit": limit, "offset": offset})
    return paging.PageRead(limit, offset, exchange.body)


@pytest.mark.clause("PAGE-LIMIT", "PAGE-DISJOINT", "PAGE-PREDICTIONS", "PAGE-TOTAL", "SCHEMA-RESPONSE")
def test_the_reference_listing(target: Target, dataset: Any, observe: Callable[[list[Observation]], None]) -> None:
    reads = dataset.listing.reads
    violations: list[Violation] = []
    if not dataset.listing.complete:
        violations.append(Violation("PAGE-COMPLETE", f"the listing did not end on an empty page: "
                                                     f"{dataset.listing.problem}"))
    for read in reads:
        violations += check_schema(read.body, "page-response", target.settings.strictness,
                                   where=f"page limit={read.limit} offset={read.offset}")
        violations += paging.check_page(read)
    violations += paging.check_sweep(reads, 100)
    total = paging.check_total(reads, len(dataset.ids))
    observe(total.observations)
    expect_no_violations(violations + total.violations)


@pytest.mark.clause("PAGE-LIMIT", "PAGE-PREDICTIONS", "PAGE-STABLE")
def test_any_page(target: Target, dataset: Any, run_property: Callable[..., None]) -> None:
    size = len(dataset.ids)

    @given(limit=st.integers(1, max(1, min(size, 120))), offset=st.integers(0, size + 5))
    def prop(limit: int, offset: int) -> None:
        first, second = _read(target, limit, offset), _read(target, limit, offset)
        violations = paging.check_page(first) + paging.check_stable(first, second)
        expected = dataset.ids[offset:offset + limit]
        violations += paging.compare_sweeps(expected, paging.page_ids(first.body)) if first.body else []
        expect_no_violations(violations)

    run_property(prop)


@pytest.mark.clause("PAGE-COMPLETE", "PAGE-DISJOINT", "PAGE-STABLE")
def test_sweeps_agree_whatever_the_page_size(target: Target, dataset: Any, run_property: Callable[..., None]) -> None:
    size = len(dataset.ids)

    @given(page_size=st.integers(1, max(1, min(size + 1, 150))))
    def prop(page_size: int) -> None:
        # a sweep of size-1 pages over a large live listing would cost thousands of requests
        bound = 2 * size // page_size + 3
        result = sweep(target.client, target.settings.project_id, page_size=page_size, max_pages=bound)
        violations = paging.check_sweep(result.reads, page_size) + paging.compare_sweeps(dataset.ids, result.ids)
        if not result.complete:
            violations.append(Violation("PAGE-COMPLETE", f"sweep with page size {page_size}: {result.problem}"))
        expect_no_violations(violations)

    run_property(prop, examples=max(3, target.settings.profile.examples // 3))


@pytest.mark.clause("PAGE-PAST-END")
def test_an_offset_past_the_end_is_empty(target: Target, dataset: Any, run_property: Callable[..., None]) -> None:
    size = len(dataset.ids)

    @given(beyond=st.integers(0, 1000), limit=st.integers(1, 100))
    def prop(beyond: int, limit: int) -> None:
        expect_no_violations(paging.check_past_end(_read(target, limit, size + beyond), size))

    run_property(prop)


@pytest.mark.clause("PAGE-PARAMS")
@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_a_bad_limit_or_offset_is_rejected(target: Target, param: str, value: str) -> None:
    other = "offset" if param == "limit" else "limit"
    exchange = target.client.page(target.settings.project_id, {param: value, other: "5" if other == "limit" else "0"})
    if exchange.status is None:
        expect_no_violations([Violation("PAGE-PARAMS", f"{param}={value!r}: no answer ({exchange.error})")])
    expect_no_violations(paging.check_bad_param(exchange.body, exchange.status or 0, f"{param}={value!r}"))
