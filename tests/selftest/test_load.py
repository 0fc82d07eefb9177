"""scripts/load.py, small: the reference server under 8 concurrent clients keeps every paging
invariant, finishes every job and answers no 5xx; and the load checker reports each of those
failures when the server has a fault that causes exactly it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOAD_TIMEOUT_S = 180  # bounded: a hang fails the test instead of CI

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("load")]


def run_load(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "load.py"), "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=LOAD_TIMEOUT_S, check=False)
    summary = json.loads(out.read_text()) if out.is_file() else {}
    return done.returncode, summary, done.stdout + done.stderr


def test_the_reference_server_holds_under_load(tmp_path: Path) -> None:
    code, summary, output = run_load(tmp_path, "--clients", "8", "--sweeps", "2", "--flows", "2",
                                     "--negative-examples", "5")
    assert code == 0, output
    load = summary["load"]
    assert load["sweeps"] == 8 * 2 + 1 and load["flows"] == 8 * 2, output  # + the reference sweep
    assert load["jobs_started"] > 0, "no flow started a job: the job path was not exercised"
    assert (load["errors"], load["inconsistent_sweeps"], load["jobs_unfinished"]) == (0, 0, 0), output
    assert summary["server_5xx_under_load"] == 0
    assert summary["negative"]["requests"] > 0 and summary["negative"]["server_5xx"] == 0, output
    assert "ei_reference_local_key" not in output + json.dumps(summary)


def test_a_paging_fault_is_reported_as_inconsistent(tmp_path: Path) -> None:
    code, summary, output = run_load(tmp_path, "--clients", "4", "--sweeps", "2", "--flows", "0",
                                     "--skip-negative", "--fault", "page-duplicate")
    assert code == 1, output
    assert summary["load"]["inconsistent_sweeps"] > 0
    assert any("PAGE-DISJOINT" in text for text in summary["load"]["examples"]), output


def test_a_job_that_never_finishes_is_reported(tmp_path: Path) -> None:
    code, summary, output = run_load(tmp_path, "--clients", "2", "--sweeps", "0", "--flows", "1",
                                     "--job-deadline", "2", "--skip-negative", "--fault", "job-never-finishes")
    assert code == 1, output
    assert summary["load"]["jobs_unfinished"] > 0 and summary["load"]["inconsistent_sweeps"] == 0


def test_a_server_error_in_the_negative_phase_is_counted(tmp_path: Path) -> None:
    code, summary, output = run_load(tmp_path, "--clients", "1", "--sweeps", "1", "--flows", "0",
                                     "--negative-examples", "5", "--fault", "negative-500")
    assert code == 1, output
    assert summary["negative"]["server_5xx"] > 0
    assert summary["load"]["errors"] == 0 and summary["server_5xx_under_load"] == 0
