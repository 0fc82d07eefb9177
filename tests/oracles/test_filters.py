from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eicontract.drive.filter_values import candidate_values
from eicontract.oracles.filter_readings import FILTER_NAMES, index_samples, parse_filter
from eicontract.oracles.filters import (
    check_composition,
    check_filter,
    check_filter_paging,
    check_malformed,
)
from eicontract.oracles.paging import slim_page
from tests.oracles.factories import FAILURE, clause_ids, model_result, page_body, sample

LISTING = [
    sample(1, filename="Idle01.wav", label="idle", totalLengthMs=1000, frequency=62.5,
           metadata={"site": "A"}, structuredLabelsList=["idle", "wave"]),
    sample(2, filename="wave02.wav", label="wave", totalLengthMs=2000, frequency=100.0,
           signatureValidate=False, chartType="image", metadata={"site": "B", "dev": "x"},
           added="2025-02-01T00:00:00Z"),
    sample(3, filename="idle03.WAV", label="1.5", totalLengthMs=500, frequency=62.5,
           metadata={}, added="2025-01-01T00:00:00+00:00"),
    sample(4, filename="noise 4.wav", label="3", totalLengthMs=1000, frequency=200,
           chartType="video", metadata={"dev": "y"}, added="2024-12-31T23:00:00-01:00",
           structuredLabelsList=["noise"]),
    sample(12, filename="x12.wav", label="idle", totalLengthMs=1500, frequency=50,
           added="2025-03-01T00:00:00.000Z"),
]
del LISTING[2]["signatureValidate"]
del LISTING[4]["metadata"]
ALL = {1, 2, 3, 4, 12}

META_NEQ = '[{"key": "site", "op": "neq", "values": ["A"]}]'
META_OR = '[{"key": "site", "op": "eq", "values": ["A"]}, {"filters_combinator": "or"}]'
META_AND_NOMETA = ('[{"key": "dev", "op": "neq"}, {"no_metadata": true}, '
                   '{"filters_combinator": "and"}]')

