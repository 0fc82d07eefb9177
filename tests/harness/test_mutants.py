"""The kill-matrix bookkeeping: what counts as caught, missed and a false alarm."""

from __future__ import annotations

from eicontract.mutants import Mutant, Row, catalogue, format_table, matrix_document


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

    mutants = catalogue()
    assert {m.name for m in mutants if m.kind == "fault"} == set(FAULTS)
    assert {"reference", "error-style-body"} <= {m.name for m in mutants if m.kind == "legal"}
    assert all(isinstance(m, Mutant) and (m.clause is None) == (m.kind == "legal") for m in mutants)
