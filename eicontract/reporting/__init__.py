"""What a contract run writes: a JSON summary and one self-contained HTML page.

JUnit XML is pytest's own (`--junitxml`); the CLI asks for it. Everything written here has
passed through the run's Redactor: the API key never reaches a report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eicontract.reporting.baseline import SUMMARY_FILE
from eicontract.reporting.html import render_html
from eicontract.reporting.summary import build_summary

if TYPE_CHECKING:
    from eicontract.reporting.record import Recorder

__all__ = ["HTML_FILE", "KILL_MATRIX_FILE", "SUMMARY_FILE", "run_failed", "run_known", "run_notes", "run_verdict",
           "write_reports"]
HTML_FILE = "report.html"
KILL_MATRIX_FILE = "kill-matrix.json"  # written by `eicontract mutants`; shown as a section when present


def _fresh_summary(folder: Path, since: float) -> dict[str, Any]:
    """The summary written in `folder` at or after `since` (a time.time()); {} when this run wrote
    none, so a stale summary is never quoted."""
    path = folder / SUMMARY_FILE
    try:
        if path.stat().st_mtime < since - 1.0:  # a second of slack for coarse file times
            return {}
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def run_notes(folder: Path, since: float) -> list[str]:
    """The notes (why a run stopped) of this run's summary in `folder`; [] when there are none."""
    notes = _fresh_summary(folder, since).get("notes") or []
    return [str(note) for note in notes] if isinstance(notes, list) else []


def run_failed(folder: Path, since: float) -> list[str]:
    """The clauses this run's summary in `folder` says failed ([] when it wrote none)."""
    clauses = _fresh_summary(folder, since).get("clauses") or {}
    return [cid for cid, c in clauses.items() if isinstance(c, dict) and c.get("status") == "failed"] \
        if isinstance(clauses, dict) else []


def run_verdict(folder: Path, since: float) -> str | None:
    """The verdict of this run's summary in `folder` (None when it wrote none)."""
    verdict = _fresh_summary(folder, since).get("verdict")
    return str(verdict) if verdict is not None else None


def run_known(folder: Path, since: float) -> int:
    """How many failures --known-failures accepted in this run's summary in `folder`."""
    part = _fresh_summary(folder, since).get("known_failures")
    return len(part.get("known") or []) if isinstance(part, dict) else 0


def write_reports(recorder: Recorder, exitstatus: int) -> list[Path]:
    folder = recorder.settings.report_dir
    folder.mkdir(parents=True, exist_ok=True)
    summary = recorder.redactor.data(build_summary(recorder, exitstatus))
    recorder.since_baseline = summary.get("baseline")
    recorder.known_section = summary.get("known_failures")
    summary_path = folder / SUMMARY_FILE
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    html_path = folder / HTML_FILE
    matrix_path = folder / KILL_MATRIX_FILE
    matrix = json.loads(matrix_path.read_text(encoding="utf-8")) if matrix_path.is_file() else None
    html_path.write_text(recorder.redactor.text(render_html(summary, matrix)), encoding="utf-8")
    return [summary_path, html_path]
