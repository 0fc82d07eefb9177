"""Mutation testing of the reference server: cosmic-ray's operators make the mutants of its
contract-bearing modules, and the quick gate must kill each one (exit 1).

The hand-written faults (eicontract.server.FAULTS, the kill matrix) are regressions that the
oracles' authors thought of; these mutants are the ones nobody listed. Every mutant runs in a
private copy of the package (never the checkout: others edit it), one module rewritten, the gate
in a subprocess whose PYTHONPATH puts that copy first. A survivor is triaged by hand in
docs/mutation-triage.yaml, keyed by a stable id: a gap in the gate, or equivalent (with the reason).
See docs/MUTATION.md.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import html
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

import yaml

# the store (filters, order, paging), params, the classify window, jobs, errors and auth, the routes;
# not the data generator (dataset.py), rendering, nor the switches that make faults and variants
TARGET_MODULES = ("store.py", "params.py", "classify.py", "jobs.py", "errors.py", "app.py")
DEFAULT_TRIAGE = Path("docs") / "mutation-triage.yaml"
REPORT_JSON, REPORT_HTML = "mutation.json", "mutation.html"
VERDICTS = ("gap", "equivalent")
MIN_TIMEOUT_S = 300.0  # a gate run on two shared cores; a mutant that hangs the gate is bounded
TIMEOUT_FACTOR = 5.0  # ... or this many times the unmutated run, whichever is longer
GATE_ARGS = ("run", "--no-shrink")  # the quick gate, as the kill matrix runs it
FAIL_FAST = ("--", "-x")  # the first failing test decides a kill; survivors run the whole gate
UNREACHED = "not reached: the unmutated gate run never executes this line (coverage), so it cannot kill it"

# The sufficient set (the default). cosmic-ray replaces each operator by every other one (11 per
# arithmetic operator, 7 per comparison); most of those are redundant: killed by any test that
# kills a chosen few. Arithmetic: one replacement per operator, the one mutmut makes (+/-, * and /,
# ...). Comparisons: the two that, with a constant true/false, subsume the other five (Kaminski,
# Ammann, Offutt, "Better predicate testing", 2011): < by <= and !=, == by <= and >=, and so on;
# `is`/`is not` by each other. Unary operators: deleted. Every other core operator: all of it.
BINARY_REPLACEMENT = {"Add": "Sub", "Sub": "Add", "Mul": "Div", "Div": "Mul", "FloorDiv": "Div", "Mod": "Div",
                      "Pow": "Mul", "LShift": "RShift", "RShift": "LShift", "BitAnd": "BitOr", "BitOr": "BitAnd",
                      "BitXor": "BitAnd"}
COMPARISON_REPLACEMENTS = {"Eq": ("LtE", "GtE"), "NotEq": ("Lt", "Gt"), "Lt": ("LtE", "NotEq"),
                           "LtE": ("Lt", "Eq"), "Gt": ("GtE", "NotEq"), "GtE": ("Gt", "Eq"), "Is": ("IsNot",),
                           "IsNot": ("Is",), "In": ("NotIn",), "NotIn": ("In",)}
OPERATOR_SETS = ("sufficient", "all")


@dataclass(frozen=True, slots=True)
class MutantSpec:
    """One mutation: cosmic-ray's (module, operator, occurrence) plus a stable id for triage."""

    id: str
    module: str
    operator: str  # cosmic-ray's name, e.g. core/ReplaceComparisonOperator_Lt_LtE
    occurrence: int  # cosmic-ray's index among this operator's positions in the module
    line: int
    definition: str  # enclosing class.function, or <module>
    source_line: str


@dataclass(slots=True)
class Result:
    id: str
    module: str
    line: int
    operator: str
    definition: str
    outcome: str  # killed | survived | timeout | harness
    exit_code: int | None
    duration_s: float
    caught_by: list[str] = field(default_factory=list)
    diff: str = ""
    problem: str = ""
    evidence: str = ""  # the first failure's message: what the gate saw (a kill is checked by reading it)
    reached: bool = True  # False: its line never runs in the unmutated gate, so it survived without a run


