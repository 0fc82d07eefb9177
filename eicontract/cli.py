"""`eicontract`: serve the reference server, run the contract suite, list the faults.

`run` is a thin front for pytest: it turns its flags into the plugin's pytest options (one
direction of configuration) and maps pytest's exit status onto the gate's:
0 every clause holds, 1 a violation, 2 the harness could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from eicontract.settings import DEFAULT_SEED

EXIT_OK, EXIT_VIOLATION, EXIT_HARNESS = 0, 1, 2
DEFAULT_PORT = 4810
_PYTEST_REASONS = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests were collected"}


GATE_INI = Path(__file__).resolve().parent / "pytest" / "gate.ini"


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
    """`run`'s flags are generated from the one option table (eicontract.pytest.options)."""
    from eicontract.pytest.options import OPTIONS

    p = sub.add_parser("run", help="run the contract suite against a target and write reports")
    groups = {"run": p, "safety": p.add_argument_group("live-target safety (see docs/SAFETY.md)"),
              "embedded": p.add_argument_group("the embedded reference server")}
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"help": option.full_help, "dest": option.dest}
        if option.kind == "switch":
            kwargs["action"] = "store_true"
        elif option.kind == "list":
            kwargs.update(action="append", default=[], metavar=option.metavar)
        else:
            kwargs.update(choices=option.choices, metavar=option.metavar)
        groups[option.group].add_argument(option.flag, **kwargs)
    p.add_argument("-k", dest="keyword", help="only clauses/tests matching this pytest -k expression")
    p.add_argument("-n", dest="workers", help="pytest-xdist workers (e.g. 2 or auto); needs the extra: "
                                              "pip install 'eicontract[xdist]'")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest as they are")


