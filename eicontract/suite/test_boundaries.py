"""limit and offset at their boundaries (oracles/boundaries.py has the readings accepted).

limit 0, 1 and very large; offset 0, the last sample, the end, past the end and very large. Each
probe is one page read: the cost is a dozen requests whatever the listing's size. The reference
is the first page of 100 (and the listing's size as discovery found it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eicontract.oracles import boundaries
from eicontract.oracles.paging import page_ids
from eicontract.pytest.fixtures import Target
from eicontract.violations import Observation, Violation, expect_no_violations

REFERENCE = 100
LARGE_LIMITS = (10_000, 2**31 - 1, 2**53, 10**20)
LARGE_OFFSETS = (2**31 - 1, 2**31, 2**53, 10**20)


def _page(target: Target, params: dict[str, int]) -> tuple[Any, int]:
    exchange = target.client.page(target.settings.project_id, params)
    return exchange.body, exchange.status or 599  # no answer: judged like a 5xx


def _first_ids(target: Target) -> list[int]:
    body, status = _page(target, {"limit": REFERENCE, "offset": 0})
    if not 200 <= status < 300:
        pytest.skip(f"the first page failed (HTTP {status}): the paging clauses own that")
    return page_ids(body)


def _size(dataset: Any) -> int:
    return int(getattr(dataset, "size", 0) or len(dataset.ids))


@pytest.mark.clause("PAGE-LIMIT")
def test_limit_zero(target: Target, observe: Callable[[list[Observation]], None]) -> None:
    default_body, _ = _page(target, {})
    body, status = _page(target, {"limit": 0, "offset": 0})
    findings = boundaries.check_limit_zero(body, status, page_ids(default_body))
    observe(findings.observations)
    expect_no_violations(findings.violations)


@pytest.mark.clause("PAGE-LIMIT", "PAGE-COMPLETE")
def test_limit_one(target: Target) -> None:
    reference = _first_ids(target)
    violations: list[Violation] = []
    for offset in dict.fromkeys((0, 1, len(reference) - 1)):
        if 0 <= offset < len(reference):
            body, status = _page(target, {"limit": 1, "offset": offset})
            violations += boundaries.check_limit_page(body, status, 1, offset, reference[offset:offset + 1]).violations
    expect_no_violations(violations)


@pytest.mark.clause("PAGE-LIMIT", "PAGE-COMPLETE")
@pytest.mark.parametrize("limit", LARGE_LIMITS)
def test_a_very_large_limit(target: Target, limit: int, observe: Callable[[list[Observation]], None]) -> None:
    reference = _first_ids(target)
    body, status = _page(target, {"limit": limit, "offset": 0})
    findings = boundaries.check_limit_page(body, status, limit, 0, reference, large=True)
    observe(findings.observations)
    expect_no_violations(findings.violations)


@pytest.mark.clause("PAGE-COMPLETE", "PAGE-PAST-END")
def test_the_last_sample_and_the_end(target: Target, dataset: Any) -> None:
    size = _size(dataset)
    body, status = _page(target, {"limit": 5, "offset": size - 1})
    last = boundaries.check_limit_page(body, status, 5, size - 1, []).violations
    if not last and len(page_ids(body)) != 1:
        last = [Violation("PAGE-COMPLETE", f"offset={size - 1} (the last of {size} samples): expected "
                                           f"1 result, got {len(page_ids(body))}")]
    violations = last
    for offset in (size, size + 1):
        body, status = _page(target, {"limit": 5, "offset": offset})
        violations += boundaries.check_large_offset(body, status, offset).violations
    expect_no_violations(violations)


@pytest.mark.clause("PAGE-PAST-END")
@pytest.mark.parametrize("offset", LARGE_OFFSETS)
def test_a_very_large_offset(target: Target, offset: int, observe: Callable[[list[Observation]], None]) -> None:
    body, status = _page(target, {"limit": 5, "offset": offset})
    findings = boundaries.check_large_offset(body, status, offset)
    observe(findings.observations)
    expect_no_violations(findings.violations)
