"""One classify result body against the sliding window (WINDOW-COUNT, WINDOW-PROBS,
WINDOW-ANOMALY; each expectedLabels entry against its window is `labels`), and the prediction
windows of a page (PAGE-PREDICTIONS).

With L = sample.sample.totalLengthMs, W = windowSizeMs and I = windowIncreaseMs, a sample
with L >= W has floor((L - W) / I) + 1 windows. For L < W the documents do not say: we accept
no window or one zero-padded window and record which one the server chose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from eicontract.oracles._common import (
    FLOOR_EPSILON,
    MAX_EXAMPLES,
    Findings,
    block_label,
    classifications_of,
    clip,
    get_path,
    is_int,
    is_number,
    type_name,
)
from eicontract.oracles.labels import check_expected_labels
from eicontract.oracles.rounding import Grid, block_grid, sum_problem
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "reading.short-sample",
    "reading.tail-window",
    "reading.probability-rounding",
)

ANOMALY_TYPES = frozenset({"anomaly", "anomaly-gmm", "keras-visual-anomaly", "keras-anomaly"})
SCORED_ANOMALY_TYPES = frozenset({"anomaly", "anomaly-gmm"})
NOT_PROBABILITIES = ANOMALY_TYPES | {"keras-regression"}
# Window ends are sums of floats: this much slack in ms.
WINDOW_EPSILON_MS = 1e-6
# Scores are rounded for the reply, maybe to different digits (the reference: the mean to its
# variant's step, the maximum to 4 decimals): a maximum may read a little below an equal mean.
SCORE_TOLERANCE = 1e-3
SHORT_SAMPLE_TOPIC = "window:short-sample"
READING_NO_WINDOW = "no window"
READING_PADDED = "one zero-padded window"
TAIL_TOPIC = "window:tail"
READING_FULL_ONLY = "full windows only"
READING_TAIL = "a last zero-padded window over the tail"


def expected_window_counts(total_ms: float, window_ms: float, increase_ms: float) -> tuple[int, ...]:
    """The window counts the documents allow: one count, or (0, 1) for a short sample.
    Raises ValueError for inputs no window count can be derived from."""
    if not (is_number(total_ms) and is_number(window_ms) and is_number(increase_ms)):
        raise ValueError("totalLengthMs, windowSizeMs and windowIncreaseMs must be numbers")
    if window_ms <= 0 or increase_ms <= 0 or total_ms < 0:
        raise ValueError(f"cannot derive windows from totalLengthMs={total_ms}, "
                         f"windowSizeMs={window_ms}, windowIncreaseMs={increase_ms}")
    if total_ms < window_ms:
        return (0, 1)
    steps = (total_ms - window_ms) / increase_ms
    full = math.floor(steps + FLOOR_EPSILON * max(1.0, steps)) + 1
    # reading.tail-window: "moves over the complete file" may add one zero-padded window over a
    # tail no full window reaches.
    return (full, full + 1) if (full - 1) * increase_ms + window_ms < total_ms - WINDOW_EPSILON_MS \
        else (full,)


def check_result_windows(body: object) -> Findings:
    """Every window check on one classify result: count, labels, probabilities, anomaly."""
    findings, ranges = check_window_count(body), check_expected_labels(body)
    return Findings(findings.violations + ranges.violations + check_probabilities(body)
                    + check_anomaly(body) + check_anomaly_scores(body),
                    findings.observations + ranges.observations)


# --- WINDOW-COUNT and WINDOW-LABELS -------------------------------------------------------

def check_window_count(body: object) -> Findings:
    """WINDOW-COUNT (result, resultCount) and WINDOW-LABELS (expectedLabels)."""
    total = get_path(body, "sample", "sample", "totalLengthMs")
    window, increase = get_path(body, "windowSizeMs"), get_path(body, "windowIncreaseMs")
    try:
        allowed = expected_window_counts(total, window, increase)  # type: ignore[arg-type]
    except ValueError:
        return Findings([Violation("WINDOW-COUNT", f"cannot derive the window count: "
                                   f"totalLengthMs={clip(total)}, windowSizeMs={clip(window)}, "
                                   f"windowIncreaseMs={clip(increase)}")], [])
    classifications = get_path(body, "classifications")
    if not isinstance(classifications, list):
        return Findings([Violation("WINDOW-COUNT", f"expected a classifications array, got "
                                   f"{type_name(classifications)}")], [])
    violations: list[Violation] = []
    readings: set[str] = set()
    for index, classification in enumerate(classifications):
        violations += _classification_counts(classification, index, allowed, readings)
    short = total < window  # type: ignore[operator]
    observations = [Observation(SHORT_SAMPLE_TOPIC if short else TAIL_TOPIC, reading,
                                f"totalLengthMs={total}, windowSizeMs={window}, "
                                f"windowIncreaseMs={increase}")
                    for reading in sorted(readings)]
    return Findings(violations, observations)


def _classification_counts(
    classification: object, index: int, allowed: tuple[int, ...], readings: set[str]
) -> list[Violation]:
    where = block_label(classification, index)
    result = get_path(classification, "result")
    labels = get_path(classification, "expectedLabels")
    out: list[Violation] = []
    if not isinstance(result, list):
        out.append(Violation("WINDOW-COUNT", f"{where}: expected a result array, got "
                             f"{type_name(result)}", {"classification": index}))
    elif len(result) not in allowed:
        out.append(Violation("WINDOW-COUNT", f"{where}: expected {_counts(allowed)} windows in "
                             f"result, got {len(result)}",
                             {"classification": index, "expected": list(allowed),
                              "seen": len(result)}))
    out += _labels_count(labels, result, allowed, where, index)
    out += _result_count(classification, result, where, index)
    if len(allowed) > 1 and isinstance(result, list) and len(result) in allowed:
        if allowed == (0, 1):
            readings.add(READING_NO_WINDOW if len(result) == 0 else READING_PADDED)
        else:
            readings.add(READING_FULL_ONLY if len(result) == allowed[0] else READING_TAIL)
    return out


def _counts(allowed: tuple[int, ...]) -> str:
    return " or ".join(str(n) for n in allowed)


def _labels_count(
    labels: object, result: object, allowed: tuple[int, ...], where: str, index: int
) -> list[Violation]:
    if not isinstance(labels, list):
        return [Violation("WINDOW-LABELS", f"{where}: expected an expectedLabels array, got "
                          f"{type_name(labels)}", {"classification": index})]
    # Where two counts are readings, expectedLabels must follow the reading result takes; when
    # they disagree, one of the two counts is wrong under every reading: WINDOW-COUNT.
    if len(allowed) > 1 and isinstance(result, list) and len(result) in allowed:
        if allowed != (0, 1) and len(labels) in allowed and len(labels) != len(result):
            return [Violation("WINDOW-COUNT", f"{where}: {len(result)} windows in result but "
                              f"{len(labels)} expectedLabels: the two counts disagree",
                              {"classification": index, "seen": len(result), "labels": len(labels)})]
        allowed = (len(result),)
    if len(labels) in allowed:
        return []
    return [Violation("WINDOW-LABELS", f"{where}: expected {_counts(allowed)} expectedLabels "
                      f"(one per window), got {len(labels)}",
                      {"classification": index, "expected": list(allowed), "seen": len(labels)})]


def _result_count(classification: object, result: object, where: str, index: int) -> list[Violation]:
    """resultCount, when present, equals len(result); structured outputs may make it larger."""
    if not isinstance(classification, Mapping) or "resultCount" not in classification:
        return []
    count = classification["resultCount"]
    if not isinstance(result, list):
        return []  # already reported
    structured = isinstance(classification.get("structuredResult"), list)
    if is_int(count) and (count == len(result) or (structured and count > len(result))):
        return []
    expected = f">= {len(result)}" if structured else str(len(result))
    return [Violation("WINDOW-COUNT", f"{where}: expected resultCount {expected} (len(result)), "
                      f"got {clip(count)}", {"classification": index})]


# --- WINDOW-PROBS -------------------------------------------------------------------------

def check_probabilities(body: object) -> list[Violation]:
    """WINDOW-PROBS: for classifier blocks, each window's class values (all keys but
    "anomaly") lie in [0, 1] and sum to 1 within what rounding to the grid the block's values
    share explains (oracles/rounding.py: block_grid, sum_problem). A block whose type is
    missing is skipped: anomaly scores must not be judged as probabilities."""
    out: list[Violation] = []
    for index, classification in enumerate(classifications_of(body)):
        block_type = get_path(classification, "learnBlock", "type")
        result = get_path(classification, "result")
        if not isinstance(block_type, str) or block_type in NOT_PROBABILITIES \
                or not isinstance(result, list):  # no result: WINDOW-COUNT
            continue
        grid = block_grid(_class_values(result))
        bad = [(w, problem) for w, window in enumerate(result)
               if (problem := _probability_problem(window, grid)) is not None]
        if bad:
            out.append(Violation("WINDOW-PROBS", f"{block_label(classification, index)} "
                                 f"({block_type}): {len(bad)} of {len(result)} windows are not a "
                                 f"probability distribution; window {bad[0][0]}: {bad[0][1]}",
                                 {"classification": index, "step": grid.step,
                                  "windows": [w for w, _ in bad[:MAX_EXAMPLES]]}))
    return out


def _class_values(result: list[object]) -> list[float]:
    return [float(v) for window in result if isinstance(window, Mapping)
            for k, v in window.items() if k != "anomaly" and is_number(v) and 0.0 <= v <= 1.0]


def _probability_problem(window: object, grid: Grid) -> str | None:
    if not isinstance(window, Mapping):
        return f"expected an object of class values, got {type_name(window)}"
    values = {k: v for k, v in window.items() if k != "anomaly"}
    if not values:
        return None
    non_numbers = [k for k, v in values.items() if not is_number(v)]
    if non_numbers:
        return f"non-numeric values for {sorted(non_numbers)[:MAX_EXAMPLES]}"
    outside = {k: v for k, v in values.items() if not 0.0 <= v <= 1.0}
    if outside:
        return f"values outside [0, 1]: {clip(outside, 80)}"
    return sum_problem(list(values.values()), grid)


# --- WINDOW-ANOMALY -----------------------------------------------------------------------

def check_anomaly(body: object) -> list[Violation]:
    """WINDOW-ANOMALY: an anomaly block scores every window, either as a numeric "anomaly"
    in each result window or as one anomalyResult entry per window with meanScore/maxScore."""
    out: list[Violation] = []
    for index, classification in enumerate(classifications_of(body)):
        block_type = get_path(classification, "learnBlock", "type")
        if not isinstance(block_type, str) or block_type not in SCORED_ANOMALY_TYPES:
            continue
        result = get_path(classification, "result")
        if not isinstance(result, list):
            continue  # WINDOW-COUNT reports it
        unscored = [w for w, window in enumerate(result)
                    if not is_number(get_path(window, "anomaly"))]
        if not unscored or _anomaly_result_complete(classification, len(result)):
            continue
        out.append(Violation("WINDOW-ANOMALY", f"{block_label(classification, index)}: expected "
                             f"an anomaly score for every window; {len(unscored)} of {len(result)} "
                             f"windows have no numeric 'anomaly' and anomalyResult does not cover "
                             f"them (first: window {unscored[0]})",
                             {"classification": index, "windows": unscored[:MAX_EXAMPLES]}))
    return out


def _anomaly_result_complete(classification: object, windows: int) -> bool:
    entries = get_path(classification, "anomalyResult")
    if not isinstance(entries, Sequence) or isinstance(entries, str) or len(entries) != windows:
        return False
    return all(is_number(get_path(e, "meanScore")) and is_number(get_path(e, "maxScore"))
               for e in entries)


def check_anomaly_scores(body: object) -> list[Violation]:
    """WINDOW-ANOMALY: in every anomalyResult entry, maxScore (the maximum of the scores) is at
    least meanScore (their mean). Entries missing either number are left to the checks above."""
    out: list[Violation] = []
    for index, classification in enumerate(classifications_of(body)):
        entries = get_path(classification, "anomalyResult")
        if not isinstance(entries, list):
            continue
        bad = [(w, mean, top) for w, entry in enumerate(entries)
               if is_number(mean := get_path(entry, "meanScore"))
               and is_number(top := get_path(entry, "maxScore"))
               and top < mean - SCORE_TOLERANCE * max(1.0, abs(mean))]
        if bad:
            w, mean, top = bad[0]
            out.append(Violation("WINDOW-ANOMALY", f"{block_label(classification, index)}: "
                                 f"{len(bad)} of {len(entries)} anomalyResult entries have maxScore "
                                 f"below meanScore (a maximum is never below the mean); entry {w}: "
                                 f"maxScore {top} < meanScore {mean}",
                                 {"classification": index, "entries": [b[0] for b in bad[:MAX_EXAMPLES]]}))
    return out


# --- prediction windows on the page (PAGE-PREDICTIONS) --------------------------------------

def window_from_predictions(predictions: object) -> float | None:
    """The window size the predictions' own spacing shows: the most common endMs - startMs
    (a clipped last window is shorter, so it is outvoted); None when nothing can be read."""
    if not isinstance(predictions, list):
        return None
    widths: dict[float, int] = {}
    for prediction in predictions:
        start, end = get_path(prediction, "startMs"), get_path(prediction, "endMs")
        if is_number(start) and is_number(end) and end > start:
            widths[float(end - start)] = widths.get(float(end - start), 0) + 1
    return max(widths, key=lambda w: (widths[w], w)) if widths else None


def _padded_tail(start: float, total: float, window_ms: float, starts: list[float]) -> bool:
    """reading.tail-window: a window past the sample's end is legal when it is the last one, the
    only one past the end, starts inside the sample, and follows its predecessor at the spacing the
    sample's other windows keep (a window moved one increase late breaks that spacing)."""
    past = [s for s in starts if s + window_ms > max(total, window_ms) + WINDOW_EPSILON_MS]
    if past != [start] or start != starts[-1] or start >= total:
        return False
    gaps = [b - a for a, b in pairwise(starts)]
    return len(gaps) < 2 or all(math.isclose(gaps[-1], g, abs_tol=WINDOW_EPSILON_MS) for g in gaps)