# (wire name, value, {reading name: ids matching under that reading})
AMBIGUOUS = [
    ("minLength", "1000", {"strict (>)": {2, 12}, "inclusive (>=)": {1, 2, 4, 12}}),
    ("maxLength", "1000", {"strict (<)": {3}, "inclusive (<=)": {1, 3, 4}}),
    ("minFrequency", "62.5", {"strict (>)": {2, 4}, "inclusive (>=)": {1, 2, 3, 4}}),
    ("maxFrequency", "100", {"strict (<)": {1, 3, 12}, "inclusive (<=)": {1, 2, 3, 12}}),
    ("minDate", "2025-01-01T00:00:00Z", {"strict (>)": {2, 12}, "inclusive (>=)": ALL}),
    ("maxDate", "2025-02-01T00:00:00.000Z", {"strict (<)": {1, 3, 4},
                                             "inclusive (<=)": {1, 2, 3, 4}}),
    ("filename", "idle", {"case-sensitive substring": {3}, "case-insensitive substring": {1, 3}}),
    ("labels", '["wave"]', {"label in list": {2},
                            "label or any structuredLabelsList entry in list": {1, 2}}),
    # case folding of labels and search is undocumented (reading.labels-case, reading.search-case)
    ("labels", '["WAVE"]', {"label in list": set(),
                            "label in list (case-insensitive)": {2},
                            "label or any structuredLabelsList entry in list (case-insensitive)":
                                {1, 2}}),
    ("search", "X12", {"every token is the id or in the filename (case-insensitive)": {12},
                       "every token is the id or in the filename (case-sensitive)": set()}),
    ("search", "12 x12", {"every token is the id or in the filename (case-insensitive)": {12},
                          "whole query is the id or in the filename (case-insensitive)": set()}),
    ("metadata", META_NEQ, {
        "neq: key present and value not listed; bare samples: matched by items like any sample": {2},
        "neq: key present and value not listed; bare samples: only with no_metadata": {2},
        "neq: key absent or value not listed; bare samples: matched by items like any sample":
            {2, 3, 4, 12},
        "neq: key absent or value not listed; bare samples: only with no_metadata": {2, 4}}),
    # The seed: "To include samples without any metadata, use { no_metadata: true }": a key-only
    # neq item lists the samples without metadata (3: {}, 12: none) in one reading, not the other.
    ("metadata", '[{"key": "site", "op": "neq"}]', {
        "bare samples: matched by items like any sample": {3, 4, 12},
        "bare samples: only with no_metadata": {4}}),
    ("metadata", META_OR, {"or: matching items only": {1},
                           "or: also samples with a metadata key no item names": {1, 2, 4}}),
    ("metadata", META_AND_NOMETA, {
        "bare samples: matched by items like any sample; no_metadata: ORed with the ANDed items":
            {1, 3, 12},
        "bare samples: matched by items like any sample; no_metadata: ANDed with the items": {3, 12},
        "bare samples: only with no_metadata; no_metadata: ORed with the ANDed items": {1, 3, 12},
        "bare samples: only with no_metadata; no_metadata: ANDed with the items": set()}),
]
EXPLICIT = [
    ("minId", "4", {4, 12}),
    ("maxId", "4", {1, 2, 3}),
    ("minLabel", "1.5", {3, 4}),
    ("maxLabel", "3", {3}),
    ("signatureValidity", "valid", {1, 4, 12}),
    ("signatureValidity", "invalid", {2, 3}),
    ("signatureValidity", "both", ALL),
    ("metadata", '[{"key": "site", "op": "eq"}]', {1, 2}),
    ("metadata", '[{"key": "site", "op": "eq", "values": []}]', {1, 2}),
    ("metadata", '[{"key": "site", "op": "eq", "values": ["A", "B"]}]', {1, 2}),
    ("metadata", '[{"no_metadata": true}]', {3, 12}),
    ("metadata", '[{"key": "site", "op": "eq", "values": ["A"]}, '
                 '{"key": "dev", "op": "eq", "values": ["y"]}]', {1, 4}),
    ("metadata", '[{"key": "site", "op": "eq"}, {"key": "dev", "op": "eq"}, '
                 '{"filters_combinator": "and"}]', {2}),
]
CASES = [(w, v, r, ids) for w, v, readings in AMBIGUOUS for r, ids in readings.items()] + [
    (w, v, "documented", ids) for w, v, ids in EXPLICIT]


def by_ids(ids: set[int]) -> list[dict[str, Any]]:
    return [s for s in LISTING if s["id"] in ids]


@pytest.mark.parametrize(("wire", "value", "reading", "ids"), CASES)
def test_reading_predicates(wire: str, value: str, reading: str, ids: set[int]) -> None:
    parsed = parse_filter(wire, value)
    [chosen] = [r for r in parsed.readings if r.name == reading or len(parsed.readings) == 1]
    assert {s["id"] for s in LISTING if chosen.predicate(s)} == ids


@pytest.mark.parametrize(("wire", "value", "reading", "ids"), CASES)
def test_server_following_a_reading_passes_and_is_observed(wire: str, value: str, reading: str,
                                                           ids: set[int]) -> None:
    violations, observations = check_filter(LISTING, by_ids(ids), {wire: value})
    assert violations == []
    if reading == "documented":
        assert observations == []
    else:
        # Readings this listing cannot tell apart are observed together, joined by " | ".
        [observed] = observations
        assert observed.topic == f"filter:{wire}" and reading in observed.reading.split(" | ")


@pytest.mark.parametrize(("wire", "value", "readings"),
                         [c for c in AMBIGUOUS if set().union(*c[2].values()) != ALL])
def test_extra_sample_is_unsound(wire: str, value: str, readings: dict[str, set[int]]) -> None:
    union = set().union(*readings.values())
    outsider = min(ALL - union)
    violations, _ = check_filter(LISTING, by_ids(union | {outsider}), {wire: value})
    assert clause_ids(violations) == {"FILTER-SOUND"}
    assert violations[0].evidence["samples"][0]["id"] == outsider


@pytest.mark.parametrize(("wire", "value", "readings"),
                         [c for c in AMBIGUOUS if set.intersection(*c[2].values())])
