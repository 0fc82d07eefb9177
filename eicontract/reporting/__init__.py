"""What a contract run writes: a JSON summary and one self-contained HTML page.

JUnit XML is pytest's own (`--junitxml`); the CLI asks for it. Everything written here has
passed through the run's Redactor: the API key never reaches a report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from eicontract.reporting.html import render_html
from eicontract.reporting.summary import build_summary

if TYPE_CHECKING:
    from eicontract.reporting.record import Recorder

SUMMARY_FILE = "summary.json"
HTML_FILE = "report.html"
KILL_MATRIX_FILE = "kill-matrix.json"  # written by `eicontract mutants`; shown as a section when present


def run_notes(folder: Path, since: float) -> list[str]:
    """The notes (why a run stopped) of the summary written in `folder` at or after `since`
    (a time.time()); [] when this run wrote none, so a stale summary is never quoted."""
    path = folder / SUMMARY_FILE
    try:
        if path.stat().st_mtime < since - 1.0:  # a second of slack for coarse file times
            return []
        notes = json.loads(path.read_text(encoding="utf-8")).get("notes") or []
    except (OSError, ValueError, AttributeError):
        return []
    return [str(note) for note in notes]


def write_reports(recorder: Recorder, exitstatus: int) -> list[Path]:
    folder = recorder.settings.report_dir
    folder.mkdir(parents=True, exist_ok=True)
    summary = recorder.redactor.data(build_summary(recorder, exitstatus))
    summary_path = folder / SUMMARY_FILE
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    html_path = folder / HTML_FILE
    matrix_path = folder / KILL_MATRIX_FILE
    matrix = json.loads(matrix_path.read_text(encoding="utf-8")) if matrix_path.is_file() else None
    html_path.write_text(recorder.redactor.text(render_html(summary, matrix)), encoding="utf-8")
    return [summary_path, html_path]
