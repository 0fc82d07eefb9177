"""What a verdict costs: the quick gate at 300 and at 100,000 samples (wall time and requests),
the deep faults' time to catch at 100,000, and ours against `schemathesis run` on the same
servers and faults (faults caught, seconds and requests to a verdict).

Each gate run is `eicontract run` as a subprocess; its requests are the summary's `requests.sent`
(the embedded server), or the server's own count (a `--target`, see serverproc.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.gate import ROOT, _environment, slowest_tests
from bench.serverproc import ServerProcess

GATE_TIMEOUT_S = 1800
# A subset of the catalogue for the comparison with schemathesis (each row is two full runs): paging,
# totals, filters, a server error and the error envelope, each a realistic regression.
VERSUS_FAULTS = ("limit-plus-one", "page-skip", "filtered-total-unfiltered", "filters-ored", "negative-500",
                 "error-empty")


def gate_run(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`eicontract run ARGS` timed: exit code, verdict, requests, failed clauses, first catch."""
    with tempfile.TemporaryDirectory(prefix="bench-verdict-") as folder:
        command = [sys.executable, "-m", "eicontract.cli", "run", "--report-dir", folder, *args]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env={**_environment(), **(env or {})}, capture_output=True,
                              text=True, timeout=GATE_TIMEOUT_S, check=False)
        seconds = time.perf_counter() - started
        path = Path(folder) / "summary.json"
        summary = json.loads(path.read_text()) if path.is_file() else {}
        clauses = summary.get("clauses", {})
        failed = sorted(c for c, row in clauses.items() if row.get("status") == "failed")
        first = [row["first_failed_s"] for row in clauses.values() if row.get("first_failed_s") is not None]
        return {"command": ".venv/bin/eicontract run " + " ".join(args), "seconds": round(seconds, 2),
                "exit_code": done.returncode, "verdict": summary.get("verdict"),
                "requests": (summary.get("requests") or {}).get("sent"), "failed": failed,
                "first_catch_s": round(min(first), 2) if first else None,
                "notes": summary.get("notes", []), "slowest": slowest_tests(Path(folder) / "junit.xml", 5),
                "tail": done.stdout[-400:] if done.returncode not in (0, 1) else ""}


def gate_scale(small: int, large: int, pytest_args: Sequence[str] = ()) -> dict[str, Any]:
    """The quick gate at `small` and at `large` samples, back to back (ratios from one run);
    `pytest_args` (after `--`) e.g. deselect a test that cannot finish at `large`."""
    extra = ["--", *pytest_args] if pytest_args else []
    runs = {n: gate_run("--server-samples", str(n), "--no-shrink", *extra) for n in (small, large)}
    a, b = runs[small], runs[large]
    return {"runs": {str(n): r for n, r in runs.items()},
            "time_ratio": round(b["seconds"] / a["seconds"], 2) if a["seconds"] else None,
            "request_ratio": round(b["requests"] / a["requests"], 2) if a["requests"] and b["requests"] else None}


def deep_faults(names: Sequence[str], samples: int, pytest_args: Sequence[str] = ()) -> dict[str, Any]:
    """Each deep fault against the quick gate at `samples`: caught (exit 1) on which clauses, how fast."""
    extra = ["--", *pytest_args] if pytest_args else []
    return {name: gate_run("--server-samples", str(samples), "--server-fault", name, "--no-shrink", *extra)
            for name in names}


def versus_schemathesis(faults: Sequence[str], schemathesis: list[str]) -> dict[str, Any]:
    """Ours (`eicontract run --target`) and `schemathesis run` against one server process per fault
    (and the reference server): caught or not, seconds and server-counted requests to a verdict."""
    rows: dict[str, Any] = {}
    for fault in ("", *faults):
        with ServerProcess(faults=[fault] if fault else []) as server:
            env = {"EI_API_KEY": server.api_key}
            server.reset()
            ours = gate_run("--target", server.url, "--project-id", "1", "--no-shrink", env=env)
            ours_requests = server.stats()["requests"]
            server.reset()
            started = time.perf_counter()
            command = [part.replace("{url}", server.url).replace("{key}", server.api_key) for part in schemathesis]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=GATE_TIMEOUT_S,
                                  check=False)
            theirs_s = time.perf_counter() - started
            rows[fault or "reference"] = {
                "ours": {"exit_code": ours["exit_code"], "seconds": ours["seconds"], "requests": ours_requests,
                         "failed": ours["failed"]},
                "schemathesis": {"exit_code": done.returncode, "seconds": round(theirs_s, 2),
                                 "requests": server.stats()["requests"]}}
    faulty = [row for name, row in rows.items() if name != "reference"]
    return {"rows": rows, "faults": len(faulty),
            "ours_caught": sum(r["ours"]["exit_code"] == 1 for r in faulty),
            "schemathesis_caught": sum(r["schemathesis"]["exit_code"] != 0 for r in faulty),
            "ours_false_alarm": rows["reference"]["ours"]["exit_code"] != 0,
            "schemathesis_false_alarm": rows["reference"]["schemathesis"]["exit_code"] != 0,
            "ours_seconds": round(sum(r["ours"]["seconds"] for r in faulty), 1),
            "schemathesis_seconds": round(sum(r["schemathesis"]["seconds"] for r in faulty), 1),
            "ours_requests": sum(r["ours"]["requests"] for r in faulty),
            "schemathesis_requests": sum(r["schemathesis"]["requests"] for r in faulty)}