def in_sufficient_set(operator: str) -> bool:
    """Is this cosmic-ray operator (e.g. core/ReplaceComparisonOperator_Lt_LtE) in the sufficient set?"""
    name = operator.removeprefix("core/")
    kind, _, pair = name.partition("_")
    original, _, replacement = pair.partition("_")
    if kind == "ReplaceBinaryOperator":
        return BINARY_REPLACEMENT.get(original) == replacement
    if kind == "ReplaceComparisonOperator":
        return replacement in COMPARISON_REPLACEMENTS.get(original, ())
    if kind == "ReplaceUnaryOperator":
        return original == "Delete"
    return True


# --- making mutants (cosmic-ray) ---------------------------------------------------------------

def _operators() -> list[tuple[str, Any]]:
    """Every cosmic-ray operator that takes no arguments (the core set), by name."""
    import cosmic_ray.plugins as plugins

    return [(name, cls()) for name in plugins.operator_names()
            if not (cls := plugins.get_operator(name)).arguments()]


def _in_annotation(node: Any) -> bool:
    """Annotations are never evaluated here (`from __future__ import annotations`): mutating them
    changes nothing at run time, so such mutants are equivalent by construction and not made."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("annassign", "tfpdef") and parent.children.index(child) == (1 if parent.type ==
                                                                                 "annassign" else 2):
            return True  # `x: T = v` (T, not v) and a parameter's `name: T`
        if parent.type == "funcdef" and getattr(parent, "annotation", None) is child:
            return True  # `-> T`
        child, parent = parent, parent.parent
    return False


def _qualname(node: Any) -> str:
    names = []
    parent = node.parent
    while parent is not None:
        if parent.type in ("funcdef", "classdef"):
            names.append(parent.name.value)
        parent = parent.parent
    return ".".join(reversed(names)) or "<module>"


def mutant_id(module: str, definition: str, operator: str, source_line: str, index: int) -> str:
    """Stable across edits elsewhere in the module: the line is named by its text, not its number,
    so a mutant keeps its id (and its triage) until its own line or function changes."""
    digest = hashlib.sha1(source_line.strip().encode()).hexdigest()[:8]
    return f"{module}:{definition}:{operator.removeprefix('core/')}:{digest}:{index}"


def enumerate_mutants(server_dir: Path, modules: Sequence[str] = TARGET_MODULES) -> list[MutantSpec]:
    from cosmic_ray.ast import ast_nodes, get_ast

    specs: list[MutantSpec] = []
    for module in modules:
        source = (server_dir / module).read_text(encoding="utf-8")
        lines, tree = source.splitlines(), get_ast(source)
        seen: dict[tuple[str, str, str], int] = {}
        for name, operator in _operators():
            occurrence = 0  # counted exactly as cosmic-ray's MutationVisitor counts
            for node in ast_nodes(tree):
                for (line, _col), _end in operator.mutation_positions(node):
                    if not _in_annotation(node):
                        text, definition = lines[line - 1], _qualname(node)
                        key = (definition, name, text.strip())
                        seen[key] = seen.get(key, -1) + 1
                        specs.append(MutantSpec(mutant_id(module, definition, name, text, seen[key]), module,
                                                name, occurrence, line, definition, text.strip()))
                    occurrence += 1
    return specs


def mutated_source(source: str, spec: MutantSpec) -> str:
    import cosmic_ray.plugins as plugins
    from cosmic_ray.mutating import mutate_code

    code = mutate_code(source, plugins.get_operator(spec.operator)(), spec.occurrence)
    if code is None:
        raise ValueError(f"cosmic-ray made no mutation for {spec.id}")
    return str(code)


def unified_diff(original: str, mutated: str, module: str) -> str:
    return "\n".join(difflib.unified_diff(original.splitlines(), mutated.splitlines(), f"a/{module}",
                                          f"b/{module}", lineterm="", n=1))


def choose(specs: Sequence[MutantSpec], sample: int | None = None, seed: int = 0, only: Sequence[str] = (),
           modules: Sequence[str] = (), operators: str = "all") -> list[MutantSpec]:
    """The mutants of a run: by id (any operator), else by module and operator set, and a seeded
    sample of what is left (same seed, same code: same sample)."""
    if only:
        chosen = [s for s in specs if s.id in only]
    else:
        chosen = [s for s in specs if (not modules or s.module in modules)
                  and (operators == "all" or in_sufficient_set(s.operator))]
    if sample is not None and sample < len(chosen):
        picked = set(random.Random(seed).sample(range(len(chosen)), sample))
        chosen = [s for k, s in enumerate(chosen) if k in picked]
    return chosen


# --- verdicts (pure) ---------------------------------------------------------------------------

def outcome_of(exit_code: int | None) -> str:
    """A gate exit 1 kills; 0 survives; no exit in time is a timeout; anything else (2: the harness
    could not run, e.g. the mutated server did not start) is not a kill."""
    if exit_code is None:
        return "timeout"
    return {0: "survived", 1: "killed"}.get(exit_code, "harness")


def triage_problems(triage: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, entry in triage.items():
        if not isinstance(entry, Mapping) or entry.get("verdict") not in VERDICTS:
            problems.append(f"{key}: verdict must be one of {VERDICTS}")
        elif not str(entry.get("reason", "")).strip():
            problems.append(f"{key}: a {entry['verdict']} needs its reason")
    return problems


def summarise(results: Sequence[Result], triage: Mapping[str, Mapping[str, Any]],
              known_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """The score of a run: killed / (total - equivalent), where only a survivor triaged
    'equivalent' leaves the denominator; a timeout or a harness exit counts against the gate."""
    count = {o: sum(r.outcome == o for r in results) for o in ("killed", "survived", "timeout", "harness")}
    survivors = [r for r in results if r.outcome == "survived"]
    verdict = {r.id: triage.get(r.id, {}).get("verdict") for r in survivors}
    equivalent = sum(v == "equivalent" for v in verdict.values())
    denominator = len(results) - equivalent
    return {
        "total": len(results),
        "killed": count["killed"],
        "survived": count["survived"],
        "equivalent": equivalent,
        "gaps": sorted(k for k, v in verdict.items() if v == "gap"),
        "untriaged": sum(v is None for v in verdict.values()),
        "untriaged_ids": sorted(k for k, v in verdict.items() if v is None),
        "timeout": count["timeout"],
        "harness": count["harness"],
        "unreached": sum(not r.reached for r in results),
        "score": round(count["killed"] / denominator, 4) if denominator else None,
        # an 'equivalent' that the gate kills was triaged wrong (or the gate got better)
        "killed_but_triaged": sorted(r.id for r in results if r.outcome == "killed" and r.id in triage),
        "stale_triage": sorted(set(triage) - set(known_ids)) if known_ids is not None else [],
        "triage_problems": triage_problems(triage),
    }


def load_triage(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a mapping from mutant id to {{verdict, reason}} expected")
    return data


def render_html(document: Mapping[str, Any]) -> str:
    e, s = html.escape, document
    head = ", ".join(f"{k} {s[k]}" for k in ("total", "killed", "survived", "equivalent", "untriaged", "timeout",
                                             "harness", "score"))
    rows = []
    for r in document["results"]:
        triage = document["triage"].get(r["id"], {})
        rows.append(f"<tr class='{e(r['outcome'])}'><td><code>{e(r['id'])}</code></td><td>{r['line']}</td>"
                    f"<td>{e(r['outcome'])}</td><td>{e(triage.get('verdict', '-'))}</td>"
                    f"<td>{e(str(triage.get('reason', '')))}</td><td>{e(', '.join(r['caught_by']))}<br>"
                    f"<small>{e(r.get('evidence', '') or r.get('problem', ''))}</small></td>"
                    f"<td>{r['duration_s']}</td><td><pre>{e(r['diff'])}</pre></td></tr>")
    return ("<!doctype html><meta charset='utf-8'><title>Mutation testing</title><style>"
            "body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px;"
            "vertical-align:top;font-size:12px}pre{margin:0}.survived{background:#fdd}.killed{background:#dfd}"
            ".timeout,.harness{background:#ffd}</style>"
            f"<h1>Mutation testing of the reference server</h1><p><code>{e(document['command'])}</code></p>"
            f"<p>{e(head)}; {document.get('wall_s', '-')} s</p><table><tr><th>mutant</th><th>line</th><th>outcome</th>"
            "<th>triage</th><th>reason</th><th>caught by</th><th>s</th><th>diff</th></tr>"
            + "".join(rows) + "</table>")


# --- running the gate against a mutant ---------------------------------------------------------

class Workspace:
    """A private copy of the package that one worker rewrites, one mutant at a time."""

    def __init__(self, package_dir: Path, root: Path) -> None:
        self.root = root
        shutil.copytree(package_dir, root / "eicontract", ignore=shutil.ignore_patterns("__pycache__"))
        self.server = root / "eicontract" / "server"

    @contextlib.contextmanager
    def mutated(self, spec: MutantSpec) -> Iterator[str]:
        path = self.server / spec.module
        original = path.read_text(encoding="utf-8")
        mutated = mutated_source(original, spec)
        path.write_text(mutated, encoding="utf-8")
        try:
            yield unified_diff(original, mutated, f"eicontract/server/{spec.module}")
        finally:
            path.write_text(original, encoding="utf-8")

    def gate(self, report_dir: Path, timeout_s: float, extra: Sequence[str] = (),
             coverage_file: Path | None = None) -> tuple[int | None, str]:
        """The gate in a subprocess that imports this copy; (exit code or None on timeout, output tail).
        With coverage_file, the run records which lines of the server copy it executes."""
        # the embedded server only (no EI_ target or key), and none of a calling pytest's settings
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EI_", "PYTEST_", "COV_"))}
        # no bytecode: a mutant of the same size written within the same second would reuse a stale .pyc
        env.update(PYTHONPATH=str(self.root), PYTHONDONTWRITEBYTECODE="1")
        runner = ["-m", "coverage", "run", f"--data-file={coverage_file}", f"--include={self.server}/*"] \
            if coverage_file is not None else []
        command = [sys.executable, *runner, "-m", "eicontract.cli", *GATE_ARGS, "--report-dir", str(report_dir),
                   *extra]
        proc = subprocess.Popen(command, cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout_s)
            return proc.returncode, output[-2000:]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the gate's whole process group, ours alone
            output, _ = proc.communicate()
            return None, (output or "")[-2000:]


def failed_clauses(report_dir: Path) -> tuple[list[str], str]:
    """The clauses the gate failed, and the first failure's message."""
    summary = report_dir / "summary.json"
    if not summary.is_file():
        return [], ""
    clauses = json.loads(summary.read_text())["clauses"]
    failed = sorted(cid for cid, c in clauses.items() if c["status"] == "failed")
    first: dict[str, Any] = next((f for cid in failed for f in clauses[cid].get("failures", [])), {})
    messages = [v.get("message", "") for v in first.get("violations", [])] or [str(first.get("detail", ""))]
    return failed, "; ".join(m for m in messages if m)[:400]


