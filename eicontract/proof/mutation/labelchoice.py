"""The free choice expected-label (decision.expected-labels: "its label is that of a structured
label it overlaps"; choices.py): an expectedLabels entry of a classify result or a page, or a
page prediction's window, whose indices are unchanged takes the mutant's label where that is one
of the sample's listed structured labels the window overlaps. Pure: answers in, answers out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from eicontract.oracles._common import is_int, is_number
from eicontract.oracles.labels import labelled_segments
from eicontract.proof.mutation.replay import CLASSIFY, PAGE

Answer = Mapping[str, Any]
# An entry's keys that may differ when only its label is taken over: the label, and a page
# prediction's model values (still compared after, as free fields)
_NOT_MATCHED = ("label", "prediction", "predictionCorrect")


def _allowed(sample: Any, classification: Any, start: Any, end: Any) -> set[str]:
    """The labels decision.expected-labels allows for values [start, end] (at the classification's
    intervalMs when it gives one): those of the sample's listed structured labels the window
    overlaps in time (a truncated list lists fewer: a label past it is never allowed here)."""
    if not (is_int(start) and is_int(end)) or not isinstance(sample, dict) or not isinstance(classification, dict):
        return set()
    own, told = sample.get("intervalMs"), classification.get("intervalMs")
    if told is not None and told != own:  # resampled: the entry's indices are the classification's values
        if not (is_number(own) and own > 0 and is_number(told) and told > 0):
            return set()
        start, end = math.floor(start * told / own + 1e-9), math.ceil((end + 1) * told / own - 1e-9) - 1
    segments = labelled_segments(sample, classification)
    return {name for s, e, name in segments or () if s <= end and e >= start}


def _adopt_entries(clean: list[Any], mutant: list[Any], allowed: Callable[[Any], set[str]]) -> list[Any]:
    """clean's entries, each with the mutant's label where only the label differs and it is allowed."""
    if len(clean) != len(mutant):
        return clean
    out = []
    for c, m in zip(clean, mutant, strict=True):
        same_but_label = (isinstance(c, dict) and isinstance(m, dict) and set(c) == set(m)
                          and all(c[k] == m[k] for k in c if k not in _NOT_MATCHED))
        label = m.get("label") if same_but_label else None
        out.append({**c, "label": label} if isinstance(label, str) and label != c.get("label")
                   and label in allowed(c) else c)
    return out


def _adopt_classifications(clean: Any, mutant: Any, sample: Any) -> Any:
    if not (isinstance(clean, list) and isinstance(mutant, list) and len(clean) == len(mutant)):
        return clean
    out = []
    for c, m in zip(clean, mutant, strict=True):
        entries, theirs = (c.get("expectedLabels"), m.get("expectedLabels")) if isinstance(c, dict) and \
            isinstance(m, dict) else (None, None)
        if isinstance(entries, list) and isinstance(theirs, list):
            c = {**c, "expectedLabels": _adopt_entries(entries, theirs, _entry_allowed(sample, c))}
        out.append(c)
    return out


def _entry_allowed(sample: Any, classification: Any) -> Callable[[Any], set[str]]:
    return lambda entry: _allowed(sample, classification, entry.get("startIndex"), entry.get("endIndex"))


def _window_allowed(items: Mapping[Any, Any]) -> Callable[[Any], set[str]]:
    """For a page prediction: its window [startMs, endMs) as the sample's value indices."""
    def allowed(entry: Any) -> set[str]:
        item = items.get(entry.get("sampleId"))
        sample = item.get("sample") if isinstance(item, dict) else None
        classes = item.get("classifications") if isinstance(item, dict) else None
        interval = sample.get("intervalMs") if isinstance(sample, dict) else None
        start, end = entry.get("startMs"), entry.get("endMs")
        if not (is_number(interval) and interval > 0 and is_number(start) and is_number(end)
                and isinstance(classes, list) and classes):
            return set()
        return _allowed(sample, classes[0], math.floor(start / interval + 1e-9), math.ceil(end / interval - 1e-9) - 1)
    return allowed


def with_allowed_labels(op: str, clean: Answer, mutant: Answer) -> tuple[Answer, Answer] | None:
    """expected-label: the clean answer with the mutant's expected labels where the reading allows
    them (the clean answer's own sample gives the structured labels)."""
    c_body, m_body = clean.get("body"), mutant.get("body")
    if clean.get("status") != mutant.get("status") or not isinstance(c_body, dict) or not isinstance(m_body, dict):
        return None
    if op == CLASSIFY:
        sample = c_body.get("sample", {}).get("sample") if isinstance(c_body.get("sample"), dict) else None
        body = {**c_body, "classifications": _adopt_classifications(
            c_body.get("classifications"), m_body.get("classifications"), sample)}
        return {**clean, "body": body}, mutant
    if op != PAGE or not isinstance(c_body.get("result"), list) or not isinstance(m_body.get("result"), list):
        return None
    items = [_adopt_item(c, m) for c, m in zip(c_body["result"], m_body["result"], strict=False)]
    items += c_body["result"][len(items):]
    by_id = {i.get("sampleId"): i for i in items if isinstance(i, dict)}
    predictions = c_body.get("predictions")
    if isinstance(predictions, list) and isinstance(m_body.get("predictions"), list):
        predictions = _adopt_entries(predictions, m_body["predictions"], _window_allowed(by_id))
    return {**clean, "body": {**c_body, "result": items, "predictions": predictions}}, mutant


def _adopt_item(clean: Any, mutant: Any) -> Any:
    """A page's result for one sample, with the mutant's allowed labels."""
    if not (isinstance(clean, dict) and isinstance(mutant, dict) and clean.get("sampleId") == mutant.get("sampleId")
            and isinstance(clean.get("classifications"), list)):
        return clean
    return {**clean, "classifications": _adopt_classifications(clean["classifications"], mutant.get("classifications"),
                                                               clean.get("sample"))}
