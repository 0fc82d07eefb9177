"""What changed since a previous run: readings that flipped, clauses newly failing or fixed, and the
listing size and job latency where they moved beyond a stated threshold.

Pure: two summaries in, one comparison out (plus loading a summary, with a clear error for one
that cannot be read). A change that fails a run under --fail-on-change is a changed reading or a
new failure; `fixed` and `moved` are reported, never failing. An undecided topic (the data never
told the readings apart) is never a change: a baseline that flapped would be switched off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eicontract.reporting.readings import UNDECIDED, from_summary_observations, topic_readings

SUMMARY_FILE = "summary.json"
# Beyond these a measure "moved". A listing grows when someone uploads; job latency varies with
# load, so it needs a relative and an absolute step (the embedded server's jobs take 0.1-0.4 s).
LISTING_MOVE = 0.10
LATENCY_MOVE = 0.50
LATENCY_MOVE_S = 1.0
THRESHOLDS = {
    "listing size": f"changed by more than {LISTING_MOVE:.0%}",
    "job latency": f"median or p95 changed by more than {LATENCY_MOVE:.0%} and by more than {LATENCY_MOVE_S:g} s",
}
# run settings that, when they differ, make a comparison weaker (noted, never an error)
_COMPARABLE = ("target", "profile", "seed", "strictness", "server_faults", "server_variants")


class BaselineError(ValueError):
    """A summary that cannot be read: missing, not JSON, or not an eicontract summary."""


def load_summary(path: Path) -> dict[str, Any]:
    """A summary.json, or a report folder holding one."""
    file = path / SUMMARY_FILE if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        raise BaselineError(f"{path} is a folder without a {SUMMARY_FILE}")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        summary = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"{file} is not JSON ({exc})") from None
    if not isinstance(summary, dict) or summary.get("tool") != "eicontract" or \
            not isinstance(summary.get("clauses"), dict):
        raise BaselineError(f"{file} is not an eicontract summary.json")
    try:
        readings_of(summary)
    except (TypeError, ValueError, KeyError, AttributeError):
        raise BaselineError(f"{file}: its readings cannot be read") from None
    return summary


def readings_of(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """topic -> row; a summary from before per-topic readings is reduced from its observations."""
    if isinstance(summary.get("readings"), dict):
        return dict(summary["readings"])
    return topic_readings(from_summary_observations(summary.get("observations") or {}))


def _changed_readings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    was_rows, now_rows = readings_of(old), readings_of(new)
    changed = []
    for topic in sorted(set(was_rows) & set(now_rows)):
        was, now = was_rows[topic]["reading"], now_rows[topic]["reading"]
        if UNDECIDED in (was, now) or was == now:
            continue
        changed.append({"topic": topic, "was": was, "now": now, "example": now_rows[topic].get("example", ""),
                        "was_example": was_rows[topic].get("example", "")})
    return changed


def _statuses(summary: Mapping[str, Any]) -> dict[str, str]:
    return {clause: str(c.get("status")) for clause, c in summary["clauses"].items() if isinstance(c, dict)}


def _share(was: float, now: float) -> str:
    return f"{(now - was) / was:+.0%}" if was else "from 0"


def _listing_moved(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    was, now = (_number((s.get("listing") or {}).get("size")) for s in (old, new))
    if was is None or now is None or was == now or abs(now - was) <= LISTING_MOVE * was:
        return []
    return [{"what": "listing size", "was": was, "now": now, "change": _share(was, now)}]


def _latency_moved(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    moved = []
    for stat in ("median", "p95"):
        was, now = (_number(((s.get("jobs") or {}).get("latency_s") or {}).get(stat)) for s in (old, new))
        if was is None or now is None:
            continue
        step = abs(now - was)
        if step > LATENCY_MOVE_S and step > LATENCY_MOVE * was:
            moved.append({"what": f"job latency {stat} (s)", "was": was, "now": now, "change": _share(was, now)})
    return moved


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _notes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    both_embedded = bool(old.get("embedded") and new.get("embedded"))  # the embedded server's port is drawn
    notes = [f"the baseline ran with {key} {old.get(key)!r}, this run with {new.get(key)!r}"
             for key in _COMPARABLE if old.get(key) != new.get(key) and not (key == "target" and both_embedded)]
    if old.get("exit_status") not in (0, 1):
        notes.append(f"the baseline run did not finish (verdict {old.get('verdict')!r}): clauses it did not "
                     "reach are neither new failures nor fixed")
    return notes


def compare(old: Mapping[str, Any], new: Mapping[str, Any], source: str = "") -> dict[str, Any]:
    """The `baseline` section of a summary: `new` (this run) against `old` (the baseline)."""
    was, now = _statuses(old), _statuses(new)
    return {
        "source": source,
        "started": old.get("started"),
        "verdict": old.get("verdict"),
        "changed_readings": _changed_readings(old, new),
        "new_failures": sorted(c for c, s in now.items() if s == "failed" and was.get(c) != "failed"),
        "fixed": sorted(c for c, s in now.items() if s == "passed" and was.get(c) == "failed"),
        "moved": _listing_moved(old, new) + _latency_moved(old, new),
        "thresholds": THRESHOLDS,
        "notes": _notes(old, new),
    }


def changed(section: Mapping[str, Any]) -> bool:
    """What --fail-on-change fails on (and `eicontract compare` exits 1 on)."""
    return bool(section.get("changed_readings") or section.get("new_failures"))


def format_comparison(section: Mapping[str, Any]) -> str:
    """The comparison as text, for the terminal and `eicontract compare`."""
    source = f" ({section['source']})" if section.get("source") else ""
    lines = [f"since the baseline{source}, run {section.get('started')}:"]
    readings = section["changed_readings"]
    lines.append(f"  changed readings: {len(readings) or 'none'}")
    lines += [f"    {r['topic']}: {r['was']} -> {r['now']}  (e.g. {r['example']})" for r in readings]
    for key, title in (("new_failures", "new failures"), ("fixed", "fixed")):
        lines.append(f"  {title}: {', '.join(section[key]) or 'none'}")
    moved = section["moved"]
    lines.append(f"  moved: {len(moved) or 'none'}")
    lines += [f"    {m['what']}: {m['was']:g} -> {m['now']:g} ({m['change']})" for m in moved]
    lines += [f"  note: {note}" for note in section.get("notes", [])]
    return "\n".join(lines)
