"""The gate is trustworthy: it passes a server that keeps the contract (in both failure
conventions), and a server that breaks exactly one clause is caught on that clause."""

from __future__ import annotations

from pathlib import Path

import pytest

from eicontract.clauses import CLAUSES
from eicontract.server import FAULTS
from tests.selftest.gate import run_gate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("error_style", ["http", "body"])
def test_a_correct_server_passes_every_clause(tmp_path: Path, error_style: str) -> None:
    run = run_gate(tmp_path, "--error-style", error_style)
    assert run.exit_code == 0, run.explain()
    statuses = {cid: c["status"] for cid, c in run.summary["clauses"].items()}
    assert statuses == dict.fromkeys(CLAUSES, "passed"), run.explain()
    assert run.summary["verdict"] == "pass"
    assert (tmp_path / "junit.xml").is_file() and (tmp_path / "report.html").is_file()


def test_every_clause_has_a_fault_that_breaks_it() -> None:
    assert {fault.clause for fault in FAULTS.values()} >= set(CLAUSES)


@pytest.mark.parametrize("fault", sorted(FAULTS), ids=sorted(FAULTS))
def test_a_fault_is_caught_on_its_clause(tmp_path: Path, fault: str) -> None:
    clause_id = FAULTS[fault].clause
    run = run_gate(tmp_path, "--server-fault", fault, "--clause", clause_id)
    assert run.exit_code == 1, run.explain()
    assert run.status(clause_id) == "failed", f"{fault} breaks {clause_id}: {run.failed_clauses()}\n{run.explain()}"
    failure = run.summary["clauses"][clause_id]["failures"][0]
    assert failure["violations"] or failure["detail"], "a failure must carry its evidence"


SECRET = "ei_selftest_secret_" + "k3y9" * 10


def test_the_key_never_reaches_an_artefact(tmp_path: Path) -> None:
    """The server echoes the key in every failure body and breaks paging too, so the key flows
    through failing properties, schemathesis, reproductions and hypothesis' examples."""
    reports = tmp_path / "reports"
    run = run_gate(reports, "--server-fault", "key-echoed", "--server-fault", "limit-plus-one",
                   "--clause", "SECRET-ECHO", "--clause", "PAGE-LIMIT", "--clause", "SCHEMA-NEGATIVE",
                   env={"EI_API_KEY": SECRET})
    assert run.exit_code == 1, run.explain()
    assert run.status("SECRET-ECHO") == "failed" and run.status("PAGE-LIMIT") == "failed"
    artefacts = {p.name: p.read_text(errors="replace") for p in reports.iterdir() if p.is_file()}
    assert {"junit.xml", "summary.json", "report.html"} <= set(artefacts)
    artefacts.update(stdout=run.stdout, stderr=run.stderr)
    for part in (SECRET, SECRET[:20], SECRET[-20:]):
        leaks = [name for name, text in artefacts.items() if part in text]
        assert not leaks, f"the key (or part of it) is in {leaks}"
    # the key did flow through the run: the server's echo of it was seen and reported
    assert "SECRET-ECHO" in artefacts["junit.xml"] and "request key" not in artefacts["summary.json"]
