"""Sliding-window classification: a deterministic stand-in for running the impulse.

Numbers come from a hash of (sample id, window index, block id[, variant]) so they are stable
across calls and processes, and independent of the order in which samples are classified.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

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
    interval, total = sample.interval_ms, sample.total_length_ms
    size, step = impulse.window_size_ms, impulse.window_increase_ms
    count = window_count(total, size, step)
    values, floor, ceil = sample.values_count, math.floor, math.ceil
    out: list[Window] = []
    for index in range(count):
        start_ms = index * step
        nominal_end = start_ms + size
        start = floor(start_ms / interval + 1e-9)
        end = max(start, min(values, ceil(nominal_end / interval - 1e-9)) - 1)
        out.append(Window(index, float(start_ms), min(float(nominal_end), total), start, end,
                          expected_label(sample, (start + end) // 2)))
    return out


def expected_label(sample: SampleRecord, value_index: int) -> str:
    """The segment covering a value index (multi-label samples), else the sample's label."""
    if not sample.segments:
        return sample.label
    for segment in sample.segments:
        if segment.start_index <= value_index <= segment.end_index:
            return segment.label
    return sample.label


def _unit_values(*parts: object, count: int) -> list[float]:
    """`count` numbers in [0, 1) from a stable hash of parts (big-endian 16-bit steps)."""
    return _units(":".join(map(str, parts)), count)


def _units(key: str, count: int) -> list[float]:
    """_unit_values of parts already joined with ':' (the hot paths format the key once)."""
    digest = _blake2b(key.encode(), digest_size=2 * count).digest()
    unpack = _UNPACKERS.get(count) or _unpacker(count)
    return [v / 65536 for v in unpack(digest)]


@cache
def _unpacker(count: int) -> Callable[[bytes], tuple[int, ...]]:
    return struct.Struct(f">{count}H").unpack


_blake2b = hashlib.blake2b
_UNPACKERS = {count: _unpacker(count) for count in range(1, 2 * len(CLASS_LABELS) + 1)}
_UNPACK_LABELS = _UNPACKERS[len(CLASS_LABELS)]


_LABEL_INDEX = {label: k for k, label in enumerate(CLASS_LABELS)}


def class_probabilities(sample: SampleRecord, window: Window, block: LearnBlock,
                        variant: str) -> dict[str, float]:
    """One probability per class label, each in [0, 1], summing to 1 (the last absorbs rounding)."""
    return _probabilities(f"{sample.id}:{window.index}:{block.id}", window.label, variant)


def _probabilities(key: str, label: str, variant: str) -> dict[str, float]:
    """class_probabilities for the hash key 'sample:window:block'."""
    digest = _blake2b(key.encode(), digest_size=2 * len(CLASS_LABELS)).digest()
    weights = [(v / 65536) ** 3 for v in _UNPACK_LABELS(digest)]  # _units(key, 4), cubed
    if label in _LABEL_INDEX:  # the model is mostly right: favour the expected class
        weights[_LABEL_INDEX[label]] += 1.2
    if variant != DEFAULT_VARIANT:
        jitter = _units(f"{key}:{variant}", len(weights))
        weights = [max(0.0, w + _VARIANT_JITTER * (2 * j - 1)) for w, j in zip(weights, jitter,
                                                                                 strict=True)]
    total = sum(weights) or 1.0
    return _quantised([w / total for w in weights], _STEP[variant])


def _quantised(probabilities: list[float], step: float) -> dict[str, float]:
    # Rounding the others down keeps the remainder for the last label non-negative.
    floor = math.floor
    head = [_multiple(floor(p / step), step, 8) for p in probabilities[:-1]]
    last = max(0.0, round(1.0 - sum(head), 8))
    return dict(zip(CLASS_LABELS, [*head, last], strict=True))


def anomaly_score(sample: SampleRecord, window: Window, block: LearnBlock, variant: str) -> float:
    """A GMM-like score in [-1.5, 2.5): negative is 'normal'."""
    return _anomaly(f"{sample.id}:{window.index}:{block.id}", variant)


