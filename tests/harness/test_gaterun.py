"""proof/gaterun: one gate run in a subprocess, read back from its summary (kill matrix, twin runner)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from eicontract.proof.gaterun import run_gate


def _fake_gate(report_dir: Path, exit_code: int, summary: str | None, stderr: str = "") -> list[str]:
    """A stand-in for `eicontract run`: writes `summary` (raw text) and exits with `exit_code`."""
    write = f"open({str(report_dir / 'summary.json')!r}, 'w').write({summary!r});" if summary is not None else ""
    return [sys.executable, "-c", f"import sys; {write} sys.stderr.write({stderr!r}); sys.exit({exit_code})"]


def test_a_red_run_names_its_failed_clauses(tmp_path: Path) -> None:
    clauses = {"PAGE-LIMIT": {"status": "failed", "first_failed_s": 1.5}, "PAGE-TOTAL": {"status": "passed"}}
    run = run_gate(_fake_gate(tmp_path, 1, json.dumps({"clauses": clauses})), tmp_path, os.environ, 30)
    assert (run.exit_code, run.problem, run.failed_clauses) == (1, None, ["PAGE-LIMIT"])
    assert run.clauses["PAGE-LIMIT"]["first_failed_s"] == 1.5


def test_a_harness_failure_keeps_the_tail_of_its_output(tmp_path: Path) -> None:
    run = run_gate(_fake_gate(tmp_path, 2, None, stderr="x" * 600 + "the target refused the key"), tmp_path,
                   os.environ, 30)
    assert run.exit_code == 2 and run.failed_clauses == []
    assert run.problem is not None and run.problem.endswith("refused the key") and len(run.problem) == 500


def test_a_run_past_its_bound_is_a_problem_not_a_verdict(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    run = run_gate(command, tmp_path, os.environ, 0.5)
    assert run.exit_code == -1 and run.problem is not None and "did not end within 0.5 s" in run.problem


def test_a_summary_cut_short_names_no_clause(tmp_path: Path) -> None:
    run = run_gate(_fake_gate(tmp_path, 1, '{"clauses": {"PAGE-LIMIT": '), tmp_path, os.environ, 30)
    assert run.exit_code == 1 and run.clauses == {} and run.failed_clauses == []