def test_missing_sample_is_incomplete(wire: str, value: str,
                                      readings: dict[str, set[int]]) -> None:
    inter = set.intersection(*readings.values())
    violations, _ = check_filter(LISTING, by_ids(inter - {min(inter)}), {wire: value})
    assert clause_ids(violations) == {"FILTER-COMPLETE"}


@pytest.mark.parametrize(("wire", "value", "ids"), EXPLICIT)
def test_explicit_filters_are_sound_and_complete(wire: str, value: str, ids: set[int]) -> None:
    if ids != ALL:
        assert clause_ids(check_filter(LISTING, by_ids(ids | ALL), {wire: value})[0]) == {
            "FILTER-SOUND"}
    if ids:
        assert clause_ids(check_filter(LISTING, by_ids(ids - {min(ids)}), {wire: value})[0]) == {
            "FILTER-COMPLETE"}


def test_inconclusive_when_readings_agree() -> None:
    _, [observation] = check_filter(LISTING, by_ids({2, 12}), {"minLength": "1100"})
    assert observation.reading == "inconclusive"
    assert "agree" in observation.detail


def test_no_reading_matches_is_observed() -> None:
    # Sound (within the inclusive reading) and complete (holds the strict one), yet neither
    # reading gives exactly {1, 2, 12}.
    violations, [observation] = check_filter(LISTING, by_ids({1, 2, 12}), {"minLength": "1000"})
    assert violations == []
    assert observation.reading == "none"


def test_foreign_and_anonymous_returned_entries_are_unsound() -> None:
    returned = [*by_ids({2, 12}), sample(77, totalLengthMs=5000)]
    assert clause_ids(check_filter(LISTING, returned, {"minLength": "1000"})[0]) == {"FILTER-SOUND"}
    returned = [*by_ids({2, 12}), {"filename": "anonymous.wav"}]
    assert clause_ids(check_filter(LISTING, returned, {"minLength": "1000"})[0]) == {"FILTER-SOUND"}


def test_listings_may_be_model_results_or_ids() -> None:
    results = [model_result(s) for s in LISTING]
    assert check_filter(results, [2, 12], {"minLength": "1000"}).violations == []
    assert check_filter(results, [model_result(s) for s in by_ids({2, 12})],
                        {"minLength": "1000"}).violations == []


def test_two_filters_are_anded() -> None:
    query = {"minLength": "1000", "signatureValidity": "valid"}  # dataType: tests/oracles/test_twin_readings.py
    assert check_filter(LISTING, by_ids({12}), query).violations == []  # strict
    assert check_filter(LISTING, by_ids({1, 12}), query).violations == []  # inclusive
    assert clause_ids(check_filter(LISTING, by_ids({1, 2, 12}), query)[0]) == {"FILTER-SOUND"}
    assert clause_ids(check_filter(LISTING, by_ids(set()), query)[0]) == {"FILTER-COMPLETE"}


def test_observation_when_another_filter_hides_the_difference() -> None:
    # The readings of minLength=1000 differ on 1 and 4, which signatureValidity=invalid excludes.
    _, [observation] = check_filter(LISTING, by_ids({2}), {"minLength": "1000",
                                                          "signatureValidity": "invalid"})
    assert observation.reading == "inconclusive"
    assert "other filters" in observation.detail