def check_prediction_windows(page: object, window_ms: float) -> list[Violation]:
    """PAGE-PREDICTIONS: every prediction's window [startMs, startMs + windowSizeMs] lies inside
    its sample, as the windows classify counts do (WINDOW-COUNT); a sample shorter than one
    window has its one zero-padded window at 0. A window ending past the sample is an error
    even when endMs is clipped to the sample's length."""
    lengths: dict[object, object] = {}
    results = get_path(page, "result")
    for entry in results if isinstance(results, list) else []:
        lengths[get_path(entry, "sampleId")] = get_path(entry, "sample", "totalLengthMs")
    predictions = get_path(page, "predictions")
    starts: dict[object, set[float]] = {}
    for prediction in predictions if isinstance(predictions, list) else []:
        sample_id, start = get_path(prediction, "sampleId"), get_path(prediction, "startMs")
        if is_number(lengths.get(sample_id)) and is_number(start):
            starts.setdefault(sample_id, set()).add(float(start))
    bad: list[dict[str, object]] = []
    for prediction in predictions if isinstance(predictions, list) else []:
        sample_id = get_path(prediction, "sampleId")
        total, start = lengths.get(sample_id), get_path(prediction, "startMs")
        if not (is_number(total) and is_number(start)):
            continue  # foreign or malformed predictions: paging.check_page reports them
        if start + window_ms > max(total, window_ms) + WINDOW_EPSILON_MS and not _padded_tail(
                float(start), float(total), window_ms, sorted(starts[sample_id])):
            bad.append({"sampleId": sample_id, "startMs": start,
                        "endMs": get_path(prediction, "endMs"), "totalLengthMs": total})
    if not bad:
        return []
    first = bad[0]
    return [Violation("PAGE-PREDICTIONS", f"{len(bad)} prediction windows end past their sample "
                      f"(windowSizeMs {window_ms:g}); e.g. sample {first['sampleId']}: startMs "
                      f"{first['startMs']} + {window_ms:g} > totalLengthMs {first['totalLengthMs']}",
                      {"window_ms": window_ms, "predictions": bad[:MAX_EXAMPLES]})]
