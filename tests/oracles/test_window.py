from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.oracles.label_picks import edge_windows, multi_label_order, pick_multi_label
from eicontract.oracles.labels import check_expected_labels, check_page_expected_labels
from eicontract.oracles.window import (
    READING_NO_WINDOW,
    READING_PADDED,
    check_anomaly,
    check_anomaly_scores,
    check_probabilities,
    check_result_windows,
    check_window_count,
    expected_window_counts,
)
from eicontract.violations import Observation
from tests.oracles.factories import classification, classify_body, clause_ids, expected_labels, sample

# --- the window count ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("total", "window", "increase", "expected"),
    [
        (1000, 300, 100, (8,)),
        (1000, 1000, 100, (1,)),
        (1099, 1000, 100, (1, 2)),  # a tail of 99 ms: full windows only, or one padded over it
        (1100, 1000, 100, (2,)),
        (1000, 700, 0.1, (3001,)),  # 300 / 0.1 is 2999.9999999999995 in floats
        (0.9, 0.6, 0.1, (4,)),
        (999, 1000, 100, (0, 1)),
        (0, 1000, 100, (0, 1)),
    ],
)
def test_expected_window_counts(total: float, window: float, increase: float,
                                expected: tuple[int, ...]) -> None:
    assert expected_window_counts(total, window, increase) == expected


@given(total=st.integers(0, 5000), window=st.integers(1, 2000), increase=st.integers(1, 500))
def test_window_count_matches_brute_force(total: int, window: int, increase: int) -> None:
    starts = [s for s in range(0, total + 1, increase) if s + window <= total]
    allowed = expected_window_counts(total, window, increase)
    tail = bool(starts) and starts[-1] + window < total  # reading.tail-window
    assert allowed == ((0, 1) if total < window else
                       (len(starts), len(starts) + 1) if tail else (len(starts),))


@pytest.mark.parametrize("args", [(1000, 0, 100), (1000, 300, 0), (-1, 300, 100),
                                  (None, 300, 100), (True, 300, 100)])
