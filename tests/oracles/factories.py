"""Builders of small, correct API bodies for the oracle tests (plain dicts, as decoded)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eicontract.violations import Violation


def clause_ids(violations: Iterable[Violation]) -> set[str]:
    return {v.clause for v in violations}


def sample(sample_id: int, **fields: Any) -> dict[str, Any]:
    """A sample object with every field the filters look at."""
    base: dict[str, Any] = {
        "id": sample_id,
        "filename": f"idle{sample_id:02d}.wav",
        "label": "idle",
        "totalLengthMs": 1000,
        "frequency": 62.5,
        "originalFrequency": 62.5,
        "signatureValidate": True,
        "chartType": "chart",
        "metadata": {},
        "added": "2025-01-01T00:00:00.000Z",
        "structuredLabels": [],
        "structuredLabelsList": [],
    }
    base.update(fields)
    return base


def model_result(smp: dict[str, Any]) -> dict[str, Any]:
    return {"sampleId": smp["id"], "sample": smp, "classifications": []}


def page_body(samples: Sequence[dict[str, Any]], predictions: list[dict[str, Any]] | None = None,
              **extra: Any) -> dict[str, Any]:
    return {"success": True, "result": [model_result(s) for s in samples],
            "predictions": predictions if predictions is not None else [], **extra}


def probabilities(windows: int) -> list[dict[str, float]]:
    return [{"idle": 0.25, "wave": 0.75} for _ in range(windows)]


def classification(block_id: int = 7, block_type: str = "keras", windows: int = 1,
                   result: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "learnBlock": {"id": block_id, "type": block_type, "name": "NN Classifier"},
        "result": result if result is not None else probabilities(windows),
        "expectedLabels": [{"startIndex": i, "endIndex": i, "label": "idle"}
                           for i in range(windows)],
        "minimumConfidenceRating": 0.6,
        **extra,
    }


INTERVAL_MS = 10  # classify_body's samples: 100 Hz


def expected_labels(windows: int, window_ms: float, increase_ms: float, values: int,
                    label: str = "idle", interval_ms: float = INTERVAL_MS) -> list[dict[str, Any]]:
    """One entry per window: its value range (endIndex inclusive, clipped to the sample)."""
    return [{"startIndex": round(k * increase_ms / interval_ms),
             "endIndex": min(values, round((k * increase_ms + window_ms) / interval_ms)) - 1,
             "label": label} for k in range(windows)]


def classify_body(sample_id: int = 3, total_ms: float = 1000, window_ms: float = 300,
                  increase_ms: float = 100,
                  classifications: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A classify result; by default one keras classification with the right window count."""
    values = round(total_ms / INTERVAL_MS)
    if classifications is None:
        windows = int((total_ms - window_ms) // increase_ms) + 1 if total_ms >= window_ms else 1
        classifications = [classification(windows=windows)]
        classifications[0]["expectedLabels"] = expected_labels(windows, window_ms, increase_ms, values)
    return {
        "success": True,
        "classifications": classifications,
        "sample": {"sample": sample(sample_id, totalLengthMs=total_ms, intervalMs=INTERVAL_MS,
                                    valuesCount=values), "payload": {}},
        "windowSizeMs": window_ms,
        "windowIncreaseMs": increase_ms,
        "alreadyInDatabase": True,
    }


def job(job_id: int = 9, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": job_id, "key": "classify-9", "category": "classify",
                            "jobNotificationUids": [], "created": "2025-01-01T00:00:00Z"}
    base.update(fields)
    return base


FAILURE = {"success": False, "error": "bad input"}