def _anomaly(key: str, variant: str) -> float:
    """anomaly_score for the hash key 'sample:window:block'."""
    (u,) = _units(key, 1)
    score = -1.5 + 4.0 * u
    if variant != DEFAULT_VARIANT:
        (j,) = _units(f"{key}:{variant}", 1)
        score += 0.05 * (2 * j - 1)
    step = _STEP[variant]
    return _multiple(round(score / step), step, 6)


@cache
def _multiple(count: int, step: float, digits: int) -> float:
    """round(count * step, digits), kept: round() to digits is slow, and the counts repeat."""
    return round(count * step, digits)


def prediction(probabilities: dict[str, float]) -> str:
    """argmax; ties go to the first label in label order."""
    return max(CLASS_LABELS, key=probabilities.__getitem__)


def classification_json(sample: SampleRecord, block: LearnBlock, impulse: Impulse,
                        variant: str, wins: list[Window] | None = None) -> JSON:
    """wins: the sample's windows when the caller has them already."""
    wins = windows(sample, impulse) if wins is None else wins
    doc: JSON = {"learnBlock": learn_block_json(block, impulse)}
    keys = [f"{sample.id}:{w.index}:{block.id}" for w in wins]
    if block.type == "keras":
        doc["result"] = [_probabilities(k, w.label, variant) for k, w in zip(keys, wins, strict=True)]
    else:
        scores = [_anomaly(k, variant) for k in keys]
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
    (u,) = _units(f"{sample.id}:{window.index}:max", 1)
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
                     classifier_result: list[dict[str, float]] | None = None,
                     wins: list[Window] | None = None) -> list[JSON]:
    """One ModelPrediction per window of the classifier block.

    classifier_result, wins: the classifier's (clean) per-window probabilities and the
    sample's windows when the caller has them already, to avoid computing them twice.
    """
    wins = windows(sample, impulse) if wins is None else wins
    if classifier_result is None:
        classifier_result = [class_probabilities(sample, w, impulse.classifier, variant)
                             for w in wins]
    out: list[JSON] = []
    for w, probs in zip(wins, classifier_result, strict=True):
        predicted = prediction(probs)
        out.append({"sampleId": sample.id, "startMs": w.start_ms, "endMs": w.end_ms,
                    "label": w.label, "prediction": predicted,
                    "predictionCorrect": predicted == w.label})
    return out


def needs_job(sample: SampleRecord, impulse: Impulse, job_threshold_ms: float) -> bool:
    """Long samples and samples that must be resampled are classified in a background job."""
    return (sample.total_length_ms > job_threshold_ms
            or not math.isclose(sample.frequency, impulse.frequency_hz))


# Samples whose page classifications the memo keeps: enough for the largest page read twice in
# a row (limit 1000), small enough that a 100k-sample listing does not pin gigabytes.
MEMO_SAMPLES = 2048


class _Entry(NamedTuple):
    docs: dict[int, JSON]  # learn block id -> classification
    predictions: list[JSON]


class ClassificationMemo:
    """Clean page classifications and predictions of the most recently listed samples.

    The results are deterministic, so memoising them is invisible to clients; it keeps pages
    that are read again (stability checks, filtered sweeps) cheap. Computed once per
    (sample, variant), with the windows shared by every block. Least recently used entries go
    first, so memory stays bounded however large the dataset. Returned objects are shared:
    callers must not mutate them.
    """

    def __init__(self, impulse: Impulse, capacity: int = MEMO_SAMPLES) -> None:
        self._impulse = impulse
        self._capacity = capacity
        self._entries: OrderedDict[tuple[int, str], _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _entry(self, sample: SampleRecord, variant: str) -> _Entry:
        key = (sample.id, variant)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry
        impulse = self._impulse
        wins = windows(sample, impulse)
        docs = {b.id: classification_json(sample, b, impulse, variant, wins)
                for b in impulse.learn_blocks}
        entry = _Entry(docs, predictions_json(sample, impulse, variant,
                                              docs[impulse.classifier.id]["result"], wins))
        self._entries[key] = entry
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return entry

    def classification(self, sample: SampleRecord, block: LearnBlock, variant: str) -> JSON:
        return self._entry(sample, variant).docs[block.id]

    def predictions(self, sample: SampleRecord, variant: str) -> list[JSON]:
        return self._entry(sample, variant).predictions