def test_expected_window_counts_rejects_nonsense(args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        expected_window_counts(*args)  # type: ignore[arg-type]


def test_count_ok() -> None:
    assert check_window_count(classify_body()) == ([], [])


def test_count_wrong() -> None:
    body = classify_body()
    body["classifications"][0]["result"].append({"idle": 0.5, "wave": 0.5})
    [violation] = check_window_count(body).violations
    assert violation.clause == "WINDOW-COUNT" and "expected 8" in violation.message


@pytest.mark.parametrize("windows,reading", [(0, READING_NO_WINDOW), (1, READING_PADDED)])
def test_short_sample_accepts_both_readings(windows: int, reading: str) -> None:
    body = classify_body(total_ms=200, window_ms=300,
                         classifications=[classification(windows=windows)])
    findings = check_window_count(body)
    assert findings.violations == []
    assert [o.reading for o in findings.observations] == [reading]
    assert findings.observations[0].topic == "window:short-sample"


def test_short_sample_with_two_windows() -> None:
    body = classify_body(total_ms=200, window_ms=300, classifications=[classification(windows=2)])
    body["classifications"][0]["expectedLabels"].pop()  # labels say one padded window
    assert clause_ids(check_window_count(body).violations) == {"WINDOW-COUNT"}


@pytest.mark.parametrize("mutate", [
    lambda b: b["sample"]["sample"].pop("totalLengthMs"),
    lambda b: b.update(windowIncreaseMs=0),
    lambda b: b.update(windowSizeMs="300"),
    lambda b: b.update(classifications=None),
    lambda b: b["classifications"][0].update(result={"idle": 1}),
])
def test_count_unknowable(mutate: object) -> None:
    body = classify_body()
    mutate(body)  # type: ignore[operator]
    assert clause_ids(check_window_count(body).violations) == {"WINDOW-COUNT"}


def test_result_count() -> None:
    assert check_window_count(classify_body(classifications=[
        classification(windows=8, resultCount=8)])).violations == []
    # Structured outputs may make resultCount larger than the windows.
    assert check_window_count(classify_body(classifications=[
        classification(windows=8, resultCount=20, structuredResult=[])])).violations == []
    for count in (7, 9, "8", None):
        body = classify_body(classifications=[classification(windows=8, resultCount=count)])
        assert clause_ids(check_window_count(body).violations) == {"WINDOW-COUNT"}


# --- WINDOW-LABELS ------------------------------------------------------------------------

def test_labels_wrong_count() -> None:
    body = classify_body()
    body["classifications"][0]["expectedLabels"].pop()
    assert clause_ids(check_window_count(body).violations) == {"WINDOW-LABELS"}


def test_labels_missing() -> None:
    body = classify_body()
    del body["classifications"][0]["expectedLabels"]
    assert clause_ids(check_window_count(body).violations) == {"WINDOW-LABELS"}


@pytest.mark.parametrize(("windows", "reading"), [(1, "full windows only"),
                                                  (2, "a last zero-padded window over the tail")])
def test_tail_window_readings_pass_and_are_observed(windows: int, reading: str) -> None:
    """reading.tail-window: 1099 ms, window 1000, increase 100: one full window, or two with
    the last zero-padded over the 99 ms tail."""
    body = classify_body(total_ms=1099, window_ms=1000, increase_ms=100,
                         classifications=[classification(windows=windows)])
    findings = check_window_count(body)
    assert findings.violations == [] and [o.reading for o in findings.observations] == [reading]


def test_tail_window_counts_must_agree() -> None:
    """Server fault window-off-by-one: one window too many in result, expectedLabels right."""
    body = classify_body(total_ms=1099, window_ms=1000, increase_ms=100,
                         classifications=[classification(windows=1)])
    body["classifications"][0]["result"].append({"idle": 0.5, "wave": 0.5})
    assert clause_ids(check_window_count(body).violations) == {"WINDOW-COUNT"}


def test_short_sample_labels_follow_the_results_reading() -> None:
    body = classify_body(total_ms=200, window_ms=300, classifications=[classification(windows=1)])
    body["classifications"][0]["expectedLabels"] = []
    assert clause_ids(check_window_count(body).violations) == {"WINDOW-LABELS"}


# --- WINDOW-PROBS -------------------------------------------------------------------------

def _with_result(block_type: str, result: list[object]) -> dict[str, object]:
    return classify_body(total_ms=300, classifications=[
        classification(block_type=block_type, windows=len(result), result=result)])


@pytest.mark.parametrize("result", [
    [{"idle": 0.2, "wave": 0.8}],
    [{"idle": 0.2, "wave": 0.8005}],  # within 1e-3
    [{"idle": 0.2, "wave": 0.8, "anomaly": -4.2}],  # "anomaly" is not a class
    [{"anomaly": 3.0}],  # no class values at all
    [{}],
])
def test_probabilities_ok(result: list[object]) -> None:
    assert check_probabilities(_with_result("keras", result)) == []


@pytest.mark.parametrize("result", [
    [{"idle": 0.1, "wave": 0.6}],  # 0.7: no grid explains it (1/10 at most: 0.8 with half steps)
    [{"idle": 0.25, "wave": 0.75}, {"idle": 0.2, "wave": 0.7}],  # the block's 1/20 grid: 0.9
    [{"idle": -0.2, "wave": 1.2}],
    [{"idle": "0.2", "wave": 0.8}],
    [{"idle": None, "wave": 1.0}],
    [0.5],
])
def test_probabilities_violations(result: list[object]) -> None:
    violations = check_probabilities(_with_result("keras-transfer-image", result))
    assert clause_ids(violations) == {"WINDOW-PROBS"}


@pytest.mark.parametrize("block_type", ["anomaly", "anomaly-gmm", "keras-visual-anomaly",
                                        "keras-anomaly", "keras-regression"])
def test_probabilities_skip_scores(block_type: str) -> None:
    assert check_probabilities(_with_result(block_type, [{"value": 17.5}])) == []


def test_probabilities_skip_blocks_without_type() -> None:
    body = _with_result("keras", [{"idle": 3.0}])
    del body["classifications"][0]["learnBlock"]["type"]  # type: ignore[index]
    assert check_probabilities(body) == []


# --- WINDOW-ANOMALY -----------------------------------------------------------------------

def test_anomaly_ok() -> None:
    assert check_anomaly(_with_result("anomaly", [{"anomaly": -0.4}, {"anomaly": 2}])) == []
    body = _with_result("anomaly-gmm", [{"idle": 1.0}, {"idle": 1.0}])
    body["classifications"][0]["anomalyResult"] = [  # type: ignore[index]
        {"meanScore": 0.1, "maxScore": 0.3}, {"meanScore": 0.2, "maxScore": 0.4}]
    assert check_anomaly(body) == []
    assert check_anomaly(_with_result("keras", [{"idle": 1.0}])) == []  # not an anomaly block


@pytest.mark.parametrize("anomaly_result", [None, [{"meanScore": 0.1, "maxScore": 0.3}],
                                            [{"meanScore": 0.1}, {"meanScore": 0.1}], "scores"])
def test_anomaly_violations(anomaly_result: object) -> None:
    body = _with_result("anomaly", [{"anomaly": -0.4}, {"idle": 1.0}])
    if anomaly_result is not None:
        body["classifications"][0]["anomalyResult"] = anomaly_result  # type: ignore[index]
    assert clause_ids(check_anomaly(body)) == {"WINDOW-ANOMALY"}


def test_all_window_checks_together() -> None:
    assert check_result_windows(classify_body()) == ([], [INCLUSIVE])
    body = classify_body()
    body["classifications"][0]["result"][0] = {"idle": 0.9, "wave": 0.9}
    assert clause_ids(check_result_windows(body).violations) == {"WINDOW-PROBS"}


def _predicted(total_ms: float, *windows: tuple[float, float]) -> dict[str, object]:
    from tests.oracles.factories import page_body, sample

    predictions = [{"sampleId": 1, "startMs": s, "endMs": e, "prediction": "idle"} for s, e in windows]
    return page_body([sample(1, totalLengthMs=total_ms)], predictions)


def test_prediction_windows_inside_the_sample_pass() -> None:
    from eicontract.oracles.window import check_prediction_windows

    assert check_prediction_windows(_predicted(1000, (0, 300), (350, 650), (700, 1000)), 300) == []
    assert check_prediction_windows(_predicted(200, (0, 200)), 300) == []  # one zero-padded window
    assert check_prediction_windows(_predicted(200, (0, 300)), 300) == []


def test_a_window_ending_past_the_sample_is_caught_even_when_endms_is_clipped() -> None:
    from eicontract.oracles.window import check_prediction_windows

    # server fault window-past-end: the last window starts one increase late, endMs clipped
    body = _predicted(1000, (0, 300), (350, 650), (750, 1000))
    assert clause_ids(check_prediction_windows(body, 300)) == {"PAGE-PREDICTIONS"}


def test_a_padded_tail_window_on_the_page_passes() -> None:
    """reading.tail-window: the last window, at the sample's spacing, starts inside the sample and
    is zero-padded past its end; one starting past the end, or two past it, fit no reading."""
    from eicontract.oracles.window import check_prediction_windows

    tail = _predicted(1100, (0, 300), (350, 650), (700, 1000), (1050, 1100))
    assert check_prediction_windows(tail, 300) == []
    beyond = _predicted(1000, (0, 300), (350, 650), (700, 1000), (1050, 1000))
    assert clause_ids(check_prediction_windows(beyond, 300)) == {"PAGE-PREDICTIONS"}
    two = _predicted(1100, (0, 300), (350, 650), (700, 1000), (900, 1100), (1050, 1100))
    assert clause_ids(check_prediction_windows(two, 300)) == {"PAGE-PREDICTIONS"}


def test_window_size_from_the_predictions_spacing() -> None:
    from eicontract.oracles.window import window_from_predictions

    body = _predicted(1000, (0, 300), (350, 650), (750, 1000))
    assert window_from_predictions(body["predictions"]) == 300
    assert window_from_predictions([]) is None and window_from_predictions("x") is None


# --- WINDOW-LABELS: each expectedLabels entry against its window --------------------------

def _labelled(structured: list[tuple[int, int, str]] | None = None, **sample_fields: object) -> dict[str, Any]:
    """1000 ms at 100 Hz (100 values), window 300 / 100: 8 windows; optional structured labels."""
    body = classify_body()
    smp = body["sample"]["sample"]
    if structured is not None:
        smp["structuredLabels"] = [{"startIndex": s, "endIndex": e, "label": name} for s, e, name in structured]
        smp["label"] = structured[0][2]
        for entry in body["classifications"][0]["expectedLabels"]:
            middle = (entry["startIndex"] + entry["endIndex"]) // 2
            entry["label"] = next(name for s, e, name in structured if s <= middle <= e)
    smp.update(sample_fields)
    return body


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["classifications"][0]["expectedLabels"]


SEGMENTS = [(0, 29, "idle"), (30, 69, "wave"), (70, 99, "snake")]
# The reading a classification's entries follow, observed when the data tells it.
INCLUSIVE = Observation("window:end-index", "endIndex inclusive", "classification 0 (block 7)")


@pytest.mark.parametrize("body", [_labelled(), _labelled(SEGMENTS)])
def test_expected_labels_in_their_windows_pass(body: dict[str, Any]) -> None:
    assert check_expected_labels(body) == ([], [INCLUSIVE])
    assert check_result_windows(body) == ([], [INCLUSIVE])


@pytest.mark.parametrize(("change", "words"), [
    # 2 past the last value (1 past it is the exclusive reading of endIndex: legal)
    (lambda e: e[-1].update(endIndex=101), "outside the sample's values"),
    (lambda e: e[3].update(endIndex=e[3]["endIndex"] + 2), "endIndex"),
    (lambda e: [x.update(startIndex=0) for x in e], "startIndex"),  # every window at 0
    (lambda e: e[2].update(startIndex=2**40, endIndex=2**40), "outside"),
    (lambda e: e[0].update(label="wave"), "label 'wave'"),  # a single-label sample's other label
])
def test_expected_labels_off_their_window_fail(change: Callable[[list[dict[str, Any]]], object], words: str) -> None:
    body = _labelled()
    change(_entries(body))
    [violation] = check_expected_labels(body).violations
    assert violation.clause == "WINDOW-LABELS" and words in violation.message
    assert clause_ids(check_result_windows(body).violations) == {"WINDOW-LABELS"}


def test_expected_label_of_another_segment_fails() -> None:
    body = _labelled(SEGMENTS)
    _entries(body)[0]["label"] = "snake"  # values 0-29 lie in 'idle' only
    assert clause_ids(check_expected_labels(body).violations) == {"WINDOW-LABELS"}


def test_expected_labels_legal_variants_pass() -> None:
    body = _labelled(SEGMENTS)
    # window 1 (values 10-39) overlaps 'idle' and 'wave': either label is a reading
    _entries(body)[1]["label"] = "wave" if _entries(body)[1]["label"] == "idle" else "idle"
    # edges rounded the other way (one value), and the classification's own (equal) intervalMs
    _entries(body)[2].update(startIndex=21, endIndex=48)
    body["classifications"][0]["intervalMs"] = 10.0
    assert check_expected_labels(body) == ([], [INCLUSIVE])
    # a truncated list: windows past its last label are not judged
    body["sample"]["sample"]["structuredLabels"] = body["sample"]["sample"]["structuredLabels"][:1]
    _entries(body)[7]["label"] = "updown"
    assert check_expected_labels(body) == ([], [INCLUSIVE])


def test_expected_labels_endindex_exclusive_passes_and_is_observed() -> None:
    """reading.end-index: endIndex one past the window's last value, applied to every entry."""
    body = _labelled()
    for entry in _entries(body):
        entry["endIndex"] += 1
    findings = check_expected_labels(body)
    assert findings.violations == []
    assert [(o.topic, o.reading) for o in findings.observations] == [
        ("window:end-index", "endIndex exclusive")]


def test_expected_labels_resampled_partial_value_passes() -> None:
    """reading.resampled-count: a resampled sample whose last window counts its final partial
    value ("indices [0, 107] outside the sample's values [0, 106]" was a false red)."""
    body = classify_body(total_ms=1075, window_ms=1000, increase_ms=500)
    body["classifications"][0]["intervalMs"] = 10
    body["classifications"][0]["expectedLabels"] = [{"startIndex": 0, "endIndex": 99, "label": "idle"}]
    assert check_expected_labels(body).violations == []
    body["sample"]["sample"]["totalLengthMs"] = 1075
    body["classifications"][0]["intervalMs"] = 9.3  # 115.6 values: the last one is partial
    body["windowSizeMs"], body["windowIncreaseMs"] = 1075, 500
    body["classifications"][0]["expectedLabels"] = [{"startIndex": 0, "endIndex": 115, "label": "idle"}]
    assert check_expected_labels(body).violations == []
    body["classifications"][0]["expectedLabels"] = [{"startIndex": 0, "endIndex": 117, "label": "idle"}]
    assert clause_ids(check_expected_labels(body).violations) == {"WINDOW-LABELS"}


def test_expected_labels_at_a_resampled_rate() -> None:
    """The classification says another intervalMs: ranges in its values, labels not judged."""
    body = classify_body()
    body["classifications"][0]["intervalMs"] = 5
    body["classifications"][0]["expectedLabels"] = expected_labels(8, 300, 100, 200, "wave", 5)
    assert check_expected_labels(body) == ([], [INCLUSIVE])
    body["classifications"][0]["expectedLabels"] = expected_labels(8, 300, 100, 100, "idle")
    assert clause_ids(check_expected_labels(body).violations) == {"WINDOW-LABELS"}


def test_expected_labels_not_judged_without_a_rate() -> None:
    body = _labelled()
    del body["sample"]["sample"]["intervalMs"]
    _entries(body)[0]["startIndex"] = 50
    findings = check_expected_labels(body)
    assert findings.violations == [] and [o.reading for o in findings.observations] == ["not judged"]


# --- WINDOW-ANOMALY: maxScore >= meanScore -------------------------------------------------

def _scored(entries: list[dict[str, float]]) -> dict[str, object]:
    body = _with_result("anomaly-gmm", [{"anomaly": e["meanScore"]} for e in entries])
    body["classifications"][0]["anomalyResult"] = entries  # type: ignore[index]
    return body


def test_anomaly_scores_max_at_least_mean_pass() -> None:
    assert check_anomaly_scores(_scored([{"meanScore": -0.4, "maxScore": 0.1},
                                         {"meanScore": 1.5, "maxScore": 1.5}])) == []
    # rounded to other digits: 0.0039 for a mean of 0.003906 is a reading of the same scores
    assert check_anomaly_scores(_scored([{"meanScore": 0.003906, "maxScore": 0.0039}])) == []


def test_anomaly_scores_max_below_mean_fail() -> None:
    body = _scored([{"meanScore": 0.5, "maxScore": 0.9}, {"meanScore": 1.2, "maxScore": 0.3}])
    [violation] = check_anomaly_scores(body)
    assert violation.clause == "WINDOW-ANOMALY" and "entry 1" in violation.message
    assert check_anomaly(body) == []  # every window is scored: only the maximum is wrong


# --- which multi-label samples WINDOW-LABELS classifies -------------------------------------

def _multi(sample_id: int, label: str, *segments: tuple[int, int, str]) -> dict[str, Any]:
    """100 values at 10 ms; windows of 300 ms every 100 ms have their middle at 14, 24, ..., 84."""
    labels = [{"startIndex": s, "endIndex": e, "label": name} for s, e, name in segments]
    return sample(sample_id, label=label, intervalMs=10, valuesCount=100, totalLengthMs=1000,
                  structuredLabels=labels, structuredLabelsList=[x["label"] for x in labels])


EDGE_OWN_ABSENT = _multi(1, "idle", (0, 23, "wave"), (24, 99, "snake"))  # window 1's middle: 24
EDGE_OWN_PRESENT = _multi(2, "wave", (0, 23, "wave"), (24, 99, "snake"))
NO_EDGE = _multi(3, "idle", (0, 30, "wave"), (31, 60, "snake"), (61, 99, "updown"))
SINGLE = sample(4, intervalMs=10, valuesCount=100)


def test_multi_label_order_most_labels_first() -> None:
    assert multi_label_order([SINGLE, EDGE_OWN_PRESENT, EDGE_OWN_ABSENT, NO_EDGE]) == [3, 1, 2]


@pytest.mark.parametrize(("smp", "expected"), [
    (EDGE_OWN_ABSENT, (1, 1)), (EDGE_OWN_PRESENT, (0, 1)), (NO_EDGE, (0, 0)), (SINGLE, (0, 0)),
    (_multi(5, "idle", (0, 23, "wave"), (30, 99, "snake")), (0, 0)),  # window 1 spans a gap: not judged
])
def test_edge_windows(smp: dict[str, Any], expected: tuple[int, int]) -> None:
    assert edge_windows(smp, 300, 100) == expected


def test_pick_multi_label_prefers_telling_edges() -> None:
    samples = [NO_EDGE, EDGE_OWN_PRESENT, EDGE_OWN_ABSENT, SINGLE]
    assert pick_multi_label(samples, 300, 100, 2) == [1, 2]
    assert pick_multi_label(samples, 300, 100, 5, skip=[1]) == [2, 3]
    assert pick_multi_label(samples, 250, 100, 3) == [3, 1, 2]  # middles at 12, 22, ...: no edge


# --- WINDOW-LABELS on the page: labels only (the page has no window geometry) -------------------

def _page_of(body: dict[str, Any]) -> dict[str, Any]:
    """A page holding the classify body's sample and classification."""
    smp = body["sample"]["sample"]
    return {"success": True, "result": [{"sampleId": smp["id"], "sample": smp,
                                         "classifications": body["classifications"]}], "predictions": []}


def test_page_expected_labels_a_window_overlaps_pass() -> None:
    page = _page_of(_labelled(SEGMENTS))
    assert check_page_expected_labels(page) == []
    _entries_of_page(page)[1]["label"] = "wave"  # values 10-39 overlap idle and wave: either is a reading
    assert check_page_expected_labels(page) == []
    _entries_of_page(page)[-1]["endIndex"] = 100  # one past the last value: the exclusive reading
    assert check_page_expected_labels(page) == []


def test_a_page_label_its_values_do_not_overlap_fails() -> None:
    """The label of a window between two segments taken from the sample's first segment (the
    mutant of `expected_label`'s middle index: values 10-39 overlap idle and wave, never snake)."""
    page = _page_of(_labelled(SEGMENTS))
    _entries_of_page(page)[1]["label"] = "snake"
    [violation] = check_page_expected_labels(page)
    assert violation.clause == "WINDOW-LABELS" and "label 'snake'" in violation.message


def test_page_labels_past_a_cut_list_or_at_another_rate_are_not_judged() -> None:
    page = _page_of(_labelled(SEGMENTS))
    _entries_of_page(page)[-1]["label"] = "idle"  # values 70-99: snake only
    page["result"][0]["sample"]["structuredLabels"] = page["result"][0]["sample"]["structuredLabels"][:2]
    assert check_page_expected_labels(page) == []  # the list was cut: snake is past it
    resampled = _page_of(_labelled(SEGMENTS))
    _entries_of_page(resampled)[-1]["label"] = "idle"
    resampled["result"][0]["classifications"][0]["intervalMs"] = 15.0
    assert check_page_expected_labels(resampled) == []


def _entries_of_page(page: dict[str, Any]) -> list[dict[str, Any]]:
    return page["result"][0]["classifications"][0]["expectedLabels"]
