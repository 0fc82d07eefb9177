"""The readings the twin showed the gate on first contact (docs/KILL-MATRIX.md, "The twin: first
contact and what changed"): each class passes both readings and still fails the broken
behaviour next to it."""

from __future__ import annotations

from typing import Any

import pytest

from eicontract.oracles.filters import (
    DATA_TYPE_HIDDEN,
    DATA_TYPE_SHOWN,
    check_data_types,
    check_filter,
)
from eicontract.oracles.jobs import AFTER_FAILURE_TOPIC, check_exclusive_after_failed_job
from eicontract.oracles.max_limit import LIMIT_TOPIC, check_limit_consistent, limit_refusal
from eicontract.oracles.paging import PageRead
from eicontract.oracles.window import (
    READING_FULL_ONLY,
    READING_TAIL,
    TAIL_TOPIC,
    check_prediction_windows,
    check_probabilities,
    check_window_count,
    expected_window_counts,
)
from tests.oracles.factories import FAILURE, classification, classify_body, clause_ids, page_body, sample

# --- A. the partial last window: only full windows, or one more zero-padded -----------------

def test_a_padded_last_window_is_allowed_only_where_values_are_left() -> None:
    assert expected_window_counts(1050, 300, 100) == (8, 9)
    assert expected_window_counts(1000, 300, 100) == (8,)  # the last full window ends at L


@pytest.mark.parametrize(("windows", "reading"), [(8, READING_FULL_ONLY), (9, READING_TAIL)])
def test_both_readings_of_the_last_window_pass_and_are_observed(windows: int, reading: str) -> None:
    body = classify_body(total_ms=1050, classifications=[classification(windows=windows)])
    findings = check_window_count(body)
    assert findings.violations == []
    assert [(o.topic, o.reading) for o in findings.observations] == [(TAIL_TOPIC, reading)]


@pytest.mark.parametrize("windows", [7, 10])  # a dropped window; a window past the padded one
def test_a_count_fitting_neither_reading_fails(windows: int) -> None:
    body = classify_body(total_ms=1050, classifications=[classification(windows=windows)])
    assert "WINDOW-COUNT" in clause_ids(check_window_count(body).violations)


def test_exact_fit_has_no_padded_window() -> None:
    body = classify_body(total_ms=1000, classifications=[classification(windows=9)])
    assert "WINDOW-COUNT" in clause_ids(check_window_count(body).violations)


def test_labels_follow_the_results_reading() -> None:
    body = classify_body(total_ms=1050, classifications=[classification(windows=9)])
    body["classifications"][0]["expectedLabels"].pop()  # 8 labels for 9 windows
    # each count alone fits a reading; together they disagree, so one is wrong under every reading
    assert clause_ids(check_window_count(body).violations) == {"WINDOW-COUNT"}


def _predicted(total_ms: float, *starts: float, window: float = 300) -> dict[str, Any]:
    predictions = [{"sampleId": 1, "startMs": s, "endMs": min(s + window, total_ms), "prediction": "idle"}
                   for s in starts]
    return page_body([sample(1, totalLengthMs=total_ms)], predictions)


def test_the_padded_last_prediction_window_passes() -> None:
    # L=1050, W=300, I=100: full windows start at 0..700, the padded one at 800
    assert check_prediction_windows(_predicted(1050, *range(0, 900, 100)), 300) == []
    assert check_prediction_windows(_predicted(1050, *range(0, 800, 100)), 300) == []  # full only


@pytest.mark.parametrize("starts", [
    (0, 100, 200, 300, 400, 500, 600, 800),  # the last full window (700) dropped, then a padded one
    (0, 100, 200, 300, 400, 500, 600, 700, 800, 900),  # two windows past the end
    (0, 100, 200, 300, 400, 500, 600, 700, 1100),  # a window starting past the sample's end
])
def test_windows_past_the_end_fitting_no_reading_fail(starts: tuple[float, ...]) -> None:
    assert clause_ids(check_prediction_windows(_predicted(1050, *starts), 300)) == {"PAGE-PREDICTIONS"}


# --- B. quantised variants sum to 1 within their quantisation error -------------------------

def _probs(*values: float) -> dict[str, Any]:
    names = [f"c{i}" for i in range(len(values))]
    return classify_body(total_ms=300, classifications=[
        classification(windows=1, result=[dict(zip(names, values, strict=True))])])


@pytest.mark.parametrize("values", [
    (0.5020, 0.3020, 0.2000),  # sums to 1.004: three values on a 1/500 grid (the block's)
    (0.4980, 0.2980, 0.2000),  # 0.996
    (0.5333, 0.3333, 0.2000),  # 1.0666: 1/15 steps, shown to 4 decimals
])
def test_quantisation_error_passes_whatever_the_variant(values: tuple[float, ...]) -> None:
    # the variant is not asked: a float32 model may round too (reading.probability-rounding)
    assert check_probabilities(_probs(*values)) == []


