"""WINDOW-LABELS: each expectedLabels entry of a classify result against its own window.

expectedLabels are StructuredLabels: value indices of the sample, endIndex inclusive. Window k
covers [k * I, k * I + W) ms, so its entry starts at value k * I / intervalMs and ends (one past
endIndex) at min(valuesCount, (k * I + W) / intervalMs), each within one value of rounding.
The count of entries (one per window) is WINDOW-COUNT's, in `window`.
"""

from __future__ import annotations

import math

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
)
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "decision.expected-labels",
    "reading.end-index",
    "reading.resampled-count",
)

RANGES_TOPIC = "window:expected-labels"
# Whether endIndex is the window's last value or one past it is undocumented (claims row
# reading.end-index): both are accepted, applied consistently over one classification.
END_TOPIC = "window:end-index"
END_READINGS = ((True, "endIndex inclusive"), (False, "endIndex exclusive"))
EXCLUSIVE_SLACK = 1.0 - 1e-6
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
    for index, classification in enumerate(classifications_of(body)):
        entries = get_path(classification, "expectedLabels")
        if not isinstance(entries, list) or not entries:
            continue
        geometry = value_geometry(sample, classification)
        if isinstance(geometry, str):
            observations.append(Observation(RANGES_TOPIC, "not judged", geometry))
            continue
        interval, values, same_rate = geometry
        segments = labelled_segments(sample, classification) if same_rate else None
        by_reading = {inclusive: [problem for k, entry in enumerate(entries)
                                  if (problem := _entry_problem(
                                      entry, k, float(window), float(increase), interval, values,
                                      segments, inclusive)) is not None]
                      for inclusive in (True, False)}
        fits = [name for inclusive, name in END_READINGS if not by_reading[inclusive]]
        if len(fits) == 1:
            observations.append(Observation(END_TOPIC, fits[0], block_label(classification, index)))
        bad = [] if fits else by_reading[True]
        if bad:
            violations.append(Violation(
                "WINDOW-LABELS", f"{block_label(classification, index)}: {len(bad)} of "
                f"{len(entries)} expectedLabels do not match their window (windowSizeMs "
                f"{window}, windowIncreaseMs {increase}, intervalMs {interval:g}, {values} "
                f"values): {'; '.join(bad[:_MAX_BAD])}", {"classification": index,
                                                         "entries": bad[:MAX_EXAMPLES]}))
    return Findings(violations, observations)


def check_page_expected_labels(page: object) -> list[Violation]:
    """WINDOW-LABELS on a page: each result's expectedLabels entry carries the label of one of its
    sample's structured labels that the entry's values overlap (decision.expected-labels). The
    page gives no window geometry, so where an entry lies is judged on classify
    (check_expected_labels); here only its label, with endIndex read inclusive (the lenient of
    reading.end-index's two). Not judged, as on classify: a classification at another intervalMs
    than its sample's, a window past the listed labels (the list may be cut) or over a gap."""
    results = get_path(page, "result")
    bad: list[str] = []
    for item in results if isinstance(results, list) else []:
        sample = get_path(item, "sample")
        own = get_path(sample, "intervalMs")
        for index, classification in enumerate(classifications_of(item)):
            told = get_path(classification, "intervalMs")
            if is_number(told) and not (is_number(own) and math.isclose(told, own, rel_tol=1e-9)):
                continue
            segments = labelled_segments(sample, classification)
            entries = get_path(classification, "expectedLabels")
            for k, entry in enumerate(entries if isinstance(entries, list) else []):
                start, end = get_path(entry, "startIndex"), get_path(entry, "endIndex")
                if not (is_int(start) and is_int(end)):
                    continue  # SCHEMA-RESPONSE
                where = f"sample {clip(get_path(item, 'sampleId'))} {block_label(classification, index)} window {k}"
                problem = _label_problem(start, max(start, end), get_path(entry, "label"), where, segments)
                if problem is not None:
                    bad.append(problem)
    if not bad:
        return []
    return [Violation("WINDOW-LABELS", f"{len(bad)} expectedLabels on the page carry a label their "
                      f"values do not overlap: {'; '.join(bad[:_MAX_BAD])}", {"entries": bad[:MAX_EXAMPLES]})]


