"""The kill-matrix bookkeeping: what counts as caught, missed and a false alarm."""

from __future__ import annotations

from eicontract.proof.killmatrix import (
    DEEP_SAMPLES,
    Mutant,
    Row,
    catalogue,
    format_seed_table,
    format_table,
    matrix_document,
)
from eicontract.reporting.html import render_kill_matrix_page


def _fault(caught_by: list[str], exit_code: int = 1, catch: float | None = 1.5) -> Row:
    return Row("page-skip", "fault", "PAGE-COMPLETE", "offset+1", exit_code, caught_by, catch)


def test_a_fault_is_caught_only_on_its_own_clause() -> None:
    assert _fault(["PAGE-COMPLETE", "PAGE-TOTAL"]).ok
    assert not _fault(["PAGE-TOTAL"]).ok  # caught, but not by the clause it breaks
    assert not _fault(["PAGE-COMPLETE"], exit_code=2).ok  # the harness could not run


def test_a_legal_variant_passes_only_on_a_clean_exit() -> None:
    assert Row("order-desc", "legal", None, "", 0).ok
    assert not Row("order-desc", "legal", None, "", 1, ["PAGE-STABLE"]).ok
    assert not Row("order-desc", "legal", None, "", 2).ok


def test_the_document_counts_misses_false_alarms_and_the_median_catch() -> None:
    rows = [_fault(["PAGE-COMPLETE"], catch=1.0), _fault(["PAGE-COMPLETE"], catch=3.0), _fault([], exit_code=0),
            Row("order-desc", "legal", None, "", 1, ["PAGE-STABLE"]), Row("reference", "legal", None, "", 0)]
    doc = matrix_document(rows, 12.3456, "eicontract mutants")
    assert (doc["faults"], doc["caught"], doc["legal_variants"]) == (3, 2, 2)
    assert doc["missed"] == ["page-skip"] and doc["false_alarms"] == ["order-desc"]
    assert doc["median_time_to_catch_s"] == 2.0 and doc["wall_s"] == 12.35 and doc["verdict"] == "fail"
    assert [r["ok"] for r in doc["rows"]] == [True, True, False, False, True]


def test_the_table_names_every_verdict() -> None:
    table = format_table([_fault(["PAGE-COMPLETE"]), _fault([], exit_code=0),
                          Row("order-desc", "legal", None, "", 1, ["PAGE-STABLE"])])
    assert "caught" in table and "MISSED" in table and "FALSE ALARM" in table


def test_the_catalogue_holds_every_fault_and_the_baselines() -> None:
    from eicontract.server import FAULTS
    from eicontract.server.faults import DEEP_FAULTS

    mutants = catalogue()
    assert {m.name for m in mutants if m.kind == "fault"} == set(FAULTS) | {f.name for f in DEEP_FAULTS}
    deep = [m for m in mutants if m.name in {f.name for f in DEEP_FAULTS}]
    assert deep and all(m.args[-2:] == ("--server-samples", str(DEEP_SAMPLES)) for m in deep)
    assert {"reference", "error-style-body"} <= {m.name for m in mutants if m.kind == "legal"}
    assert all(isinstance(m, Mutant) and (m.clause is None) == (m.kind == "legal") for m in mutants)


def _at(seed: int, exit_code: int, caught_by: list[str], name: str = "page-skip", clause: str = "PAGE-COMPLETE") -> Row:
    return Row(name, "fault", clause, "", exit_code, caught_by, 1.0, seed=seed)


def test_a_fault_caught_at_some_seeds_only_is_a_flaky_catch() -> None:
    rows = [_at(1, 1, ["PAGE-COMPLETE"]), _at(2, 0, []), _at(3, 1, ["PAGE-COMPLETE"]),
            _at(1, 1, ["PAGE-LIMIT"], "limit-plus-one", "PAGE-LIMIT"),
            _at(2, 1, ["PAGE-LIMIT"], "limit-plus-one", "PAGE-LIMIT"),
            Row("order-desc", "legal", None, "", 0, seed=1), Row("order-desc", "legal", None, "", 1, ["X"], seed=2)]
    doc = matrix_document(rows, 1.0, "eicontract mutants --seeds 3")
    verdicts = {s["name"]: s for s in doc["per_server"]}
    assert verdicts["page-skip"]["verdict"] == "flaky: caught at 2 of 3 seeds"
    assert (verdicts["page-skip"]["ok_at"], verdicts["page-skip"]["not_ok_at"]) == ([1, 3], [2])
    assert verdicts["limit-plus-one"]["verdict"] == "caught"
    assert verdicts["order-desc"]["verdict"] == "flaky: passes at 1 of 2 seeds"
    assert doc["flaky"] == ["page-skip", "order-desc"] and doc["seeds"] == [1, 2, 3]
    assert doc["missed"] == ["page-skip"] and doc["false_alarms"] == ["order-desc"] and doc["verdict"] == "fail"
    table = format_seed_table(doc)
    assert "2 of 3" in table and "not at seeds 2" in table
    assert "page-skip@2" in format_table(rows) and "page-skip@" not in format_table(rows[:1])
    assert "Verdict per seed" in render_kill_matrix_page(doc)
    one_seed = matrix_document(rows[:1], 1, "")
    assert "Verdict per seed" not in render_kill_matrix_page(one_seed)  # one seed: the usual page only


def test_a_fault_missed_at_every_seed_is_missed_not_flaky() -> None:
    doc = matrix_document([_at(1, 0, []), _at(2, 2, [])], 1.0, "")
    assert doc["per_server"][0]["verdict"] == "missed" and doc["flaky"] == []
