"""`eicontract mutation`: the command line, the run (configurations, gate, replay) and the reports."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from eicontract.proof.mutation import configs
from eicontract.proof.mutation.engine import (
    DEFAULT_TRIAGE,
    MIN_TIMEOUT_S,
    OPERATOR_SETS,
    REPORT_HTML,
    REPORT_JSON,
    TARGET_MODULES,
    MutantSpec,
    Result,
    choose,
    enumerate_mutants,
    load_triage,
    run_mutants,
    unreached_result,
)
from eicontract.proof.mutation.score import category, summarise
from eicontract.reporting.html import render_mutation_page

# the counts mutation.html shows in its head line, in this order
COUNTS = ("total", "killed", "equivalent", "contract_free", "gap", "no_coverage", "timeout", "harness",
          "standard_score", "contract_relative_score")

DEFAULT_CORPORA = Path("reports") / "mutation-corpora"
# per gate run: a quick gate takes 20-60 s on two shared cores, a survivor the whole of it; the
# coverage runs may be cached, so no baseline time is at hand to scale: the bound only catches a hang
DEFAULT_TIMEOUT_S = 900.0
RECHECK_N = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample", type=int, metavar="N", help="a seeded sample of N mutants (default: all)")
    p.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    p.add_argument("--only", action="append", default=[], metavar="ID", help="only these mutant ids (repeatable)")
    p.add_argument("--module", action="append", default=[], choices=TARGET_MODULES,
                   help="only mutants of these server modules (repeatable)")
    p.add_argument("--workers", type=int, default=2, help="gate runs (and replays) at once (default 2: one per core)")
    p.add_argument("--timeout", type=float, metavar="S",
                   help=f"seconds per gate run (default {DEFAULT_TIMEOUT_S:g}; {MIN_TIMEOUT_S:g} with "
                        f"--skip-baseline)")
    p.add_argument("--gate-seed", type=int, metavar="N",
                   help="run the gate (and so the embedded server's data) at seed N instead of the default: a "
                        "survivor whose replay differs only on another seed's data, re-run where that data is; "
                        "the seed is part of the configuration logged")
    p.add_argument("--skip-baseline", action="store_true",
                   help="no coverage runs: every mutant runs under the clean configuration (self-tests, for time)")
    p.add_argument("--no-fail-fast", action="store_true", help="run the whole gate for every mutant (slower)")
    p.add_argument("--operators", choices=OPERATOR_SETS, default="sufficient",
                   help="sufficient (default): the non-redundant replacements (docs/MUTATION.md); all: every "
                        "replacement cosmic-ray makes (about twice as many mutants)")
    p.add_argument("--configuration", action="append", default=[], metavar="NAME",
                   help="only these configurations (repeatable; clean, variant:NAME, error-style:body; default: "
                        "all, clean first): a mutant none of them reaches is no_coverage")
    p.add_argument("--coverage-cache", type=Path, default=Path("reports") / configs.CACHE_NAME,
                   help="per-configuration coverage, reused while the package's code is the same")
    p.add_argument("--triage", type=Path, default=DEFAULT_TRIAGE, help=f"triage file (default {DEFAULT_TRIAGE})")
    p.add_argument("--report-dir", type=Path, default=Path("reports"), help="mutation.json/.html go here")
    p.add_argument("--list", action="store_true", help="print the mutant ids (after --module/--sample) and stop")
    p.add_argument("--rescore", type=Path, action="append", default=[], metavar="LOG",
                   help="no gate runs: write the reports from runs' mutation.jsonl (repeatable) with the "
                        "current triage")
    p.add_argument("--corpus", type=Path, action="append", default=[], metavar="FILE",
                   help="replay corpora (python -m eicontract.proof.mutation.corpus; default: every file in "
                        f"{DEFAULT_CORPORA})")
    p.add_argument("--replay-survivors", action="store_true",
                   help="after the run (or --rescore), replay every gap against the corpora and write the "
                        "verdict with its evidence into the triage file")
    p.add_argument("--replay-again", action="store_true",
                   help="replay gaps whose replay evidence names the same corpora too (after the replay changed); "
                        "with --only, replay the survivors named whatever their verdict (evidence from more corpora)")
    p.add_argument("--where-it-shows", action="store_true",
                   help="with --replay-survivors: run each gap left again under the configuration (variants, error "
                        "style, data seed) of each corpus where its replay showed the difference (not the 100k "
                        "corpora); a kill there counts, logged in where-it-shows.jsonl")
    p.add_argument("--extend", action="store_true",
                   help="no gate runs: replay the entries with evidence (equivalent, contract_free; --only: these; "
                        "--sample N: the first N by hash) on the --corpus files their evidence does not name yet, "
                        "in hash order, and add what it shows to their evidence (each entry kept as found); exit 1 "
                        "when a verdict gets worse")
    p.add_argument("--recheck", type=int, metavar="N",
                   help=f"no gate runs: replay N triage entries with evidence (picked by hash) and fail (exit 1) "
                        f"when a replay contradicts one (CI: {RECHECK_N})")


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[2]


def _progress(log: Path) -> Callable[[Result], None]:
    """Print each result, and append it to a log that outlives an interrupted run."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")

    def report(result: Result) -> None:
        extra = f" {result.problem}" if result.problem else ""
        print(f"  {result.outcome:<8} {result.duration_s:>6} s  [{result.configuration}] {result.id}{extra}",
              flush=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(result)) + "\n")

    return report


