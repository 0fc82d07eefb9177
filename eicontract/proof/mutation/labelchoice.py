"""The free choice expected-label (decision.expected-labels: window k's entry starts and ends at
its window's values "each within one value of rounding"; "its label is that of a structured label
it overlaps"; choices.py). Pure: answers in, answers out.

- An expectedLabels entry of a classify result or a page, or a page prediction's window, whose
  indices are unchanged takes the mutant's label where that is one of the sample's structured
  labels the window overlaps.
- An expectedLabels entry whose indices moved takes the mutant's indices and label where the
  window's geometry is known (a classify result's windowSizeMs and windowIncreaseMs; for a page,
  those the corpus's clean classify results gave for the same learn block), the mutant's entries
  of that classification all lie within rounding of their windows under a reading of endIndex
  (reading.end-index) that the clean entries also take, and the label is allowed at the new
  indices.

The structured labels are the sample's as its answer lists them; where the list was cut
(truncateStructuredLabels), the longer list another clean answer gave for the same sample, when
the cut one is its prefix (`Seen`: the labels are the sample's, not the answer's).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from eicontract.oracles._common import STRUCTURED_LABEL_FIELDS, get_path, is_int, is_number, known_part
from eicontract.oracles.labels import index_problem, labelled_segments, value_geometry
from eicontract.proof.mutation.replay import CLASSIFY, PAGE, Serialised
from eicontract.server.variants import TRACE_FIELD

Answer = Mapping[str, Any]
# An entry's keys that may differ when only its label is taken over: the label, and a page
# prediction's model values (still compared after, as free fields)
_NOT_MATCHED = ("label", "prediction", "predictionCorrect")
_INDICES = ("startIndex", "endIndex")
Windows = tuple[float, float]  # (windowSizeMs, windowIncreaseMs)


class Seen(Protocol):
    """What a corpus's other clean answers tell about a sample or a learn block."""

    def labels(self, sample_id: Any) -> list[Any] | None:
        """The longest structuredLabels list given for the sample, or None."""

    def windows(self, block_id: Any) -> Windows | None:
        """The learn block's (windowSizeMs, windowIncreaseMs), when the corpus tells it one way."""


class NothingSeen:
    def labels(self, sample_id: Any) -> list[Any] | None:
        return None

    def windows(self, block_id: Any) -> Windows | None:
        return None


NOTHING_SEEN = NothingSeen()


class CorpusSeen:
    """What a corpus's clean answers tell about each sample and learn block (labelchoice.Seen),
    read on first use only: each sample's longest list of structured labels (a list cut by
    truncateStructuredLabels is a prefix of the whole one another answer gives), and each learn
    block's window geometry as its classify results give it, or a page's predictions (each
    window's startMs and endMs) for a block no classify result of the corpus tells. Only lines that list
    structured labels are parsed."""

    def __init__(self, clean: Sequence[Answer]) -> None:
        self._clean = clean
        self._labels: dict[Any, list[Any]] | None = None
        self._windows: dict[Any, set[tuple[float, float]]] = {}  # block -> as classify results tell it
        self._page_windows: dict[Any, set[tuple[float, float]]] = {}  # block -> as page predictions tell it

    def labels(self, sample_id: Any) -> list[Any] | None:
        if self._labels is None:
            self._read()
        return (self._labels or {}).get(sample_id)

    def windows(self, block_id: Any) -> tuple[float, float] | None:
        if self._labels is None:
            self._read()
        # a classify result states the geometry; a page's is derived from rounded times: second choice
        told = self._windows.get(block_id) or self._page_windows.get(block_id, set())
        return next(iter(told)) if len(told) == 1 else None  # told two ways: not known

    def _read(self) -> None:
        self._labels = {}
        lines = self._clean if isinstance(self._clean, Serialised) else None
        for k in range(len(self._clean)):
            if lines is not None and b'"structuredLabels"' not in lines.line(k):
                continue
            answer = self._clean[k]
            followed = answer.get("followed")  # a job's result, read by the replay's call again
            for body in (answer.get("body"), followed.get("body") if isinstance(followed, dict) else None):
                for sample in _samples(body):
                    listed = sample.get("structuredLabels")
                    if isinstance(listed, list) and len(listed) > len(self._labels.get(sample.get("id"), ())):
                        self._labels[sample.get("id")] = listed
                self._note_windows(body)
                self._note_page_windows(body)

    def _note_page_windows(self, body: Any) -> None:
        """A page's geometry from its predictions: a sample's first window (at 0 ms, whole where it
        has a second) gives the size, the second's start the increase; for the learn blocks of
        that sample's classifications on the page."""
        if not (isinstance(body, dict) and isinstance(body.get("predictions"), list)
                and isinstance(body.get("result"), list)):
            return
        starts: dict[Any, list[tuple[float, float]]] = {}
        for entry in body["predictions"]:
            start, end = get_path(entry, "startMs"), get_path(entry, "endMs")
            if is_number(start) and is_number(end):
                starts.setdefault(get_path(entry, "sampleId"), []).append((float(start), float(end)))
        for item in body["result"]:
            windows = sorted(starts.get(get_path(item, "sampleId"), []))
            if len(windows) < 2 or windows[0][0] != 0:
                continue
            size, increase = windows[0][1] - windows[0][0], windows[1][0] - windows[0][0]
            if size <= 0 or increase <= 0:
                continue
            classifications = get_path(item, "classifications")
            for classification in classifications if isinstance(classifications, list) else []:
                block = get_path(classification, "learnBlock", "id")
                if block is not None:
                    self._page_windows.setdefault(block, set()).add((size, increase))

    def _note_windows(self, body: Any) -> None:
        if not (isinstance(body, dict) and isinstance(body.get("classifications"), list)):
            return
        size, increase = body.get("windowSizeMs"), body.get("windowIncreaseMs")
        if not (is_number(size) and is_number(increase) and size > 0 and increase > 0):
            return
        for classification in body["classifications"]:
            block = classification.get("learnBlock") if isinstance(classification, dict) else None
            if isinstance(block, dict):
                self._windows.setdefault(block.get("id"), set()).add((float(size), float(increase)))


