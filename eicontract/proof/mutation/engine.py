"""Making mutants (cosmic-ray) and running the gate against them.

Mutation testing of the reference server: cosmic-ray's operators make the mutants of its
contract-bearing modules, and the quick gate must kill each one (exit 1).

The hand-written faults (eicontract.server.FAULTS, the kill matrix) are regressions that the
oracles' authors thought of; these mutants are the ones nobody listed. Every mutant runs in a
private copy of the package (never the checkout: others edit it), one module rewritten, the gate
in a subprocess whose PYTHONPATH puts that copy first. A survivor is triaged by a differential replay in
docs/mutation-triage.yaml, keyed by a stable id (triage.py, score.py).
See docs/MUTATION.md.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

import yaml

from eicontract.proof.mutation.score import outcome_of

# the store (filters, order, paging), params, the classify window, jobs, errors and auth, the routes;
# not the data generator (dataset.py), rendering, nor the switches that make faults and variants
TARGET_MODULES = ("store.py", "params.py", "classify.py", "jobs.py", "errors.py", "app.py")
DEFAULT_TRIAGE = Path("docs") / "mutation-triage.yaml"
REPORT_JSON, REPORT_HTML = "mutation.json", "mutation.html"
MIN_TIMEOUT_S = 300.0  # a gate run on two shared cores; a mutant that hangs the gate is bounded
TIMEOUT_FACTOR = 5.0  # ... or this many times the unmutated run, whichever is longer
GATE_ARGS = ("run", "--no-shrink")  # the quick gate, as the kill matrix runs it
FAIL_FAST = ("--", "-x")  # the first failing test decides a kill; survivors run the whole gate
UNREACHED = "no coverage: no configuration's unmutated gate run executes this line, so none can kill it"

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
    reached: bool = True  # False: no configuration's gate run executes its line: no_coverage, no run
    configuration: str = "clean"  # the configuration the gate ran it under (configs.py)


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


def run_one(space: Workspace, spec: MutantSpec, timeout_s: float, fail_fast: bool = True,
            configuration: tuple[str, Sequence[str]] = ("clean", ())) -> Result:
    """The quick gate against one mutant, under a configuration (name, gate flags) that reaches it."""
    report_dir = space.root / "reports" / spec.id.replace(":", "_").replace("/", "_")
    started = time.monotonic()
    name, flags = configuration
    with space.mutated(spec) as diff:
        code, output = space.gate(report_dir, timeout_s, [*flags, *(FAIL_FAST if fail_fast else ())])
    outcome = outcome_of(code)
    failed, evidence = failed_clauses(report_dir)
    result = Result(spec.id, spec.module, spec.line, spec.operator, spec.definition, outcome, code,
                    round(time.monotonic() - started, 1), failed, diff, evidence=evidence, configuration=name)
    if outcome in ("timeout", "harness"):
        result.problem = output.strip().splitlines()[-1] if output.strip() else ""
    shutil.rmtree(report_dir, ignore_errors=True)
    return result


Job = tuple[MutantSpec, tuple[str, Sequence[str]]]  # a mutant and the configuration it runs under


def run_mutants(jobs: Sequence[Job], package_dir: Path, workers: int, timeout_s: float,
                progress: Callable[[Result], None] | None = None, fail_fast: bool = True) -> list[Result]:
    """Each worker owns one workspace; mutants are handed out in order, results kept in order."""
    with tempfile.TemporaryDirectory(prefix="eicontract-mutation-") as tmp:
        spaces: Queue[Workspace] = Queue()
        for k in range(max(1, min(workers, len(jobs)))):
            spaces.put(Workspace(package_dir, Path(tmp) / f"w{k}"))

        def work(job: Job) -> Result:
            space = spaces.get()
            try:
                result = run_one(space, job[0], timeout_s, fail_fast, job[1])
            finally:
                spaces.put(space)
            if progress is not None:
                progress(result)
            return result

        with ThreadPoolExecutor(max_workers=spaces.qsize()) as pool:
            return list(pool.map(work, jobs))


def unreached_result(spec: MutantSpec, package_dir: Path) -> Result:
    """A mutant on a line no configuration's gate run executes: no_coverage, without a gate run."""
    original = (package_dir / "server" / spec.module).read_text(encoding="utf-8")
    diff = unified_diff(original, mutated_source(original, spec), f"eicontract/server/{spec.module}")
    return Result(spec.id, spec.module, spec.line, spec.operator, spec.definition, "survived", None, 0.0,
                  diff=diff, problem=UNREACHED, reached=False, configuration="")


def load_triage(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a mapping from mutant id to {{verdict, reason, replay}} expected")
    return data
