"""One classify result body against the sliding window.

With L = sample.sample.totalLengthMs, W = windowSizeMs and I = windowIncreaseMs, a sample
with L >= W has floor((L - W) / I) + 1 windows. For L < W the documents do not say: we accept
no window or one zero-padded window and record which one the server chose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

from eicontract.oracles._common import (
    MAX_EXAMPLES,
    Findings,
    clip,
    get_path,
    is_int,
    is_number,
    type_name,
)
from eicontract.violations import Observation, Violation

ANOMALY_TYPES = frozenset({"anomaly", "anomaly-gmm", "keras-visual-anomaly", "keras-anomaly"})
SCORED_ANOMALY_TYPES = frozenset({"anomaly", "anomaly-gmm"})
NOT_PROBABILITIES = ANOMALY_TYPES | {"keras-regression"}
PROB_TOLERANCE = 1e-3
# A quantised variant's values lie on a grid: n values each rounded by up to half a step may
# sum to 1 +- n * step / 2 (docs/CLAIMS.md classify.sliding-window). int8: 8 bits over [0, 1]
# (1/255 is the coarser of 1/255 and 1/256); akida: its lowest documented activation width
# for a probability output, 4 bits (1/15). float32 and an unnamed variant keep PROB_TOLERANCE.
QUANTISATION_STEP = {"int8": 1 / 255, "akida": 1 / 15}
# Relative slack for floor((L - W) / I): 0.3 / 0.1 is 2.9999999999999996 in binary floats.
FLOOR_EPSILON = 1e-9
# Window ends are sums of floats: this much slack in ms.
WINDOW_EPSILON_MS = 1e-6
# Scores are rounded for the reply, maybe to different digits (the reference: the mean to its
# variant's step, the maximum to 4 decimals): a maximum may read a little below an equal mean.
SCORE_TOLERANCE = 1e-3
SHORT_SAMPLE_TOPIC = "window:short-sample"
READING_NO_WINDOW = "no window"
READING_PADDED = "one zero-padded window"
# L >= W and the last full window ends before L: the rest of the sample is either left out or
# classified in one more, zero-padded window (Edge Impulse's zero-pad option); both are read.
PARTIAL_TOPIC = "window:partial-last-window"
READING_FULL_ONLY = "only full windows"
READING_PARTIAL = "plus a zero-padded partial last window"


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
    return (math.floor(steps + FLOOR_EPSILON * max(1.0, steps)) + 1,)


def window_readings(total_ms: float, window_ms: float, increase_ms: float) -> dict[int, str]:
    """Each window count the documents allow, with the reading it follows. Raises ValueError
    like expected_window_counts."""
    allowed = expected_window_counts(total_ms, window_ms, increase_ms)
    if len(allowed) > 1:
        return {0: READING_NO_WINDOW, 1: READING_PADDED}
    full = allowed[0]
    if (full - 1) * increase_ms + window_ms < total_ms - WINDOW_EPSILON_MS:
        return {full: READING_FULL_ONLY, full + 1: READING_PARTIAL}
    return {full: READING_FULL_ONLY}


def check_result_windows(body: object) -> Findings:
    """Every window check on one classify result: count, labels, probabilities, anomaly."""
    findings, ranges = check_window_count(body), check_expected_labels(body)
    return Findings(findings.violations + ranges.violations + check_probabilities(body)
                    + check_anomaly(body) + check_anomaly_scores(body),
                    findings.observations + ranges.observations)


def _classifications(body: object) -> list[object]:
    found = get_path(body, "classifications")
    return found if isinstance(found, list) else []


def _block_label(classification: object, index: int) -> str:
    block_id = get_path(classification, "learnBlock", "id")
    return f"classification {index} (block {clip(block_id)})"


# --- WINDOW-COUNT and WINDOW-LABELS -------------------------------------------------------

def check_window_count(body: object) -> Findings:
    """WINDOW-COUNT (result, resultCount) and WINDOW-LABELS (expectedLabels)."""
    total = get_path(body, "sample", "sample", "totalLengthMs")
    window, increase = get_path(body, "windowSizeMs"), get_path(body, "windowIncreaseMs")
    try:
        readings_of = window_readings(total, window, increase)  # type: ignore[arg-type]
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
        violations += _classification_counts(classification, index, readings_of, readings)
    short = total < window  # type: ignore[operator]
    topic = SHORT_SAMPLE_TOPIC if short else PARTIAL_TOPIC
    detail = (f"totalLengthMs={total} < windowSizeMs={window}" if short else
              f"totalLengthMs={total}, windowSizeMs={window}, windowIncreaseMs={increase}")
    observations = [Observation(topic, reading, detail) for reading in sorted(readings)]
    return Findings(violations, observations)


def _classification_counts(
    classification: object, index: int, readings_of: Mapping[int, str], readings: set[str]
) -> list[Violation]:
    allowed = tuple(readings_of)
    where = _block_label(classification, index)
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
        readings.add(readings_of[len(result)])
    return out


def _counts(allowed: tuple[int, ...]) -> str:
    return " or ".join(str(n) for n in allowed)


def _labels_count(
    labels: object, result: object, allowed: tuple[int, ...], where: str, index: int
) -> list[Violation]:
    if not isinstance(labels, list):
        return [Violation("WINDOW-LABELS", f"{where}: expected an expectedLabels array, got "
                          f"{type_name(labels)}", {"classification": index})]
    # Where two counts are allowed, expectedLabels must follow the same reading as result.
    if len(allowed) > 1 and isinstance(result, list) and len(result) in allowed:
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


# --- WINDOW-LABELS: each expectedLabels entry against its own window ------------------------
# expectedLabels are StructuredLabels: value indices of the sample, endIndex inclusive. Window k
# covers [k * I, k * I + W) ms, so its entry starts at value k * I / intervalMs and ends (one past
# endIndex) at min(valuesCount, (k * I + W) / intervalMs), each within one value of rounding.

RANGES_TOPIC = "window:expected-labels"
INDEX_SLACK = 1.0 + 1e-6  # one value of rounding either way, plus float noise
_MAX_BAD = 3  # entries described per classification
ALL_VALUES = 2**63  # the end index of a single-label sample's one label


def check_expected_labels(body: object) -> Findings:
    """WINDOW-LABELS: every expectedLabels entry lies in its window and inside the sample, and
    carries the label of a structured label it overlaps (the sample's label when the sample has
    none). Nothing is judged where the reply does not say the sample's interval and value count."""
    window, increase = get_path(body, "windowSizeMs"), get_path(body, "windowIncreaseMs")
    if not (is_number(window) and is_number(increase) and window > 0 and increase > 0):
        return Findings([], [])  # WINDOW-COUNT reports it
    sample = get_path(body, "sample", "sample")
    violations: list[Violation] = []
    observations: list[Observation] = []
    for index, classification in enumerate(_classifications(body)):
        entries = get_path(classification, "expectedLabels")
        if not isinstance(entries, list) or not entries:
            continue
        geometry = _value_geometry(sample, classification)
        if isinstance(geometry, str):
            observations.append(Observation(RANGES_TOPIC, "not judged", geometry))
            continue
        interval, values, same_rate = geometry
        segments = _segments(sample, classification) if same_rate else None
        bad = [problem for k, entry in enumerate(entries)
               if (problem := _entry_problem(entry, k, float(window), float(increase), interval,
                                             values, segments)) is not None]
        if bad:
            violations.append(Violation(
                "WINDOW-LABELS", f"{_block_label(classification, index)}: {len(bad)} of "
                f"{len(entries)} expectedLabels do not match their window (windowSizeMs "
                f"{window}, windowIncreaseMs {increase}, intervalMs {interval:g}, {values} "
                f"values): {'; '.join(bad[:_MAX_BAD])}", {"classification": index,
                                                         "entries": bad[:MAX_EXAMPLES]}))
    return Findings(violations, observations)


