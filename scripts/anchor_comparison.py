"""Anchor comparison: the plain schemathesis CLI, with its default checks, against every fault.

    .venv/bin/python scripts/anchor_comparison.py [--workers 2] [--out reports/anchor-comparison.json]

For each fault of the reference server it starts that server on loopback and runs exactly
    eicontract openapi > openapi.json
    schemathesis run openapi.json --url URL -H "x-api-key: $KEY" --seed 42 --generation-database none
(the key, seed and database flags only make it reproducible). schemathesis passes the clean server,
so a fault counts as caught when its exit status is 1. The JSON it writes sits beside the kill matrix
(`eicontract mutants`) in docs/KILL-MATRIX.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eicontract.contract import contracts_dir
from eicontract.server import FAULTS, ServerConfig, start_in_thread
from eicontract.server.config import DEFAULT_API_KEY

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = str(contracts_dir() / "openapi.yaml")  # the bundled contract, relative $refs intact
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
RUN_TIMEOUT_S = 900


def command(url: str) -> list[str]:
    return [SCHEMATHESIS, "run", OPENAPI, "--url", url, "-H", f"x-api-key: {DEFAULT_API_KEY}",
            "--seed", "42", "--generation-database", "none"]


def run(fault: str | None) -> dict[str, Any]:
    config = ServerConfig(job_seconds=0.1, faults=frozenset([fault] if fault else []))
    with start_in_thread(config) as server:
        started = time.monotonic()
        try:
            done = subprocess.run(command(server.url), cwd=ROOT, capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT_S, check=False)
            code, tail = done.returncode, done.stdout[-400:]
        except subprocess.TimeoutExpired:
            code, tail = -1, f"no end within {RUN_TIMEOUT_S} s"
    return {"fault": fault or "(clean server)", "clause": FAULTS[fault].clause if fault else None,
            "exit_code": code, "caught": code == 1, "seconds": round(time.monotonic() - started, 1),
            "tail": tail if code not in (0, 1) else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="reports/anchor-comparison.json")
    args = parser.parse_args()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(run, [None, *sorted(FAULTS)]))
    clean, faults = rows[0], rows[1:]
    document = {
        "command": " ".join(command("http://127.0.0.1:PORT/v1")).replace(DEFAULT_API_KEY, "$KEY"),
        "clean_server_exit": clean["exit_code"],
        "faults": len(faults),
        "caught": sum(r["caught"] for r in faults),
        "wall_s": round(time.monotonic() - started, 1),
        "rows": rows,
    }
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"plain schemathesis: clean server exit {clean['exit_code']}; caught {document['caught']} of "
          f"{document['faults']} faults in {document['wall_s']} s -> {out}")
    for r in faults:
        print(f"  {r['fault']:<28} {r['clause']:<18} {'caught' if r['caught'] else 'missed'} ({r['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