def _command() -> str:
    return "eicontract mutation " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["mutation"] else "eicontract mutation"


def render_html(document: Mapping[str, Any]) -> str:
    """reports/mutation.html (a jinja2 template beside report.html's, autoescaped)."""
    return render_mutation_page(document, COUNTS)


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
    s = summary
    print(f"{s['killed']}/{s['total']} killed; {s['equivalent']} equivalent, {s['contract_free']} contract-free, "
          f"{s['gap']} gaps ({s['untriaged']} untriaged, {len(s['unproven_ids'])} with a hand verdict but no "
          f"replay evidence), {s['no_coverage']} no coverage, {s['timeout']} timeouts, {s['harness']} harness "
          f"exits; standard {s['standard_score']}, contract-relative {s['contract_relative_score']}; "
          f"{document.get('wall_s', '-')} s; {report_dir / REPORT_JSON}")
    for problem in summary["triage_problems"]:
        print(f"triage: {problem}", file=sys.stderr)
    return document


def _corpora(args: argparse.Namespace) -> list[Path]:
    """--corpus, else the default folder's, built (the window corpora, seconds) when it has none."""
    if args.corpus:
        return list(args.corpus)
    if not sorted(DEFAULT_CORPORA.glob("*.jsonl")):
        from eicontract.proof.mutation.corpus import build_defaults

        print(f"eicontract mutation: building the window corpora in {DEFAULT_CORPORA}", flush=True)
        build_defaults(DEFAULT_CORPORA)
    return sorted(DEFAULT_CORPORA.glob("*.jsonl"))


def _replay_survivors(args: argparse.Namespace, results: Sequence[Result], specs: Sequence[MutantSpec],
                      triage: dict[str, dict[str, Any]], package: Path) -> dict[str, dict[str, Any]]:
    from eicontract.proof.mutation.corpus import read
    from eicontract.proof.mutation.triage import merge_into, triage_by_replay

    corpora = _corpora(args)
    if not corpora:
        print("eicontract mutation: no replay corpora (python -m eicontract.proof.mutation.corpus ...)",
              file=sys.stderr)
        return triage
    by_id = {s.id: s for s in specs}
    todo = [by_id[i] for i in to_replay(results, triage, bool(args.only and args.replay_again)) if i in by_id]
    if args.rescore and (args.only or args.sample is not None):  # some of the gaps of logged runs
        todo = choose(todo, args.sample, args.seed, args.only)
    if not args.replay_again:  # a gap already replayed on these very corpora: an interrupted replay resumes
        ids = sorted(read(path).id for path in corpora)
        todo = [s for s in todo if not _replayed(triage.get(s.id) or {}, ids)]
    print(f"eicontract mutation: replaying {len(todo)} survivors against {len(corpora)} corpora", flush=True)

    def keep(key: str, entry: dict[str, Any]) -> None:  # each entry kept as found: an interrupted replay loses none
        print(f"  replay: {entry['verdict']:<13} {key}", flush=True)
        merge_into(args.triage, {key: entry})

    triage_by_replay(todo, package, corpora, keep, args.workers)
    return load_triage(args.triage)


