"""reports/bench.json and the table in docs/PERFORMANCE.md (between the bench markers, so the prose
around it survives a rerun). Pure: documents in, text out; bench.py does the file I/O."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
REQUIRED_KEYS = ("checked_rps", "raw_httpx_rps", "schemathesis_rps", "quick_gate_s", "quick_gate_2workers_s",
                 "kill_matrix_s", "sweep_100k_s", "sweep_100k_peak_mb", "server_rps_c16",
                 "gate_100k_time_ratio", "gate_100k_request_ratio", "deep_faults_caught",
                 "versus_ours_caught", "versus_schemathesis_caught")
PACKAGES = ("httpx", "starlette", "uvicorn", "jsonschema", "jsonschema-rs", "schemathesis", "hypothesis",
            "pytest", "pytest-xdist")


@dataclass
class Figure:
    """One number, the command that made it, and its target when the issue sets one."""

    key: str
    label: str
    value: float | None
    unit: str
    command: str
    target: str = ""
    met: bool | None = None
    measured_at: str = ""
    note: str = ""  # e.g. "did not finish": the value is then a bound, not a measurement


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpu_count": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()], "packages": versions, "commit": _commit()}


def _commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+uncommitted changes" if dirty else "")


def document(figures: list[Figure], detail: dict[str, Any], previous: dict[str, Any] | None,
             facts: dict[str, Any], command: str) -> dict[str, Any]:
    """bench.json: every required key a number (or null when never measured); figures this run did not
    measure are kept from the previous file, each with its own timestamp."""
    kept = {f["key"]: f for f in (previous or {}).get("figures", [])}
    kept.update({f.key: asdict(f) for f in figures})
    old_detail = (previous or {}).get("detail", {})
    return {
        **{key: kept.get(key, {}).get("value") for key in REQUIRED_KEYS},
        "targets_met": {k: f["met"] for k, f in kept.items() if f.get("met") is not None},
        "figures": list(kept.values()),
        "detail": {**old_detail, **detail},
        "machine": facts,
        "command": command,
        "written_at": now(),
    }


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if unit == "x" else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def table(doc: dict[str, Any]) -> str:
    facts = doc["machine"]
    lines = [f"Run {doc['written_at']} on {facts['cpu_count']} cores, Python {facts['python']}, "
             f"commit {facts.get('commit')}; load average (1, 5, 15 min) {facts['load_average']} at the start, "
             f"{facts.get('load_average_end')} at the end (`{doc['command']}`).", "",
             "| figure | value | target | met | command |", "|---|---|---|---|---|"]
    for f in doc["figures"]:
        met = {True: "yes", False: "**no**", None: ""}[f.get("met")]
        key = f"`{f['key']}`"
        note = f" ({f['note']})" if f.get("note") else ""
        lines.append(f"| {f['label']} ({key}) | {_number(f['value'], f['unit'])}{note} | {f['target']} | {met} "
                     f"| `{f['command']}` |")
    return "\n".join(lines)


def splice(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    """Replace what lies between the markers (append the markers when the text has none)."""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        return f"{head}{begin}\n{block}\n{end}{tail}"
    return f"{text.rstrip()}\n\n{begin}\n{block}\n{end}\n"
