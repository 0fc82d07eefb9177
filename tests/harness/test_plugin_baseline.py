"""--baseline and --fail-on-change in the plugin, in-process on a small clause-test file: the
baseline is read before the run (a bad one is a one-line usage error), the summary gains its
section, and only --fail-on-change turns a change into exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("keep_plugin_globals", "clean_env")

TESTS = """
import pytest

from eicontract.violations import Observation, Violation, expect_no_violations


@pytest.mark.clause("PAGE-LIMIT")
def test_page_limit_holds(observe):
    observe([Observation("filter:minLength", "inclusive (>=)", "minLength=5 kept a 5 ms sample")])


@pytest.mark.clause("PAGE-DISJOINT")
def test_pages_overlap():
    expect_no_violations([Violation("PAGE-DISJOINT", "sample 12 on pages 1 and 2")])
"""


def baseline(folder: Path, reading: str = "strict (>)", disjoint: str = "passed") -> Path:
    folder.mkdir(exist_ok=True)
    summary = {"tool": "eicontract", "verdict": "pass", "exit_status": 0, "embedded": True,
               "clauses": {"PAGE-LIMIT": {"status": "passed"}, "PAGE-DISJOINT": {"status": disjoint}},
               "readings": {"filter:minLength": {"reading": reading, "decided_by": 2, "inconclusive": 0,
                                                 "example": "minLength=5"}}}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makepyfile(test_gate=TESTS)
    reports = pytester.path / "reports"
    result = pytester.runpytest("--ei-report-dir", str(reports), *args)
    summary = json.loads((reports / "summary.json").read_text(encoding="utf-8")) if reports.is_dir() else {}
    return result, summary


def test_without_fail_on_change_a_changed_reading_keeps_the_verdicts_exit(pytester: pytest.Pytester) -> None:
    result, summary = run(pytester, "--ei-clause", "PAGE-LIMIT", "--ei-baseline", str(baseline(pytester.path / "b")))
    assert result.ret == pytest.ExitCode.OK
    assert [c["topic"] for c in summary["baseline"]["changed_readings"]] == ["filter:minLength"]
    result.stdout.fnmatch_lines(["*filter:minLength: strict (>) -> inclusive (>=)*"])


def test_fail_on_change_turns_a_changed_reading_into_exit_1(pytester: pytest.Pytester) -> None:
    result, summary = run(pytester, "--ei-clause", "PAGE-LIMIT", "--ei-baseline", str(baseline(pytester.path / "b")),
                          "--ei-fail-on-change")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert summary["verdict"] == "pass" and summary["exit_status"] == 0


def test_fail_on_change_passes_a_run_that_changed_nothing(pytester: pytest.Pytester) -> None:
    same = baseline(pytester.path / "b", reading="inclusive (>=)")
    result, summary = run(pytester, "--ei-clause", "PAGE-LIMIT", "--ei-baseline", str(same), "--ei-fail-on-change")
    assert result.ret == pytest.ExitCode.OK
    assert summary["baseline"]["changed_readings"] == summary["baseline"]["new_failures"] == []


def test_a_new_failure_is_listed_and_a_failing_run_keeps_exit_1(pytester: pytest.Pytester) -> None:
    result, summary = run(pytester, "--ei-baseline", str(baseline(pytester.path / "b", reading="inclusive (>=)")),
                          "--ei-fail-on-change")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert summary["baseline"]["new_failures"] == ["PAGE-DISJOINT"]


def test_the_baseline_is_read_before_the_run_so_its_own_folder_can_take_the_new_report(
        pytester: pytest.Pytester) -> None:
    folder = baseline(pytester.path / "reports")  # --baseline reports --report-dir reports
    result, summary = run(pytester, "--ei-clause", "PAGE-LIMIT", "--ei-baseline", str(folder))
    assert result.ret == pytest.ExitCode.OK
    assert summary["baseline"]["changed_readings"][0]["was"] == "strict (>)"


@pytest.mark.parametrize(("args", "words"), [
    (("--ei-fail-on-change",), ("--fail-on-change/--ei-fail-on-change needs --baseline",)),
    (("--ei-baseline", "nowhere/summary.json"), ("--ei-baseline:", "cannot read")),
], ids=["fail-on-change-alone", "missing-baseline"])
def test_bad_baseline_options_are_one_line_usage_errors(pytester: pytest.Pytester, args: tuple[str, ...],
                                                        words: tuple[str, ...]) -> None:
    result, _ = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1 and all(word in errors[0] for word in words), result.stderr.lines
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
