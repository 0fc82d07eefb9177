"""Sliding-window classification: a deterministic stand-in for running the impulse.

Numbers come from a hash of (sample id, window index, block id[, variant]) so they are stable
across calls and processes, and independent of the order in which samples are classified.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from eicontract.server.dataset import CLASS_LABELS, Impulse, LearnBlock, SampleRecord
from eicontract.server.render import (
    JSON,
    learn_block_json,
    raw_sample_json,
    thresholds_json,
)

VARIANTS = ("int8", "float32", "akida")
DEFAULT_VARIANT = "float32"
# Rounding step per variant: float32 reports 4 decimals, int8 is quantised to 1/256, akida to 1/100.
_STEP = {"float32": 1e-4, "int8": 1 / 256, "akida": 1e-2}
# Non-float32 variants move each probability by up to this much before quantising.
_VARIANT_JITTER = 0.02


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    start_ms: float
    end_ms: float  # clipped to the sample's length
    start_index: int  # value indices, end inclusive
    end_index: int
    label: str  # the expected label


def window_count(total_length_ms: float, window_size_ms: float, window_increase_ms: float) -> int:
    """1 zero-padded window for a short sample, else every full window position."""
    if total_length_ms <= window_size_ms:
        return 1
    return math.floor((total_length_ms - window_size_ms) / window_increase_ms) + 1


def windows(sample: SampleRecord, impulse: Impulse) -> list[Window]:
    count = window_count(sample.total_length_ms, impulse.window_size_ms,
                         impulse.window_increase_ms)
    return [_window(sample, impulse, i) for i in range(count)]


def _window(sample: SampleRecord, impulse: Impulse, index: int) -> Window:
    start_ms = index * impulse.window_increase_ms
    nominal_end = start_ms + impulse.window_size_ms
    start = math.floor(start_ms / sample.interval_ms + 1e-9)
    end = min(sample.values_count, math.ceil(nominal_end / sample.interval_ms - 1e-9)) - 1
    end = max(start, end)
    return Window(index, float(start_ms), min(float(nominal_end), sample.total_length_ms),
                  start, end, expected_label(sample, (start + end) // 2))


def expected_label(sample: SampleRecord, value_index: int) -> str:
    """The segment covering a value index (multi-label samples), else the sample's label."""
    for segment in sample.segments:
        if segment.start_index <= value_index <= segment.end_index:
            return segment.label
    return sample.label