def _samples(body: Any) -> list[dict[str, Any]]:
    """The samples an answer shows: a classify result's, or each of a page's results'."""
    if not isinstance(body, dict):
        return []
    one = body.get("sample")
    if isinstance(one, dict) and isinstance(one.get("sample"), dict):
        return [one["sample"]]
    results = body.get("result")
    return [r["sample"] for r in results if isinstance(r, dict) and isinstance(r.get("sample"), dict)] \
        if isinstance(results, list) else []


def _whole(sample: Any, seen: Seen) -> Any:
    """The sample with its whole list of structured labels: the listed one, or a longer one seen
    for the same sample of which the listed one is a prefix (the listed one was cut). Entries are
    compared on the contract's fields: a per-reply value (trace-id's) differs in every answer."""
    if not isinstance(sample, dict):
        return sample
    listed, longer = sample.get("structuredLabels"), seen.labels(sample.get("id"))
    if isinstance(listed, list) and listed and isinstance(longer, list) and len(longer) > len(listed) \
            and _labels_of(longer[:len(listed)]) == _labels_of(listed):
        return {**sample, "structuredLabels": longer}
    return sample


def _labels_of(entries: list[Any]) -> list[object]:
    return [known_part(entry, STRUCTURED_LABEL_FIELDS) for entry in entries]


def _allowed(sample: Any, classification: Any, start: Any, end: Any) -> set[str]:
    """The labels decision.expected-labels allows for values [start, end] (at the classification's
    intervalMs when it gives one): those of the sample's structured labels (`_whole`) the window
    overlaps in time (a list cut short with no longer one seen: a label past it is never allowed)."""
    if not (is_int(start) and is_int(end)) or not isinstance(sample, dict) or not isinstance(classification, dict):
        return set()
    own, told = sample.get("intervalMs"), classification.get("intervalMs")
    if told is not None and told != own:  # resampled: the entry's indices are the classification's values
        if not (is_number(own) and own > 0 and is_number(told) and told > 0):
            return set()
        start, end = math.floor(start * told / own + 1e-9), math.ceil((end + 1) * told / own - 1e-9) - 1
    segments = labelled_segments(sample, classification)
    return {name for s, e, name in segments or () if s <= end and e >= start}


Placed = Callable[[list[Any]], set[bool]]  # entries -> the endIndex readings (inclusive?) they all fit


def _adopt_entries(clean: list[Any], mutant: list[Any], allowed: Callable[[Any], set[str]],
                   placed: Placed | None = None) -> list[Any]:
    """clean's entries, each with the mutant's label where only the label differs and it is
    allowed; with `placed`, also with the mutant's indices where they moved within rounding."""
    if len(clean) != len(mutant):
        return clean
    out = [_adopt_label(c, m, allowed) for c, m in zip(clean, mutant, strict=True)]
    if placed is None:
        return out
    moved = [_adopt_place(c, m, allowed) for c, m in zip(out, mutant, strict=True)]
    return moved if moved != out and placed(clean) & placed(moved) else out


def _same_but(c: Any, m: Any, keys: tuple[str, ...]) -> bool:
    """Alike but for `keys` (and a value a legal variant sets per reply: trace-id's trace)."""
    return isinstance(c, dict) and isinstance(m, dict) and set(c) == set(m) and \
        all(c[k] == m[k] for k in c if k not in keys and k != TRACE_FIELD)


def _adopt_label(c: Any, m: Any, allowed: Callable[[Any], set[str]]) -> Any:
    label = m.get("label") if _same_but(c, m, _NOT_MATCHED) else None
    return {**c, "label": label} if isinstance(label, str) and label != c.get("label") and label in allowed(c) else c


def _adopt_place(c: Any, m: Any, allowed: Callable[[Any], set[str]]) -> Any:
    """The mutant's indices and label, where they are all that differ and the label is allowed
    there (whether the indices lie in the window is decided over the classification: `placed`)."""
    if not _same_but(c, m, _NOT_MATCHED + _INDICES) or all(c[k] == m[k] for k in _INDICES):
        return c
    return {**c, "startIndex": m["startIndex"], "endIndex": m["endIndex"], "label": m.get("label")} \
        if isinstance(m.get("label"), str) and m["label"] in allowed(m) else c


