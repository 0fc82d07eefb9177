"""`make bench`: measure the gate and the reference server on this machine.

    .venv/bin/python scripts/bench.py [--only NAMES] [--skip NAMES] [--quick]

Writes reports/bench.json (the issue's keys, each a number, plus detail: latencies, ratios, targets
met, machine facts) and the table in docs/PERFORMANCE.md between the bench markers. Measurements
(names for --only/--skip; a bench.json key works too): checked (checked_rps, raw_httpx_rps),
schemathesis, quick_gate, kill_matrix, scale (100,000 samples), concurrency (16 clients).

Absolute times drift on a shared machine, so every ratio is taken within one run: the checked and
raw loops alternate round by round against the same server process. Servers run in their own process
(scripts/bench/serverproc.py) so that a client never shares a GIL with the server it measures.
A measurement that misses its target is profiled (cProfile top entries, or the gate's slowest tests).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import gate, verdicts, workloads
from bench.profiling import top_entries
from bench.report import Figure, document, machine, now, splice, table
from bench.serverproc import SCRIPTS, ServerProcess

from eicontract.contract import contracts_dir
from eicontract.http.client import ApiClient
from eicontract.settings import DEFAULT_SEED

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = str(contracts_dir() / "openapi.yaml")  # the bundled contract, relative $refs intact
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
GATE_SAMPLES = 300  # the embedded server's default: the data the quick gate runs on
SCALE_TIMEOUT_S = 900
MEASUREMENTS = ("checked", "schemathesis", "quick_gate", "kill_matrix", "scale", "concurrency", "gate_scale",
                "deep_faults", "versus")
KEY_TO_MEASUREMENT = {
    "checked_rps": "checked", "raw_httpx_rps": "checked", "schemathesis_rps": "schemathesis",
    "quick_gate_s": "quick_gate", "quick_gate_2workers_s": "quick_gate", "kill_matrix_s": "kill_matrix",
    "sweep_100k_s": "scale", "sweep_100k_peak_mb": "scale", "server_rps_c16": "concurrency",
    "gate_100k_time_ratio": "gate_scale", "gate_100k_request_ratio": "gate_scale",
    "deep_faults_caught": "deep_faults", "versus_ours_caught": "versus",
}


@dataclass
class Sizes:
    rounds: int = 3  # checked/raw alternations
    schemathesis_examples: int = 20
    scale_samples: int = 100_000
    scale_page_size: int = 1000
    latency_reads: tuple[int, int] = (200, 100)  # page reads at limit 100 and at limit 1000
    values_per_filter: int = workloads.VALUES_PER_FILTER
    clients: int = 16
    per_client: int = 40


QUICK = Sizes(rounds=1, values_per_filter=1, schemathesis_examples=5, scale_samples=3000, latency_reads=(30, 10),
              per_client=5)


@dataclass
class Context:
    server: ServerProcess  # the gate's dataset, in its own process
    sizes: Sizes
    figures: list[Figure]
    detail: dict[str, Any]

    def add(self, key: str, label: str, value: float | None, unit: str, command: str, target: str = "",
            met: bool | None = None, note: str = "") -> None:
        rounded = None if value is None else round(value, 2)
        self.figures.append(Figure(key, label, rounded, unit, command, target, met, now(), note))

    def value(self, key: str) -> float | None:
        return next((f.value for f in self.figures if f.key == key), None)


# -- checked sweeps against a plain httpx loop ---------------------------------------------

def _checked_client(ctx: Context) -> tuple[ApiClient, list[dict[str, str]]]:
    client = ApiClient(ctx.server.url, ctx.server.api_key, timeout=60.0)
    reference = workloads.sweep(client, workloads.PROJECT_ID, page_size=100)
    samples = [r["sample"] for r in reference.results if isinstance(r, dict)]
    return client, workloads.filter_queries(samples, DEFAULT_SEED, ctx.sizes.values_per_filter)


def measure_checked(ctx: Context) -> None:
    client, queries = _checked_client(ctx)
    warm = workloads.checked_pass(client, queries)  # warms the server's caches; gives the request list
    checked_s, raw_s, requests = [], [], len(warm.urls)
    for _ in range(ctx.sizes.rounds):
        started = time.perf_counter()
        raw_errors = workloads.raw_loop(warm.urls, ctx.server.api_key)
        raw_s.append(time.perf_counter() - started)
        ctx.server.reset()
        started = time.perf_counter()
        done = workloads.checked_pass(client, queries)
        checked_s.append(time.perf_counter() - started)
    pass_bytes = ctx.server.stats()["bytes"]
    client.close()
    checked, raw = requests * len(checked_s) / sum(checked_s), requests * len(raw_s) / sum(raw_s)
    ratio = checked / raw
    command = (f"scripts/bench.py --only checked: {len(queries)} filter sweeps + paging sweeps at "
               f"{workloads.PAGING_SIZES}, {requests} requests a pass, {ctx.sizes.rounds} round(s) each")
    ctx.add("checked_rps", "checked requests/s (schema + paging/filter oracles)", checked, "req/s", command)
    ctx.add("raw_httpx_rps", "plain httpx.Client loop, same requests", raw, "req/s", command)
    ctx.add("checked_vs_raw", "checked / raw", ratio, "x", "ratio of the two above, same run", ">= 0.5",
            ratio >= 0.5)
    ctx.detail["checked"] = {"requests_per_pass": requests, "rounds": ctx.sizes.rounds, "queries": len(queries),
                             "checked_round_s": [round(s, 3) for s in checked_s],
                             "raw_round_s": [round(s, 3) for s in raw_s], "raw_errors": raw_errors,
                             "violations": len(warm.violations) + len(done.violations),
                             "response_mb_per_s": round(pass_bytes / checked_s[-1] / 1e6, 2),
                             "mean_response_kb": round(pass_bytes / requests / 1e3, 1)}
    if ratio < 0.5:
        profile_checked(ctx)


def profile_checked(ctx: Context) -> None:
    """cProfile over one checked pass (run apart from the timed rounds: profiling slows it)."""
    profiles = ctx.detail.setdefault("profiles", {})
    if "checked_rps" not in profiles:
        profiler = cProfile.Profile()
        client, queries = _checked_client(ctx)
        profiler.runcall(workloads.checked_pass, client, queries)
        client.close()
        profiles["checked_rps"] = top_entries(profiler)


# -- schemathesis on the same server --------------------------------------------------------

def schemathesis_command(url: str, key: str, examples: int, *extra: str) -> list[str]:
    return [SCHEMATHESIS, "run", OPENAPI, "--url", url, "-H", f"x-api-key: {key}",
            "--seed", "42", "--generation-database", "none", "-w", "1", "-n", str(examples), *extra]


def shown(command: list[str], key: str) -> str:
    text = " ".join(f"'{part}'" if " " in part else part for part in command)
    return text.replace(key, "$EI_API_KEY").replace(SCHEMATHESIS, ".venv/bin/schemathesis")


def run_counted(server: ServerProcess, command: list[str], timeout: float = 900) -> dict[str, Any]:
    """Run a client command against `server`; the server counts its requests and statuses."""
    server.reset()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - started
    stats = server.stats()
    active = (stats["last"] - stats["first"]) if stats["first"] is not None else None
    return {"exit_code": done.returncode, "wall_s": round(wall, 2), "requests": stats["requests"],
            "bytes": stats["bytes"],
            "statuses": stats["statuses"], "active_s": None if active is None else round(active, 2),
            "server_5xx": stats["statuses"].get("5xx", 0)}


def measure_schemathesis(ctx: Context) -> None:
    command = schemathesis_command(ctx.server.url, ctx.server.api_key, ctx.sizes.schemathesis_examples)
    run = run_counted(ctx.server, command)
    # from its first request to its last (counted by the server): its start-up is not held against it
    rps = run["requests"] / run["active_s"] if run["active_s"] else None
    ctx.add("schemathesis_rps", "schemathesis run requests/s (its own checks)", rps, "req/s",
            shown(command, ctx.server.api_key).replace(ctx.server.url, "http://127.0.0.1:PORT/v1"))
    ctx.detail["schemathesis"] = {**run, "wall_rps": round(run["requests"] / run["wall_s"], 2)}
    if run["active_s"]:
        ctx.detail["schemathesis"].update(response_mb_per_s=round(run["bytes"] / run["active_s"] / 1e6, 2),
                                          mean_response_kb=round(run["bytes"] / max(1, run["requests"]) / 1e3, 1))
    checked = ctx.value("checked_rps")
    if checked is not None and rps:  # no target: the requests differ (see `versus` for verdicts compared)
        ctx.add("checked_vs_schemathesis", "checked / schemathesis (requests differ: no target)", checked / rps,
                "x", "ratio, same run")
    ours = ctx.detail.get("checked", {}).get("response_mb_per_s")
    theirs = ctx.detail["schemathesis"].get("response_mb_per_s")
    if ours and theirs:  # context for the ratio above: its requests are mostly small 4xx answers
        ctx.add("checked_vs_schemathesis_bytes", "checked / schemathesis, by response bytes per second",
                ours / theirs, "x", "server-counted response bytes, same run")


# -- the gate's wall times --------------------------------------------------------------------

def measure_quick_gate(ctx: Context) -> None:
    one, two = gate.quick_gate(None), gate.quick_gate(2)
    ctx.add("quick_gate_s", "quick gate, embedded server", one["seconds"], "s", one["command"], "< 30 s",
            one["seconds"] < 30)
    ctx.add("quick_gate_2workers_s", "quick gate, -n 2 (pytest-xdist)", two["seconds"], "s", two["command"],
            "< 30 s and below 1 worker", two["seconds"] < 30 and two["seconds"] < one["seconds"])
    ctx.detail["quick_gate"] = {"one_worker": one, "two_workers": two}


def measure_kill_matrix(ctx: Context) -> None:
    run = gate.kill_matrix()
    ctx.add("kill_matrix_s", "kill matrix wall time (its wall_s)", run["wall_s"], "s", run["command"])
    ctx.add("kill_matrix_median_catch_s", "kill matrix: median time to catch a fault",
            run["median_time_to_catch_s"], "s", run["command"])
    ctx.detail["kill_matrix"] = run


# -- 100,000 samples --------------------------------------------------------------------------

def _vm_hwm_mb(pid: int) -> float | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    found = [int(line.split()[1]) for line in lines if line.startswith("VmHWM:")]
    return round(found[0] / 1024, 1) if found else None


def scale_child(url: str, key: str, *extra: str, timeout: float = SCALE_TIMEOUT_S) -> dict[str, Any]:
    """The sweep child (scripts/bench/scale.py); on timeout, its peak so far and a lower bound."""
    command = [sys.executable, "-m", "bench.scale", "--url", url, *extra]
    env = {**os.environ, "EI_API_KEY": key, "PYTHONPATH": str(SCRIPTS)}
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            peak = _vm_hwm_mb(proc.pid)
            proc.kill()
            proc.communicate()
            return {"timed_out": True, "seconds": round(time.perf_counter() - started, 1), "peak_mb": peak}
    if proc.returncode != 0:
        return {"failed": err[-1500:], "seconds": round(time.perf_counter() - started, 1)}
    return dict(json.loads(out.strip().splitlines()[-1]))


def measure_scale(ctx: Context) -> None:
    sizes = ctx.sizes
    started = time.perf_counter()
    with ServerProcess(samples=sizes.scale_samples) as server:
        startup = time.perf_counter() - started
        page = str(sizes.scale_page_size)
        result = scale_child(server.url, server.api_key, "--page-size", page)
        total = int(result.get("listing") or sizes.scale_samples * 5 // 6)
        latencies = {limit: workloads.latency_summary(workloads.page_latencies(
            server.url, server.api_key, limit, total, count, DEFAULT_SEED))
            for limit, count in zip((100, 1000), sizes.latency_reads, strict=True)}
        seconds, peak = result.get("seconds"), result.get("peak_mb")
        unfinished = "did not finish within the time limit: a lower bound" if result.get("timed_out") else \
            f"did not finish: {result['failed'][-120:]}" if result.get("failed") else ""
        met = not unfinished and seconds is not None and peak is not None and seconds < 60 and peak < 500
        if not met:
            profiled = scale_child(server.url, server.api_key, "--page-size", page, "--max-pages", "20",
                                   "--max-filters", "4", "--profile", timeout=600)
            ctx.detail.setdefault("profiles", {})["sweep_100k"] = profiled.get("profile", profiled)
        server_peak = server.peak_mb()
    n = f"{sizes.scale_samples:,}"
    command = f"scripts/bench.py --only scale (PYTHONPATH=scripts python -m bench.scale --page-size {page})"
    ctx.add("sweep_100k_s", f"{n} samples: full sweep + every filter oracle", seconds, "s", command, "< 60 s",
            not unfinished and seconds is not None and seconds < 60, unfinished)
    ctx.add("sweep_100k_peak_mb", f"{n} samples: peak memory of that sweep", peak, "MB", command, "< 500 MB",
            peak is not None and peak < 500 and not result.get("failed"), "" if peak is not None else unfinished)
    reads = f"scripts/bench.py --only scale ({sizes.latency_reads} seeded offsets, one client)"
    for limit in (100, 1000):
        ctx.add(f"page{limit}_p50_ms", f"{n} samples: page latency p50, limit {limit}",
                latencies[limit]["p50_ms"], "ms", reads)
        ctx.add(f"page{limit}_p99_ms", f"{n} samples: page latency p99, limit {limit}",
                latencies[limit]["p99_ms"], "ms", reads)
    ctx.detail["scale"] = {"samples": sizes.scale_samples, "server_start_s": round(startup, 2),
                           "server_peak_mb": server_peak, "sweep": result, "latency": latencies}


# -- concurrency -------------------------------------------------------------------------------

def measure_concurrency(ctx: Context) -> None:
    sizes = ctx.sizes
    ctx.server.reset()
    wall, latencies, errors = workloads.concurrent_pages(ctx.server.url, ctx.server.api_key, sizes.clients,
                                                         sizes.per_client, 100, GATE_SAMPLES * 5 // 6,
                                                         DEFAULT_SEED)
    served = ctx.server.stats()["requests"]
    ctx.add("server_rps_c16", f"reference server, {sizes.clients} concurrent clients", served / wall, "req/s",
            f"scripts/bench.py --only concurrency ({sizes.clients} threads x {sizes.per_client} pages, limit 100)")
    ctx.detail["concurrency"] = {"clients": sizes.clients, "requests": served, "wall_s": round(wall, 2),
                                 "errors": errors, **workloads.latency_summary(latencies)}


# -- verdicts: cost at scale, deep faults, ours against schemathesis ----------------------------

# pytest arguments for the gate runs at scale (`--deselect-large`): test_boundaries' very large limits ask the
# 100,000-sample server for pages of 10,000 results and more (test_a_huge_limit too), which do not come within
# the client's 10 s timeout on this machine (exit 2); everything else runs.
LARGE_DESELECT = ("-k", "not very_large_limit and not huge_limit")


def _scale_args(ctx: Context) -> tuple[str, ...]:
    return LARGE_DESELECT if ctx.detail.get("deselect_large") else ()


def measure_gate_scale(ctx: Context) -> None:
    large = ctx.sizes.scale_samples
    run = verdicts.gate_scale(GATE_SAMPLES, large, _scale_args(ctx))
    small_run, large_run = run["runs"][str(GATE_SAMPLES)], run["runs"][str(large)]
    command = (f".venv/bin/eicontract run --server-samples {{{GATE_SAMPLES},{large}}} --no-shrink"
               + (f" -- {' '.join(_scale_args(ctx))}" if _scale_args(ctx) else ""))
    ok = small_run["exit_code"] == 0 and large_run["exit_code"] == 0
    ctx.add("gate_300_s", f"quick gate, {GATE_SAMPLES} samples", small_run["seconds"], "s", command)
    ctx.add("gate_300_requests", f"quick gate, {GATE_SAMPLES} samples: requests", small_run["requests"], "",
            command, "<= 1500", small_run["requests"] is not None and small_run["requests"] <= 1500)
    ctx.add("gate_100k_s", f"quick gate, {large:,} samples", large_run["seconds"], "s", command, "exit 0", ok)
    ctx.add("gate_100k_requests", f"quick gate, {large:,} samples: requests", large_run["requests"], "", command,
            "<= 1500", large_run["requests"] is not None and large_run["requests"] <= 1500)
    ratio_t, ratio_r = run["time_ratio"], run["request_ratio"]
    ctx.add("gate_100k_time_ratio", f"gate wall time, {large:,} / {GATE_SAMPLES} samples", ratio_t, "x",
            "ratio, same run", "<= 2", ratio_t is not None and ratio_t <= 2)
    ctx.add("gate_100k_request_ratio", f"gate requests, {large:,} / {GATE_SAMPLES} samples", ratio_r, "x",
            "ratio, same run", "<= 1.3", ratio_r is not None and ratio_r <= 1.3)
    ctx.detail["gate_scale"] = run


def measure_deep_faults(ctx: Context) -> None:
    from eicontract.server.faults import DEEP_FAULTS

    samples = ctx.sizes.scale_samples
    names = [f.name for f in DEEP_FAULTS]
    runs = verdicts.deep_faults(names, samples, _scale_args(ctx))
    caught = sum(r["exit_code"] == 1 for r in runs.values())
    command = f".venv/bin/eicontract run --server-samples {samples} --server-fault NAME --no-shrink"
    ctx.add("deep_faults_caught", f"deep faults caught at {samples:,} samples", caught, f"of {len(names)}",
            command, "all", caught == len(names))
    for name, run in runs.items():
        ctx.add(f"deep_{name}_catch_s", f"{name}: time to catch (first failed clause)", run["first_catch_s"],
                "s", command.replace("NAME", name), note=f"wall {run['seconds']} s, exit {run['exit_code']}, "
                                                          f"caught by {', '.join(run['failed']) or '-'}")
    ctx.detail["deep_faults"] = runs


def measure_versus(ctx: Context) -> None:
    theirs = schemathesis_command("{url}", "{key}", ctx.sizes.schemathesis_examples)
    run = verdicts.versus_schemathesis(verdicts.VERSUS_FAULTS, theirs)
    faults = run["faults"]
    ours_cmd = ".venv/bin/eicontract run --target http://127.0.0.1:PORT/v1 --project-id 1 --no-shrink"
    their_cmd = shown(theirs, "{key}").replace("{url}", "http://127.0.0.1:PORT/v1").replace("{key}", "$EI_API_KEY")
    ctx.add("versus_ours_caught", f"faults caught, ours (of {faults}, plus the reference server)",
            run["ours_caught"], f"of {faults}", ours_cmd, note=f"false alarm: {run['ours_false_alarm']}")
    ctx.add("versus_schemathesis_caught", "faults caught, schemathesis run (its default checks)",
            run["schemathesis_caught"], f"of {faults}", their_cmd,
            note=f"false alarm: {run['schemathesis_false_alarm']}")
    for who in ("ours", "schemathesis"):
        ctx.add(f"versus_{who}_s", f"seconds to a verdict over the {faults} faults, {who}", run[f"{who}_seconds"],
                "s", ours_cmd if who == "ours" else their_cmd)
        ctx.add(f"versus_{who}_requests", f"requests to a verdict over the {faults} faults, {who}",
                run[f"{who}_requests"], "", ours_cmd if who == "ours" else their_cmd)
    ctx.detail["versus"] = run


MEASURE: dict[str, Callable[[Context], None]] = {
    "checked": measure_checked, "schemathesis": measure_schemathesis, "quick_gate": measure_quick_gate,
    "kill_matrix": measure_kill_matrix, "scale": measure_scale, "concurrency": measure_concurrency,
    "gate_scale": measure_gate_scale, "deep_faults": measure_deep_faults, "versus": measure_versus,
}


def _names(text: str) -> set[str]:
    out = set()
    for name in filter(None, (n.strip() for n in text.split(","))):
        name = KEY_TO_MEASUREMENT.get(name, name)
        if name not in MEASUREMENTS:
            raise SystemExit(f"bench: unknown measurement {name!r}; choose from {', '.join(MEASUREMENTS)}")
        out.add(name)
    return out


def profiles_text(profiles: dict[str, Any]) -> str:
    """The profiles of missed targets, as markdown (inside the bench markers)."""
    parts = []
    for name, tables in profiles.items():
        if not isinstance(tables, dict) or "own" not in tables:
            parts += ["", f"`{name}`: no profile ({str(tables)[:200]})"]
            continue
        for order, rows in (("cumulative", tables["cumulative"]), ("own", tables["own"])):
            parts += ["", f"Profile of `{name}` (cProfile, top entries by {order} time):", "",
                      "| calls | own s | cumulative s | function |", "|---|---|---|---|"]
            parts += [f"| {r['calls']} | {r['tottime_s']} | {r['cumtime_s']} | `{r['function']}` |" for r in rows]
    return "\n".join(["", *parts]) if parts else ""


def write_doc(doc: dict[str, Any], name: str) -> None:
    if name:
        path = ROOT / name
        block = table(doc) + profiles_text(doc["detail"].get("profiles", {}))
        path.write_text(splice(path.read_text() if path.is_file() else "# Performance\n", block))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--only", default="", help=f"comma-separated: {', '.join(MEASUREMENTS)} (or bench.json keys)")
    p.add_argument("--skip", default="", help="comma-separated measurements to leave out")
    p.add_argument("--quick", action="store_true", help="small sizes (development; not for the doc)")
    p.add_argument("--out", default="reports/bench.json")
    p.add_argument("--doc", default="docs/PERFORMANCE.md", help="'' to leave the doc alone")
    p.add_argument("--render", action="store_true", help="only rewrite the doc's table from the --out file")
    p.add_argument("--deselect-large", action="store_true",
                   help="gate runs at scale leave out test_a_very_large_limit (see LARGE_DESELECT)")
    args = p.parse_args()
    if args.render:
        write_doc(json.loads((ROOT / args.out).read_text()), args.doc)
        return 0
    chosen = [m for m in MEASUREMENTS if m in (_names(args.only) or set(MEASUREMENTS)) - _names(args.skip)]
    sizes = QUICK if args.quick else Sizes()
    facts = machine()
    figures: list[Figure] = []
    detail: dict[str, Any] = {"profiles": {}, "deselect_large": args.deselect_large}
    with ServerProcess(samples=GATE_SAMPLES) as server:
        ctx = Context(server, sizes, figures, detail)
        for name in chosen:
            print(f"bench: {name} ...", flush=True)
            started = time.perf_counter()
            MEASURE[name](ctx)
            print(f"bench: {name} done in {time.perf_counter() - started:.1f} s", flush=True)
        detail["gate_server_peak_mb"] = server.peak_mb()
    facts["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    if not detail["profiles"]:
        del detail["profiles"]
    out = ROOT / args.out
    previous = json.loads(out.read_text()) if out.is_file() else None
    command = "make bench" if set(chosen) == set(MEASUREMENTS) else f"scripts/bench.py --only {','.join(chosen)}"
    if args.quick:
        command += " --quick"
    doc = document(figures, detail, previous, facts, command)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    write_doc(doc, args.doc)
    for f in figures:
        print(f"  {f.key:<30} {f.value!s:>10} {f.unit:<6} {f.target} {'' if f.met is None else f.met}")
    missed = [f.key for f in figures if f.met is False]
    print(f"bench: wrote {args.out}" + (f" and {args.doc}" if args.doc else "")
          + (f"; targets missed: {', '.join(missed)}" if missed else "; every target met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
