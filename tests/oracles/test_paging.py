from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.oracles.paging import (
    PageRead,
    check_bad_param,
    check_page,
    check_past_end,
    check_stable,
    check_sweep,
    check_total,
    compare_sweeps,
    page_ids,
    page_results,
    slim_page,
    sweep_ids,
)
from eicontract.violations import Violation
from tests.oracles.factories import FAILURE, clause_ids, page_body, sample

Server = Callable[[int, int], dict[str, Any]]
WINDOW = 300


def listing(n: int) -> list[dict[str, Any]]:
    return [sample(100 + i, totalLengthMs=200 + 37 * i) for i in range(n)]


def predictions_for(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One prediction per window, or one zero-padded window for a short sample."""
    out = []
    for smp in samples:
        total = smp["totalLengthMs"]
        starts = range(0, max(total - WINDOW, 0) + 1, 100)
        out += [{"sampleId": smp["id"], "startMs": s, "endMs": s + WINDOW, "prediction": "idle"}
                for s in starts]
    return out


def correct_server(samples: list[dict[str, Any]], with_total: bool = True) -> Server:
    def serve(limit: int, offset: int) -> dict[str, Any]:
        page = samples[offset:offset + limit]
        extra = {"totalCount": len(samples)} if with_total else {}
        return page_body(page, predictions_for(page), **extra)
    return serve


def sweep(serve: Server, page_size: int, max_pages: int = 200) -> list[PageRead]:
    """What the HTTP layer does: step the offset by the results returned, stop on empty."""
    reads: list[PageRead] = []
    offset = 0
    for _ in range(max_pages):
        read = PageRead(page_size, offset, serve(page_size, offset))
        reads.append(read)
        count = len(read.body.get("result") or [])
        if count == 0:
            break
        offset += count
    return reads


def all_violations(serve: Server, samples: list[dict[str, Any]], page_size: int) -> set[str]:
    reads = sweep(serve, page_size)
    reference = sweep(correct_server(samples), 7)
    found = [v for r in reads for v in check_page(r, WINDOW)]
    found += check_sweep(reads, page_size)
    found += compare_sweeps(sweep_ids(reference), sweep_ids(reads))
    found += check_total(reads, len(samples)).violations
    found += check_stable(reads[0], PageRead(page_size, 0, serve(page_size, 0)))
    past = len(samples) + 3
    found += check_past_end(PageRead(page_size, past, serve(page_size, past)), len(samples))
    return clause_ids(found)


@given(n=st.integers(0, 40), page_size=st.integers(1, 12))
def test_correct_server_passes_every_check(n: int, page_size: int) -> None:
    samples = listing(n)
    assert all_violations(correct_server(samples), samples, page_size) == set()


@given(n=st.integers(0, 40), page_size=st.integers(1, 12), seed=st.integers(0, 1000))
def test_short_pages_are_legal(n: int, page_size: int, seed: int) -> None:
    samples = listing(n)

    def serve(limit: int, offset: int) -> dict[str, Any]:
        # Fewer than limit, but the same page every time (limit, offset) is read.
        size = random.Random(f"{seed}/{limit}/{offset}").randint(1, limit)
        page = samples[offset:offset + size]
        return page_body(page, predictions_for(page), totalCount=n)

    assert all_violations(serve, samples, page_size) == set()


# --- mutated servers: each breaks exactly one rule -----------------------------------------

def over_limit(samples: list[dict[str, Any]]) -> Server:
    return lambda limit, offset: page_body(samples[offset:offset + limit + 1])


def overlapping(samples: list[dict[str, Any]]) -> Server:
    # Each page after the first repeats the previous page's last sample.
    return lambda limit, offset: page_body(samples[offset - 1:offset + limit - 1]
                                           if 0 < offset < len(samples) else
                                           samples[offset:offset + limit])


def skipping(samples: list[dict[str, Any]]) -> Server:
    return lambda limit, offset: page_body(samples[offset + (1 if offset else 0):offset + limit])


def order_by_page_size(samples: list[dict[str, Any]]) -> Server:
    def serve(limit: int, offset: int) -> dict[str, Any]:
        order = samples if limit != 5 else samples[::-1]
        return page_body(order[offset:offset + limit])
    return serve


def shuffling(samples: list[dict[str, Any]]) -> Server:
    calls = iter(range(10**6))

    def serve(limit: int, offset: int) -> dict[str, Any]:
        page = samples[offset:offset + limit]
        return page_body(page[::-1] if next(calls) % 2 else page)
    return serve


def repeating_last_page(samples: list[dict[str, Any]]) -> Server:
    # Past the end (but not at it, so that sweeps still end) the last page comes back.
    return lambda limit, offset: page_body(samples[offset:offset + limit]
                                           if offset <= len(samples) else samples[-limit:])


def wrong_total(samples: list[dict[str, Any]]) -> Server:
    return lambda limit, offset: page_body(samples[offset:offset + limit],
                                           totalCount=len(samples[offset:offset + limit]))


def foreign_predictions(samples: list[dict[str, Any]]) -> Server:
    def serve(limit: int, offset: int) -> dict[str, Any]:
        page = samples[offset:offset + limit]
        return page_body(page, predictions_for(samples[offset + limit:offset + limit + 1]))
    return serve


@pytest.mark.parametrize(
    ("make", "page_size", "clause"),
    [
        (over_limit, 5, "PAGE-LIMIT"),
        (overlapping, 5, "PAGE-DISJOINT"),
        (skipping, 5, "PAGE-COMPLETE"),
        (order_by_page_size, 5, "PAGE-STABLE"),
        (shuffling, 4, "PAGE-STABLE"),
        (repeating_last_page, 5, "PAGE-PAST-END"),
        (wrong_total, 5, "PAGE-TOTAL"),
        (foreign_predictions, 5, "PAGE-PREDICTIONS"),
    ],
)
def test_mutated_server_breaks_exactly_its_rule(make: Callable[[list[dict[str, Any]]], Server],
                                                page_size: int, clause: str) -> None:
    samples = listing(23)
    assert all_violations(make(samples), samples, page_size) == {clause}


# --- single checks -------------------------------------------------------------------------

def test_page_ids_are_robust() -> None:
    body = {"result": [{"sampleId": 1}, {"sample": {"id": 2}}, {"sampleId": "3"}, 4, None]}
    assert page_ids(body) == [1, 2]
    assert page_ids(None) == [] and page_ids({"result": "x"}) == []


def test_page_without_result_array() -> None:
    read = PageRead(5, 0, FAILURE)
    assert clause_ids(check_page(read)) == {"PAGE-LIMIT"}


def test_duplicate_within_a_page() -> None:
    samples = listing(3)
    read = PageRead(5, 0, page_body([*samples, samples[0]]))
    assert clause_ids(check_page(read)) == {"PAGE-DISJOINT"}


@pytest.mark.parametrize(
    ("prediction", "window"),
    [
        ({"sampleId": 100, "startMs": -1, "endMs": 100}, WINDOW),
        ({"sampleId": 100, "startMs": 100, "endMs": 100}, WINDOW),
        ({"sampleId": 100, "startMs": 200, "endMs": 500}, WINDOW),  # starts at the end
        ({"sampleId": 101, "startMs": 0, "endMs": 400}, WINDOW),  # 237 ms: past one window
        ({"sampleId": 102, "startMs": 300, "endMs": 400}, None),  # starts past 274 ms
        ({"sampleId": 100, "startMs": "0", "endMs": 100}, WINDOW),
        ({"sampleId": 999, "startMs": 0, "endMs": 100}, WINDOW),
        ("prediction", WINDOW),
    ],
)
def test_prediction_violations(prediction: object, window: int | None) -> None:
    read = PageRead(5, 0, page_body(listing(3), [prediction]))  # type: ignore[list-item]
    assert clause_ids(check_page(read, window)) == {"PAGE-PREDICTIONS"}


@pytest.mark.parametrize(
    ("prediction", "window"),
    [
        ({"sampleId": 100, "startMs": 0, "endMs": 300}, WINDOW),  # padded short sample
        ({"sampleId": 102, "startMs": 0, "endMs": 274}, WINDOW),
        ({"sampleId": 102, "startMs": 274, "endMs": 900}, None),  # window unknown
    ],
)
def test_predictions_ok(prediction: dict[str, Any], window: int | None) -> None:
    assert check_page(PageRead(5, 0, page_body(listing(3), [prediction])), window) == []


def _judged(label: object, predicted: object, correct: object) -> list[Violation]:
    prediction = {"sampleId": 101, "startMs": 0, "endMs": 237, "label": label,
                  "prediction": predicted, "predictionCorrect": correct}
    return check_page(PageRead(5, 0, page_body(listing(3), [prediction])), WINDOW)


@pytest.mark.parametrize(("label", "predicted", "correct"), [
    ("idle", "idle", True), ("idle", "wave", False),
    ("idle", "uncertain", False),  # a prediction no label can be is never correct
    (None, "idle", True), ("idle", "idle", None),  # not all three there: not judged
])
def test_prediction_correct_matches(label: object, predicted: object, correct: object) -> None:
    assert _judged(label, predicted, correct) == []


@pytest.mark.parametrize(("label", "predicted", "correct"), [
    ("idle", "idle", False), ("wave", "idle", True),
    ("idle", "wave", True),  # "wave" >= "idle": the string-order mutant
])
def test_prediction_correct_wrong(label: object, predicted: object, correct: object) -> None:
    [violation] = _judged(label, predicted, correct)
    assert violation.clause == "PAGE-PREDICTIONS" and "predictionCorrect" in violation.message


def test_predictions_not_an_array() -> None:
    body = page_body(listing(2))
    body["predictions"] = {"sampleId": 100}
    assert clause_ids(check_page(PageRead(5, 0, body))) == {"PAGE-PREDICTIONS"}


def test_sweep_must_end_on_an_empty_page() -> None:
    samples = listing(6)
    reads = sweep(correct_server(samples), 4)
    assert check_sweep(reads, 4) == []
    assert clause_ids(check_sweep(reads[:-1], 4)) == {"PAGE-COMPLETE"}
    assert clause_ids(check_sweep([], 4)) == {"PAGE-COMPLETE"}


def test_compare_sweeps() -> None:
    assert compare_sweeps([1, 2, 3], [1, 2, 3]) == []
    assert compare_sweeps([1, 2, 3], [1, 2, 2, 3]) == []  # repeats are PAGE-DISJOINT's
    assert clause_ids(compare_sweeps([1, 2, 3], [1, 3])) == {"PAGE-COMPLETE"}
    assert clause_ids(compare_sweeps([1, 2, 3], [1, 2, 3, 4])) == {"PAGE-COMPLETE"}
    [violation] = compare_sweeps([1, 2, 3], [1, 3, 2])
    assert violation.clause == "PAGE-STABLE" and violation.evidence == {"position": 1}


def test_check_stable() -> None:
    samples = listing(4)
    first = PageRead(3, 1, page_body(samples[1:4]))
    assert check_stable(first, PageRead(3, 1, page_body(samples[1:4]))) == []
    assert clause_ids(check_stable(first, PageRead(3, 1, page_body(samples[1:3])))) == {
        "PAGE-STABLE"}
    assert clause_ids(check_stable(first, PageRead(3, 1, FAILURE))) == {"PAGE-STABLE"}
    with pytest.raises(ValueError):
        check_stable(first, PageRead(3, 2, page_body([])))


def test_past_end() -> None:
    assert check_past_end(PageRead(5, 10, page_body([])), 10) == []
    assert clause_ids(check_past_end(PageRead(5, 10, page_body(listing(1))), 10)) == {
        "PAGE-PAST-END"}
    assert clause_ids(check_past_end(PageRead(5, 12, FAILURE), 10)) == {"PAGE-PAST-END"}
    with pytest.raises(ValueError):
        check_past_end(PageRead(5, 3, page_body([])), 10)


def test_total_absent_is_observed() -> None:
    reads = sweep(correct_server(listing(5), with_total=False), 2)
    findings = check_total(reads, 5)
    assert findings.violations == []
    assert [(o.topic, o.reading) for o in findings.observations] == [("page:totalCount", "absent")]


@pytest.mark.parametrize("total", [4, "5", None, True])
def test_total_wrong(total: object) -> None:
    findings = check_total([PageRead(2, 0, page_body(listing(2), totalCount=total))], 5)
    assert clause_ids(findings.violations) == {"PAGE-TOTAL"}


def test_bad_param() -> None:
    assert check_bad_param(FAILURE, 400) == []
    assert clause_ids(check_bad_param(page_body([]), 200, "limit=-1")) == {"PAGE-PARAMS"}
    assert clause_ids(check_bad_param(FAILURE, 500)) == {"PAGE-PARAMS"}
    assert clause_ids(check_bad_param({"success": False}, 400)) == {"ENVELOPE-ERROR"}


def test_a_slim_page_keeps_what_the_sweep_oracles_read() -> None:
    samples = listing(7)
    bodies = [page_body(samples[i:i + 3], predictions=predictions_for(samples[i:i + 3]), totalCount=8)
              for i in (0, 3, 6, 9)]
    whole = [PageRead(3, i * 3, b) for i, b in enumerate(bodies)]
    slim = [PageRead(r.limit, r.offset, slim_page(r.body)) for r in whole]
    assert sweep_ids(slim) == sweep_ids(whole) == [s["id"] for s in samples]
    assert check_sweep(slim, 3) == check_sweep(whole, 3)
    assert check_total(slim, 7) == check_total(whole, 7) and check_total(whole, 7).violations
    first = slim[0].body
    assert set(first) == {"success", "result", "totalCount"}
    assert set(first["result"][0]) == {"sampleId", "sample"}
    assert "classifications" in whole[0].body["result"][0]


@pytest.mark.parametrize("body", [None, [], "text", {"success": False, "error": "x"},
                                  {"result": "not a list"}, {"result": [1, None, {"sampleId": 3}]}])
def test_a_slim_page_keeps_unexpected_shapes_as_they_are(body: Any) -> None:
    slim = slim_page(body)
    assert page_results(slim) == page_results(body)
    assert page_ids(slim) == page_ids(body)


def _classified_page(predictions: list[dict[str, Any]], block_type: str = "keras") -> dict[str, Any]:
    body = page_body(listing(2), predictions)
    for entry in body["result"]:
        entry["classifications"] = [{"learnBlock": {"id": 7, "type": block_type},
                                     "result": [{"idle": 0.5, "wave": 0.5}], "expectedLabels": []}]
    return body


def test_a_page_of_classified_samples_has_predictions() -> None:
    """'containing the predictions for a given page': not none at all when its samples have
    classifier results (the mutant that cuts every page's predictions to [])."""
    read = PageRead(5, 0, _classified_page(predictions_for(listing(2))))
    assert check_page(read, WINDOW) == []
    [violation] = check_page(PageRead(5, 0, _classified_page([])), WINDOW)
    assert violation.clause == "PAGE-PREDICTIONS" and "no predictions" in violation.message
    # anomaly blocks only, or no classifications: a page may have no predictions
    assert check_page(PageRead(5, 0, _classified_page([], "anomaly-gmm")), WINDOW) == []
    assert check_page(PageRead(5, 0, page_body(listing(2), [])), WINDOW) == []