# --- parse_filter ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("category", "training"),
        ("minLength", "10.5"),
        ("minLength", "ten"),
        ("minLength", "1_000"),
        ("minFrequency", "nan"),
        ("minFrequency", "Infinity"),
        ("maxId", ""),
        ("minDate", "2025-01-01"),  # no offset: the server's zone would decide
        ("minDate", "2025-01-01T00:00:00 00:00"),  # the client's unencoded '+'
        ("minDate", "yesterday"),
        ("signatureValidity", "VALID"),
        ("labels", '["idle", 3]'),
        ("labels", "[]"),
        ("labels", "idle"),
        ("metadata", '[{ "key": "distance", "op": "eq", "values": ["1.5"], "key": "comments" }]'),
        ("metadata", '[{ "key": "a", "op": "eq", exclude: ["faulty"] }]'),
        ("metadata", '[{"key": "a", "op": "like"}]'),
        ("metadata", '[{"key": "", "op": "eq"}]'),
        ("metadata", '[{"key": "a", "op": "eq", "values": "x"}]'),
        ("metadata", '[{"key": "a", "op": "eq", "values": [1, 2]}]'),
        ("metadata", '[{"key": "a", "op": "eq", "exclude": ["x"]}]'),
        ("metadata", "[]"),
        ("metadata", '[{"no_metadata": false}]'),
        ("metadata", '[{"no_metadata": "yes"}]'),
        ("metadata", '[{"key": "a", "op": "eq"}, {"filters_combinator": "xor"}]'),
        ("metadata", '[{"no_metadata": true}, {"no_metadata": true}]'),
        ("metadata", '{"key": "a", "op": "eq"}'),
    ],
)
def test_parse_filter_rejects_what_it_cannot_evaluate(wire: str, value: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_filter(wire, value)


def test_parse_filter_accepts_the_seed_examples() -> None:
    for value in ['[{ "key": "locationId", "op": "eq", "values": ["buildingA"] }, '
                  '{ "key": "deviceId", "op": "neq", "values": ["val1", "val2"] }]',
                  '[{ "key": "nullKeyExample", "op": "eq" }]',
                  '[{ "key": "presentKeyExample", "op": "neq" }]', '[{ "no_metadata": true }]']:
        assert parse_filter("metadata", value).readings
    assert parse_filter("labels", '["idle", "snake"]').ambiguous
    assert parse_filter("minDate", "2023-01-01T00:00:00.000Z").ambiguous


# --- candidate values ----------------------------------------------------------------------

def test_candidate_values_hold_the_boundaries() -> None:
    lengths = candidate_values(LISTING, "minLength")
    assert {"499", "500", "501", "999", "1000", "1001", "2001"} <= set(lengths)
    assert {"49", "50", "56.25", "62.5", "81.25", "100", "201"} <= set(candidate_values(LISTING, "maxFrequency"))
    assert {"3", "4", "5", "11", "12", "13"} <= set(candidate_values(LISTING, "minId"))
    dates = candidate_values(LISTING, "minDate")
    assert {"2025-01-01T00:00:00.000Z", "2024-12-31T23:59:59.999Z",
            "2025-01-01T00:00:00.001Z"} <= set(dates)
    assert {"1.5", "3", "0.5", "4", "2.25"} <= set(candidate_values(LISTING, "minLabel"))
    assert {'["idle"]', '["wave"]', '["noise"]'} <= set(candidate_values(LISTING, "labels"))
    assert {"Idle01.wav", "iDLE01.WAV"} <= set(candidate_values(LISTING, "filename"))
    assert {"12 x12.wav", "12"} <= set(candidate_values(LISTING, "search"))
    assert {"chart", "image", "video"} <= set(candidate_values(LISTING, "dataType"))


@pytest.mark.parametrize("wire", FILTER_NAMES)
def test_every_candidate_parses(wire: str) -> None:
    values = candidate_values(LISTING, wire)
    assert values
    for value in values:
        parse_filter(wire, value)
    assert candidate_values([], wire)  # something to draw even from an empty listing
    for value in candidate_values([], wire):
        parse_filter(wire, value)


def test_candidate_values_at_float_extremes() -> None:
    extremes = [sample(1, frequency=1.7e308, label="1e308", totalLengthMs=1e300),
                sample(2, frequency=1.6e308, label="-1.7e308", totalLengthMs=5e-324)]
    for wire in FILTER_NAMES:
        for value in candidate_values(extremes, wire):
            parse_filter(wire, value)


def test_candidate_values_unknown_name() -> None:
    with pytest.raises(ValueError):
        candidate_values(LISTING, "category")


# --- property tests: in-memory servers that follow one reading, and mutants -----------------

INSTANTS = ["2025-01-01T00:00:00.000Z", "2025-01-01T01:00:00+01:00", "2025-01-01T00:00:00.001Z",
            "2024-06-30T12:00:00Z", "2025-01-02T00:00:00Z"]


@st.composite
def listings(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(st.integers(1, 60), unique=True, max_size=20))
    out = []
    for sample_id in ids:
        smp = sample(
            sample_id,
            filename=draw(st.sampled_from(["Idle01.wav", "idle02.WAV", "wave 3.wav", "x12.cbor"])),
            label=draw(st.sampled_from(["idle", "wave", "1.5", "3", "-2"])),
            totalLengthMs=draw(st.sampled_from([0, 500, 999, 1000, 1000.5, 2000])),
            frequency=draw(st.sampled_from([50, 62.5, 100, 100.0])),
            signatureValidate=draw(st.booleans()),
            chartType=draw(st.sampled_from(["chart", "image"])),
            metadata=draw(st.dictionaries(st.sampled_from(["site", "dev"]),
                                          st.sampled_from(["A", "B"]), max_size=2)),
            added=draw(st.sampled_from(INSTANTS)),
            structuredLabelsList=draw(st.lists(st.sampled_from(["idle", "wave"]), max_size=2)),
        )
        out.append(smp)
    return out


@st.composite
def scenario(draw: st.DrawFn, filters: int = 1) -> tuple[Any, ...]:
    samples = draw(listings())
    wires = draw(st.lists(st.sampled_from(FILTER_NAMES), min_size=filters, max_size=filters,
                          unique=True))
    query = {w: draw(st.sampled_from(candidate_values(samples, w))) for w in wires}
    parsed = [parse_filter(w, v) for w, v in query.items()]
    chosen = [draw(st.sampled_from(p.readings)) for p in parsed]
    answer = [s for s in samples if all(r.predicate(s) for r in chosen)]
    return samples, query, parsed, chosen, answer


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_any_reading_passes_and_is_named(case: tuple[Any, ...]) -> None:
    samples, query, [parsed], [chosen], answer = case
    violations, observations = check_filter(samples, answer, query)
    assert violations == []
    if parsed.ambiguous:
        [observation] = observations
        assert observation.reading == "inconclusive" or chosen.name in observation.reading


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(filters=2))
def test_two_filters_following_readings_pass(case: tuple[Any, ...]) -> None:
    samples, query, _, _, answer = case
    assert check_filter(samples, answer, query).violations == []


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.data())
def test_mutants_are_caught(case: tuple[Any, ...], data: st.DataObject) -> None:
    samples, query, [parsed], _, answer = case
    assume(parsed.wire_name != "dataType")  # not judged by its readings: tests/oracles/test_twin_readings.py
    union = [s for s in samples if any(r.predicate(s) for r in parsed.readings)]
    inter = [s for s in samples if all(r.predicate(s) for r in parsed.readings)]
    outside = [s for s in samples if s not in union]
    if outside:
        extra = data.draw(st.sampled_from(outside))
        assert clause_ids(check_filter(samples, [*answer, extra], query)[0]) == {"FILTER-SOUND"}
    if inter:
        dropped = data.draw(st.sampled_from(inter))
        rest = [s for s in answer if s is not dropped]
        assert clause_ids(check_filter(samples, rest, query)[0]) == {"FILTER-COMPLETE"}


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(filters=2), st.data())
def test_an_index_or_a_slim_listing_gives_the_same_findings(case: tuple[Any, ...], data: st.DataObject) -> None:
    """check_filter on index_samples() (built once for many checks) and on slimmed pages
    (paging.slim_page) judges exactly as on the whole listing, right answers and mutants alike."""
    samples, query, parsed, _, answer = case
    returned = data.draw(st.sampled_from([answer, answer[1:], [*answer, *samples[:1]]]), label="returned")
    whole = check_filter(samples, returned, query)
    slim = slim_page(page_body(samples))
    assert isinstance(slim, dict)
    assert check_filter(index_samples(samples), returned, query) == whole
    assert check_filter(slim["result"], returned, query) == whole
    slim_samples = [r["sample"] for r in slim["result"]]
    assert all(candidate_values(slim_samples, w) == candidate_values(samples, w) for w in query)
    for f in parsed:  # a reading's key and test say what its predicate says
        for reading in f.readings:
            if reading.key is not None and reading.test is not None:
                for smp in samples:
                    key = reading.key(smp)
                    assert reading.predicate(smp) == (key is not None and reading.test(key))


