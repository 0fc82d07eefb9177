"""Anchor comparison: the schemathesis CLI against the reference server's faults, plain and with our hooks.

    .venv/bin/python scripts/anchor_comparison.py [--faults hooked|all] [--modes plain,hooks] [--only NAME]
                                                  [--workers 1] [--out reports/anchor-comparison.json]

For each fault it starts the reference server with that fault on loopback and runs, in a scratch folder
holding `openapi.json` (`eicontract openapi`) and a `schemathesis.toml` that pins the server's project
(`[parameters] projectId = 1`, as a user names their own project; otherwise nearly every request meets a 404):

    schemathesis run openapi.json --url URL -H "x-api-key: $KEY" --seed 42 --generation-database none -w 1 \
        --max-examples 25

once as it is ("plain": schemathesis' default checks) and once with `SCHEMATHESIS_HOOKS=eicontract.schemathesis`
("hooks": the same plus our five per-response checks). Both pass the clean server (exit 0), so exit 1 counts as
caught. `--faults hooked` (the default) takes the faults whose clause one of our checks judges (ENVELOPE-ERROR,
SECRET-ECHO, PAGE-LIMIT, PAGE-DISJOINT, PAGE-PREDICTIONS, FILTER-SOUND, and FILTER-COMPOSE, whose ORed filters
a page's soundness shows): a full run of both modes over all 48 faults takes well over an hour on one core.
The JSON it writes sits beside the kill matrix (`eicontract mutants`) in docs/KILL-MATRIX.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eicontract.contract import bundled_openapi
from eicontract.server import FAULTS, ServerConfig, start_in_thread
from eicontract.server.config import DEFAULT_API_KEY

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
RUN_TIMEOUT_S = 900
# fuzzing cases per operation (schemathesis' default is 100): 36 runs of the hooked subset fit in ~30 min
MAX_EXAMPLES = 25
PROJECT_ID = 1  # the reference server's project
HOOKS = "eicontract.schemathesis"
MODES = ("plain", "hooks")
HOOKED_CLAUSES = frozenset({"ENVELOPE-ERROR", "SECRET-ECHO", "PAGE-LIMIT", "PAGE-DISJOINT", "PAGE-PREDICTIONS",
                            "FILTER-SOUND", "FILTER-COMPOSE"})
TOML = f"[parameters]\nprojectId = {PROJECT_ID}\n\n[cache]\nenabled = false\n"
_FAILURE_LINE = re.compile(r"^\s*❌ (ST\d{3} .+?): \d+\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Bounds:
    """What bounds one schemathesis run: fuzzing cases per operation, and the operations (all if empty)."""

    max_examples: int = MAX_EXAMPLES
    operations: tuple[str, ...] = ()


def command(url: str, bounds: Bounds = Bounds()) -> list[str]:
    only = [arg for op in bounds.operations for arg in ("--include-operation-id", op)]
    return [SCHEMATHESIS, "run", "openapi.json", "--url", url, "-H", f"x-api-key: {DEFAULT_API_KEY}",
            "--seed", "42", "--generation-database", "none", "-w", "1", "--max-examples", str(bounds.max_examples),
            *only, "--no-color"]


def _environment(mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SCHEMATHESIS_HOOKS"}
    if mode == "hooks":
        env["SCHEMATHESIS_HOOKS"] = HOOKS
    return env


def _one(url: str, mode: str, workdir: Path, bounds: Bounds) -> dict[str, Any]:
    started = time.monotonic()
    try:
        done = subprocess.run(command(url, bounds), cwd=workdir, env=_environment(mode), capture_output=True,
                              text=True, timeout=RUN_TIMEOUT_S, check=False)
        code, out = done.returncode, done.stdout
    except subprocess.TimeoutExpired:
        code, out = -1, f"no end within {RUN_TIMEOUT_S} s"
    return {"exit_code": code, "caught": code == 1, "seconds": round(time.monotonic() - started, 1),
            "failures": _FAILURE_LINE.findall(out), "tail": out[-400:] if code not in (0, 1) else ""}


def run(fault: str | None, modes: tuple[str, ...], bounds: Bounds = Bounds()) -> dict[str, Any]:
    row: dict[str, Any] = {"fault": fault or "(clean server)", "clause": FAULTS[fault].clause if fault else None}
    with tempfile.TemporaryDirectory(prefix="anchor-") as scratch:
        workdir = Path(scratch)
        (workdir / "openapi.json").write_text(json.dumps(bundled_openapi()))
        (workdir / "schemathesis.toml").write_text(TOML)
        for mode in modes:  # a fresh server per mode: its state feeds back into generation
            config = ServerConfig(job_seconds=0.1, faults=frozenset([fault] if fault else []))
            with start_in_thread(config) as server:
                row[mode] = _one(server.url, mode, workdir, bounds)
    cells = "  ".join(f"{m} {'caught' if row[m]['caught'] else 'missed'} ({row[m]['seconds']} s)" for m in modes)
    print(f"  {row['fault']:<28} {row['clause'] or '':<18} {cells}", flush=True)  # progress: a run is long
    return row


def _faults(choice: str, only: list[str]) -> list[str]:
    if only:
        unknown = sorted(set(only) - set(FAULTS))
        if unknown:
            raise SystemExit(f"unknown faults: {', '.join(unknown)} (see `eicontract faults`)")
        return sorted(only)
    return sorted(f for f in FAULTS if choice == "all" or FAULTS[f].clause in HOOKED_CLAUSES)


def _summary(rows: list[dict[str, Any]], modes: tuple[str, ...]) -> dict[str, Any]:
    clean, faults = rows[0], rows[1:]
    out: dict[str, Any] = {f"clean_server_exit_{m}": clean[m]["exit_code"] for m in modes}
    out.update({f"caught_{m}": sum(r[m]["caught"] for r in faults) for m in modes})
    if set(MODES) <= set(modes):
        hooks, plain = ([r["fault"] for r in faults if r[m]["caught"]] for m in ("hooks", "plain"))
        out["caught_only_with_hooks"] = [f for f in hooks if f not in plain]
        out["caught_only_plain"] = [f for f in plain if f not in hooks]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--faults", choices=("hooked", "all"), default="hooked",
                        help="hooked (default): the faults whose clause our checks judge; all: every fault")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="only these faults (repeatable)")
    parser.add_argument("--modes", default="plain,hooks", help="plain, hooks or both (default plain,hooks)")
    parser.add_argument("--workers", type=int, default=1, help="faults at once (default 1)")
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES,
                        help=f"schemathesis fuzzing cases per operation (default {MAX_EXAMPLES})")
    parser.add_argument("--operation", action="append", default=[], metavar="OPERATION_ID",
                        help="only this operation (repeatable; schemathesis' --include-operation-id)")
    parser.add_argument("--out", default="reports/anchor-comparison.json")
    args = parser.parse_args()
    modes = tuple(m for m in MODES if m in args.modes.split(","))
    if not modes:
        parser.error(f"--modes takes {' or '.join(MODES)}")
    names = _faults(args.faults, args.only)
    bounds = Bounds(args.max_examples, tuple(args.operation))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(lambda f: run(f, modes, bounds), [None, *names]))
    document = {
        "command": " ".join(command("http://127.0.0.1:PORT/v1", bounds)).replace(DEFAULT_API_KEY, "$KEY"),
        "hooks": f"SCHEMATHESIS_HOOKS={HOOKS}",
        "schemathesis_toml": TOML,
        "fault_set": "--only" if args.only else args.faults,
        "faults": len(names),
        "modes": list(modes),
        **_summary(rows, modes),
        "wall_s": round(time.monotonic() - started, 1),
        "rows": rows,
    }
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    counts = "; ".join(f"{m}: clean exit {rows[0][m]['exit_code']}, caught {document[f'caught_{m}']} of {len(names)}"
                       for m in modes)
    print(f"schemathesis CLI: {counts}; {document['wall_s']} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
