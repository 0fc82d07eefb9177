"""A drift report: the changes, which of them are already known, and the text and JSON forms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eicontract.drift.compare import Change

LEGEND = ('"removed": in the bundled contract but not in the other source; "added": in the other source only; '
          '"wire": seen in recorded responses')


@dataclass(frozen=True)
class Report:
    against: str | None  # the other document (path or URL)
    recorded: str | None  # the --record directory
    changes: Sequence[Change]
    known: frozenset[str] = field(default_factory=frozenset)  # keys accepted by a baseline
    manifest: Mapping[str, Any] = field(default_factory=dict)

    def is_new_breaking(self, change: Change) -> bool:
        return change.breaking and change.key not in self.known

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if self.is_new_breaking(c)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "recorded": self.recorded,
            "recorded_target": self.manifest.get("target"),
            "verdict": "breaking" if self.breaking else "compatible",
            "summary": {"changes": len(self.changes), "breaking": len(self.breaking),
                        "known_breaking": sum(c.breaking and c.key in self.known for c in self.changes)},
            "changes": [{**c.as_dict(), "known": c.key in self.known} for c in self.changes],
        }


def known_keys(baseline: Any) -> frozenset[str]:
    """Keys of a baseline: a previous `--json` report, or a plain list of keys."""
    items: Iterable[Any] = baseline.get("changes", ()) if isinstance(baseline, Mapping) else baseline
    keys = set()
    for item in items:
        if isinstance(item, str):
            keys.add(item)
        elif isinstance(item, Mapping) and isinstance(item.get("key"), str):
            keys.add(item["key"])
    return frozenset(keys)


def _line(report: Report, change: Change) -> str:
    mark = "BREAKING" if report.is_new_breaking(change) else "known" if change.breaking else ""
    where = f"wire {change.where}" if change.source == "wire" else change.where
    values = f"{change.before or '-'} -> {change.after or '-'}"
    return f"  {mark:<8}  {change.kind:<7} {change.area:<9}  {where}: {values}  ({change.why})"


def render_text(report: Report) -> str:
    """Grouped by operation; in each, breaking changes first."""
    sources = [s for s in (report.against, report.recorded and f"responses recorded in {report.recorded}") if s]
    known = sum(c.breaking and c.key in report.known for c in report.changes)
    lines = [f"eicontract drift: the bundled contract against {' and '.join(sources)}",
             f"{len(report.changes)} differences, {len(report.breaking)} breaking"
             + (f" ({known} more breaking ones are known: baseline)" if known else ""),
             LEGEND]
    groups: dict[str, list[Change]] = {}
    for change in report.changes:
        groups.setdefault(change.operation, []).append(change)
    for operation in sorted(groups, key=lambda op: (not any(map(report.is_new_breaking, groups[op])), op)):
        members = groups[operation]
        operation_id = next((c.operation_id for c in members if c.operation_id), None)
        lines += ["", operation + (f"  ({operation_id})" if operation_id else "")]
        ordered = sorted(members, key=lambda c: (not report.is_new_breaking(c), not c.breaking, c.source, c.where))
        lines += [_line(report, c) for c in ordered]
    if not report.changes:
        lines.append("no differences")
    return "\n".join(lines) + "\n"
