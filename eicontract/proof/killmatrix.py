"""The kill matrix: the quick gate against every fault and every legal variant of the reference
server. A fault must be caught on the clause it breaks; a legal variant must pass.

Each row is one `eicontract run` in a subprocess (its own server, its own report folder), run
on `workers` processes at once. Shrinking is off: the matrix asks "caught, by what, how fast",
not for minimal examples. At several seeds (the nightly `--seeds 5`) each server runs once per
seed, and the document says per server at how many seeds it was caught: a fault caught at some
seeds only is a flaky catch, a verdict that luck decides.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eicontract.proof.gaterun import run_gate

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
    seed: int | None = None

    @property
    def ok(self) -> bool:
        if self.kind == "legal":
            return self.exit_code == 0
        return self.exit_code == 1 and self.clause in self.caught_by


# The deep faults act only past offset 5,000 (or in the top tenth of the ids): their rows run on a
# project big enough to hold them, which the bounded-cost gate judges at the same cost as 300.
DEEP_SAMPLES = 8_000


def catalogue() -> list[Mutant]:
    """Every fault and legal variant the reference server knows, plus the body error style."""
    from eicontract.server import FAULTS, LEGAL_VARIANTS
    from eicontract.server.faults import DEEP_FAULTS

    mutants = [Mutant(f.name, "fault", f.clause, f.description, ("--server-fault", f.name))
               for f in FAULTS.values()]
    mutants += [Mutant(f.name, "fault", f.clause, f"{f.description} ({DEEP_SAMPLES:,} samples)",
                       ("--server-fault", f.name, "--server-samples", str(DEEP_SAMPLES))) for f in DEEP_FAULTS]
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


def run_one(mutant: Mutant, report_root: Path, extra: Sequence[str] = (), seed: int | None = None,
            folder_name: str | None = None) -> Row:
    folder = report_root / (folder_name or mutant.name)
    extra = [*extra, "--seed", str(seed)] if seed is not None else extra
    env = {k: v for k, v in os.environ.items() if not k.startswith("EI_")}  # the embedded server only
    gate = run_gate(_gate_command(mutant, folder, extra), folder, env, ROW_TIMEOUT_S)
    row = Row(mutant.name, mutant.kind, mutant.clause, mutant.description, exit_code=gate.exit_code, seed=seed,
              problem=gate.problem or "", duration_s=gate.duration_s, caught_by=gate.failed_clauses)
    if mutant.clause and mutant.clause in gate.clauses:
        row.time_to_catch_s = gate.clauses[mutant.clause].get("first_failed_s")
    return row


def run_matrix(mutants: Sequence[Mutant], report_root: Path, workers: int = 2, extra: Sequence[str] = (),
               progress: Callable[[Row], None] | None = None, seeds: Sequence[int] = ()) -> list[Row]:
    """One row per server and seed; at one seed (or none: the default) a row's folder is the server's name."""
    at: list[int | None] = [*seeds] or [None]
    runs = [(m, seed) for m in mutants for seed in at]
    tagged = len(seeds) > 1

    def one(run: tuple[Mutant, int | None]) -> Row:
        mutant, seed = run
        return run_one(mutant, report_root, extra, seed, f"{mutant.name}@{seed}" if tagged else None)

    rows: list[Row] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for row in pool.map(one, runs):
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def seed_verdicts(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Per server, the seeds at which its row was ok (caught / passed) and at which not."""
    by_name: dict[str, list[Row]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    out = []
    for name, runs in by_name.items():
        ok = [r.seed for r in runs if r.ok]
        not_ok = [r.seed for r in runs if not r.ok]
        good, bad = ("caught", "missed") if runs[0].kind == "fault" else ("passes", "false alarm")
        verdict = good if not not_ok else bad if not ok else f"flaky: {good} at {len(ok)} of {len(runs)} seeds"
        out.append({"name": name, "kind": runs[0].kind, "clause": runs[0].clause, "seeds": len(runs),
                    "ok_at": ok, "not_ok_at": not_ok, "verdict": verdict})
    return out


def matrix_document(rows: Sequence[Row], wall_s: float, command: str) -> dict[str, Any]:
    faults = [r for r in rows if r.kind == "fault"]
    legal = [r for r in rows if r.kind == "legal"]
    catches = [r.time_to_catch_s for r in faults if r.ok and r.time_to_catch_s is not None]
    per_server = seed_verdicts(rows)
    return {
        "command": command,
        "wall_s": round(wall_s, 2),
        "seeds": sorted({r.seed for r in rows if r.seed is not None}),
        "faults": len(faults),
        "caught": sum(r.ok for r in faults),
        "missed": list(dict.fromkeys(r.name for r in faults if not r.ok)),
        "legal_variants": len(legal),
        "false_alarms": list(dict.fromkeys(r.name for r in legal if not r.ok)),
        # caught (or passed) at some seeds and not at others: the verdict depends on luck
        "flaky": [s["name"] for s in per_server if s["ok_at"] and s["not_ok_at"]],
        "median_time_to_catch_s": round(statistics.median(catches), 3) if catches else None,
        "verdict": "pass" if all(r.ok for r in rows) else "fail",
        "per_server": per_server,
        "rows": [{**asdict(r), "ok": r.ok} for r in rows],
    }


def format_table(rows: Sequence[Row]) -> str:
    several = len({r.seed for r in rows}) > 1  # then each row names its seed
    names = [f"{r.name}@{r.seed}" if several else r.name for r in rows]
    width = max((len(n) for n in names), default=10)
    lines = [f"{'server':<{width}}  {'kind':<5}  {'breaks':<17}  {'verdict':<11}  {'catch s':>7}  caught by"]
    for name, r in zip(names, rows, strict=True):
        verdict = ("caught" if r.ok else "MISSED") if r.kind == "fault" else ("passes" if r.ok else "FALSE ALARM")
        catch = f"{r.time_to_catch_s:.1f}" if r.time_to_catch_s is not None else "-"
        lines.append(f"{name:<{width}}  {r.kind:<5}  {r.clause or '-':<17}  {verdict:<11}  {catch:>7}  "
                     f"{', '.join(r.caught_by) or '-'}{'  ' + r.problem.splitlines()[-1] if r.problem else ''}")
    return "\n".join(lines)


def format_seed_table(document: dict[str, Any]) -> str:
    """Per server: at how many seeds it was caught (a fault) or passed (a legal variant)."""
    servers = document["per_server"]
    width = max((len(s["name"]) for s in servers), default=10)
    lines = [f"{'server':<{width}}  {'kind':<5}  {'ok at':>7}  verdict"]
    for s in servers:
        lines.append(f"{s['name']:<{width}}  {s['kind']:<5}  {len(s['ok_at']):>3} of {s['seeds']:<2} {s['verdict']}"
                     f"{'  (not at seeds ' + ', '.join(map(str, s['not_ok_at'])) + ')' if s['not_ok_at'] else ''}")
    return "\n".join(lines)

