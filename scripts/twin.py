"""The gate against the twin: an implementation of the API written from the documents alone.

`make twin` runs the clean twin at five seeds (both error styles at the first) and must pass
every run; `--regressions all` adds the twin author's 15 frozen regressions (tests/twin/
REGRESSIONS.md), each of which the gate must catch (exit 1). CI runs one seed through
tests/selftest/test_twin.py. Each row is one twin process on a free loopback port and one
`eicontract run --target` against it, bounded in time.

    python scripts/twin.py --seeds 1,2,3,4,5                  # the clean twin: 0 false reds
    python scripts/twin.py --seeds 1 --regressions all        # first contact with the regressions
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eicontract.proof.gaterun import run_gate

ROOT = Path(__file__).resolve().parents[1]
TWIN_KEY = "ei_twin_local_key_0123456789"
TWIN_PROJECT = 4711
START_TIMEOUT_S = 30
RUN_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True)
class TwinRun:
    seed: int
    regression: str | None = None  # None: the clean twin, which must pass
    error_style: str = "http"

    @property
    def name(self) -> str:
        style = "" if self.error_style == "http" else f"+{self.error_style}"
        return f"{self.regression or 'clean'}{style}@{self.seed}"


@dataclass(slots=True)
class Outcome:
    name: str
    seed: int
    regression: str | None
    error_style: str
    exit_code: int
    failed_clauses: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == (0 if self.regression is None else 1)


def _twin_command(run: TwinRun, samples: int) -> list[str]:
    command = [sys.executable, "-m", "tests.twin", "--port", "0", "--seed", str(run.seed), "--samples",
               str(samples), "--error-style", run.error_style]
    return command + (["--regression", run.regression] if run.regression else [])


def _start_twin(run: TwinRun, samples: int, log: Path) -> tuple[subprocess.Popen[str], str]:
    """The twin process and its API root, read from its one ready line within START_TIMEOUT_S. Its
    stderr goes to `log`, never to an undrained pipe (a full pipe would stall the twin mid-run)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stderr:
        twin = subprocess.Popen(_twin_command(run, samples), cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr,
                                text=True)
    assert twin.stdout is not None
    ready, _, _ = select.select([twin.stdout], [], [], START_TIMEOUT_S)
    line = twin.stdout.readline() if ready else ""  # the ready line, or EOF when the twin exited
    if not line.startswith("twin: http://"):
        twin.kill()
        twin.wait()
        raise RuntimeError(f"the twin did not start within {START_TIMEOUT_S} s ({line!r}); its stderr: {log}")
    return twin, line.split()[1]


def gate_command(url: str, seed: int, report_dir: Path) -> list[str]:
    return [sys.executable, "-m", "eicontract.cli", "run", "--target", url, "--project-id", str(TWIN_PROJECT),
            "--seed", str(seed), "--no-shrink", "--report-dir", str(report_dir)]


def run_one(run: TwinRun, report_root: Path, samples: int) -> Outcome:
    outcome = Outcome(run.name, run.seed, run.regression, run.error_style, exit_code=-1)
    folder = report_root / run.name
    env = {k: v for k, v in os.environ.items() if not k.startswith("EI_")} | {"EI_API_KEY": TWIN_KEY}
    try:
        twin, url = _start_twin(run, samples, folder / "twin.stderr")
    except RuntimeError as error:
        outcome.problem = str(error)[-500:]
        return outcome
    try:
        gate = run_gate(gate_command(url, run.seed, folder), folder, env, RUN_TIMEOUT_S, cwd=ROOT)
    finally:
        twin.terminate()
        try:
            twin.wait(timeout=10)
        except subprocess.TimeoutExpired:
            twin.kill()
    outcome.exit_code, outcome.problem = gate.exit_code, gate.problem or ""
    outcome.duration_s, outcome.failed_clauses = gate.duration_s, gate.failed_clauses
    return outcome


def regressions() -> list[str]:
    from tests.twin.server import REGRESSIONS

    return list(REGRESSIONS)


def plan(seeds: list[int], chosen: list[str], body_style: bool) -> list[TwinRun]:
    runs = [TwinRun(seed) for seed in seeds]
    if body_style:
        runs.append(TwinRun(seeds[0], error_style="body"))
    return runs + [TwinRun(seeds[0], name) for name in chosen]


def _chosen(spec: str) -> list[str]:
    known = regressions()
    if spec in ("", "none"):
        return []
    if spec == "all":
        return known
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"twin: unknown regression(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return names


def format_table(outcomes: list[Outcome]) -> str:
    width = max(len(o.name) for o in outcomes)
    lines = [f"{'twin':<{width}}  {'verdict':<11}  {'secs':>6}  failed clauses"]
    for o in outcomes:
        good, bad = ("passes", "FALSE RED") if o.regression is None else ("caught", "MISSED")
        lines.append(f"{o.name:<{width}}  {good if o.ok else bad:<11}  {o.duration_s:>6.1f}  "
                     f"{', '.join(o.failed_clauses) or '-'}{'  ' + o.problem.splitlines()[-1] if o.problem else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated seeds of the clean twin")
    parser.add_argument("--samples", type=int, default=240, help="samples in the twin's project")
    parser.add_argument("--regressions", default="none", help="none, all, or comma-separated names")
    parser.add_argument("--no-body-style", action="store_true", help="skip the clean twin in the body error style")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report-dir", default="reports/twin")
    parser.add_argument("--json", default="reports/twin.json", help="where the rows go")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    runs = plan(seeds, _chosen(args.regressions), not args.no_body_style)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        outcomes = list(pool.map(lambda r: run_one(r, ROOT / args.report_dir, args.samples), runs))
    print(format_table(outcomes))
    document = {"command": " ".join(["python", "scripts/twin.py", *(argv if argv is not None else sys.argv[1:])]),
                "wall_s": round(time.monotonic() - started, 1),
                "verdict": "pass" if all(o.ok for o in outcomes) else "fail",
                "rows": [{**asdict(o), "ok": o.ok} for o in outcomes]}
    out = ROOT / args.json
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if document["verdict"] == "pass" else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # tests.twin is imported from the checkout, not the wheel
    raise SystemExit(main())