def run_one(space: Workspace, spec: MutantSpec, timeout_s: float, fail_fast: bool = True) -> Result:
    report_dir = space.root / "reports" / spec.id.replace(":", "_").replace("/", "_")
    started = time.monotonic()
    with space.mutated(spec) as diff:
        code, output = space.gate(report_dir, timeout_s, FAIL_FAST if fail_fast else ())
    outcome = outcome_of(code)
    failed, evidence = failed_clauses(report_dir)
    result = Result(spec.id, spec.module, spec.line, spec.operator, spec.definition, outcome, code,
                    round(time.monotonic() - started, 1), failed, diff, evidence=evidence)
    if outcome in ("timeout", "harness"):
        result.problem = output.strip().splitlines()[-1] if output.strip() else ""
    shutil.rmtree(report_dir, ignore_errors=True)
    return result


def run_mutants(specs: Sequence[MutantSpec], package_dir: Path, workers: int, timeout_s: float,
                progress: Callable[[Result], None] | None = None, fail_fast: bool = True) -> list[Result]:
    """Each worker owns one workspace; mutants are handed out in order, results kept in order."""
    with tempfile.TemporaryDirectory(prefix="eicontract-mutation-") as tmp:
        spaces: Queue[Workspace] = Queue()
        for k in range(max(1, min(workers, len(specs)))):
            spaces.put(Workspace(package_dir, Path(tmp) / f"w{k}"))

        def work(spec: MutantSpec) -> Result:
            space = spaces.get()
            try:
                result = run_one(space, spec, timeout_s, fail_fast)
            finally:
                spaces.put(space)
            if progress is not None:
                progress(result)
            return result

        with ThreadPoolExecutor(max_workers=spaces.qsize()) as pool:
            return list(pool.map(work, specs))


