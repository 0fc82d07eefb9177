"""Run the contract gate (`eicontract run`) in a subprocess and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GATE_TIMEOUT_S = 420  # one gate run is bounded; a hang fails the self-test instead of CI


@dataclass(frozen=True)
class GateRun:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "summary.json").read_text())

    def status(self, clause_id: str) -> str:
        return str(self.summary["clauses"][clause_id]["status"])

    def failed_clauses(self) -> set[str]:
        return {cid for cid, c in self.summary["clauses"].items() if c["status"] == "failed"}

    def explain(self) -> str:
        return (f"exit {self.exit_code}\n--- stdout (tail)\n{self.stdout[-4000:]}\n"
                f"--- stderr (tail)\n{self.stderr[-2000:]}")


def run_gate(report_dir: Path, *args: str, env: dict[str, str] | None = None) -> GateRun:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EI_", "PYTEST_"))}
    environment.update(env or {})
    command = [sys.executable, "-m", "eicontract.cli", "run", "--report-dir", str(report_dir), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=GATE_TIMEOUT_S, env=environment,
                          cwd=Path(__file__).resolve().parents[2], check=False)
    return GateRun(done.returncode, done.stdout, done.stderr, report_dir)
