"""`make load`: the reference server under bounded loopback load.

    .venv/bin/python scripts/load.py [--clients 16] [--sweeps 3] [--flows 3] [--samples 300]
                                     [--fault NAME] [--negative-examples 20] [--skip-negative]

N clients (threads, each its own connection) run paging sweeps, judged by the paging oracles
against a reference listing read first, and classify -> job -> classify flows
(eicontract.drive.jobflow), all at once against one server process (scripts/bench/serverproc.py). Then
the schemathesis negative phase runs against the same server, which counts its 5xx answers.
Writes a JSON summary (--out). Exit 0: no errors, no inconsistent sweeps, every job finished,
no 5xx; 1 otherwise; 2 when the load could not run. `--fault` proves it can fail.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.report import machine, now, splice
from bench.serverproc import ServerProcess

from eicontract.contract import contracts_dir
from eicontract.drive.jobflow import Flow, classify_until_result
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.http.client import ApiClient, Exchange
from eicontract.oracles import paging
from eicontract.violations import Violation

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = str(contracts_dir() / "openapi.yaml")  # the bundled contract, relative $refs intact
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
PROJECT_ID = 1
PAGE_SIZES = (100, 37, 10, 250)
JOB_THRESHOLD_MS = 8000  # the reference server's default: longer samples start a job
MAX_EXAMPLES = 5
DOC_BEGIN, DOC_END = "<!-- load:begin -->", "<!-- load:end -->"


@dataclass
class Tally:
    """What the clients saw. Pure bookkeeping: judge_* fill it, problems() reads it."""

    sweeps: int = 0
    pages: int = 0
    inconsistent_sweeps: int = 0
    flows: int = 0
    jobs_started: int = 0
    jobs_unfinished: int = 0
    flows_without_result: int = 0
    requests: int = 0
    errors: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(text[:300])

    def merge(self, other: Tally) -> None:
        for name, value in asdict(other).items():
            if name == "examples":
                for text in value:
                    self.note(text)
            else:
                setattr(self, name, getattr(self, name) + value)


def _failed(exchange: Exchange) -> bool:
    return exchange.status is None or exchange.status >= 400


def judge_sweep(tally: Tally, result: Sweep, reference_ids: Sequence[int], page_size: int) -> None:
    """Every page by the page oracle; the sweep by the sweep oracle and against the reference."""
    tally.sweeps += 1
    tally.pages += len(result.reads)
    tally.requests += len(result.exchanges)
    failed = [e for e in result.exchanges if _failed(e)]
    tally.errors += len(failed) + (0 if result.complete or failed else 1)
    if failed or not result.complete:
        tally.note(f"sweep at page size {page_size}: {result.problem or failed[0].summary()}")
    violations: list[Violation] = [v for read in result.reads for v in paging.check_page(read)]
    violations += paging.check_sweep(result.reads, page_size)
    violations += paging.compare_sweeps(reference_ids, result.ids)
    if violations:
        tally.inconsistent_sweeps += 1
        tally.note(f"{violations[0].clause}: {violations[0].message}")


def judge_flow(tally: Tally, flow: Flow) -> None:
    exchanges = [flow.first, *flow.statuses, *flow.after_finish]
    tally.flows += 1
    tally.requests += len(exchanges)
    failed = [e for e in exchanges if _failed(e)]
    tally.errors += len(failed)
    if failed:
        tally.note(f"flow: {failed[0].summary()}")
    if flow.job_id is not None:
        tally.jobs_started += 1
        if not flow.finished:
            tally.jobs_unfinished += 1
            tally.note(f"job {flow.job_id} did not finish within the deadline ({flow.elapsed:.1f} s)")
    if flow.result is None:
        tally.flows_without_result += 1


@dataclass(frozen=True)
class Reference:
    ids: list[int]
    pairs: list[tuple[int, int]]  # (learn block, sample) to classify; long samples first (they start jobs)


def reference_of(result: Sweep) -> Reference:
    long: list[int] = []
    short: list[int] = []
    blocks: set[int] = set()
    for entry in result.results:
        if not isinstance(entry, dict):
            continue
        sample = entry.get("sample") or {}
        for c in entry.get("classifications") or []:
            block = c.get("learnBlock") if isinstance(c, dict) else None
            if isinstance(block, dict) and isinstance(block.get("id"), int):
                blocks.add(block["id"])
        if isinstance(sample.get("id"), int):
            (long if (sample.get("totalLengthMs") or 0) > JOB_THRESHOLD_MS else short).append(sample["id"])
    pairs = [(b, s) for s in long + short for b in sorted(blocks)]
    return Reference(result.ids, pairs)


def client_run(url: str, key: str, reference: Reference, index: int, sweeps: int, flows: int,
               job_deadline: float) -> Tally:
    """One client: its sweeps and flows interleaved, each page size and sample drawn with its own seed."""
    rng = random.Random(index)
    tally = Tally()
    with ApiClient(url, key, timeout=60.0) as client:
        for step in range(max(sweeps, flows)):
            if step < sweeps:
                size = rng.choice(PAGE_SIZES)
                bound = 2 * len(reference.ids) // size + 3
                judge_sweep(tally, sweep(client, PROJECT_ID, page_size=size, max_pages=bound), reference.ids, size)
            if step < flows and reference.pairs:
                # half the flows on the long samples, so that clients meet on the same running job
                pool = reference.pairs[: max(1, len(reference.pairs) // 4)] if step % 2 == 0 else reference.pairs
                block, sample = rng.choice(pool)
                judge_flow(tally, classify_until_result(client, PROJECT_ID, block, sample, deadline=job_deadline))
    return tally


def negative_phase(server: ServerProcess, examples: int) -> dict[str, Any]:
    """schemathesis, negative data only, checking for server errors; the server counts the 5xx."""
    command = [SCHEMATHESIS, "run", OPENAPI, "--url", server.url, "-H",
               f"x-api-key: {server.api_key}", "-m", "negative", "--checks", "not_a_server_error",
               "--seed", "42", "--generation-database", "none", "-w", "1", "-n", str(examples)]
    server.reset()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    stats = server.stats()
    shown = " ".join(f"'{c}'" if " " in c else c for c in command)
    return {"command": shown.replace(server.api_key, "$EI_API_KEY").replace(server.url, "http://127.0.0.1:PORT/v1")
            .replace(SCHEMATHESIS, ".venv/bin/schemathesis"),
            "exit_code": done.returncode, "requests": stats["requests"], "statuses": stats["statuses"],
            "server_5xx": stats["statuses"].get("5xx", 0), "seconds": round(time.perf_counter() - started, 2)}


def problems(summary: dict[str, Any]) -> list[str]:
    """Why the load run fails (empty when it passes)."""
    load, out = summary["load"], []
    if load["errors"]:
        out.append(f"{load['errors']} failed requests or unfinished sweeps")
    if load["inconsistent_sweeps"]:
        out.append(f"{load['inconsistent_sweeps']} sweeps broke a paging invariant")
    if load["jobs_unfinished"] or load["flows_without_result"]:
        out.append(f"{load['jobs_unfinished']} jobs unfinished, {load['flows_without_result']} flows without a result")
    if summary["server_5xx_under_load"]:
        out.append(f"{summary['server_5xx_under_load']} server errors (5xx) under load")
    negative = summary.get("negative")
    if negative and negative["server_5xx"]:
        out.append(f"{negative['server_5xx']} server errors (5xx) in the negative phase")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    with ServerProcess(samples=args.samples, faults=args.fault, job_seconds=args.job_seconds) as server:
        with ApiClient(server.url, server.api_key, timeout=60.0) as client:
            first = sweep(client, PROJECT_ID, page_size=100, max_pages=args.samples // 100 + 5)
        reference = reference_of(first)
        server.reset()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            tallies = list(pool.map(lambda i: client_run(server.url, server.api_key, reference, i, args.sweeps,
                                                         args.flows, args.job_deadline), range(args.clients)))
        wall = time.perf_counter() - started
        stats = server.stats()
        total = Tally()
        judge_sweep(total, first, first.ids, 100)  # the reference listing is judged like any other sweep
        for tally in tallies:
            total.merge(tally)
        summary: dict[str, Any] = {
            "clients": args.clients, "sweeps_per_client": args.sweeps, "flows_per_client": args.flows,
            "samples": args.samples, "listing": len(first.ids), "faults": args.fault, "wall_s": round(wall, 2),
            "server_requests": stats["requests"], "server_statuses": stats["statuses"],
            "server_5xx_under_load": stats["statuses"].get("5xx", 0),
            "server_rps": round(stats["requests"] / wall, 1) if wall else None, "load": asdict(total),
        }
        if not args.skip_negative:
            summary["negative"] = negative_phase(server, args.negative_examples)
        summary["server_peak_mb"] = server.peak_mb()
    summary["problems"] = problems(summary)
    summary["verdict"] = "fail" if summary["problems"] else "pass"
    return summary


def doc_block(summary: dict[str, Any], command: str) -> str:
    """The numbers for docs/PERFORMANCE.md, beside the command that made them."""
    load, facts, negative = summary["load"], summary["machine"], summary.get("negative")
    rows = [
        ("clients (threads, one connection each)", summary["clients"]),
        ("paging sweeps / pages read", f"{load['sweeps']} / {load['pages']}"),
        ("classify flows / jobs started / jobs unfinished",
         f"{load['flows']} / {load['jobs_started']} / {load['jobs_unfinished']}"),
        ("failed requests", load["errors"]), ("sweeps that broke a paging invariant", load["inconsistent_sweeps"]),
        ("requests served / wall time", f"{summary['server_requests']} in {summary['wall_s']} s "
                                         f"({summary['server_rps']} req/s)"),
        ("server 5xx under load", summary["server_5xx_under_load"]),
        ("server peak memory (VmHWM)", f"{summary['server_peak_mb']} MB"),
    ]
    if negative:
        rows += [("negative phase: requests / 5xx / exit", f"{negative['requests']} / {negative['server_5xx']} / "
                                                         f"{negative['exit_code']}"),
                 ("negative phase command", f"`{negative['command']}`")]
    lines = [f"Run {summary['written_at']} on {facts['cpu_count']} cores, commit {facts.get('commit')}, load "
             f"average {facts['load_average']}: `{command}`. Verdict: **{summary['verdict']}**.", "",
             "| what | value |", "|---|---|"]
    return "\n".join(lines + [f"| {name} | {value} |" for name, value in rows])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--sweeps", type=int, default=3, help="paging sweeps per client")
    p.add_argument("--flows", type=int, default=3, help="classify -> job -> classify flows per client")
    p.add_argument("--samples", type=int, default=300)
    p.add_argument("--job-seconds", type=float, default=0.3, help="how long the server's jobs run")
    p.add_argument("--job-deadline", type=float, default=30.0, help="a flow gives up on its job after this")
    p.add_argument("--fault", action="append", default=[], help="a server fault (proves the load test can fail)")
    p.add_argument("--negative-examples", type=int, default=20, help="schemathesis -n for the negative phase")
    p.add_argument("--skip-negative", action="store_true")
    p.add_argument("--out", default="reports/load.json")
    p.add_argument("--doc", default="", help="write the numbers into this doc's load section (not with --fault)")
    args = p.parse_args(argv)
    try:
        summary = run(args)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"load: could not run: {exc}", file=sys.stderr)
        return 2
    summary["machine"], summary["written_at"] = machine(), now()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    if args.doc and not args.fault:
        doc = ROOT / args.doc
        rest = list(sys.argv[1:] if argv is None else argv)
        if "--doc" in rest:  # make load passes it; the reader types `make load`
            del rest[rest.index("--doc"):rest.index("--doc") + 2]
        command = "make load" + (f' ARGS="{" ".join(rest)}"' if rest else "")
        doc.write_text(splice(doc.read_text() if doc.is_file() else "# Performance\n", doc_block(summary, command),
                              DOC_BEGIN, DOC_END))
    load = summary["load"]
    negative = summary.get("negative")
    print(f"load: {args.clients} clients, {load['sweeps']} sweeps ({load['pages']} pages), {load['flows']} flows "
          f"({load['jobs_started']} jobs) in {summary['wall_s']} s, {summary['server_rps']} req/s; "
          f"errors {load['errors']}, inconsistent sweeps {load['inconsistent_sweeps']}, unfinished jobs "
          f"{load['jobs_unfinished']}, 5xx {summary['server_5xx_under_load']}"
          + (f"; negative phase: {negative['requests']} requests, {negative['server_5xx']} 5xx" if negative else ""))
    for text in summary["problems"] + load["examples"]:
        print(f"  {text}")
    print(f"load: {summary['verdict']} -> {out}")
    return 0 if summary["verdict"] == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
