"""`eicontract run --baseline`, end to end against the embedded server.

A baseline that flapped would be switched off: the same unchanged server, run again at the same
seed and at another one, changes no reading and fails no new clause (exit 0 with
--fail-on-change). A server with other readings (the inclusive-bounds variant) against a
baseline from the reference server exits 1 with --fail-on-change and names each changed topic.
Four gate runs in all; the filter-only run keeps the variant's cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.selftest.gate import GateRun, run_gate

pytestmark = pytest.mark.xdist_group("baseline")
# the topics whose reading inclusive-bounds changes (strict > / < on the reference server)
BOUND_TOPICS = {f"filter:{name}" for name in ("minLength", "maxLength", "minFrequency", "maxFrequency",
                                              "minDate", "maxDate")}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    run = run_gate(tmp_path_factory.mktemp("night-1"), "--no-shrink")
    assert run.exit_code == 0, run.explain()
    return run


def _section(run: GateRun) -> dict[str, Any]:
    section: dict[str, Any] = run.summary["baseline"]
    return section


@pytest.mark.parametrize("seed", [[], ["--seed", "2"]], ids=["same-seed", "another-seed"])
def test_the_same_server_changes_nothing_run_after_run(baseline: GateRun, tmp_path: Path, seed: list[str]) -> None:
    run = run_gate(tmp_path, "--no-shrink", "--baseline", str(baseline.report_dir), "--fail-on-change", *seed)
    assert run.exit_code == 0, run.explain()
    section = _section(run)
    assert section["changed_readings"] == [], section
    assert section["new_failures"] == [], section
    decided = {t for t, row in run.summary["readings"].items() if row["reading"] != "undecided"}
    assert BOUND_TOPICS & decided, "the run decided no bound reading: the comparison proved nothing"
    assert run.summary["jobs"]["finished"] > 0 and run.summary["listing"]["size"] > 0


def test_other_readings_fail_the_run_with_fail_on_change_and_name_each_topic(baseline: GateRun,
                                                                             tmp_path: Path) -> None:
    run = run_gate(tmp_path, "--no-shrink", "--server-variant", "inclusive-bounds", "--clause", "FILTER-SOUND",
                   "--baseline", str(baseline.report_dir / "summary.json"), "--fail-on-change")
    assert run.exit_code == 1, run.explain()
    assert run.summary["verdict"] == "pass"  # the variant is legal: exit 1 is the change alone
    changed = {c["topic"]: c for c in _section(run)["changed_readings"]}
    expected = {t for t in BOUND_TOPICS
                if baseline.summary["readings"].get(t, {}).get("reading", "undecided") != "undecided"
                and run.summary["readings"].get(t, {}).get("reading", "undecided") != "undecided"}
    assert expected and set(changed) == expected, (expected, changed)
    for topic, change in changed.items():
        assert change["was"].startswith("strict") and change["now"].startswith("inclusive"), change
        assert f"{topic}: {change['was']} -> {change['now']}" in run.stdout
    assert _section(run)["new_failures"] == []  # clauses this run did not reach are not failures
    assert "the target changed since the baseline" in run.stdout
