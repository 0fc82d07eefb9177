"""eicontract.pytest.hooks through pytester: options -> Settings, --clause, clause outcomes, redaction.

Each run is an in-process pytester run of a tiny test file that uses only `@pytest.mark.clause`
and `expect_no_violations` (never the `target` fixture, which starts a server). The run's Settings
are read back from summary.json, which the plugin writes for any run with clause-marked tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from eicontract.clauses import CLAUSES
from eicontract.http.redact import MASK
from eicontract.server import FAULTS
from eicontract.settings import DEFAULT_SEED

pytestmark = pytest.mark.usefixtures("keep_plugin_globals")

SECRET = "ei_" + "Zq8sEcReT" * 5  # a long key, like a real one

CLAUSE_TESTS = """
import os

import pytest

from eicontract.violations import expect_no_violations
from eicontract.violations import Violation


@pytest.mark.clause("PAGE-LIMIT")
def test_page_limit_holds():
    expect_no_violations([])


@pytest.mark.clause("PAGE-DISJOINT")
def test_pages_overlap():
    expect_no_violations([Violation("PAGE-DISJOINT", "sample 12 on pages 1 and 2", {"id": 12})])


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE")
def test_filter_unsound_only():
    expect_no_violations([Violation("FILTER-SOUND", "sample 3 is too short")])


@pytest.mark.clause("WINDOW-COUNT")
def test_plain_assert_fails():
    assert 1 + 1 == 3, "window arithmetic"


def test_not_a_contract_test():
    pass
"""


class Gate:
    """Runs pytest in-process on one test file with the eicontract plugin."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.reports = pytester.path / "reports"

    def run(self, *args: str, source: str = CLAUSE_TESTS) -> pytest.RunResult:
        self.pytester.makepyfile(test_gate=source)
        return self.pytester.runpytest("--ei-report-dir", str(self.reports), *args)

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.reports / "summary.json").read_text(encoding="utf-8"))
        return data


@pytest.fixture
def gate(pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch) -> Gate:
    return Gate(pytester)