def value_geometry(sample: object, classification: object) -> tuple[float, int, bool] | str:
    """(intervalMs, value count, whether that is the sample's own rate), or why not known. The
    classification's intervalMs wins (a resampling impulse may index its own values); then the
    value count comes from totalLengthMs, and structured labels (the sample's rate) are not used."""
    own, count = get_path(sample, "intervalMs"), get_path(sample, "valuesCount")
    told, total = get_path(classification, "intervalMs"), get_path(sample, "totalLengthMs")
    if is_number(own) and own > 0 and is_int(count) and count > 0 and (
            not is_number(told) or math.isclose(told, own, rel_tol=1e-9)):
        return float(own), int(count), True
    if is_number(told) and told > 0 and is_number(total) and total > 0:
        # How a resampled sample's values are counted is undocumented (reading.resampled-count):
        # the final partial value may count, so the bound is the ceiling (the floor fits under it).
        return float(told), math.ceil(total / told - FLOOR_EPSILON), False
    return (f"no intervalMs and value count to place expectedLabels (sample intervalMs "
            f"{clip(own)}, valuesCount {clip(count)}, classification intervalMs {clip(told)})")


def labelled_segments(sample: object, classification: object) -> list[tuple[int, int, str]] | None:
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
                   values: int, segments: list[tuple[int, int, str]] | None,
                   inclusive: bool = True) -> str | None:
    start, end, label = (get_path(entry, "startIndex"), get_path(entry, "endIndex"),
                         get_path(entry, "label"))
    if not (is_int(start) and is_int(end)):
        return None  # SCHEMA-RESPONSE
    where = f"window {k} [{k * increase:g}, {k * increase + window:g}) ms"
    last = end if inclusive else end - 1  # the window's last value under this reading
    problem = index_problem(start, end, k, window, increase, interval, values, inclusive)
    return problem if problem is not None else _label_problem(start, max(start, last), label, where, segments)


def index_problem(start: int, end: int, k: int, window: float, increase: float, interval: float,
                  values: int, inclusive: bool = True) -> str | None:
    """Whether window k's entry [start, end] lies in its window and inside the sample's values,
    each end within one value of rounding (decision.expected-labels), under one reading of
    endIndex (reading.end-index); None when it does, else what is wrong."""
    where = f"window {k} [{k * increase:g}, {k * increase + window:g}) ms"
    last = end if inclusive else end - 1
    if not 0 <= start <= max(start, last) < values:
        return (f"{where}: indices [{start}, {end}] outside the sample's values [0, {values - 1}] "
                f"(endIndex {'inclusive' if inclusive else 'exclusive'})")
    first = k * increase / interval
    if abs(start - first) > INDEX_SLACK:
        return f"{where}: startIndex {start}, expected about {first:g}"
    stop = min(float(values), (k * increase + window) / interval)
    # Under the exclusive reading the end is held to under one value (rounding proper): with a
    # whole value of slack on top of the shifted end, an inclusive end one value long would fit.
    if abs(last + 1 - stop) > (INDEX_SLACK if inclusive else EXCLUSIVE_SLACK):
        return f"{where}: endIndex {end}, expected about {stop - 1 if inclusive else stop:g}"
    return None


def _label_problem(start: int, end: int, label: object, where: str,
                   segments: list[tuple[int, int, str]] | None) -> str | None:
    if segments is None or not isinstance(label, str):
        return None
    if end > max(e for _, e, _ in segments):
        return None  # past the listed labels: the list may be truncated (not judged)
    if not covered(start, end, segments):
        return None  # a window over a gap between labels: the documents do not say its label
    overlapping = {name for s, e, name in segments if s <= end and e >= start}
    if label in overlapping:
        return None
    return (f"{where}: label {clip(label)}, expected one of the sample's structured labels "
            f"over values [{start}, {end}]: {sorted(overlapping)}")


def covered(start: int, end: int, segments: list[tuple[int, int, str]]) -> bool:
    """Whether the structured labels cover every value in [start, end]."""
    reached = start
    for s, e, _ in sorted(segments):
        if s > reached:
            break
        reached = max(reached, e + 1)
    return reached > end