def _value_geometry(sample: object, classification: object) -> tuple[float, int, bool] | str:
    """(intervalMs, value count, whether that is the sample's own rate), or why not known. The
    classification's intervalMs wins (a resampling impulse may index its own values); then the
    value count comes from totalLengthMs, and structured labels (the sample's rate) are not used."""
    own, count = get_path(sample, "intervalMs"), get_path(sample, "valuesCount")
    told, total = get_path(classification, "intervalMs"), get_path(sample, "totalLengthMs")
    if is_number(own) and own > 0 and is_int(count) and count > 0 and (
            not is_number(told) or math.isclose(told, own, rel_tol=1e-9)):
        return float(own), int(count), True
    if is_number(told) and told > 0 and is_number(total) and total > 0:
        return float(told), math.floor(total / told + FLOOR_EPSILON), False
    return (f"no intervalMs and value count to place expectedLabels (sample intervalMs "
            f"{clip(own)}, valuesCount {clip(count)}, classification intervalMs {clip(told)})")


def _segments(sample: object, classification: object) -> list[tuple[int, int, str]] | None:
    """The sample's structured labels as (start, end, label); a single-label sample is one label
    over all its values; None when the labels cannot be known (a multi-label sample that does not
    list them, or no label at all)."""
    listed = get_path(sample, "structuredLabels")
    if isinstance(listed, list) and listed:
        return [(s, e, label) for item in listed
                if is_int(s := get_path(item, "startIndex")) and is_int(e := get_path(item, "endIndex"))
                and isinstance(label := get_path(item, "label"), str)]
    own = get_path(sample, "label")
    if get_path(classification, "isMultiLabel") is True or not isinstance(own, str):
        return None
    return [(0, ALL_VALUES, own)]