def test_a_100k_listing_is_judged_correctly() -> None:
    # Correctness at scale only: how fast it runs is for the benchmark scripts, not a test.
    big = [sample(i, totalLengthMs=i % 5000, filename=f"file{i}.wav",
                  metadata={"site": "AB"[i % 2]}) for i in range(100_000)]
    query = {"minLength": "2501", "metadata": META_NEQ}
    answer = [s for s in big if s["totalLengthMs"] > 2501 and s["metadata"]["site"] != "A"]
    findings = check_filter(big, answer, query)
    assert findings.violations == []
    assert [o.reading for o in findings.observations] == ["strict (>)", "inconclusive"]


# --- composition, paging, malformed --------------------------------------------------------

def test_composition() -> None:
    a, b = by_ids({1, 2, 4}), by_ids({2, 4, 12})
    assert check_composition(a, b, by_ids({2, 4})) == []
    assert check_composition([1, 2, 4], [2, 4, 12], [4, 2]) == []
    for ab in ({2}, {2, 4, 12}, {1, 2, 4, 12}):
        assert clause_ids(check_composition(a, b, by_ids(ab))) == {"FILTER-COMPOSE"}


def test_filter_paging() -> None:
    full = [3, 5, 8, 13, 21]
    assert check_filter_paging(full, [5, 8], offset=1, limit=2) == []
    assert check_filter_paging(full, [21], offset=4, limit=2) == []
    assert check_filter_paging(full, [], offset=5, limit=2) == []
    for page, offset in (([8, 5], 1), ([5], 1), ([5, 8, 13], 1), ([3, 5], 1), ([1], 9)):
        violations = check_filter_paging(full, page, offset=offset, limit=2)
        assert clause_ids(violations) == {"FILTER-PAGING"}


