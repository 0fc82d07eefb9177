"""`eicontract`: serve the reference server, run the contract suite, list the faults.

`run` is a thin front for pytest: it turns its flags into the plugin's pytest options (one
direction of configuration) and maps pytest's exit status onto the gate's:
0 every clause holds, 1 a violation, 2 the harness could not run.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from eicontract.settings import DEFAULT_SEED, PROFILES

EXIT_OK, EXIT_VIOLATION, EXIT_HARNESS = 0, 1, 2
DEFAULT_PORT = 4810
_PYTEST_REASONS = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests were collected"}


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _loopback(host: str) -> str:
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"the reference server binds to loopback only, not {host!r}")


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from eicontract.server.config import DEFAULT_API_KEY

    p = sub.add_parser("serve", help="run the reference server on loopback")
    p.add_argument("--host", type=_loopback, default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks a free one")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    p.add_argument("--samples", type=int, default=300, help="samples in project 1")
    p.add_argument("--api-key", default=None,
                   help=f"key the server accepts [env EI_API_KEY; default {DEFAULT_API_KEY}]")
    p.add_argument("--fault", action="append", default=[], metavar="NAME",
                   help="switch a fault on (repeatable); see `eicontract faults`")
    p.add_argument("--error-style", choices=("http", "body"), default="http",
                   help="http: 400/401/404 with the envelope; body: HTTP 200 with success false")
    p.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help="a legal variant: behaviour a correct server may have (repeatable)")
    p.add_argument("--job-seconds", type=float, default=0.3, help="how long a classify job runs")
    p.add_argument("--job-threshold-ms", type=float, default=8000,
                   help="samples longer than this start a job when not cached")


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the contract suite against a target and write reports")
    p.add_argument("--target", help="API root, e.g. https://studio.edgeimpulse.com/v1 [env EI_API_URL]; "
                                    "default: the embedded reference server")
    p.add_argument("--api-key", help="API key; prefer the environment variable EI_API_KEY")
    p.add_argument("--project-id", help="project id [env EI_PROJECT_ID]")
    p.add_argument("--sample-id", help="a sample to classify (default: discovered)")
    p.add_argument("--block-id", help="a learn block (default: discovered)")
    p.add_argument("--profile", choices=PROFILES, help="quick (CI gate, default) or thorough (nightly)")
    p.add_argument("--seed", type=int, help=f"vary the fixed seed (default {DEFAULT_SEED})")
    p.add_argument("--report-dir", default="reports", help="where reports go (default reports/)")
    p.add_argument("--strictness", choices=("lenient", "strict"), help="strict: unknown response fields fail")
    p.add_argument("--error-style", choices=("http", "body"), help="embedded server's failure convention")
    p.add_argument("--server-fault", action="append", default=[], metavar="NAME",
                   help="embedded server: switch a fault on (repeatable)")
    p.add_argument("--server-variant", action="append", default=[], metavar="NAME",
                   help="embedded server: a legal variant (repeatable)")
    p.add_argument("--no-shrink", action="store_true", help="report failures without shrinking them (faster)")
    safety = p.add_argument_group("live-target safety (see docs/SAFETY.md)")
    safety.add_argument("--max-requests", help="request budget of the run [env EI_MAX_REQUESTS; default for a "
                                               "live target: the profile's, quick 3000]")
    safety.add_argument("--rps", help="requests per second at most [env EI_RPS; default 10 for a live target, "
                                      "unpaced for the embedded server; 0 = unpaced]")
    safety.add_argument("--run-deadline", help="seconds the whole run may take (default: quick 900, thorough 7200)")
    safety.add_argument("--request-timeout", help="seconds to wait for an answer (default 10)")
    safety.add_argument("--connect-timeout", help="seconds to wait for a connection (default 5)")
    safety.add_argument("--max-listing", help="samples the listing may hold (default 20000): discovery reads "
                                              "it whole; a longer one ends the run (exit 2)")
    safety.add_argument("--job-deadline", help="seconds a job may take to finish (default 30 live, 2 embedded)")
    p.add_argument("--record", metavar="DIR", help="save the target's JSON answers in DIR for `eicontract drift`")
    p.add_argument("--clause", action="append", default=[], metavar="ID",
                   help="only the tests of this clause id (repeatable), e.g. PAGE-LIMIT")
    p.add_argument("-k", dest="keyword", help="only clauses/tests matching this pytest -k expression")
    p.add_argument("-n", dest="workers", help="pytest-xdist workers (e.g. 2 or auto)")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest as they are")


def _add_mutants(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("mutants", help="the kill matrix: the quick gate against every fault and legal variant")
    p.add_argument("--workers", type=int, default=2, help="gate runs at once (default 2: one per core)")
    p.add_argument("--report-dir", default="reports", help="kill-matrix.json/.html go here (default reports/)")
    p.add_argument("--only", action="append", default=[], metavar="NAME", help="only these faults/variants")
    p.add_argument("--seed", type=int, help=f"vary the fixed seed (default {DEFAULT_SEED})")


def _add_drift(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from eicontract import drift

    drift.add_arguments(sub.add_parser("drift", help="compare contracts/ with another OpenAPI document or "
                                                     "with recorded responses"))


def cmd_drift(args: argparse.Namespace) -> int:
    from eicontract import drift

    return drift.main(args)


def _add_faults(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("faults", help="list the reference server's faults and the clause each breaks")
    p.add_argument("--json", action="store_true", help="print a JSON list of {name, clause, description}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="eicontract", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = top.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    _add_run(sub)
    _add_faults(sub)
    _add_mutants(sub)
    _add_drift(sub)
    return top


def cmd_serve(args: argparse.Namespace) -> int:
    from eicontract.server import ServerConfig, serve_forever
    from eicontract.server.config import DEFAULT_API_KEY

    api_key = args.api_key or os.environ.get("EI_API_KEY") or DEFAULT_API_KEY
    if args.api_key:
        print("eicontract: warning: a key on the command line is visible to other users; "
              "prefer EI_API_KEY", file=sys.stderr)
    try:
        extra = {"variants": frozenset(args.variant)} if args.variant else {}
        config = ServerConfig(host=args.host, port=args.port, seed=args.seed, samples=args.samples,
                              api_key=api_key, faults=frozenset(args.fault), error_style=args.error_style,
                              job_seconds=args.job_seconds, job_threshold_ms=args.job_threshold_ms, **extra)
    except ValueError as exc:
        print(f"eicontract serve: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    serve_forever(config)  # prints the real URL (the port may have been picked) once it serves
    return EXIT_OK


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest command line for a run; the key never goes on it (it travels in EI_API_KEY)."""
    root = repo_root()
    report_dir = Path(args.report_dir)
    argv = [str(root / "tests" / "contract"), "--rootdir", str(root), "-c", str(root / "pyproject.toml"),
            "-p", "no:cacheprovider", "-q", "--no-header", "-m", "contract",
            f"--junitxml={report_dir / 'junit.xml'}", "-o", "junit_family=xunit2",
            "--report-dir", str(report_dir)]
    for flag in ("target", "project_id", "sample_id", "block_id", "profile", "seed", "strictness", "error_style",
                 "max_requests", "rps", "run_deadline", "request_timeout", "connect_timeout", "job_deadline",
                 "max_listing", "record"):
        value = getattr(args, flag)
        if value is not None:
            argv += [f"--{flag.replace('_', '-')}", str(value)]
    for fault in args.server_fault:
        argv += ["--server-fault", fault]
    for variant in args.server_variant:
        argv += ["--server-variant", variant]
    for clause_id in args.clause:
        argv += ["--clause", clause_id]
    if args.no_shrink:
        argv.append("--no-shrink")
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.workers:
        argv += ["-n", args.workers]
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    return argv + extra


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    if args.api_key:
        print("eicontract: warning: --api-key is visible in the process list; prefer EI_API_KEY", file=sys.stderr)
        os.environ["EI_API_KEY"] = args.api_key
    started = time.time()
    code = int(pytest.main(pytest_arguments(args)))
    if code in (EXIT_OK, EXIT_VIOLATION):
        print(f"eicontract: {'every clause holds' if code == EXIT_OK else 'contract violated'}; "
              f"reports in {args.report_dir}/")
        return code
    from eicontract.reporting import run_notes

    reason = "; ".join(run_notes(Path(args.report_dir), started)) or _PYTEST_REASONS.get(code, f"pytest exit {code}")
    print(f"eicontract: the harness could not run ({reason}; see the lines above)", file=sys.stderr)
    return EXIT_HARNESS