def _entry_problem(entry: object, k: int, window: float, increase: float, interval: float,
                   values: int, segments: list[tuple[int, int, str]] | None) -> str | None:
    start, end, label = (get_path(entry, "startIndex"), get_path(entry, "endIndex"),
                         get_path(entry, "label"))
    if not (is_int(start) and is_int(end)):
        return None  # SCHEMA-RESPONSE
    where = f"window {k} [{k * increase:g}, {k * increase + window:g}) ms"
    if not 0 <= start <= end < values:
        return f"{where}: indices [{start}, {end}] outside the sample's values [0, {values - 1}]"
    first = k * increase / interval
    if abs(start - first) > INDEX_SLACK:
        return f"{where}: startIndex {start}, expected about {first:g}"
    stop = min(float(values), (k * increase + window) / interval)
    if abs(end + 1 - stop) > INDEX_SLACK:
        return f"{where}: endIndex {end}, expected about {stop - 1:g}"
    return _label_problem(start, end, label, where, segments)


def _label_problem(start: int, end: int, label: object, where: str,
                   segments: list[tuple[int, int, str]] | None) -> str | None:
    if segments is None or not isinstance(label, str):
        return None
    if end > max(e for _, e, _ in segments):
        return None  # past the listed labels: the list may be truncated (not judged)
    if not _covered(start, end, segments):
        return None  # a window over a gap between labels: the documents do not say its label
    overlapping = {name for s, e, name in segments if s <= end and e >= start}
    if label in overlapping:
        return None
    return (f"{where}: label {clip(label)}, expected one of the sample's structured labels "
            f"over values [{start}, {end}]: {sorted(overlapping)}")


def _covered(start: int, end: int, segments: list[tuple[int, int, str]]) -> bool:
    """Whether the structured labels cover every value in [start, end]."""
    reached = start
    for s, e, _ in sorted(segments):
        if s > reached:
            break
        reached = max(reached, e + 1)
    return reached > end


# --- which multi-label samples WINDOW-LABELS classifies (a bounded, deterministic probe) ------

def _listed_segments(sample: object) -> list[tuple[int, int, str]]:
    listed = get_path(sample, "structuredLabels")
    if not (isinstance(listed, list) and len(listed) > 1):
        return []
    return _segments(sample, {}) or []


def multi_label_order(samples: Iterable[object]) -> list[int]:
    """The ids of the samples with two or more structured labels, the most labels first (then by
    id): where a window's label depends on which segment it lies in."""
    ranked: dict[int, int] = {ident: len(segments) for s in samples
                              if is_int(ident := get_path(s, "id")) and (segments := _listed_segments(s))}
    return sorted(ranked, key=lambda i: (-ranked[i], i))