def _usage_error(result: pytest.RunResult) -> str:
    """The one ERROR line of a usage error (and no traceback)."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.lines
    everything = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in everything
    assert "INTERNALERROR" not in everything
    return errors[0]


# --- options: flag > environment > ini ---------------------------------------------------------


def test_defaults_give_the_embedded_server_with_project_1(gate: Gate) -> None:
    gate.run("-k", "page_limit")
    summary = gate.summary()
    assert summary["embedded"] is True
    assert summary["target"] == "embedded reference server"
    assert (summary["project_id"], summary["seed"], summary["profile"]) == (1, DEFAULT_SEED, "quick")
    assert (summary["strictness"], summary["error_style"], summary["server_faults"]) == ("lenient", "http", [])


def test_options_come_from_the_ini_file(gate: Gate) -> None:
    gate.pytester.makeini("[pytest]\nei_project_id = 7\nei_seed = 99\nei_profile = thorough\nei_strictness = strict\n")
    gate.run("-k", "page_limit")
    summary = gate.summary()
    assert (summary["project_id"], summary["seed"], summary["profile"], summary["strictness"]) == (
        7, 99, "thorough", "strict")


def test_the_environment_beats_the_ini_file(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    gate.pytester.makeini("[pytest]\nei_project_id = 7\nei_profile = quick\n")
    clean_env.setenv("EI_PROJECT_ID", "8")
    clean_env.setenv("EI_PROFILE", "thorough")
    gate.run("-k", "page_limit")
    assert (gate.summary()["project_id"], gate.summary()["profile"]) == (8, "thorough")


def test_a_flag_beats_the_environment_and_the_ini_file(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    gate.pytester.makeini("[pytest]\nei_project_id = 7\nei_profile = quick\n")
    clean_env.setenv("EI_PROJECT_ID", "8")
    clean_env.setenv("EI_PROFILE", "quick")
    gate.run("-k", "page_limit", "--ei-project-id", "9", "--ei-profile", "thorough")
    assert (gate.summary()["project_id"], gate.summary()["profile"]) == (9, "thorough")


def test_live_target_key_and_project_come_from_the_environment(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    gate.pytester.makeini("[pytest]\nei_target = http://ini.example/v1\nei_project_id = 7\n")
    clean_env.setenv("EI_API_URL", "https://env.example/v1/")
    clean_env.setenv("EI_API_KEY", SECRET)
    clean_env.setenv("EI_PROJECT_ID", "12")
    gate.run("-k", "page_limit")
    summary = gate.summary()
    assert summary["embedded"] is False
    assert summary["target"] == "https://env.example/v1"  # the trailing slash is dropped
    assert summary["project_id"] == 12
    assert summary["error_style"] is None


def test_a_target_flag_beats_the_environment(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("EI_API_URL", "https://env.example/v1")
    clean_env.setenv("EI_API_KEY", SECRET)
    gate.run("-k", "page_limit", "--ei-target", "http://flag.example/v1", "--ei-project-id", "3")
    assert gate.summary()["target"] == "http://flag.example/v1"


def test_server_faults_are_repeatable_and_comma_separated(gate: Gate) -> None:
    first, second, third = sorted(FAULTS)[:3]
    gate.run("-k", "page_limit", "--ei-server-fault", f"{first}, {second}", "--ei-server-fault", third)
    assert gate.summary()["server_faults"] == [first, second, third]


# --- usage errors --------------------------------------------------------------------------------


def test_a_live_target_without_a_key_is_a_usage_error(gate: Gate) -> None:
    line = _usage_error(gate.run("--ei-target", "https://studio.example/v1", "--ei-project-id", "3"))
    assert "API key" in line and "EI_API_KEY" in line


def test_a_live_target_without_a_project_id_is_a_usage_error(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("EI_API_KEY", SECRET)
    line = _usage_error(gate.run("--ei-target", "https://studio.example/v1"))
    assert "project id" in line and "EI_PROJECT_ID" in line


@pytest.mark.parametrize("target", ["ftp://studio.example/v1", "studio.example/v1", "file:///etc/passwd"])
def test_a_target_that_is_not_http_is_a_usage_error(gate: Gate, target: str) -> None:
    line = _usage_error(gate.run("--ei-target", target, "--ei-project-id", "3", "--ei-api-key", SECRET))
    assert "--ei-target" in line and "http" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--ei-profile", "nightly"), ("--ei-profile", "quick", "thorough", "nightly")),
        (("--ei-strictness", "paranoid"), ("--ei-strictness", "paranoid")),
        (("--ei-project-id", "abc"), ("--ei-project-id", "number", "abc")),
        (("--ei-seed", "1.5"), ("--ei-seed", "number")),
    ],
    ids=["profile", "strictness", "project-id", "seed"],
)
def test_a_bad_option_value_is_a_one_line_usage_error(
    gate: Gate, args: tuple[str, str], words: tuple[str, ...]
) -> None:
    line = _usage_error(gate.run(*args))
    for word in words:
        assert word in line


def test_a_bad_profile_from_the_environment_is_a_usage_error(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("EI_PROFILE", "slow")
    assert "--ei-profile" in _usage_error(gate.run())


def test_usage_errors_never_show_the_key(gate: Gate) -> None:
    result = gate.run("--ei-target", "ftp://x", "--ei-api-key", SECRET, "--ei-project-id", "1")
    _usage_error(result)
    assert SECRET not in result.stdout.str() + result.stderr.str()


# --- --clause --------------------------------------------------------------------------------------


def test_clause_keeps_only_the_tests_marked_with_that_clause(gate: Gate) -> None:
    result = gate.run("--ei-clause", "PAGE-LIMIT")
    result.assert_outcomes(passed=1, deselected=4)


def test_clause_ids_are_repeatable_and_comma_separated(gate: Gate) -> None:
    result = gate.run("--ei-clause", "PAGE-LIMIT,FILTER-COMPLETE", "--ei-clause", "WINDOW-COUNT")
    result.assert_outcomes(passed=1, failed=2, deselected=2)
    result.stdout.fnmatch_lines(["*test_filter_unsound_only*", "*test_plain_assert_fails*"])


def test_an_unknown_clause_id_is_a_usage_error(gate: Gate) -> None:
    line = _usage_error(gate.run("--ei-clause", "PAGE-LIMIT,PAGE-LIMITS"))
    assert "PAGE-LIMITS" in line


@pytest.mark.parametrize(("flag", "name"), [("--ei-server-fault", "no-such-fault"),
                                           ("--ei-server-variant", "no-such-variant")], ids=["fault", "variant"])
def test_an_unknown_fault_or_variant_is_a_usage_error_before_any_test(gate: Gate, flag: str, name: str) -> None:
    result = gate.run(flag, name)
    assert name in _usage_error(result)
    assert "passed" not in result.stdout.str() and not gate.reports.exists()


def test_a_report_dir_that_is_a_file_is_a_usage_error_before_any_test(gate: Gate) -> None:
    (gate.pytester.path / "taken").write_text("a file")
    result = gate.run("--ei-report-dir", str(gate.pytester.path / "taken"))
    assert "is a file" in _usage_error(result)
    assert "passed" not in result.stdout.str()


def test_a_key_that_is_not_printable_ascii_is_a_usage_error(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("EI_API_KEY", SECRET[:5] + "\n" + SECRET[5:])  # around the key it would be stripped
    result = gate.run()
    assert "printable ASCII" in _usage_error(result)
    assert SECRET not in result.stdout.str() + result.stderr.str()


def test_without_clause_every_test_runs(gate: Gate) -> None:
    gate.run().assert_outcomes(passed=2, failed=3)


# --- clause outcomes in summary.json ------------------------------------------------------------------


def test_clause_outcomes_follow_the_tests(gate: Gate) -> None:
    result = gate.run()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    summary = gate.summary()
    clauses = summary["clauses"]
    assert summary["verdict"] == "fail"
    assert set(clauses) == set(CLAUSES)
    assert clauses["PAGE-LIMIT"]["status"] == "passed"
    assert clauses["PAGE-DISJOINT"]["status"] == "failed"
    assert clauses["WINDOW-COUNT"]["status"] == "failed"
    # a violation names the clause that broke: the other clause of the test held
    assert clauses["FILTER-SOUND"]["status"] == "failed"
    assert clauses["FILTER-COMPLETE"]["status"] == "passed"
    assert clauses["JOB-COMPLETES"]["status"] == "not run"
    assert summary["counts"] == {"passed": 2, "failed": 3, "not run": len(CLAUSES) - 5, "known": 0}


def test_a_failure_record_names_the_test_and_the_violation(gate: Gate) -> None:
    gate.run()
    (record,) = gate.summary()["clauses"]["PAGE-DISJOINT"]["failures"]
    assert record["test"] == "test_gate.py::test_pages_overlap"
    assert record["violations"] == [{"clause": "PAGE-DISJOINT", "message": "sample 12 on pages 1 and 2",
                                     "evidence": {"id": 12}}]
    assert record["reproduce"] == []  # no client ran in this session


def test_a_plain_assertion_failure_keeps_its_detail(gate: Gate) -> None:
    gate.run()
    (record,) = gate.summary()["clauses"]["WINDOW-COUNT"]["failures"]
    assert record["violations"] == []
    assert "window arithmetic" in record["detail"]


def test_a_passing_run_says_pass_and_writes_both_reports(gate: Gate) -> None:
    result = gate.run("--ei-clause", "PAGE-LIMIT")
    assert result.ret == pytest.ExitCode.OK
    assert gate.summary()["verdict"] == "pass"
    assert (gate.reports / "report.html").is_file()
    result.stdout.fnmatch_lines(["eicontract reports: *summary.json, *report.html"])


def test_a_run_without_clause_tests_writes_no_report(gate: Gate) -> None:
    gate.run("-k", "not_a_contract")
    assert not gate.reports.exists()


# --- the key never reaches JUnit XML, the reports or the terminal --------------------------------------

LEAKY_TESTS = """
import os