def _where_it_shows(args: argparse.Namespace, results: Sequence[Result], specs: Sequence[MutantSpec],
                    triage: Mapping[str, Mapping[str, Any]], package: Path) -> list[Result]:
    """The results with each gap run again where its replay showed the difference: a mutant
    killed under any of those configurations is killed (the first such result replaces its own)."""
    from eicontract.proof.mutation.corpus import read

    gaps = {r.id: list((triage.get(r.id) or {}).get("replay", {}).get("unmatched_in") or ())
            for r in results if category(r, triage) == "gap"}
    setups: dict[str, tuple[tuple[str, ...], str, int, int]] = {}
    for path in _corpora(args):
        corpus = read(path)
        setups[corpus.id] = (corpus.setup.variants, corpus.setup.error_style, corpus.setup.seed,
                             corpus.setup.samples)
    by_id = {s.id: s for s in specs}
    jobs = [(by_id[mutant], configuration) for mutant, configuration in configs.where_gaps_show(gaps, setups)
            if mutant in by_id]
    print(f"eicontract mutation: {len(jobs)} runs of {len({j[0].id for j in jobs})} gaps where their replay "
          f"showed the difference", flush=True)
    if not jobs:
        return list(results)
    progress = _progress(args.report_dir / "where-it-shows.jsonl")
    ran = run_mutants(jobs, package, args.workers, float(args.timeout or MIN_TIMEOUT_S), progress,
                      not args.no_fail_fast)
    killed: dict[str, Result] = {}
    for result in ran:
        if result.outcome == "killed":
            killed.setdefault(result.id, result)
    return [killed.get(r.id, r) for r in results]


def _chosen_of(args: argparse.Namespace, chosen: Sequence[MutantSpec], specs: Sequence[MutantSpec]) -> str:
    """What was chosen, said so that two runs' counts compare: --only names mutants under any
    operator; otherwise the operator set (and modules, and a sample) chose them."""
    if args.only:
        return f"{len(chosen)} mutants named (of {len(specs)} under every operator)"
    in_set = len(choose(specs, None, 0, (), args.module, args.operators))
    return (f"{len(chosen)} of the {in_set} mutants of the {args.operators} operator set "
            f"({len(specs)} under every operator)")


def _at_seed(name: str, flags: Sequence[str], seed: int | None) -> tuple[str, Sequence[str]]:
    """A configuration's name and gate flags, at --gate-seed when one is given."""
    return (name, flags) if seed is None else (f"{name} seed {seed}", (*flags, "--seed", str(seed)))


def to_replay(results: Sequence[Result], triage: Mapping[str, Mapping[str, Any]], named_again: bool) -> list[str]:
    """The survivors a replay takes: the gaps (untriaged, or without evidence, or replayed gaps);
    named_again (--only with --replay-again): every survivor, whatever its verdict, for the names
    to choose from (new evidence, from more corpora, replaces the old)."""
    wanted = ("gap", "equivalent", "contract_free") if named_again else ("gap",)
    return [r.id for r in results if category(r, triage) in wanted]


def _replayed(entry: Mapping[str, Any], corpus_ids: Sequence[str]) -> bool:
    """A gap replayed on these very corpora, and compared with the reading variants (asvariant.py;
    a gap replayed before that check existed is replayed again)."""
    evidence = entry.get("replay") or {}
    return sorted(evidence.get("corpus") or []) == list(corpus_ids) and "as_variant" in evidence


def _recheck(args: argparse.Namespace, specs: Sequence[MutantSpec], triage: Mapping[str, Mapping[str, Any]],
             package: Path) -> int:
    from eicontract.proof.mutation.triage import recheck

    corpora = _corpora(args)
    if not corpora:
        print("eicontract mutation: --recheck needs replay corpora (--corpus)", file=sys.stderr)
        return 2
    chosen, problems = recheck(triage, specs, package, corpora, args.recheck)
    for problem in problems:
        print(f"triage contradicted: {problem}", file=sys.stderr)
    print(f"eicontract mutation: re-checked {len(chosen)} triage entries by replay: {len(problems)} contradicted")
    return 1 if problems else 0


def _extend(args: argparse.Namespace, specs: Sequence[MutantSpec], triage: Mapping[str, Mapping[str, Any]],
            package: Path) -> int:
    from eicontract.proof.mutation.corpus import read
    from eicontract.proof.mutation.extend import choose_entries, extend
    from eicontract.proof.mutation.triage import merge_into, pick

    if not args.corpus:
        print("eicontract mutation: --extend needs the corpora to add (--corpus)", file=sys.stderr)
        return 2
    new_ids = {read(path).id for path in args.corpus}
    by_id = {s.id: s for s in specs}
    chosen = {k: e for k, e in triage.items() if k in by_id and (not args.only or k in args.only)}
    keys, partly, elsewhere = choose_entries(chosen, new_ids)
    candidates = {k: triage[k] for k in keys}
    if partly:  # their requests would count twice: replay them on every corpus instead (--replay-again)
        print(f"eicontract mutation: left out, their evidence names some of these corpora: {', '.join(partly)}",
              file=sys.stderr)
    if elsewhere:
        print(f"eicontract mutation: left out, {len(elsewhere)} entries whose evidence names another recording "
              f"of one of these corpora", file=sys.stderr)
    todo = [by_id[k] for k in pick(candidates, len(candidates) if args.sample is None else args.sample)]
    print(f"eicontract mutation: adding {len(args.corpus)} corpora to the evidence of {len(todo)} entries", flush=True)

    def keep(key: str, entry: dict[str, Any]) -> None:
        print(f"  extend: {entry['verdict']:<13} {key}", flush=True)
        merge_into(args.triage, {key: entry})

    problems = extend(triage, todo, package, args.corpus, keep, args.workers)
    for problem in problems:
        print(f"triage worse: {problem}", file=sys.stderr)
    print(f"eicontract mutation: {len(todo)} entries extended: {len(problems)} verdicts worse")
    return 1 if problems else 0