def edge_windows(sample: object, window_ms: float, increase_ms: float) -> tuple[int, int]:
    """The sample's windows that the structured labels cover and whose middle value is a label's
    first or last value (the segment edges, where an off-by-one picks another label): how many of
    them overlap no value of the sample's own label (a fallback to it shows there), and how many
    in all. (The middle value is one reading of a window's label; WINDOW-LABELS accepts any
    label the window overlaps.)"""
    segments, interval = _listed_segments(sample), get_path(sample, "intervalMs")
    values, total = get_path(sample, "valuesCount"), get_path(sample, "totalLengthMs")
    if not (segments and is_number(interval) and interval > 0 and is_int(values) and is_number(total)
            and window_ms > 0 and increase_ms > 0):
        return 0, 0
    edges = {index for start, end, _ in segments for index in (start, end)}
    own, count = get_path(sample, "label"), max(expected_window_counts(total, window_ms, increase_ms))
    telling = hits = 0
    for k in range(count):
        start = math.floor(k * increase_ms / interval + FLOOR_EPSILON)
        end = max(start, min(values, math.ceil((k * increase_ms + window_ms) / interval - FLOOR_EPSILON)) - 1)
        if (start + end) // 2 in edges and _covered(start, end, segments):
            hits += 1
            telling += own not in {name for s, e, name in segments if s <= end and e >= start}
    return telling, hits


def pick_multi_label(samples: Sequence[object], window_ms: float, increase_ms: float, count: int,
                     skip: Iterable[int] = ()) -> list[int]:
    """``count`` multi-label sample ids for WINDOW-LABELS, deterministically: by edge_windows
    (the telling ones first, then all), then the most labels, then by id."""
    left = set(skip)
    by_id = {get_path(s, "id"): s for s in samples}
    order = [i for i in multi_label_order(samples) if i not in left]
    edges = {i: edge_windows(by_id[i], window_ms, increase_ms) for i in order}
    return sorted(order, key=lambda i: (-edges[i][0], -edges[i][1]))[:count]  # stable: ties keep the order


# --- WINDOW-PROBS -------------------------------------------------------------------------

def check_probabilities(body: object, variant: str | None = None) -> list[Violation]:
    """WINDOW-PROBS: for classifier blocks, each window's class values (all keys but
    "anomaly") lie in [0, 1] and sum to 1 within 1e-3, or, for a quantised ``variant``, within
    the quantisation error (classes x half a step). A block whose type is missing is
    skipped: anomaly scores must not be judged as probabilities."""
    out: list[Violation] = []
    for index, classification in enumerate(_classifications(body)):
        block_type = get_path(classification, "learnBlock", "type")
        if not isinstance(block_type, str) or block_type in NOT_PROBABILITIES:
            continue
        result = get_path(classification, "result")
        if not isinstance(result, list):
            continue  # WINDOW-COUNT reports it
        bad = [(w, problem) for w, window in enumerate(result)
               if (problem := _probability_problem(window, variant)) is not None]
        if bad:
            out.append(Violation("WINDOW-PROBS", f"{_block_label(classification, index)} "
                                 f"({block_type}): {len(bad)} of {len(result)} windows are not a "
                                 f"probability distribution; window {bad[0][0]}: {bad[0][1]}",
                                 {"classification": index,
                                  "windows": [w for w, _ in bad[:MAX_EXAMPLES]]}))
    return out


def sum_tolerance(classes: int, variant: str | None) -> float:
    """How far the class values may sum from 1: PROB_TOLERANCE, plus the quantisation error."""
    step = QUANTISATION_STEP.get(variant or "float32", 0.0)
    return PROB_TOLERANCE + classes * step / 2


def _probability_problem(window: object, variant: str | None = None) -> str | None:
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
    total, tolerance = math.fsum(values.values()), sum_tolerance(len(values), variant)
    if abs(total - 1.0) > tolerance:
        return f"values sum to {total:.6g}, expected 1 within {tolerance:.4g}"
    return None


# --- WINDOW-ANOMALY -----------------------------------------------------------------------