import pytest

from eicontract.violations import expect_no_violations
from eicontract.violations import Violation


@pytest.mark.clause("AUTH-REJECT")
def test_violation_quotes_the_key():
    key = os.environ["EI_API_KEY"]
    print("captured stdout:", key)
    expect_no_violations([Violation("AUTH-REJECT", f"the server echoed {key}", {"body": {"error": key}})])


@pytest.mark.clause("ENVELOPE-ERROR")
def test_assertion_quotes_the_key():
    key = os.environ["EI_API_KEY"]
    assert key == "something else", f"message with {key}"


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup saw " + os.environ["EI_API_KEY"])


@pytest.mark.clause("JOB-UNKNOWN")
def test_setup_quotes_the_key(broken_setup):
    pass
"""


def _leaky_run(gate: Gate, clean_env: pytest.MonkeyPatch) -> tuple[pytest.RunResult, Path]:
    clean_env.setenv("EI_API_KEY", SECRET)
    junit = gate.pytester.path / "junit.xml"
    # --tb=short: the gate hides tracebacks by default; asked for, they are masked too
    result = gate.run(f"--junitxml={junit}", "-o", "junit_logging=all", "-rA", "--tb=short", source=LEAKY_TESTS)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    return result, junit


def test_the_key_never_reaches_junit_xml(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    _, junit = _leaky_run(gate, clean_env)
    xml = junit.read_text(encoding="utf-8")
    assert SECRET not in xml
    assert xml.count("<failure") == 2 and xml.count("<error") == 1
    assert MASK in xml  # the failure text is there, masked


def test_the_key_never_reaches_the_summary_or_the_html_report(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    _leaky_run(gate, clean_env)
    summary_text = (gate.reports / "summary.json").read_text(encoding="utf-8")
    html = (gate.reports / "report.html").read_text(encoding="utf-8")
    assert SECRET not in summary_text
    assert SECRET not in html
    clauses = gate.summary()["clauses"]
    (record,) = clauses["AUTH-REJECT"]["failures"]
    assert record["violations"][0]["message"] == f"the server echoed {MASK}"
    assert record["violations"][0]["evidence"] == {"body": {"error": MASK}}
    assert clauses["JOB-UNKNOWN"]["status"] == "failed"
    assert MASK in clauses["ENVELOPE-ERROR"]["failures"][0]["detail"]


def test_the_key_never_reaches_the_terminal(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    result, _ = _leaky_run(gate, clean_env)
    assert SECRET not in result.stdout.str()
    assert SECRET not in result.stderr.str()
    assert f"message with {MASK}" in result.stdout.str()


def test_the_key_in_a_collection_error_never_reaches_junit_xml(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("EI_API_KEY", SECRET)
    gate.pytester.makepyfile(
        test_broken_module="import os\nraise RuntimeError('import saw ' + os.environ['EI_API_KEY'])\n")
    junit = gate.pytester.path / "junit.xml"
    result = gate.run(f"--junitxml={junit}")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # collection errors stop the run
    assert SECRET not in junit.read_text(encoding="utf-8")


def test_the_failure_message_is_the_violation_not_the_traceback(gate: Gate) -> None:
    junit = gate.pytester.path / "junit.xml"
    result = gate.run("-k", "pages_overlap", f"--junitxml={junit}")
    failure = ElementTree.parse(junit).find(".//failure")
    assert failure is not None
    message = failure.get("message", "")
    assert "[PAGE-DISJOINT] sample 12 on pages 1 and 2" in message
    assert "test_gate.py:" not in message  # the message, not the traceback
    # the summary line is cut at the terminal width, so match the start of the exception name
    result.stdout.fnmatch_lines(["FAILED test_gate.py::test_pages_overlap - *ContractViola*"])


# --- skipped clause tests --------------------------------------------------------------------------

SKIPPING_TESTS = """
import pytest


@pytest.mark.clause("LABELS-TRUNCATE")
def test_skips():
    pytest.skip("the target lists no multi-label sample")


@pytest.mark.clause("PAGE-LIMIT")
def test_passes():
    pass
"""


def test_a_skipped_clause_test_leaves_its_clause_not_run(gate: Gate) -> None:
    result = gate.run(source=SKIPPING_TESTS)
    result.assert_outcomes(passed=1, skipped=1)
    assert gate.summary()["clauses"]["LABELS-TRUNCATE"]["status"] == "not run"


def test_a_skipped_clause_test_is_written_to_junit_as_skipped(gate: Gate) -> None:
    junit = gate.pytester.path / "junit.xml"
    result = gate.run(f"--junitxml={junit}", source=SKIPPING_TESTS)
    assert result.ret == pytest.ExitCode.OK
    assert "<skipped" in junit.read_text(encoding="utf-8")


def test_the_skip_summary_lists_a_skipped_clause_test(gate: Gate) -> None:
    result = gate.run("-rs", source=SKIPPING_TESTS)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["SKIPPED *the target lists no multi-label sample*"])
