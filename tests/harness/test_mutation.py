"""Mutation testing's bookkeeping on synthetic data: which mutants are made, their stable ids,
the seeded sample, and the score and triage arithmetic. No gate runs here (tests/selftest does)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from eicontract.proof import mutation
from eicontract.proof.mutation import Result, choose, configs, enumerate_mutants, outcome_of, summarise, triage_problems

SOURCE = '''from __future__ import annotations


def page(ids: list[int] | None, limit: int = 2) -> list[int]:
    stop: int | None = None
    return (ids or [])[:limit] if limit > 0 else []


class Store:
    def total(self, n: int) -> int:
        return n + 1
'''


def _specs(tmp_path: Path, source: str = SOURCE) -> list[mutation.MutantSpec]:
    (tmp_path / "store.py").write_text(source)
    return enumerate_mutants(tmp_path, ["store.py"])


def test_no_mutant_is_made_in_an_annotation(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    assert specs and not [s for s in specs if s.line in (4, 5) and "BitOr" in s.operator]  # `int | None`
    assert [s.operator for s in specs if s.line == 4] == ["core/NumberReplacer"] * 2  # the default, not the types
    # the code's own operators are mutated: the comparison, the 'or', the addition, the numbers
    operators = {s.operator.removeprefix("core/").split("_")[0] for s in specs}
    assert {"ReplaceComparisonOperator", "ReplaceOrWithAnd", "ReplaceBinaryOperator", "NumberReplacer"} <= operators


def test_ids_are_unique_and_name_the_function(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    assert len({s.id for s in specs}) == len(specs)
    assert {s.definition for s in specs} >= {"page", "Store.total"}
    add = next(s for s in specs if s.operator == "core/ReplaceBinaryOperator_Add_Sub")
    assert add.id.startswith("store.py:Store.total:ReplaceBinaryOperator_Add_Sub:") and add.line == 11


def test_an_id_survives_an_edit_elsewhere_and_dies_with_its_line(tmp_path: Path) -> None:
    before = {s.id for s in _specs(tmp_path) if s.definition == "Store.total"}
    shifted = {s.id for s in _specs(tmp_path, "X = 1\n\n\n" + SOURCE) if s.definition == "Store.total"}
    assert before == shifted  # three lines earlier, same ids
    edited = {s.id for s in _specs(tmp_path, SOURCE.replace("n + 1", "n + 2")) if s.definition == "Store.total"}
    assert not before & edited  # the line changed: its old triage no longer applies


def test_the_mutated_source_is_cosmic_rays_own(tmp_path: Path) -> None:
    spec = next(s for s in _specs(tmp_path) if s.operator == "core/ReplaceComparisonOperator_Gt_GtE")
    mutated = mutation.mutated_source(SOURCE, spec)
    assert "limit >= 0" in mutated and mutated.replace("limit >= 0", "limit > 0") == SOURCE
    diff = mutation.unified_diff(SOURCE, mutated, "store.py")
    assert "-    return (ids or [])[:limit] if limit > 0 else []" in diff and "+    return" in diff


def test_a_sample_is_seeded_and_ordered(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    one, again, other = choose(specs, 5, seed=3), choose(specs, 5, seed=3), choose(specs, 5, seed=4)
    assert one == again and len(one) == 5 and one != other
    assert [specs.index(s) for s in one] == sorted(specs.index(s) for s in one)
    assert choose(specs, only=[specs[2].id]) == [specs[2]]
    assert choose(specs, 10**6) == specs


def test_the_sufficient_set_keeps_one_arithmetic_and_two_comparison_replacements(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    kept = {s.operator.removeprefix("core/") for s in choose(specs, operators="sufficient")}
    assert "ReplaceBinaryOperator_Add_Sub" in kept and "ReplaceBinaryOperator_Add_Mul" not in kept
    assert {"ReplaceComparisonOperator_Gt_GtE", "ReplaceComparisonOperator_Gt_NotEq"} <= kept
    assert not {"ReplaceComparisonOperator_Gt_Lt", "ReplaceComparisonOperator_Gt_Eq"} & kept
    assert {"ReplaceOrWithAnd", "NumberReplacer"} <= kept  # the other core operators: all of them
    everything = choose(specs, operators="all")
    assert everything == specs and len(choose(specs, operators="sufficient")) < len(everything)
    # an id asked for by name runs whatever its operator
    dropped = next(s for s in specs if s.operator.endswith("Add_Mul"))
    assert choose(specs, only=[dropped.id], operators="sufficient") == [dropped]


def test_a_mutant_runs_under_the_first_configuration_that_reaches_it(tmp_path: Path) -> None:
    specs = choose(_specs(tmp_path), operators="sufficient")
    order = [configs.Configuration("clean", ()), configs.Configuration("variant:a", ("--server-variant", "a")),
             configs.Configuration("variant:b", ("--server-variant", "b"))]
    # clean never runs Store.total (line 11), variant a runs nothing of page's line 6, b runs everything;
    # a configuration without coverage (its baseline failed) reaches nothing
    coverage: dict[str, dict[str, set[int]]] = {"clean": {"store.py": {11}}, "variant:a": {"store.py": {6}},
                                                "variant:b": {"store.py": set()}}
    runs, unreached = configs.assign(specs, order, coverage)
    assert not unreached and {c.name for s, c in runs if s.line == 11} == {"variant:a"}
    assert {c.name for s, c in runs if s.line != 11} == {"clean"}
    runs, unreached = configs.assign(specs, order, {"clean": {"store.py": {11}}, "variant:a": {"store.py": {11}}})
    assert unreached and all(s.line == 11 for s in unreached) and all(s.line != 11 for s, _ in runs)
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "store.py").write_text(SOURCE)
    result = mutation.engine.unreached_result(unreached[0], tmp_path)
    assert (result.outcome, result.reached, result.exit_code) == ("survived", False, None)
    assert "n + 1" in result.diff and result.problem == mutation.engine.UNREACHED
    assert summarise([result], {})["no_coverage"] == 1


def test_the_configurations_are_clean_first_then_every_legal_variant_and_the_body_style() -> None:
    from eicontract.server import LEGAL_VARIANTS

    names = [c.name for c in configs.configurations()]
    assert names[0] == "clean" and names[-1] == "error-style:body"
    assert names[1:-1] == [f"variant:{v}" for v in LEGAL_VARIANTS]


def test_the_coverage_cache_is_reused_only_for_the_same_code(tmp_path: Path) -> None:
    cache = tmp_path / "cov.json"
    configs.save_cache(cache, "abc", {"clean": {"store.py": {3, 1}}})
    assert configs.load_cache(cache, "abc") == {"clean": {"store.py": {1, 3}}}
    assert configs.load_cache(cache, "other") == {} and configs.load_cache(tmp_path / "none", "abc") == {}
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    before = configs.code_hash(tmp_path / "pkg")
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert configs.code_hash(tmp_path / "pkg") != before


def test_unexecuted_lines_are_statements_coverage_saw_not_run(tmp_path: Path) -> None:
    import coverage

    module = tmp_path / "store.py"
    module.write_text(SOURCE)
    data = tmp_path / "cov.data"
    cov = coverage.Coverage(data_file=str(data), include=[str(module)])
    cov.start()
    namespace: dict[str, object] = {}
    exec(compile(SOURCE, str(module), "exec"), namespace)  # defines, never calls Store.total
    namespace["page"]([1, 2, 3])  # type: ignore[operator]
    cov.stop()
    cov.save()
    missing = configs.unexecuted_lines(tmp_path, data, ["store.py"])["store.py"]
    assert 11 in missing and 6 not in missing and 4 not in missing


@pytest.mark.parametrize(("code", "outcome"), [(1, "killed"), (0, "survived"), (None, "timeout"), (2, "harness"),
                                                (-9, "harness")])
def test_only_a_gate_exit_1_kills(code: int | None, outcome: str) -> None:
    assert outcome_of(code) == outcome


def _result(key: str, outcome: str) -> Result:
    return Result(key, "store.py", 1, "core/X", "f", outcome, None, 1.0)


def _evidence(differing: list[str], free: Sequence[str] = (), unmatched: Sequence[str] = ()) -> dict[str, Any]:
    return {"corpus": ["window@1"], "requests": 10, "differing": differing, "free": list(free),
            "unmatched": list(unmatched)}


def test_only_replay_evidence_takes_a_survivor_out_of_the_gaps() -> None:
    results = [_result(f"k{n}", "killed") for n in range(6)] + [
        _result("s-eq", "survived"), _result("s-free", "survived"), _result("s-hand", "survived"),
        _result("s-gap", "survived"), _result("s-new", "survived"), _result("t", "timeout"), _result("h", "harness")]
    results.append(Result("nc", "store.py", 1, "core/X", "f", "survived", None, 0.0, reached=False))
    triage: dict[str, dict[str, Any]] = {
              "s-eq": {"verdict": "equivalent", "reason": "r", "replay": _evidence([])},
              "s-free": {"verdict": "contract_free", "reason": "r", "replay": _evidence(["op:body.x"], ["row"])},
              "s-hand": {"verdict": "equivalent", "reason": "a hand-written reason is not evidence"},
              "s-gap": {"verdict": "gap", "reason": "no oracle looks at it"},
              "k0": {"verdict": "gap", "reason": "wrong"}, "gone": {"verdict": "gap", "reason": "old"}}
    doc = summarise(results, triage, known_ids=[r.id for r in results])
    assert {k: doc[k] for k in ("total", "killed", "equivalent", "contract_free", "gap", "no_coverage", "timeout",
                                "harness")} == {"total": 14, "killed": 6, "equivalent": 1, "contract_free": 1,
                                                "gap": 3, "no_coverage": 1, "timeout": 1, "harness": 1}
    assert doc["untriaged_ids"] == ["s-new"] and doc["unproven_ids"] == ["s-hand"]
    assert doc["standard_score"] == round(6 / 13, 4) and doc["contract_relative_score"] == round(6 / 12, 4)
    assert doc["killed_but_triaged"] == ["k0"] and doc["stale_triage"] == ["gone"]


def test_evidence_must_support_its_verdict() -> None:
    assert mutation.proven({"verdict": "equivalent", "replay": _evidence([])}) == "equivalent"
    assert mutation.proven({"verdict": "equivalent", "replay": _evidence(["op:body.x"])}) is None
    assert mutation.proven({"verdict": "contract_free", "replay": _evidence(["op:body.x"], ["row"])}) == \
        "contract_free"
    assert mutation.proven({"verdict": "contract_free",
                            "replay": _evidence(["op:body.x", "op:status"], ["row"], ["op:status"])}) is None
    assert mutation.proven({"verdict": "equivalent", "replay": {**_evidence([]), "requests": 0}}) is None
    assert mutation.proven({"verdict": "equivalent", "reason": "hand"}) is None


def test_an_empty_run_has_no_score() -> None:
    assert summarise([], {})["score"] is None


def test_a_triage_entry_needs_a_verdict_and_a_gap_its_reason() -> None:
    assert triage_problems({"a": {"verdict": "equivalent", "reason": "order is free"}}) == []
    problems = triage_problems({"a": {"verdict": "fine", "reason": "x"}, "b": {"verdict": "gap", "reason": " "},
                                "c": "equivalent"})
    assert [p.split(":")[0] for p in problems] == ["a", "b", "c"]


def test_the_checked_in_triage_is_well_formed_and_current() -> None:
    """Every entry has a verdict and a reason. An entry whose line has changed since (its mutant is
    no longer made) is stale: a warning here and `stale_triage` in mutation.json, not a failure, so
    that an edit of the server does not break the build before its mutants are run again."""
    root = Path(mutation.__file__).resolve().parents[3]
    triage = mutation.load_triage(root / mutation.engine.DEFAULT_TRIAGE)
    assert triage and triage_problems(triage) == []
    known = {s.id for s in enumerate_mutants(Path(mutation.__file__).resolve().parents[2] / "server")}
    stale = sorted(set(triage) - known)
    if stale:
        warnings.warn(f"stale mutation triage (re-run and re-triage these): {stale}", stacklevel=1)
    assert len(stale) < len(triage), "no triaged mutant exists any more: are the ids still computed the same way?"


def test_the_html_table_shows_every_mutant_and_its_triage() -> None:
    results = [_result("store.py:f:X:1:0", "survived"), _result("store.py:g:<Y>:2:0", "killed")]
    triage = {"store.py:f:X:1:0": {"verdict": "equivalent", "reason": "the order is free"}}
    doc = {"command": "eicontract mutation --sample 2", "wall_s": 1.0, "triage": triage,
           **summarise(results, triage), "results": [asdict(r) for r in results]}
    page = mutation.render_html(doc)
    assert "store.py:f:X:1:0" in page and "&lt;Y&gt;" in page and "the order is free" in page
    assert "standard_score 0.5" in page  # 1 killed of 2: a hand reason takes nothing out


def test_a_kill_keeps_its_evidence(tmp_path: Path) -> None:
    failure = {"test": "t", "violations": [{"clause": "PAGE-TOTAL", "message": "totalCount 3, listing 4"}]}
    clauses = {"PAGE-TOTAL": {"status": "failed", "failures": [failure]}, "PAGE-LIMIT": {"status": "passed"}}
    (tmp_path / "summary.json").write_text(json.dumps({"clauses": clauses}))
    assert mutation.failed_clauses(tmp_path) == (["PAGE-TOTAL"], "totalCount 3, listing 4")
    assert mutation.failed_clauses(tmp_path / "none") == ([], "")


def test_logs_are_read_back_once_per_mutant(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps(asdict(_result("k", "killed"))) + "\n\n")
    lines = [json.dumps(asdict(_result(key, "survived"))) for key in ("k", "s")]
    second.write_text("\n".join(lines))
    results = mutation.read_logs([first, second])
    assert [(r.id, r.outcome) for r in results] == [("k", "killed"), ("s", "survived")]


def test_a_rescore_keeps_only_the_mutants_of_the_code_now(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    logged = [Result(s.id, s.module, s.line, s.operator, s.definition, "killed", 1, 1.0) for s in specs[:3]]
    logged.append(Result("store.py:gone:X:00000000:0", "store.py", 1, "core/X", "gone", "survived", 0, 1.0))
    kept, gone = mutation.current_results(list(reversed(logged)), specs)
    assert [r.id for r in kept] == [s.id for s in specs[:3]] and gone == 1  # the code's order; the stale one out


def test_a_replay_takes_the_gaps_and_with_names_again_any_survivor() -> None:
    """A replay resumes on the gaps; `--only ... --replay-again` may also name a survivor whose
    evidence came from fewer corpora, and never a killed mutant."""
    from eicontract.proof.mutation.command import to_replay

    results = [_result(key, "survived") for key in ("eq", "gap", "new")]
    results.insert(0, _result("k", "killed"))
    triage: dict[str, dict[str, Any]] = {"eq": {"verdict": "equivalent", "reason": "r", "replay": _evidence([])},
                                         "gap": {"verdict": "gap", "reason": "r"}}
    assert to_replay(results, triage, named_again=False) == ["gap", "new"]
    assert to_replay(results, triage, named_again=True) == ["eq", "gap", "new"]


def test_a_gate_seed_names_the_configuration_and_reaches_the_gate() -> None:
    """--gate-seed N: the gate runs with --seed N (the embedded server's data too), after the
    configuration's own flags, and the log's configuration says which seed it ran at."""
    from eicontract.proof.mutation.command import _at_seed

    flags = ("--server-variant", "endindex-exclusive")
    assert _at_seed("variant:endindex-exclusive", flags, None) == ("variant:endindex-exclusive", flags)
    name, at_three = _at_seed("variant:endindex-exclusive", flags, 3)
    assert name == "variant:endindex-exclusive seed 3"
    assert list(at_three) == [*flags, "--seed", "3"]


def test_a_corpus_setup_names_its_gate_configuration() -> None:
    assert configs.of_setup((), "http", 1, 300) == ("clean seed 1", ("--seed", "1"))
    assert configs.of_setup(("order-desc",), "body", 3, 300) == (
        "variant:order-desc error-style:body seed 3",
        ("--server-variant", "order-desc", "--error-style", "body", "--seed", "3"))
    assert configs.of_setup((), "http", 1, 100_000) is None  # the gate is not run at 100k samples


def test_a_gap_runs_again_where_its_replay_showed_the_difference(monkeypatch: Any, tmp_path: Path) -> None:
    """--where-it-shows: each gap under the configuration of each corpus its replay names in
    `unmatched_in` (once per configuration; the 100k corpora left out); a kill there replaces
    the survivor's result, a survival there leaves it."""
    import argparse

    from eicontract.proof.mutation import command
    from eicontract.proof.mutation.corpus import Corpus, ServerSetup, write

    desc = ServerSetup(variants=("order-desc",))
    corpora = {"w": Corpus("w", desc), "q3": Corpus("q3", ServerSetup(seed=3)),
               "big": Corpus("big", ServerSetup(samples=100_000)), "w2": Corpus("w2", desc)}
    paths = []
    for name, one in corpora.items():
        write(one, tmp_path / f"{name}.jsonl")
        paths.append(tmp_path / f"{name}.jsonl")
    ids = {name: one.id for name, one in corpora.items()}
    specs = [mutation.MutantSpec(k, "store.py", "core/AddNot", 0, 1, "f", "x") for k in ("a", "b", "eq")]
    results = [_result(k, "survived") for k in ("a", "b", "eq")]
    entries: dict[str, dict[str, Any]] = {
        "a": {"verdict": "gap", "replay": {"unmatched_in": [ids["w"], ids["big"], ids["w2"], ids["q3"]]}},
        "b": {"verdict": "gap", "replay": {"unmatched_in": [ids["big"]]}},
        "eq": {"verdict": "equivalent", "reason": "r", "replay": _evidence([])}}
    ran: list[tuple[str, str]] = []

    def fake_run(jobs: Any, *args: Any, **kwargs: Any) -> list[Result]:
        ran.extend((spec.id, configuration[0]) for spec, configuration in jobs)
        return [_result(spec.id, "killed" if "seed 3" in configuration[0] else "survived")
                for spec, configuration in jobs]

    monkeypatch.setattr(command, "run_mutants", fake_run)
    args = argparse.Namespace(corpus=paths, report_dir=tmp_path / "reports", workers=1, timeout=None,
                              no_fail_fast=False)
    now = command._where_it_shows(args, results, specs, entries, tmp_path)
    assert ran == [("a", "variant:order-desc seed 1"), ("a", "clean seed 3")]
    assert [r.outcome for r in now] == ["killed", "survived", "survived"]
    assert (tmp_path / "reports" / "where-it-shows.jsonl").is_file()
