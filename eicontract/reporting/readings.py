"""One reading per ambiguity topic: the many probes' observations reduced to a verdict per topic.

An oracle names, per probe, the readings that reproduce the server's answer: one reading (the
probe decided it), several joined by " | " (it narrowed but did not decide), or "inconclusive"
(the data could not tell the readings apart; also "not visible", "not judged"). A topic whose
readings combine independent choices names each as "facet: choice", joined by "; " (the
metadata filter's "neq: ...; or: ..."); each facet is then a topic of its own, `topic/facet`,
since one query may decide one choice and leave another open.

Per topic: the one reading every deciding probe named; "undecided" when no probe decided (an
undecided topic never counts as a change against a baseline); "conflicting" when deciding
probes named different readings. Pure: data in, rows out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INCONCLUSIVE = "inconclusive"  # what an oracle calls a probe that could not tell the readings apart
# Other names oracles give a probe whose data could not show a reading: counted as inconclusive, or
# a seed whose data cannot show the truncation effect would "change" the topic's reading.
NO_INFORMATION = frozenset({INCONCLUSIVE, "not visible", "not judged"})
UNDECIDED = "undecided"
CONFLICTING = "conflicting"
_FACET = re.compile(r"([A-Za-z_]+): (.+)")


@dataclass
class _Topic:
    decided: dict[str, list[Any]] = field(default_factory=dict)  # reading -> [probes, first example]
    inconclusive: int = 0
    why_inconclusive: str = ""


def _facets(reading: str) -> dict[str, set[str]] | None:
    """facet -> the choices the probe left open, or None when the reading is not faceted."""
    found: dict[str, set[str]] = {}
    for alternative in reading.split(" | "):
        for part in alternative.split("; "):
            match = _FACET.fullmatch(part)
            if match is None:
                return None
            found.setdefault(match[1], set()).add(match[2])
    return found


def _add(topic: _Topic, choices: set[str], probes: int, example: str) -> None:
    if len(choices) == 1:
        seen = topic.decided.setdefault(next(iter(choices)), [0, example])
        seen[0] += probes
    else:
        _inconclusive(topic, probes, example)


def _inconclusive(topic: _Topic, probes: int, example: str) -> None:
    topic.inconclusive += probes
    topic.why_inconclusive = topic.why_inconclusive or example


def _row(topic: _Topic) -> dict[str, Any]:
    if not topic.decided:
        return {"reading": UNDECIDED, "decided_by": 0, "inconclusive": topic.inconclusive,
                "example": topic.why_inconclusive}
    (first, (_, example)), *others = topic.decided.items()
    row: dict[str, Any] = {"reading": first if not others else CONFLICTING,
                           "decided_by": sum(count for count, _ in topic.decided.values()),
                           "inconclusive": topic.inconclusive, "example": example}
    if others:
        row["conflicts"] = {reading: {"probes": count, "example": detail}
                            for reading, (count, detail) in sorted(topic.decided.items())}
    return row


def topic_readings(observations: Mapping[str, Mapping[str, tuple[int, str]]]) -> dict[str, dict[str, Any]]:
    """topic -> reading -> (probes, first example)  ==>  topic -> {reading, decided_by, inconclusive,
    example[, conflicts]}, sorted by topic."""
    topics: dict[str, _Topic] = {}
    for name, readings in observations.items():
        open_probes: list[tuple[int, str]] = []  # inconclusive probes: they told no facet apart
        for reading, (probes, example) in readings.items():
            facets = None if reading in NO_INFORMATION else _facets(reading)
            if reading in NO_INFORMATION:
                open_probes.append((probes, example))
            elif facets is None:
                _add(topics.setdefault(name, _Topic()), set(reading.split(" | ")), probes, example)
            else:
                for facet, choices in facets.items():
                    _add(topics.setdefault(f"{name}/{facet}", _Topic()), choices, probes, example)
        # an inconclusive probe counts on the topic's row, or on each of its facets' rows
        rows = [t for key, t in topics.items() if key == name or key.startswith(f"{name}/")] or \
            [topics.setdefault(name, _Topic())]
        for probes, example in open_probes:
            for topic in rows:
                _inconclusive(topic, probes, example)
    return {name: _row(topic) for name, topic in sorted(topics.items())}


def from_summary_observations(observations: Mapping[str, Any]) -> dict[str, dict[str, tuple[int, str]]]:
    """The per-reading counts of a summary written before readings were reduced per topic
    ({topic: {reading: {count, example}}}), as topic_readings takes them."""
    return {topic: {reading: (int(seen["count"]), str(seen.get("example", "")))
                    for reading, seen in readings.items()}
            for topic, readings in observations.items()}