def _unit_values(*parts: object, count: int) -> list[float]:
    """`count` numbers in [0, 1) from a stable hash of parts."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=2 * count).digest()
    return [int.from_bytes(digest[2 * k:2 * k + 2], "big") / 65536 for k in range(count)]


def class_probabilities(sample: SampleRecord, window: Window, block: LearnBlock,
                        variant: str) -> dict[str, float]:
    """One probability per class label, each in [0, 1], summing to 1 (the last absorbs rounding)."""
    weights = [u ** 3 for u in _unit_values(sample.id, window.index, block.id,
                                            count=len(CLASS_LABELS))]
    if window.label in CLASS_LABELS:  # the model is mostly right: favour the expected class
        weights[CLASS_LABELS.index(window.label)] += 1.2
    if variant != DEFAULT_VARIANT:
        jitter = _unit_values(sample.id, window.index, block.id, variant, count=len(weights))
        weights = [max(0.0, w + _VARIANT_JITTER * (2 * j - 1)) for w, j in zip(weights, jitter,
                                                                                 strict=True)]
    total = sum(weights) or 1.0
    return _quantised([w / total for w in weights], _STEP[variant])


def _quantised(probabilities: list[float], step: float) -> dict[str, float]:
    # Rounding the others down keeps the remainder for the last label non-negative.
    head = [round(math.floor(p / step) * step, 8) for p in probabilities[:-1]]
    last = max(0.0, round(1.0 - sum(head), 8))
    return dict(zip(CLASS_LABELS, [*head, last], strict=True))


def anomaly_score(sample: SampleRecord, window: Window, block: LearnBlock, variant: str) -> float:
    """A GMM-like score in [-1.5, 2.5): negative is 'normal'."""
    (u,) = _unit_values(sample.id, window.index, block.id, count=1)
    score = -1.5 + 4.0 * u
    if variant != DEFAULT_VARIANT:
        (j,) = _unit_values(sample.id, window.index, block.id, variant, count=1)
        score += 0.05 * (2 * j - 1)
    step = _STEP[variant]
    return round(round(score / step) * step, 6)


def prediction(probabilities: dict[str, float]) -> str:
    """argmax; ties go to the first label in label order."""
    return max(CLASS_LABELS, key=lambda label: probabilities[label])


def classification_json(sample: SampleRecord, block: LearnBlock, impulse: Impulse,
                        variant: str) -> JSON:
    wins = windows(sample, impulse)
    doc: JSON = {"learnBlock": learn_block_json(block, impulse)}
    if block.type == "keras":
        doc["result"] = [class_probabilities(sample, w, block, variant) for w in wins]
    else:
        scores = [anomaly_score(sample, w, block, variant) for w in wins]
        doc["result"] = [{"anomaly": s} for s in scores]
        doc["anomalyResult"] = [{"meanScore": s, "maxScore": _max_score(sample, w, s)}
                                for w, s in zip(wins, scores, strict=True)]
    doc.update({
        "minimumConfidenceRating": block.threshold,
        "expectedLabels": [{"startIndex": w.start_index, "endIndex": w.end_index,
                            "label": w.label} for w in wins],
        "thresholds": thresholds_json(block),
        "isMultiLabel": sample.is_multi_label,
        # expectedLabels index the sample's own readings, so these are the sample's rate.
        "intervalMs": sample.interval_ms,
        "frequencyHz": sample.frequency,
        "resultCount": len(wins),
    })
    return doc


def _max_score(sample: SampleRecord, window: Window, mean: float) -> float:
    (u,) = _unit_values(sample.id, window.index, "max", count=1)
    return round(mean + 0.5 * u, 4)


def result_body(sample: SampleRecord, block: LearnBlock, impulse: Impulse, variant: str,
                truncate: bool) -> JSON:
    """The ClassifySampleResponse for one sample and one learn block."""
    return {
        "success": True,
        "classifications": [classification_json(sample, block, impulse, variant)],
        "sample": raw_sample_json(sample, truncate),
        "windowSizeMs": impulse.window_size_ms,
        "windowIncreaseMs": impulse.window_increase_ms,
        "alreadyInDatabase": True,
    }


def predictions_json(sample: SampleRecord, impulse: Impulse, variant: str,
                     classifier_result: list[dict[str, float]] | None = None) -> list[JSON]:
    """One ModelPrediction per window of the classifier block.

    classifier_result: the classifier's (clean) per-window probabilities when the caller has
    them already, to avoid computing them twice.
    """
    wins = windows(sample, impulse)
    if classifier_result is None:
        classifier_result = [class_probabilities(sample, w, impulse.classifier, variant)
                             for w in wins]
    return [{
        "sampleId": sample.id,
        "startMs": w.start_ms,
        "endMs": w.end_ms,
        "label": w.label,
        "prediction": prediction(probs),
        "predictionCorrect": prediction(probs) == w.label,
    } for w, probs in zip(wins, classifier_result, strict=True)]


def needs_job(sample: SampleRecord, impulse: Impulse, job_threshold_ms: float) -> bool:
    """Long samples and samples that must be resampled are classified in a background job."""
    return (sample.total_length_ms > job_threshold_ms
            or not math.isclose(sample.frequency, impulse.frequency_hz))


class ClassificationMemo:
    """Clean page classifications and predictions, computed once per (sample, block, variant).

    The results are deterministic, so memoising them is invisible to clients; it keeps large
    pages cheap. Returned objects are shared: callers must not mutate them.
    """

    def __init__(self, impulse: Impulse) -> None:
        self._impulse = impulse
        self._docs: dict[tuple[int, int, str], JSON] = {}
        self._predictions: dict[tuple[int, str], list[JSON]] = {}

    def classification(self, sample: SampleRecord, block: LearnBlock, variant: str) -> JSON:
        key = (sample.id, block.id, variant)
        if key not in self._docs:
            self._docs[key] = classification_json(sample, block, self._impulse, variant)
        return self._docs[key]

    def predictions(self, sample: SampleRecord, variant: str) -> list[JSON]:
        key = (sample.id, variant)
        if key not in self._predictions:
            result = self.classification(sample, self._impulse.classifier, variant)["result"]
            self._predictions[key] = predictions_json(sample, self._impulse, variant, result)
        return self._predictions[key]