@pytest.mark.parametrize("values", [
    (0.99, 0.99, 0.99),  # 2.97: a 0.33 grid explains no more than 3 x 0.165 either way
    (0.2, 0.2, 0.2),  # 0.6
    (0.5020, 0.3020, 0.2100),  # 1.014 on a 1/500 grid: beyond 3 x 0.001 + 1e-3
])
def test_a_sum_beyond_the_quantisation_error_fails(values: tuple[float, ...]) -> None:
    assert clause_ids(check_probabilities(_probs(*values))) == {"WINDOW-PROBS"}


# --- C. a limit above the server's maximum may be refused -----------------------------------

def test_a_large_limit_refused_with_the_failure_envelope_is_observed() -> None:
    found = limit_refusal(PageRead(114, 0, FAILURE), 400)
    assert found is not None and found.violations == []
    assert [o.topic for o in found.observations] == [LIMIT_TOPIC]
    assert limit_refusal(PageRead(114, 0, page_body([sample(1)])), 200) is None  # answered: a page


def test_a_large_limit_refused_badly_fails() -> None:
    for body, status in (({"success": True}, 200), (FAILURE, 500)):
        found = limit_refusal(PageRead(114, 0, body), status)
        assert found is not None and "PAGE-LIMIT" in clause_ids(found.violations)


def test_one_maximum_or_a_window() -> None:
    assert check_limit_consistent([(0, 20), (0, 100)], [(0, 101), (0, 120)]) == []  # one maximum
    assert check_limit_consistent([], [(0, 30)]) == []
    assert check_limit_consistent([(0, 100)], [(240, 30)]) == []  # a window offset+limit <= N
    assert clause_ids(check_limit_consistent([(0, 100), (0, 110)], [(0, 105)])) == {"PAGE-LIMIT"}
    assert clause_ids(check_limit_consistent([(0, 50)], [(0, 50)])) == {"PAGE-LIMIT"}


# --- D. dataType: which field it names is a reading -----------------------------------------

LISTING = [sample(1, chartType="chart", totalLengthMs=500), sample(2, chartType="chart", totalLengthMs=2000),
           sample(3, chartType="image", totalLengthMs=2000)]


def test_data_type_as_chart_type_is_observed() -> None:
    violations, observations = check_filter(LISTING, [1, 2], {"dataType": "chart"})
    assert violations == [] and [o.reading for o in observations] == [DATA_TYPE_SHOWN]


def test_data_type_the_reply_does_not_show_passes_and_is_observed() -> None:
    violations, observations = check_filter(LISTING, [3, 1], {"dataType": "audio"})
    assert violations == [] and [o.reading for o in observations] == [DATA_TYPE_HIDDEN]


def test_data_type_with_another_filter_still_judges_that_filter() -> None:
    found = check_filter(LISTING, [1, 2], {"dataType": "chart", "minLength": "1000"})
    assert clause_ids(found.violations) == {"FILTER-SOUND"}  # 1 is shorter than every minLength reading
    assert clause_ids(check_filter(LISTING, [1, 99], {"dataType": "chart"}).violations) == {"FILTER-SOUND"}


def test_a_sample_has_one_data_type() -> None:
    assert check_data_types({"chart": [1, 2], "image": [3], "zz": []}, "window") == []
    # a server ignoring dataType answers every value with the whole window
    assert clause_ids(check_data_types({"chart": [1, 2, 3], "zz": [1, 2, 3]}, "window")) == {"FILTER-SOUND"}


# --- E. classify after a failed job ---------------------------------------------------------

def test_the_failure_envelope_after_a_failed_job_is_observed() -> None:
    error = {"success": False, "error": "Classification of sample 204 failed: corrupt CBOR payload"}
    for status in (400, 200):
        violations, observations = check_exclusive_after_failed_job(error, status)
        assert violations == [] and [o.topic for o in observations] == [AFTER_FAILURE_TOPIC]
    assert check_exclusive_after_failed_job(classify_body(), 200) == ([], [])  # the result after all
    assert check_exclusive_after_failed_job({"success": True, "id": 12}, 200) == ([], [])  # a new job


@pytest.mark.parametrize(("body", "status"), [({"success": True}, 200), (FAILURE, 500),
                                              ({"success": True, "error": "failed"}, 200)])
def test_after_a_failed_job_neither_a_result_nor_a_job_nor_a_failure_fails(body: object, status: int) -> None:
    violations, _ = check_exclusive_after_failed_job(body, status)
    assert clause_ids(violations) == {"JOB-EXCLUSIVE"}