def _placed(sample: Any, classification: Any, windows: Windows | None) -> Placed | None:
    """The readings of endIndex under which entries all lie within rounding of their windows
    (oracles/labels.index_problem); None when the geometry is not known."""
    geometry = value_geometry(sample, classification)
    if windows is None or isinstance(geometry, str):
        return None
    window, increase = windows
    interval, values, _ = geometry

    def readings(entries: list[Any]) -> set[bool]:
        return {inclusive for inclusive in (True, False)
                if all(isinstance(e, dict) and is_int(e.get("startIndex")) and is_int(e.get("endIndex"))
                       and index_problem(e["startIndex"], e["endIndex"], k, window, increase, interval, values,
                                         inclusive) is None for k, e in enumerate(entries))}
    return readings


def _adopt_classifications(clean: Any, mutant: Any, sample: Any, windows: Callable[[Any], Windows | None]) -> Any:
    """sample: with its whole list; windows: a classification -> its window geometry, or None."""
    if not (isinstance(clean, list) and isinstance(mutant, list) and len(clean) == len(mutant)):
        return clean
    out = []
    for c, m in zip(clean, mutant, strict=True):
        entries, theirs = (c.get("expectedLabels"), m.get("expectedLabels")) if isinstance(c, dict) and \
            isinstance(m, dict) else (None, None)
        if isinstance(entries, list) and isinstance(theirs, list):
            c = {**c, "expectedLabels": _adopt_entries(entries, theirs, _entry_allowed(sample, c),
                                                       _placed(sample, c, windows(c)))}
        out.append(c)
    return out


def _entry_allowed(sample: Any, classification: Any) -> Callable[[Any], set[str]]:
    return lambda entry: _allowed(sample, classification, entry.get("startIndex"), entry.get("endIndex"))


def _window_allowed(items: Mapping[Any, Any], seen: Seen) -> Callable[[Any], set[str]]:
    """For a page prediction: its window [startMs, endMs) as the sample's value indices."""
    def allowed(entry: Any) -> set[str]:
        item = items.get(entry.get("sampleId"))
        sample = _whole(item.get("sample"), seen) if isinstance(item, dict) else None
        classes = item.get("classifications") if isinstance(item, dict) else None
        interval = sample.get("intervalMs") if isinstance(sample, dict) else None
        start, end = entry.get("startMs"), entry.get("endMs")
        if not (is_number(interval) and interval > 0 and is_number(start) and is_number(end)
                and isinstance(classes, list) and classes):
            return set()
        return _allowed(sample, classes[0], math.floor(start / interval + 1e-9), math.ceil(end / interval - 1e-9) - 1)
    return allowed


def with_allowed_labels(op: str, clean: Answer, mutant: Answer, seen: Seen = NOTHING_SEEN
                        ) -> tuple[Answer, Answer] | None:
    """expected-label: the clean answer with the mutant's expected labels (and their indices)
    where the reading allows them (the clean answer's own sample gives the structured labels,
    `seen` the whole list where that one was cut, and a page's window geometry)."""
    c_body, m_body = clean.get("body"), mutant.get("body")
    if clean.get("status") != mutant.get("status") or not isinstance(c_body, dict) or not isinstance(m_body, dict):
        return None
    if op == CLASSIFY:
        sample = _whole(get_path(c_body, "sample", "sample"), seen)
        size, increase = c_body.get("windowSizeMs"), c_body.get("windowIncreaseMs")
        windows = (float(size), float(increase)) if is_number(size) and is_number(increase) \
            and size > 0 and increase > 0 else None
        body = {**c_body, "classifications": _adopt_classifications(
            c_body.get("classifications"), m_body.get("classifications"), sample, lambda _: windows)}
        return {**clean, "body": body}, mutant
    if op != PAGE or not isinstance(c_body.get("result"), list) or not isinstance(m_body.get("result"), list):
        return None
    items = [_adopt_item(c, m, seen) for c, m in zip(c_body["result"], m_body["result"], strict=False)]
    items += c_body["result"][len(items):]
    by_id = {i.get("sampleId"): i for i in items if isinstance(i, dict)}
    predictions = c_body.get("predictions")
    if isinstance(predictions, list) and isinstance(m_body.get("predictions"), list):
        predictions = _adopt_entries(predictions, m_body["predictions"], _window_allowed(by_id, seen))
    return {**clean, "body": {**c_body, "result": items, "predictions": predictions}}, mutant


def _adopt_item(clean: Any, mutant: Any, seen: Seen) -> Any:
    """A page's result for one sample, with the mutant's allowed labels."""
    if not (isinstance(clean, dict) and isinstance(mutant, dict) and clean.get("sampleId") == mutant.get("sampleId")
            and isinstance(clean.get("classifications"), list)):
        return clean
    return {**clean, "classifications": _adopt_classifications(
        clean["classifications"], mutant.get("classifications"), _whole(clean.get("sample"), seen),
        lambda c: seen.windows(get_path(c, "learnBlock", "id")))}