@dataclass(frozen=True, slots=True)
class Baseline:
    exit_code: int | None
    seconds: float
    output: str
    unexecuted: dict[str, set[int]] | None  # module -> statement lines the run never executed; None: unknown


def coverage_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("coverage") is not None


def unexecuted_lines(server_dir: Path, data_file: Path, modules: Sequence[str] = TARGET_MODULES) -> dict[str, set[int]]:
    """The statement lines of each module that a coverage run never executed. Only statements'
    first lines can be in it: a mutant on a continuation line is always run (never skipped wrongly)."""
    import coverage

    data = coverage.Coverage(data_file=str(data_file))
    data.load()
    return {module: set(data.analysis2(str(server_dir / module))[3]) for module in modules}


def baseline(package_dir: Path, with_coverage: bool = True) -> Baseline:
    """The unmutated copy must pass the whole gate: else every 'kill' would mean nothing. Under
    coverage, it also tells which lines the gate never executes: a mutant there cannot be killed."""
    with tempfile.TemporaryDirectory(prefix="eicontract-mutation-base-") as tmp:
        space = Workspace(package_dir, Path(tmp))
        data_file = Path(tmp) / "coverage.data" if with_coverage else None
        started = time.monotonic()
        # coverage slows the gate about four times; the bound only catches a hang
        code, output = space.gate(Path(tmp) / "reports", MIN_TIMEOUT_S * (6 if with_coverage else 2),
                                  coverage_file=data_file)
        seconds = time.monotonic() - started
        unexecuted = unexecuted_lines(space.server, data_file) if data_file is not None and code == 0 else None
        return Baseline(code, seconds, output, unexecuted)


