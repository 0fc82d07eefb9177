"""Which multi-label samples WINDOW-LABELS classifies: a bounded, deterministic probe (pure:
samples in, ids out). The samples whose windows straddle the edges of their structured labels
come first: there an off-by-one gives a window another label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from eicontract.oracles._common import FLOOR_EPSILON, get_path, is_int, is_number
from eicontract.oracles.labels import covered, labelled_segments
from eicontract.oracles.window import expected_window_counts

CLAIMS: tuple[str, ...] = ()  # a generator of probes: it judges nothing


def _listed_segments(sample: object) -> list[tuple[int, int, str]]:
    listed = get_path(sample, "structuredLabels")
    if not (isinstance(listed, list) and len(listed) > 1):
        return []
    return labelled_segments(sample, {}) or []


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
        if (start + end) // 2 in edges and covered(start, end, segments):
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
