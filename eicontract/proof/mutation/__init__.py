"""Mutation testing of the reference server (docs/MUTATION.md): cosmic-ray's operators make the
mutants of its contract-bearing modules, and the quick gate must kill each one (exit 1).

- engine: making mutants, the private workspace copies, the gate runs;
- configs: per-configuration coverage, and which configuration a mutant runs under;
- corpus, replay, triage: differential replay, the machine-checked categories of a survivor;
- score: the categories and the two scores (pure);
- command: `eicontract mutation`.
"""

from __future__ import annotations

from eicontract.proof.mutation.command import (
    add_arguments,
    current_results,
    main,
    read_logs,
    render_html,
    write_reports,
)
from eicontract.proof.mutation.engine import (
    MutantSpec,
    Result,
    Workspace,
    choose,
    enumerate_mutants,
    failed_clauses,
    in_sufficient_set,
    load_triage,
    mutant_id,
    mutated_source,
    run_mutants,
    unified_diff,
)
from eicontract.proof.mutation.score import VERDICTS, category, outcome_of, proven, scores, summarise, triage_problems

__all__ = ["VERDICTS", "MutantSpec", "Result", "Workspace", "add_arguments", "category", "choose",
           "current_results", "enumerate_mutants", "failed_clauses", "in_sufficient_set", "load_triage", "main",
           "mutant_id", "mutated_source", "outcome_of", "proven", "read_logs", "render_html", "run_mutants",
           "scores", "summarise", "triage_problems", "unified_diff", "write_reports"]