def unreached_result(spec: MutantSpec, package_dir: Path) -> Result:
    """A mutant on a line the unmutated gate never executes: it survives, without a gate run."""
    original = (package_dir / "server" / spec.module).read_text(encoding="utf-8")
    diff = unified_diff(original, mutated_source(original, spec), f"eicontract/server/{spec.module}")
    return Result(spec.id, spec.module, spec.line, spec.operator, spec.definition, "survived", None, 0.0,
                  diff=diff, problem=UNREACHED, reached=False)


def split_reached(specs: Sequence[MutantSpec], unexecuted: Mapping[str, set[int]] | None
                  ) -> tuple[list[MutantSpec], list[MutantSpec]]:
    """(mutants to run, mutants on lines the gate never executes); all run when coverage is unknown."""
    if unexecuted is None:
        return list(specs), []
    unreached = [s for s in specs if s.line in unexecuted.get(s.module, set())]
    return [s for s in specs if s not in unreached], unreached


# --- command line ------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample", type=int, metavar="N", help="a seeded sample of N mutants (default: all)")
    p.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    p.add_argument("--only", action="append", default=[], metavar="ID", help="only these mutant ids (repeatable)")
    p.add_argument("--module", action="append", default=[], choices=TARGET_MODULES,
                   help="only mutants of these server modules (repeatable)")
    p.add_argument("--workers", type=int, default=2, help="gate runs at once (default 2: one per core)")
    p.add_argument("--timeout", type=float, metavar="S",
                   help=f"seconds per gate run (default max({MIN_TIMEOUT_S:g}, "
                        f"{TIMEOUT_FACTOR:g} x the unmutated run))")
    p.add_argument("--skip-baseline", action="store_true",
                   help="do not run the unmutated gate first (it must pass; self-tests skip it for time)")
    p.add_argument("--no-fail-fast", action="store_true", help="run the whole gate for every mutant (slower)")
    p.add_argument("--operators", choices=OPERATOR_SETS, default="sufficient",
                   help="sufficient (default): the non-redundant replacements (docs/MUTATION.md); all: every "
                        "replacement cosmic-ray makes (about twice as many mutants)")
    p.add_argument("--no-coverage", action="store_true",
                   help="run the gate for every mutant, also on lines the unmutated gate never executes")
    p.add_argument("--triage", type=Path, default=DEFAULT_TRIAGE, help=f"triage file (default {DEFAULT_TRIAGE})")
    p.add_argument("--report-dir", type=Path, default=Path("reports"), help="mutation.json/.html go here")
    p.add_argument("--list", action="store_true", help="print the mutant ids (after --module/--sample) and stop")
    p.add_argument("--rescore", type=Path, action="append", default=[], metavar="LOG",
                   help="no gate runs: write the reports from runs' mutation.jsonl (repeatable) with the "
                        "current triage")


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def _progress(log: Path) -> Callable[[Result], None]:
    """Print each result, and append it to a log that outlives an interrupted run."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")

    def report(result: Result) -> None:
        extra = f" {result.problem}" if result.problem else ""
        print(f"  {result.outcome:<8} {result.duration_s:>6} s  {result.id}{extra}", flush=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(result)) + "\n")

    return report


def _command() -> str:
    return "eicontract mutation " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["mutation"] else "eicontract mutation"


def read_logs(paths: Sequence[Path]) -> list[Result]:
    """The results of runs from their mutation.jsonl (also of a run that was interrupted); a
    mutant in several logs counts once, as the first log has it."""
    results: dict[str, Result] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                result = Result(**json.loads(line))
                results.setdefault(result.id, result)
    return list(results.values())


def current_results(results: Sequence[Result], chosen: Sequence[MutantSpec]) -> tuple[list[Result], int]:
    """The logged results of mutants that exist in the code now, in the code's order, and how many
    logged ones do not (a changed line has a new id, measured afresh)."""
    by_id = {r.id: r for r in results}
    kept = [by_id[s.id] for s in chosen if s.id in by_id]
    return kept, len(by_id) - len(kept)


def write_reports(report_dir: Path, results: Sequence[Result], triage: Mapping[str, Any], specs: Sequence[MutantSpec],
                  extra: Mapping[str, Any]) -> dict[str, Any]:
    summary = summarise(results, triage, [s.id for s in specs])
    document = {"command": _command(), "tool": "cosmic-ray", "mutants_in_code": len(specs), **extra, **summary,
                "triage": {r.id: triage[r.id] for r in results if r.id in triage},
                "results": [asdict(r) for r in results]}
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / REPORT_JSON).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (report_dir / REPORT_HTML).write_text(render_html(document), encoding="utf-8")
    print(f"{summary['killed']}/{summary['total']} killed, {summary['survived']} survived "
          f"({summary['equivalent']} equivalent, {len(summary['gaps'])} gaps, {summary['untriaged']} untriaged), "
          f"{summary['timeout']} timeouts, {summary['harness']} harness exits; score {summary['score']}; "
          f"{document.get('wall_s', '-')} s; {report_dir / REPORT_JSON}")
    for key in summary["untriaged_ids"]:
        print(f"untriaged survivor: {key}", file=sys.stderr)
    for problem in summary["triage_problems"]:
        print(f"triage: {problem}", file=sys.stderr)
    return document


def _timeout(args: argparse.Namespace, package: Path) -> tuple[float | None, dict[str, set[int]] | None]:
    """The per-mutant timeout after the unmutated gate passed (None when it did not), and the lines
    that run never executed (None: unknown, every mutant runs)."""
    if args.skip_baseline:
        return float(args.timeout or MIN_TIMEOUT_S), None
    with_coverage = not args.no_coverage and coverage_available()
    if not args.no_coverage and not with_coverage:
        print("eicontract mutation: coverage is not installed: every mutant runs the gate", flush=True)
    base = baseline(package, with_coverage)
    if base.exit_code != 0:
        print(f"eicontract mutation: the unmutated gate did not pass (exit {base.exit_code}):\n{base.output}",
              file=sys.stderr)
        return None, None
    how = " under coverage" if with_coverage else ""
    print(f"eicontract mutation: the unmutated gate passes in {base.seconds:.1f} s{how}", flush=True)
    plain_s = base.seconds / (4.0 if with_coverage else 1.0)  # what a mutant's gate run costs without it
    return float(args.timeout or max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * plain_s)), base.unexecuted


def main(args: argparse.Namespace) -> int:
    package = _package_dir()
    specs = enumerate_mutants(package / "server")
    triage = load_triage(args.triage)
    if args.rescore:  # the reports again from a run's log, with the triage as it is now
        results, gone = current_results(read_logs(args.rescore), choose(specs, operators=args.operators))
        if gone:
            print(f"eicontract mutation: {gone} logged mutants are not in the code now (their lines changed, or "
                  f"another operator set): left out", flush=True)
        document = write_reports(args.report_dir, results, triage, specs, {"rescored": [str(p) for p in args.rescore],
                                                                           "left_out": gone})
        return 1 if document["untriaged"] or document["triage_problems"] else 0
    chosen = choose(specs, args.sample, args.seed, args.only, args.module, args.operators)
    unknown = set(args.only) - {s.id for s in specs}
    if unknown or not chosen:
        print(f"eicontract mutation: no such mutants {sorted(unknown)}; see --list", file=sys.stderr)
        return 2
    if args.list:
        for spec in chosen:
            print(f"{spec.id}  (line {spec.line}: {spec.source_line})")
        return 0
    started = time.monotonic()
    timeout_s, unexecuted = _timeout(args, package)
    if timeout_s is None:
        return 2
    to_run, unreached = split_reached(chosen, unexecuted)
    print(f"eicontract mutation: {len(chosen)} of {len(specs)} mutants ({args.operators} operators); "
          f"{len(unreached)} on lines the unmutated gate never executes survive without a run; "
          f"{len(to_run)} on {args.workers} workers (timeout {timeout_s:.0f} s each)", flush=True)
    progress = _progress(args.report_dir / "mutation.jsonl")
    skipped = [unreached_result(spec, package) for spec in unreached]
    for result in skipped:
        progress(result)
    ran = run_mutants(to_run, package, args.workers, timeout_s, progress, not args.no_fail_fast) if to_run else []
    by_id = {r.id: r for r in [*ran, *skipped]}
    results = [by_id[spec.id] for spec in chosen]
    document = write_reports(args.report_dir, results, triage, specs,
                             {"wall_s": round(time.monotonic() - started, 1), "timeout_s": timeout_s,
                              "operators": args.operators, "coverage": unexecuted is not None})
    return 1 if document["untriaged"] or document["triage_problems"] else 0