def check_anomaly(body: object) -> list[Violation]:
    """WINDOW-ANOMALY: an anomaly block scores every window, either as a numeric "anomaly"
    in each result window or as one anomalyResult entry per window with meanScore/maxScore."""
    out: list[Violation] = []
    for index, classification in enumerate(_classifications(body)):
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
        out.append(Violation("WINDOW-ANOMALY", f"{_block_label(classification, index)}: expected "
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
    for index, classification in enumerate(_classifications(body)):
        entries = get_path(classification, "anomalyResult")
        if not isinstance(entries, list):
            continue
        bad = [(w, mean, top) for w, entry in enumerate(entries)
               if is_number(mean := get_path(entry, "meanScore"))
               and is_number(top := get_path(entry, "maxScore"))
               and top < mean - SCORE_TOLERANCE * max(1.0, abs(mean))]
        if bad:
            w, mean, top = bad[0]
            out.append(Violation("WINDOW-ANOMALY", f"{_block_label(classification, index)}: "
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


def check_prediction_windows(page: object, window_ms: float) -> list[Violation]:
    """PAGE-PREDICTIONS: every prediction's window [startMs, startMs + windowSizeMs] lies inside
    its sample, as the windows classify counts do (WINDOW-COUNT); a sample shorter than one
    window has its one zero-padded window at 0. A window ending past the sample is an error
    even when endMs is clipped to the sample's length, unless it is the zero-padded partial last
    window (WINDOW-COUNT's second reading): it starts inside the sample, one increase after a
    full window of the same sample (the increase read from the predictions' spacing)."""
    lengths: dict[object, object] = {}
    results = get_path(page, "result")
    for entry in results if isinstance(results, list) else []:
        lengths[get_path(entry, "sampleId")] = get_path(entry, "sample", "totalLengthMs")
    predictions = get_path(page, "predictions")
    starts = _starts_by_sample(predictions)
    increase = _increase_from(starts)
    bad: list[dict[str, object]] = []
    for prediction in predictions if isinstance(predictions, list) else []:
        total, start = lengths.get(get_path(prediction, "sampleId")), get_path(prediction, "startMs")
        if not (is_number(total) and is_number(start)):
            continue  # foreign or malformed predictions: paging.check_page reports them
        if start + window_ms > max(total, window_ms) + WINDOW_EPSILON_MS and not _padded_last(
                float(start), starts.get(get_path(prediction, "sampleId"), []), float(total),
                window_ms, increase):
            bad.append({"sampleId": get_path(prediction, "sampleId"), "startMs": start,
                        "endMs": get_path(prediction, "endMs"), "totalLengthMs": total})
    if not bad:
        return []
    first = bad[0]
    return [Violation("PAGE-PREDICTIONS", f"{len(bad)} prediction windows end past their sample "
                      f"(windowSizeMs {window_ms:g}); e.g. sample {first['sampleId']}: startMs "
                      f"{first['startMs']} + {window_ms:g} > totalLengthMs {first['totalLengthMs']}",
                      {"window_ms": window_ms, "predictions": bad[:MAX_EXAMPLES]})]


def _starts_by_sample(predictions: object) -> dict[object, list[float]]:
    starts: dict[object, list[float]] = {}
    for prediction in predictions if isinstance(predictions, list) else []:
        start = get_path(prediction, "startMs")
        if is_number(start):
            starts.setdefault(get_path(prediction, "sampleId"), []).append(float(start))
    return {sample: sorted(set(values)) for sample, values in starts.items()}


def _increase_from(starts: Mapping[object, list[float]]) -> float | None:
    """The window increase the predictions' spacing shows: the most common gap between a
    sample's consecutive window starts; None when no sample has two windows."""
    gaps: dict[float, int] = {}
    for values in starts.values():
        for a, b in pairwise(values):
            gaps[b - a] = gaps.get(b - a, 0) + 1
    return max(gaps, key=lambda g: (gaps[g], -g)) if gaps else None


def _padded_last(start: float, starts: Sequence[float], total: float, window_ms: float,
                 increase: float | None) -> bool:
    """Whether a window ending past its sample is the zero-padded partial last window: the
    sample's last, starting inside it, one increase after a window that is full."""
    if increase is None or not starts or start != starts[-1] or start >= total:
        return False
    before = start - increase
    return (any(abs(before - s) <= WINDOW_EPSILON_MS for s in starts)
            and before + window_ms <= total + WINDOW_EPSILON_MS)