def test_malformed_is_an_error() -> None:
    assert check_malformed(FAILURE, 400, unfiltered_count=5) == []
    assert check_malformed(FAILURE, 200, unfiltered_count=5) == []
    assert clause_ids(check_malformed(FAILURE, 500, 5)) == {"FILTER-MALFORMED"}
    assert clause_ids(check_malformed({"success": False}, 400, 5)) == {"ENVELOPE-ERROR"}
    [filtered] = check_malformed(page_body(LISTING[:2]), 200, 5)
    assert filtered.clause == "FILTER-MALFORMED" and "unfiltered" not in filtered.message


@pytest.mark.parametrize(("body", "limit"), [
    (page_body(LISTING), None),
    (page_body(LISTING[:2]), 2),
    (page_body(LISTING[:2], totalCount=5), None),
])
def test_malformed_filter_ignored_is_called_out(body: dict[str, Any], limit: int | None) -> None:
    [violation] = check_malformed(body, 200, unfiltered_count=5, limit=limit,
                                  context=f"metadata={json.dumps('[{key: 1}]')}")
    assert violation.clause == "FILTER-MALFORMED"
    assert "unfiltered listing" in violation.message and "silently ignored" in violation.message


def test_a_filter_no_sample_can_match_is_refused_or_selects_nothing() -> None:
    from eicontract.oracles.filters import check_unmatchable

    assert check_unmatchable(FAILURE, 400, "k") == []  # refused: a reading
    assert check_unmatchable({"success": True, "result": [], "predictions": []}, 200, "k") == []  # read: nothing
    assert clause_ids(check_unmatchable(FAILURE, 500, "k")) == {"SCHEMA-NEGATIVE"}
    page = {"success": True, "result": [{"sampleId": 1, "sample": {"id": 1}, "classifications": []}]}
    assert clause_ids(check_unmatchable(page, 200, "k")) == {"FILTER-SOUND"}
    assert clause_ids(check_unmatchable({"success": False}, 400, "k")) == {"ENVELOPE-ERROR"}  # no error text
