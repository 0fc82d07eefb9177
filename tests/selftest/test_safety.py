"""Live-target safety, end to end: the gate as a user runs it, against the embedded server.

A gateway's 429s are retried and the run still passes; only the three documented operations
reach the target, schemathesis' probes included. A spent budget or a passed deadline ends the
run with exit 2 and complete reports (never a traceback); `--record` keeps the answers for
drift, without the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from eicontract.http.guard import operation_of, path_under
from eicontract.server import RunningServer, ServerConfig, start_in_thread
from eicontract.server.chaos import ChaosConfig, ChaosProxy
from eicontract.server.config import DEFAULT_API_KEY
from tests.selftest.gate import GateRun, run_gate

pytestmark = pytest.mark.xdist_group("safety")
SECRET = "ei_" + "SaFeTyKeY7" * 5


def _assert_clean_stop(run: GateRun, reason: str) -> None:
    assert run.exit_code == 2, run.explain()
    for name in ("summary.json", "junit.xml", "report.html"):
        assert (run.report_dir / name).is_file(), name
    assert any(reason in note for note in run.summary["notes"]), run.summary["notes"]
    assert reason in run.stdout + run.stderr
    assert "Traceback (most recent call last)" not in run.stdout + run.stderr
    assert run.summary["counts"]["failed"] == 0  # a stop is not a violation


def test_a_spent_budget_ends_the_run_cleanly(tmp_path: Path) -> None:
    run = run_gate(tmp_path, "--max-requests", "40", "--no-shrink")
    _assert_clean_stop(run, "budget of 40 is spent")
    assert run.summary["requests"]["sent"] == 40


def test_a_passed_run_deadline_ends_the_run_cleanly(tmp_path: Path) -> None:
    run = run_gate(tmp_path, "--run-deadline", "2", "--no-shrink")  # the quick gate needs ~20 s
    _assert_clean_stop(run, "run deadline of 2 s passed")


def test_a_listing_longer_than_max_listing_is_judged_on_samples(tmp_path: Path) -> None:
    """--max-listing bounds only the thorough profile's whole-listing reads: never an exit 2."""
    run = run_gate(tmp_path, "--profile", "thorough", "--max-listing", "150", "--no-shrink",
                   "--clause", "PAGE-COMPLETE")  # the embedded server lists 250
    assert run.exit_code == 0, run.explain()
    assert any("more than --max-listing 150" in note for note in run.summary["notes"])


def test_record_keeps_the_answers_of_every_operation_without_the_key(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    run = run_gate(tmp_path / "reports", "--record", str(recorded), "--clause", "JOB-STATUS-ID",
                   "--clause", "PAGE-LIMIT", "--clause", "SCHEMA-RESPONSE", env={"EI_API_KEY": SECRET})
    assert run.exit_code == 0, run.explain()
    text = (recorded / "exchanges.jsonl").read_text(encoding="utf-8")
    assert SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]
    operations = {line["operationId"] for line in lines}
    assert operations == {"getClassifyJobResultPage", "classifySampleByLearnBlockV2", "getJobStatus"}
    assert all(set(line) == {"operationId", "method", "path", "query", "status", "body"} for line in lines)
    manifest = json.loads((recorded / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["recorded"] == len(lines) and manifest["project_id"] == 1


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    with start_in_thread(ServerConfig(job_seconds=0.1)) as running:
        yield running


def _gate_through(proxy: ChaosProxy, report_dir: Path, *args: str) -> GateRun:
    return run_gate(report_dir, "--target", proxy.url, "--project-id", "1", "--rps", "0", "--no-shrink", *args,
                    env={"EI_API_KEY": DEFAULT_API_KEY})


THREE_OPERATIONS = ("--clause", "PAGE-LIMIT", "--clause", "JOB-STATUS-ID", "--clause", "SCHEMA-NEGATIVE")


def test_a_gateways_429s_are_retried_and_the_run_passes(upstream: RunningServer, tmp_path: Path) -> None:
    with ChaosProxy(upstream.url, ChaosConfig(mode="throttle")) as proxy:
        run = _gate_through(proxy, tmp_path, *THREE_OPERATIONS)
    assert run.exit_code == 0, run.explain()
    traffic = run.summary["requests"]
    assert traffic["retried_429"] == proxy.misbehaved > 0  # every 429 retried, by the client and schemathesis
    assert traffic["sent"] == proxy.seen


def test_only_the_three_documented_operations_reach_the_target(upstream: RunningServer, tmp_path: Path) -> None:
    """The thorough profile runs schemathesis' coverage phase, which probes undocumented methods."""
    with ChaosProxy(upstream.url, ChaosConfig(mode="pass")) as proxy:
        run = _gate_through(proxy, tmp_path, "--profile", "thorough", "--clause", "SCHEMA-NEGATIVE",
                            "--clause", "SCHEMA-RESPONSE")
    assert run.exit_code == 0, run.explain()
    called = {(method, path_under(proxy.url, path)) for method, path in proxy.requests}
    undocumented = sorted(call for call in called if operation_of(*call) is None)
    assert not undocumented, f"undocumented calls reached the target: {undocumented[:5]}"
    assert {operation_of(*call) for call in called} == {"getClassifyJobResultPage", "getJobStatus",
                                                        "classifySampleByLearnBlockV2"}