def _add_mutants(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("mutants", help="the kill matrix: the quick gate against every fault and legal variant")
    p.add_argument("--workers", type=int, default=2, help="gate runs at once (default 2: one per core)")
    p.add_argument("--report-dir", default="reports", help="kill-matrix.json/.html go here (default reports/)")
    p.add_argument("--only", action="append", default=[], metavar="NAME", help="only these faults/variants")
    p.add_argument("--seed", type=int, action="append", default=[],
                   help=f"run at this seed (repeatable; default {DEFAULT_SEED})")
    p.add_argument("--seeds", type=int, metavar="N",
                   help="run at N consecutive seeds from the first --seed (nightly: 5); the report says per "
                        "server at how many it was caught")


def _add_mutation(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from eicontract.proof import mutation

    mutation.add_arguments(sub.add_parser("mutation", help="mutation testing: cosmic-ray mutants of the reference "
                                                           "server against the quick gate (docs/MUTATION.md)"))


def cmd_mutation(args: argparse.Namespace) -> int:
    from eicontract.proof import mutation

    return mutation.main(args)


def _add_drift(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from eicontract import drift

    drift.add_arguments(sub.add_parser("drift", help="compare the bundled contract with another OpenAPI document or "
                                                     "with recorded responses"))


def cmd_drift(args: argparse.Namespace) -> int:
    from eicontract import drift

    return drift.main(args)


def _add_compare(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compare", help="what changed between two runs' summaries (exit 1: a changed reading or a "
                                       "new failure; 2: a summary cannot be read)")
    p.add_argument("old", type=Path, help="the baseline: a summary.json or the report folder holding it")
    p.add_argument("new", type=Path, help="the later run: a summary.json or the report folder holding it")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON (the summary's baseline section)")


def cmd_compare(args: argparse.Namespace) -> int:
    from eicontract.reporting.baseline import BaselineError, changed, compare, format_comparison, load_summary

    try:
        old, new = load_summary(args.old), load_summary(args.new)
    except BaselineError as exc:
        print(f"eicontract compare: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    section = compare(old, new, str(args.old))
    from eicontract.http.redact import Redactor

    # summaries are written redacted; one from elsewhere may not be
    print(Redactor(os.environ.get("EI_API_KEY", "")).text(json.dumps(section, indent=2) if args.json
                                                         else format_comparison(section)))
    return EXIT_VIOLATION if changed(section) else EXIT_OK


def _add_faults(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("faults", help="list the reference server's faults and the clause each breaks")
    p.add_argument("--json", action="store_true", help="print a JSON list of {name, clause, description}")


def _add_openapi(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("openapi", help="print the bundled OpenAPI document (JSON), for schemathesis, Prism, oasdiff")
    p.add_argument("--strict", action="store_true", help="every object closed: unknown response fields are errors")


def cmd_openapi(args: argparse.Namespace) -> int:
    from eicontract.contract import Strictness, bundled_openapi

    document = bundled_openapi(Strictness.STRICT if args.strict else Strictness.LENIENT)
    print(json.dumps(document, indent=2))
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="eicontract", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = top.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    _add_run(sub)
    _add_faults(sub)
    _add_mutants(sub)
    _add_mutation(sub)
    _add_drift(sub)
    _add_compare(sub)
    _add_openapi(sub)
    return top


def cmd_serve(args: argparse.Namespace) -> int:
    from eicontract.pytest.preflight import key_problem, server_problem

    if problem := server_problem(embedded=True):
        print(f"eicontract serve: {problem}", file=sys.stderr)
        return EXIT_HARNESS
    from eicontract.server import ServerConfig, serve_forever
    from eicontract.server.config import DEFAULT_API_KEY

    api_key = args.api_key or os.environ.get("EI_API_KEY") or DEFAULT_API_KEY
    if args.api_key:
        print("eicontract: warning: a key on the command line is visible to other users; "
              "prefer EI_API_KEY", file=sys.stderr)
    problem = key_problem(api_key)
    if problem:
        print(f"eicontract serve: {problem}", file=sys.stderr)
        return EXIT_HARNESS
    try:
        extra = {"variants": frozenset(args.variant)} if args.variant else {}
        config = ServerConfig(host=args.host, port=args.port, seed=args.seed, samples=args.samples,
                              api_key=api_key, faults=frozenset(args.fault), error_style=args.error_style,
                              job_seconds=args.job_seconds, job_threshold_ms=args.job_threshold_ms, **extra)
    except ValueError as exc:
        print(f"eicontract serve: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    source = "from --api-key" if args.api_key else "from EI_API_KEY" if os.environ.get("EI_API_KEY") else \
        "the default local key (see `eicontract serve --help`)"
    print(f"eicontract serve: x-api-key: {source}", file=sys.stderr, flush=True)  # which key, never the key
    serve_forever(config)  # prints the real URL (the port may have been picked) once it serves
    return EXIT_OK


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest command line for a run, from the installed package alone (no checkout); the
    key never goes on it (it travels in EI_API_KEY)."""
    from eicontract.pytest.options import OPTIONS
    from eicontract.pytest.plugin import SUITE_DIR

    report_dir = Path(args.report_dir or "reports")
    package_root = SUITE_DIR.parents[1]  # node ids read eicontract/suite/test_x.py::..., wherever installed
    argv = [str(SUITE_DIR), "--rootdir", str(package_root), "-c", str(GATE_INI), "-q", "--no-header",
            "-m", "contract", f"--junitxml={report_dir / 'junit.xml'}"]
    for option in OPTIONS:
        value = getattr(args, option.dest)
        if option.dest == "api_key" or value in (None, False, []):
            continue
        if option.kind == "switch":
            argv.append(option.pytest_flag)
        elif option.kind == "list":
            for item in value:
                argv += [option.pytest_flag, str(item)]
        else:
            argv += [option.pytest_flag, str(value)]
    if args.report_dir is None:
        argv += ["--ei-report-dir", str(report_dir)]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.workers:
        argv += ["-n", args.workers]
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    return argv + extra


def _split(values: Sequence[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def run_problem(args: argparse.Namespace) -> str | None:
    """The first thing in the options that would stop the run, found before it starts (one line)."""
    from eicontract.pytest import preflight

    key = args.api_key if args.api_key is not None else os.environ.get("EI_API_KEY")
    key = key.strip() if key is not None else None  # surrounding whitespace is stripped (and said), not refused
    checks = (lambda: preflight.report_dir_problem(Path(args.report_dir or "reports")),
              lambda: preflight.clause_problem(_split(args.clause)),
              lambda: preflight.fault_problem(_split(args.server_fault)),
              lambda: preflight.variant_problem(_split(args.server_variant)),
              lambda: preflight.key_problem(key), lambda: preflight.workers_problem(args.workers),
              lambda: preflight.known_failures_problem(args.known_failures),
              lambda: preflight.server_problem(not (args.target or os.environ.get("EI_API_URL"))))
    return next((problem for check in checks if (problem := check())), None)


@contextlib.contextmanager
def _redacting_output(target: str | None) -> Iterator[None]:
    """The last net under whatever a run prints: the key (in every form) and --target's credentials
    are masked on stdout and stderr, whichever library writes there (eicontract.http.redact)."""
    from eicontract.http.redact import RedactingStream, Redactor, url_secrets

    redactor = Redactor(os.environ.get("EI_API_KEY", ""), *url_secrets(target or os.environ.get("EI_API_URL")))
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(saved[0], redactor), RedactingStream(saved[1], redactor)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


def cmd_run(args: argparse.Namespace) -> int:
    problem = run_problem(args)
    if problem:
        print(f"eicontract run: {problem}", file=sys.stderr)
        return EXIT_HARNESS
    if args.api_key:
        print("eicontract: warning: --api-key is visible in the process list; prefer EI_API_KEY", file=sys.stderr)
        os.environ["EI_API_KEY"] = args.api_key
    with _redacting_output(args.target):
        return _run_gate(args)


def _run_gate(args: argparse.Namespace) -> int:
    import pytest

    started = time.time()
    code = int(pytest.main(pytest_arguments(args)))
    if code in (EXIT_OK, EXIT_VIOLATION):
        print(f"eicontract: {_outcome(code, Path(args.report_dir or 'reports'), started)}; "
              f"reports in {args.report_dir or 'reports'}/")
        return code
    from eicontract.reporting import run_notes

    notes = run_notes(Path(args.report_dir or "reports"), started)
    reason = "; ".join(notes) or _PYTEST_REASONS.get(code, f"pytest exit {code}")
    print(f"eicontract: the harness could not run ({reason}; see the lines above)", file=sys.stderr)
    return EXIT_HARNESS


def _outcome(code: int, report_dir: Path, started: float) -> str:
    from eicontract.reporting import run_failed, run_known, run_verdict

    if code == EXIT_OK:
        known = run_known(report_dir, started)
        return f"every clause holds but for {known} known failure(s)" if known else "every clause holds"

    # exit 1 from a passing run: --fail-on-change saw a changed reading or a new failure
    failed = run_failed(report_dir, started)
    return "every clause holds, but the target changed since the baseline" \
        if run_verdict(report_dir, started) == "pass" else \
        f"contract violated: {', '.join(failed) or 'see the reports'}"


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

    from eicontract.proof import killmatrix
    from eicontract.reporting import KILL_MATRIX_FILE
    from eicontract.reporting.html import render_kill_matrix_page

    chosen = [m for m in killmatrix.catalogue() if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in chosen}
    if unknown or not chosen:
        print(f"eicontract mutants: unknown names {sorted(unknown)}; see `eicontract faults`", file=sys.stderr)
        return EXIT_HARNESS
    report_dir = Path(args.report_dir)
    seeds = list(args.seed)
    if args.seeds:
        seeds = [(seeds[0] if seeds else DEFAULT_SEED) + k for k in range(args.seeds)]
    started = time.monotonic()

    def progress(row: killmatrix.Row) -> None:
        print(f"  {row.name}: {'ok' if row.ok else 'NOT OK'} ({row.duration_s} s)", flush=True)

    print(f"eicontract mutants: {len(chosen) * max(1, len(seeds))} gate runs on {args.workers} workers", flush=True)
    rows = killmatrix.run_matrix(chosen, report_dir / "mutants", args.workers, (), progress, seeds)
    command = "eicontract mutants " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["mutants"] else "eicontract mutants"
    document = killmatrix.matrix_document(rows, time.monotonic() - started, command.strip())
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / KILL_MATRIX_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (report_dir / "kill-matrix.html").write_text(render_kill_matrix_page(document), encoding="utf-8")
    print(killmatrix.format_table(rows))
    if len(seeds) > 1:
        print(killmatrix.format_seed_table(document))
        print(f"flaky across seeds {seeds}: {', '.join(document['flaky']) or 'none'}")
    print(f"{document['caught']}/{document['faults']} faults caught, {len(document['false_alarms'])} false alarms "
          f"in {document['legal_variants']} legal variants; median time to catch "
          f"{document['median_time_to_catch_s']} s; {document['wall_s']} s in all")
    return EXIT_OK if document["verdict"] == "pass" else EXIT_VIOLATION


COMMANDS = {"serve": cmd_serve, "run": cmd_run, "faults": cmd_faults, "mutants": cmd_mutants,
            "mutation": cmd_mutation, "drift": cmd_drift,
            "openapi": cmd_openapi, "compare": cmd_compare}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`eicontract faults | head`): not an error of ours, and no traceback;
        # stdout goes to /dev/null so that the interpreter's own final flush stays quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK if args.command in ("faults", "openapi", "drift", "compare") else EXIT_HARNESS
    return code


if __name__ == "__main__":
    sys.exit(main())
