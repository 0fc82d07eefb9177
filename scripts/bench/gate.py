"""The gate's own commands, timed as subprocesses: the quick profile (alone and on 2 xdist workers)
and the kill matrix. A missed target is explained from the run's junit.xml: its slowest tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GATE_TIMEOUT_S = 900
MATRIX_TIMEOUT_S = 60 * 60


def _environment() -> dict[str, str]:
    # the embedded server only: a target or key in the environment must not leak into the timing
    return {k: v for k, v in os.environ.items() if not k.startswith(("EI_", "PYTEST_"))}


def slowest_tests(junit: Path, count: int = 10) -> list[dict[str, Any]]:
    """The slowest test cases of a junit.xml (pytest's own per-test times)."""
    if not junit.is_file():
        return []
    cases = [(float(c.get("time", 0)), f"{c.get('classname')}::{c.get('name')}")
             for c in ET.parse(junit).getroot().iter("testcase")]
    return [{"test": name, "seconds": round(t, 2)} for t, name in sorted(cases, reverse=True)[:count]]


def quick_gate(workers: int | None) -> dict[str, Any]:
    """`eicontract run` (quick profile, embedded server), wall time of the whole command."""
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as folder:
        command = [sys.executable, "-m", "eicontract.cli", "run", "--report-dir", folder]
        shown = "eicontract run --report-dir DIR"
        if workers:
            command += ["-n", str(workers)]
            shown += f" -n {workers}"
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=_environment(), capture_output=True, text=True,
                              timeout=GATE_TIMEOUT_S, check=False)
        seconds = time.perf_counter() - started
        summary = Path(folder) / "summary.json"
        verdict = json.loads(summary.read_text()).get("verdict") if summary.is_file() else None
        return {"seconds": round(seconds, 2), "exit_code": done.returncode, "verdict": verdict,
                "command": f".venv/bin/{shown}", "slowest": slowest_tests(Path(folder) / "junit.xml"),
                "tail": done.stdout[-300:] if done.returncode else ""}


def kill_matrix() -> dict[str, Any]:
    """`eicontract mutants`: its own wall_s and median time to catch, from kill-matrix.json."""
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as folder:
        command = [sys.executable, "-m", "eicontract.cli", "mutants", "--report-dir", folder]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=_environment(), capture_output=True, text=True,
                              timeout=MATRIX_TIMEOUT_S, check=False)
        seconds = time.perf_counter() - started
        path = Path(folder) / "kill-matrix.json"
        document = json.loads(path.read_text()) if path.is_file() else {}
    return {"seconds": round(seconds, 2), "wall_s": document.get("wall_s"), "exit_code": done.returncode,
            "median_time_to_catch_s": document.get("median_time_to_catch_s"),
            "caught": document.get("caught"), "faults": document.get("faults"),
            "false_alarms": document.get("false_alarms"), "command": ".venv/bin/eicontract mutants --report-dir DIR"}
