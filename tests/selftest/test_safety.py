"""Live-target safety, end to end: the gate as a user runs it, against the embedded server.

A spent budget or a passed deadline ends the run with exit 2 and complete reports (never a
traceback); `--record` keeps the answers for drift, without the key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.selftest.gate import GateRun, run_gate

pytestmark = pytest.mark.xdist_group("safety")
SECRET = "ei_" + "SaFeTyKeY7" * 5


def _assert_clean_stop(run: GateRun, reason: str) -> None:
    assert run.exit_code == 2, run.explain()
    for name in ("summary.json", "junit.xml", "report.html"):
        assert (run.report_dir / name).is_file(), name
    assert any(reason in note for note in run.summary["notes"]), run.summary["notes"]
    assert reason in run.stdout + run.stderr
    assert "Traceback (most recent call last)" not in run.stdout + run.stderr
    assert run.summary["counts"]["failed"] == 0  # a stop is not a violation


def test_a_spent_budget_ends_the_run_cleanly(tmp_path: Path) -> None:
    run = run_gate(tmp_path, "--max-requests", "40", "--no-shrink")
    _assert_clean_stop(run, "budget of 40 is spent")
    assert run.summary["requests"]["sent"] == 40


def test_a_passed_run_deadline_ends_the_run_cleanly(tmp_path: Path) -> None:
    run = run_gate(tmp_path, "--run-deadline", "2", "--no-shrink")  # the quick gate needs ~20 s
    _assert_clean_stop(run, "run deadline of 2 s passed")


def test_record_keeps_the_answers_of_every_operation_without_the_key(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    run = run_gate(tmp_path / "reports", "--record", str(recorded), "--clause", "JOB-STATUS-ID",
                   "--clause", "PAGE-LIMIT", "--clause", "SCHEMA-RESPONSE", env={"EI_API_KEY": SECRET})
    assert run.exit_code == 0, run.explain()
    text = (recorded / "exchanges.jsonl").read_text(encoding="utf-8")
    assert SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]
    operations = {line["operationId"] for line in lines}
    assert operations == {"getClassifyJobResultPage", "classifySampleByLearnBlockV2", "getJobStatus"}
    assert all(set(line) == {"operationId", "method", "path", "query", "status", "body"} for line in lines)
    manifest = json.loads((recorded / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["recorded"] == len(lines) and manifest["project_id"] == 1