def _plan(args: argparse.Namespace, package: Path, chosen: Sequence[MutantSpec]
          ) -> tuple[float, list[tuple[MutantSpec, configs.Configuration]], list[MutantSpec]] | None:
    """The timeout, each reached mutant with its configuration, and the mutants none reaches."""
    order = configs.configurations()
    unknown = set(args.configuration) - {c.name for c in order}
    if unknown:
        print(f"eicontract mutation: no such configurations {sorted(unknown)}: {[c.name for c in order]}",
              file=sys.stderr)
        return None
    if args.configuration:
        order = [c for c in order if c.name in args.configuration]
    if args.skip_baseline:
        return float(args.timeout or MIN_TIMEOUT_S), [(s, order[0]) for s in chosen], []

    def told(m: configs.Measured) -> None:
        print(f"  coverage: {m.configuration} exit {m.exit_code} in {m.seconds} s", flush=True)

    coverage, failed = configs.measure_all(package, order, args.workers, args.coverage_cache, told)
    for m in failed:
        print(f"eicontract mutation: the unmutated gate does not pass under {m.configuration} (exit "
              f"{m.exit_code}): its mutants run elsewhere or count as no coverage\n{m.output[-800:]}",
              file=sys.stderr)
    if order[0].name not in coverage:
        return None
    runs, unreached = configs.assign(chosen, order, coverage)
    return float(args.timeout or DEFAULT_TIMEOUT_S), runs, unreached


def main(args: argparse.Namespace) -> int:
    package = _package_dir()
    specs = enumerate_mutants(package / "server")
    triage = load_triage(args.triage)
    if args.where_it_shows and not args.replay_survivors:
        print("eicontract mutation: --where-it-shows runs the gaps a replay leaves: add --replay-survivors",
              file=sys.stderr)
        return 2
    if args.recheck:
        return _recheck(args, specs, triage, package)
    if args.extend:
        return _extend(args, specs, triage, package)
    if args.rescore:  # the reports again from a run's log, with the triage as it is now
        results, gone = current_results(read_logs(args.rescore), choose(specs, operators=args.operators))
        if gone:
            print(f"eicontract mutation: {gone} logged mutants are not in the code now (their lines changed, or "
                  f"another operator set): left out", flush=True)
        if args.replay_survivors:
            triage = _replay_survivors(args, results, specs, triage, package)
            if args.where_it_shows:
                results = _where_it_shows(args, results, specs, triage, package)
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
    plan = _plan(args, package, chosen)
    if plan is None:
        print("eicontract mutation: no configuration to run on (the first one's unmutated gate must pass)",
              file=sys.stderr)
        return 2
    timeout_s, runs, unreached = plan
    print(f"eicontract mutation: {_chosen_of(args, chosen, specs)}; {len(unreached)} on lines no configuration "
          f"executes (no coverage); {len(runs)} on {args.workers} "
          f"workers (timeout {timeout_s:.0f} s each)", flush=True)
    progress = _progress(args.report_dir / "mutation.jsonl")
    skipped = [unreached_result(spec, package) for spec in unreached]
    for result in skipped:
        progress(result)
    jobs = [(spec, _at_seed(c.name, c.flags, args.gate_seed)) for spec, c in runs]
    ran = run_mutants(jobs, package, args.workers, timeout_s, progress, not args.no_fail_fast) if jobs else []
    by_id = {r.id: r for r in [*ran, *skipped]}
    results = [by_id[spec.id] for spec in chosen]
    if args.replay_survivors:
        triage = _replay_survivors(args, results, specs, triage, package)
        if args.where_it_shows:
            results = _where_it_shows(args, results, specs, triage, package)
    document = write_reports(args.report_dir, results, triage, specs,
                             {"wall_s": round(time.monotonic() - started, 1), "timeout_s": timeout_s,
                              "operators": args.operators, "coverage": not args.skip_baseline})
    return 1 if document["untriaged"] or document["triage_problems"] else 0
