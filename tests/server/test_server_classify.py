"""The sliding window and the stand-in model, without HTTP."""

from __future__ import annotations

import math

import pytest

from eicontract.server.classify import (
    VARIANTS,
    class_probabilities,
    classification_json,
    needs_job,
    predictions_json,
    window_count,
    windows,
)
from eicontract.server.dataset import CLASS_LABELS, SampleRecord, generate
from tests.server.server_helpers import DATA

IMPULSE = DATA.impulse
CLASSIFIER = IMPULSE.classifier
ANOMALY = next(b for b in IMPULSE.learn_blocks if b.type == "anomaly-gmm")


@pytest.mark.parametrize(("length", "count"), [
    (1, 1), (999, 1), (1000, 1), (1001, 1), (1249, 1), (1250, 2), (1251, 2), (2000, 5),
    (12000, 45),
])
def test_window_count(length: float, count: int) -> None:
    assert window_count(length, 1000, 250) == count


def test_windows_cover_the_sample() -> None:
    for s in DATA.samples:
        wins = windows(s, IMPULSE)
        assert [w.start_ms for w in wins] == [i * 250.0 for i in range(len(wins))]
        assert all(w.end_ms <= s.total_length_ms for w in wins)
        assert all(0 <= w.start_index <= w.end_index < s.values_count for w in wins)


def multi_label_sample() -> SampleRecord:
    return next(s for s in DATA.samples if s.is_multi_label and len(windows(s, IMPULSE)) > 4)


def test_expected_label_follows_segments() -> None:
    s = multi_label_sample()
    labels = {w.label for w in windows(s, IMPULSE)}
    assert len(labels) >= 2
    for w in windows(s, IMPULSE):
        middle = (w.start_index + w.end_index) // 2
        seg = next(g for g in s.segments if g.start_index <= middle <= g.end_index)
        assert w.label == seg.label


@pytest.mark.parametrize("variant", VARIANTS)
def test_probabilities_are_a_distribution(variant: str) -> None:
    for s in DATA.samples[:60]:
        for w in windows(s, IMPULSE):
            probs = class_probabilities(s, w, CLASSIFIER, variant)
            assert list(probs) == list(CLASS_LABELS)
            assert all(0 <= p <= 1 for p in probs.values())
            assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-6)


def test_int8_is_quantised_and_variants_differ_a_little() -> None:
    s = DATA.samples[0]
    w = windows(s, IMPULSE)[0]
    by_variant = {v: class_probabilities(s, w, CLASSIFIER, v) for v in VARIANTS}
    assert all(math.isclose(p * 256, round(p * 256), abs_tol=1e-6)
               for p in by_variant["int8"].values())
    assert by_variant["int8"] != by_variant["float32"] != by_variant["akida"]
    for label in CLASS_LABELS:
        assert abs(by_variant["int8"][label] - by_variant["float32"][label]) < 0.1


def test_results_are_deterministic() -> None:
    s = DATA.samples[3]
    assert classification_json(s, CLASSIFIER, IMPULSE, "float32") == classification_json(
        generate(seed=1, count=300).samples[3], CLASSIFIER, IMPULSE, "float32")


def test_classification_shape() -> None:
    s = multi_label_sample()
    n = len(windows(s, IMPULSE))
    for block in (CLASSIFIER, ANOMALY):
        doc = classification_json(s, block, IMPULSE, "float32")
        assert doc["resultCount"] == len(doc["result"]) == len(doc["expectedLabels"]) == n
        assert doc["learnBlock"]["id"] == block.id
        assert {"thresholds", "minimumConfidenceRating", "intervalMs", "frequencyHz"} <= set(doc)
    anomaly = classification_json(s, ANOMALY, IMPULSE, "float32")
    assert all(set(r) == {"anomaly"} for r in anomaly["result"])
    assert len(anomaly["anomalyResult"]) == n
    assert any(r["anomaly"] < 0 for s2 in DATA.samples[:20]
               for r in classification_json(s2, ANOMALY, IMPULSE, "float32")["result"])


def test_predictions_match_the_classifier() -> None:
    s = multi_label_sample()
    preds = predictions_json(s, IMPULSE, "float32")
    result = classification_json(s, CLASSIFIER, IMPULSE, "float32")["result"]
    assert len(preds) == len(result)
    for p, probs in zip(preds, result, strict=True):
        assert p["prediction"] == max(probs, key=lambda k: probs[k])
        assert p["predictionCorrect"] == (p["prediction"] == p["label"])
        assert p["endMs"] <= s.total_length_ms


def test_needs_job() -> None:
    native_short = next(s for s in DATA.samples if s.frequency == 100 and s.total_length_ms < 8000)
    resampled = next(s for s in DATA.samples if s.frequency != 100)
    long = next(s for s in DATA.samples if s.total_length_ms > 8000)
    boundary = next(s for s in DATA.samples if s.frequency == 100 and s.total_length_ms == 8000)
    assert not needs_job(native_short, IMPULSE, 8000)
    assert not needs_job(boundary, IMPULSE, 8000)
    assert needs_job(resampled, IMPULSE, 8000)
    assert needs_job(long, IMPULSE, 8000)
