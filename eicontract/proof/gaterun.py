"""One gate run in a subprocess, read back from its summary: what the kill matrix and the twin's
runner (scripts/twin.py) both do for each server they judge."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROBLEM_CHARS = 500  # the tail of a harness failure's output kept for the report


@dataclass
class GateRun:
    """How one run ended: its exit code (-1: it never ended), a harness problem (exit 2, a timeout),
    its duration, and each clause's summary entry (empty when no summary was written)."""

    exit_code: int = -1
    problem: str | None = None
    duration_s: float = 0.0
    clauses: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_clauses(self) -> list[str]:
        return sorted(cid for cid, c in self.clauses.items() if c.get("status") == "failed")


def run_gate(command: Sequence[str], report_dir: Path, env: Mapping[str, str], timeout_s: float,
             cwd: Path | None = None) -> GateRun:
    """Run `command` (an `eicontract run` writing to `report_dir`), bounded by `timeout_s`."""
    run = GateRun()
    started = time.monotonic()
    try:
        done = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True, text=True,
                              timeout=timeout_s, check=False)
        run.exit_code = done.returncode
        if done.returncode not in (0, 1):
            run.problem = (done.stderr or done.stdout)[-PROBLEM_CHARS:]
    except subprocess.TimeoutExpired:
        run.problem = f"the gate run did not end within {timeout_s:g} s"
    run.duration_s = round(time.monotonic() - started, 2)
    run.clauses = _clauses(report_dir / "summary.json")
    return run


def _clauses(summary: Path) -> dict[str, Any]:
    if not summary.is_file():
        return {}
    try:
        clauses = json.loads(summary.read_text(encoding="utf-8")).get("clauses", {})
    except (ValueError, AttributeError):
        return {}  # a summary cut short (the run was killed mid-write): no clause is known
    return clauses if isinstance(clauses, dict) else {}