def cmd_faults(args: argparse.Namespace) -> int:
    from eicontract.server import FAULTS

    rows = [{"name": f.name, "clause": f.clause, "description": f.description} for f in FAULTS.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['clause']:<18}  {r['description']}")
    return EXIT_OK


def cmd_mutants(args: argparse.Namespace) -> int:
    import time

    from eicontract import mutants
    from eicontract.reporting import KILL_MATRIX_FILE
    from eicontract.reporting.html import render_kill_matrix_page

    chosen = [m for m in mutants.catalogue() if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in chosen}
    if unknown or not chosen:
        print(f"eicontract mutants: unknown names {sorted(unknown)}; see `eicontract faults`", file=sys.stderr)
        return EXIT_HARNESS
    report_dir = Path(args.report_dir)
    extra = ["--seed", str(args.seed)] if args.seed is not None else []
    started = time.monotonic()

    def progress(row: mutants.Row) -> None:
        print(f"  {row.name}: {'ok' if row.ok else 'NOT OK'} ({row.duration_s} s)", flush=True)

    print(f"eicontract mutants: {len(chosen)} gate runs on {args.workers} workers", flush=True)
    rows = mutants.run_matrix(chosen, report_dir / "mutants", args.workers, extra, progress)
    command = "eicontract mutants " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["mutants"] else "eicontract mutants"
    document = mutants.matrix_document(rows, time.monotonic() - started, command.strip())
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / KILL_MATRIX_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (report_dir / "kill-matrix.html").write_text(render_kill_matrix_page(document), encoding="utf-8")
    print(mutants.format_table(rows))
    print(f"{document['caught']}/{document['faults']} faults caught, {len(document['false_alarms'])} false alarms "
          f"in {document['legal_variants']} legal variants; median time to catch "
          f"{document['median_time_to_catch_s']} s; {document['wall_s']} s in all")
    return EXIT_OK if document["verdict"] == "pass" else EXIT_VIOLATION


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    commands = {"serve": cmd_serve, "run": cmd_run, "faults": cmd_faults, "mutants": cmd_mutants,
                "drift": cmd_drift}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
