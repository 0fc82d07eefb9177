"""The kill matrix: the quick gate against every fault and every legal variant of the reference
server. A fault must be caught on the clause it breaks; a legal variant must pass.

Each row is one `eicontract run` in a subprocess (its own server, its own report folder), run
on `workers` processes at once. Shrinking is off: the matrix asks "caught, by what, how fast",
not for minimal examples.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROW_TIMEOUT_S = 600  # one gate run is bounded: a hang is a red row, not a hung matrix


@dataclass(frozen=True, slots=True)
class Mutant:
    """A server to run the gate against: a fault (expected clause) or a legal variant (None)."""

    name: str
    kind: str  # "fault" | "legal"
    clause: str | None
    description: str
    args: tuple[str, ...]


@dataclass(slots=True)
class Row:
    name: str
    kind: str
    clause: str | None
    description: str
    exit_code: int
    caught_by: list[str] = field(default_factory=list)
    time_to_catch_s: float | None = None
    duration_s: float = 0.0
    problem: str = ""

    @property
    def ok(self) -> bool:
        if self.kind == "legal":
            return self.exit_code == 0
        return self.exit_code == 1 and self.clause in self.caught_by


def catalogue() -> list[Mutant]:
    """Every fault and legal variant the reference server knows, plus the body error style."""
    from eicontract.server import FAULTS, LEGAL_VARIANTS

    mutants = [Mutant(f.name, "fault", f.clause, f.description, ("--server-fault", f.name))
               for f in FAULTS.values()]
    mutants.append(Mutant("reference", "legal", None, "the reference server as it is", ()))
    mutants.append(Mutant("error-style-body", "legal", None,
                          "failures as HTTP 200 with success false (the published-spec convention)",
                          ("--error-style", "body")))
    mutants += [Mutant(v.name, "legal", None, v.description, ("--server-variant", v.name))
                for v in LEGAL_VARIANTS.values()]
    return mutants


def _gate_command(mutant: Mutant, report_dir: Path, extra: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "eicontract.cli", "run", "--no-shrink", "--report-dir", str(report_dir),
            *mutant.args, *extra]


def run_one(mutant: Mutant, report_root: Path, extra: Sequence[str] = ()) -> Row:
    folder = report_root / mutant.name
    env = {k: v for k, v in os.environ.items() if not k.startswith("EI_")}  # the embedded server only
    started = time.monotonic()
    row = Row(mutant.name, mutant.kind, mutant.clause, mutant.description, exit_code=-1)
    try:
        done = subprocess.run(_gate_command(mutant, folder, extra), capture_output=True, text=True,
                              timeout=ROW_TIMEOUT_S, env=env, check=False)
        row.exit_code = done.returncode
        if done.returncode not in (0, 1):
            row.problem = (done.stderr or done.stdout)[-500:]
    except subprocess.TimeoutExpired:
        row.problem = f"the gate run did not end within {ROW_TIMEOUT_S} s"
    row.duration_s = round(time.monotonic() - started, 2)
    summary_path = folder / "summary.json"
    if summary_path.is_file():
        clauses = json.loads(summary_path.read_text())["clauses"]
        row.caught_by = sorted(cid for cid, c in clauses.items() if c["status"] == "failed")
        if mutant.clause and mutant.clause in clauses:
            row.time_to_catch_s = clauses[mutant.clause].get("first_failed_s")
    return row


def run_matrix(mutants: Sequence[Mutant], report_root: Path, workers: int = 2, extra: Sequence[str] = (),
               progress: Callable[[Row], None] | None = None) -> list[Row]:
    rows: list[Row] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for row in pool.map(lambda m: run_one(m, report_root, extra), mutants):
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def matrix_document(rows: Sequence[Row], wall_s: float, command: str) -> dict[str, Any]:
    faults = [r for r in rows if r.kind == "fault"]
    legal = [r for r in rows if r.kind == "legal"]
    catches = [r.time_to_catch_s for r in faults if r.ok and r.time_to_catch_s is not None]
    return {
        "command": command,
        "wall_s": round(wall_s, 2),
        "faults": len(faults),
        "caught": sum(r.ok for r in faults),
        "missed": [r.name for r in faults if not r.ok],
        "legal_variants": len(legal),
        "false_alarms": [r.name for r in legal if not r.ok],
        "median_time_to_catch_s": round(statistics.median(catches), 3) if catches else None,
        "verdict": "pass" if all(r.ok for r in rows) else "fail",
        "rows": [{**asdict(r), "ok": r.ok} for r in rows],
    }


def format_table(rows: Sequence[Row]) -> str:
    width = max((len(r.name) for r in rows), default=10)
    lines = [f"{'server':<{width}}  {'kind':<5}  {'breaks':<17}  {'verdict':<11}  {'catch s':>7}  caught by"]
    for r in rows:
        verdict = ("caught" if r.ok else "MISSED") if r.kind == "fault" else ("passes" if r.ok else "FALSE ALARM")
        catch = f"{r.time_to_catch_s:.1f}" if r.time_to_catch_s is not None else "-"
        lines.append(f"{r.name:<{width}}  {r.kind:<5}  {r.clause or '-':<17}  {verdict:<11}  {catch:>7}  "
                     f"{', '.join(r.caught_by) or '-'}{'  ' + r.problem.splitlines()[-1] if r.problem else ''}")
    return "\n".join(lines)
