"""Clause group 5: filter semantics, with values drawn from the target's own data.

Where the documents are ambiguous the oracle checks soundness against the loosest reading and
completeness against the strictest, and records which reading the server follows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.drive.sweeps import Sweep, sweep
from eicontract.oracles import filters
from eicontract.oracles.paging import page_ids
from eicontract.pytest.fixtures import Target
from eicontract.violations import Observation, Violation, expect_no_violations

# Values no reading can parse: a server must answer each with an error, never a listing.
MALFORMED = [
    ("metadata", '[{ "key": "distance", "op": "eq", "values": ["1.5", "2.9"], "key": "comments", '
                 'exclude: ["faulty"] }]'),  # the seed's own example: unquoted key, duplicate key
    ("metadata", "not json"),
    ("metadata", '{"key": "a", "op": "eq"}'),  # an object, not a list
    ("metadata", '[{"key": "a", "op": "like", "values": ["x"]}]'),
    ("metadata", "[{"),
    ("labels", "idle"),
    ("labels", '{"idle": true}'),
    ("labels", "[\"idle\""),
    ("minLength", "long"),
    ("maxFrequency", "high"),
    ("minId", "first"),
    ("minLabel", "one"),
    ("minDate", "yesterday"),
    ("maxDate", "2024-13-45T99:00:00Z"),
    ("signatureValidity", "sometimes"),
]


def _filtered(target: Target, dataset: Any, query: dict[str, str]) -> tuple[Sweep, list[Violation]]:
    bound = len(dataset.ids) // 100 + 5
    result = sweep(target.client, target.settings.project_id, query, page_size=100, max_pages=bound)
    if result.complete:
        return result, []
    return result, [Violation("FILTER-COMPLETE", f"a valid filter {query} was not answered with a listing: "
                                                 f"{result.problem}")]


def _draw_filter(data: st.DataObject, samples: list[dict[str, Any]], exclude: str = "") -> tuple[str, str]:
    name = data.draw(st.sampled_from([n for n in filters.FILTER_NAMES if n != exclude]), label="filter")
    value = data.draw(st.sampled_from(filters.candidate_values(samples, name)), label=name)
    return name, value


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE")
@pytest.mark.parametrize("name", filters.FILTER_NAMES)
def test_one_filter_is_sound_and_complete(target: Target, dataset: Any, run_property: Callable[..., None],
                                          observe: Callable[[list[Observation]], None], name: str) -> None:
    """Every filter, every run: drawing the filter name too would leave some filters undrawn at a seed."""
    candidates = filters.candidate_values(dataset.samples, name)

    @given(value=st.sampled_from(candidates))
    def prop(value: str) -> None:
        result, violations = _filtered(target, dataset, {name: value})
        findings = filters.check_filter(dataset.listing.results, result.results, {name: value})
        observe(findings.observations)
        expect_no_violations(violations + findings.violations)

    run_property(prop, examples=max(8, target.settings.profile.examples // 2))


@pytest.mark.clause("FILTER-COMPOSE")
def test_two_filters_give_the_intersection(target: Target, dataset: Any, run_property: Callable[..., None]) -> None:
    @given(data=st.data())
    def prop(data: st.DataObject) -> None:
        a = _draw_filter(data, dataset.samples)
        b = _draw_filter(data, dataset.samples, exclude=a[0])
        (ra, va), (rb, vb) = _filtered(target, dataset, dict([a])), _filtered(target, dataset, dict([b]))
        rab, vab = _filtered(target, dataset, dict([a, b]))
        unanswered = va + vb + vab  # without three complete listings there is nothing to compose
        expect_no_violations(unanswered or filters.check_composition(ra.ids, rb.ids, rab.ids))

    run_property(prop)


@pytest.mark.clause("FILTER-PAGING")
def test_filtering_commutes_with_paging(target: Target, dataset: Any, run_property: Callable[..., None]) -> None:
    @given(data=st.data(), limit=st.integers(1, 40), offset=st.integers(0, 60))
    def prop(data: st.DataObject, limit: int, offset: int) -> None:
        name, value = _draw_filter(data, dataset.samples)
        full, violations = _filtered(target, dataset, {name: value})
        page = target.client.page(target.settings.project_id, {name: value, "limit": limit, "offset": offset})
        violations += filters.check_filter_paging(full.ids, page_ids(page.body), offset, limit)
        expect_no_violations(violations)

    run_property(prop)


@pytest.mark.clause("FILTER-MALFORMED")
@pytest.mark.parametrize(("name", "value"), MALFORMED, ids=[f"{n}={v[:24]}" for n, v in MALFORMED])
def test_a_malformed_filter_is_an_error(target: Target, dataset: Any, name: str, value: str) -> None:
    exchange = target.client.page(target.settings.project_id, {name: value, "limit": 20})
    if exchange.status is None:
        expect_no_violations([Violation("FILTER-MALFORMED", f"{name}={value!r}: no answer ({exchange.error})")])
    expect_no_violations(filters.check_malformed(exchange.body, exchange.status or 0, len(dataset.ids),
                                                 limit=20, context=f"{name}={value!r}"))
