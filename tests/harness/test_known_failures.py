"""--known-failures: the pure classification (eicontract.reporting.known), the plugin applying it
(pytester, in-process, on a small clause-test file), and `eicontract run` refusing a bad file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eicontract import cli
from eicontract.reporting import known
from eicontract.reporting.known import Case, Entry, KnownFailuresError

TODAY = date(2026, 12, 6)
FUTURE, PAST = "2099-01-01", "2020-01-01"


def entry(clause: str = "PAGE-DISJOINT", *, match: str | None = "pages 1 and 2", regex: str | None = None,
          expires: date = date(2099, 1, 1), index: int = 1) -> Entry:
    return Entry(index, clause, "vendor ticket 4711", expires, match=None if regex else match, regex=regex)


# --- the file ---------------------------------------------------------------------------------------


def test_a_valid_file_gives_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "known.yaml"
    path.write_text("- clause: PAGE-LIMIT\n  match: 'limit=0'\n  reason: ticket 1\n  expires: 2027-03-31\n"
                    "- clause: FILTER-SOUND\n  regex: 'minLength=\\d+'\n  reason: ticket 2\n  expires: '2027-04-01'\n")
    first, second = known.load(path)
    assert (first.clause, first.match, first.expires, first.index) == ("PAGE-LIMIT", "limit=0", date(2027, 3, 31), 1)
    assert (second.regex, second.expires, second.index) == (r"minLength=\d+", date(2027, 4, 1), 2)


@pytest.mark.parametrize(("document", "words"), [
    ({"clause": "PAGE-LIMIT"}, ("YAML list",)),
    ([{"clause": "PAGE-LIMIT", "match": "x", "reason": "r"}], ("entry 1", "missing expires")),
    ([{"clause": "PAGE-LIMITS", "match": "x", "reason": "r", "expires": FUTURE}], ("unknown clause", "PAGE-LIMITS")),
    ([{"clause": "PAGE-LIMIT", "reason": "r", "expires": FUTURE}], ("exactly one of match",)),
    ([{"clause": "PAGE-LIMIT", "match": "x", "regex": "y", "reason": "r", "expires": FUTURE}], ("exactly one",)),
    ([{"clause": "PAGE-LIMIT", "regex": "(", "reason": "r", "expires": FUTURE}], ("regex does not compile",)),
    ([{"clause": "PAGE-LIMIT", "match": "x", "reason": " ", "expires": FUTURE}], ("reason",)),
    ([{"clause": "PAGE-LIMIT", "match": "x", "reason": "r", "expires": "next spring"}], ("ISO date", "next spring")),
    ([{"clause": "PAGE-LIMIT", "match": "x", "reason": "r", "expires": FUTURE, "expiry": FUTURE}],
     ("unknown field", "expiry")),
    (["PAGE-LIMIT"], ("entry 1", "mapping")),
], ids=["not-a-list", "no-expiry", "unknown-clause", "no-match", "both", "bad-regex", "no-reason", "bad-date",
        "typo-field", "not-a-mapping"])
def test_a_bad_entry_is_refused_with_one_line(document: Any, words: tuple[str, ...]) -> None:
    with pytest.raises(KnownFailuresError) as error:
        known.parse(document)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(("text", "words"), [
    (None, ("cannot read",)),
    ("- clause: [unclosed\n", ("not valid YAML", "line")),
    ("- clause: PAGE-LIMIT\n  match: x\n  reason: r\n  expires: 2027-02-30\n", ("not valid YAML",)),
], ids=["missing", "invalid-yaml", "impossible-date"])
def test_a_file_that_cannot_be_used_is_refused_with_one_line(tmp_path: Path, text: str | None,
                                                             words: tuple[str, ...]) -> None:
    path = tmp_path / "known.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(KnownFailuresError) as error:
        known.load(path)
    assert str(error.value).startswith(f"--known-failures {path}: ") and "\n" not in str(error.value)
    for word in words:
        assert word in str(error.value)


# --- judging ------------------------------------------------------------------------------------------


def test_a_substring_of_the_message_accepts_the_violation() -> None:
    cases = [Case("PAGE-DISJOINT", "sample 12 on pages 1 and 2")]
    assert known.accepted(cases, [entry()], TODAY) == {"PAGE-DISJOINT": [entry()]}


def test_a_regex_on_the_request_accepts_the_violation() -> None:
    cases = [Case("PAGE-DISJOINT", "overlap", "GET http://h/v1/api/1/classify/all/result/page?limit=0 -> 200")]
    assert known.accepted(cases, [entry(regex=r"limit=0\b")], TODAY) == {"PAGE-DISJOINT": [entry(regex=r"limit=0\b")]}
    assert known.accepted(cases, [entry(regex=r"limit=1\b")], TODAY) == {}


def test_another_clause_or_another_message_is_not_accepted() -> None:
    assert known.accepted([Case("PAGE-LIMIT", "sample 12 on pages 1 and 2")], [entry()], TODAY) == {}
    assert known.accepted([Case("PAGE-DISJOINT", "sample 12 twice")], [entry()], TODAY) == {}


def test_an_expired_entry_accepts_nothing_but_its_last_day_still_does() -> None:
    cases = [Case("PAGE-DISJOINT", "sample 12 on pages 1 and 2")]
    assert known.accepted(cases, [entry(expires=date(2026, 12, 5))], TODAY) == {}
    assert known.accepted(cases, [entry(expires=TODAY)], TODAY) == {"PAGE-DISJOINT": [entry(expires=TODAY)]}


def test_a_clause_with_one_violation_no_entry_accepts_stays_red() -> None:
    cases = [Case("PAGE-DISJOINT", "sample 12 on pages 1 and 2"), Case("PAGE-DISJOINT", "sample 13 twice")]
    assert known.accepted(cases, [entry()], TODAY) == {}


def test_a_failure_without_violations_is_judged_on_its_text() -> None:
    record = {"violations": [], "detail": "AssertionError: window arithmetic", "exchanges": []}
    assert [c.clause for c in known.cases_of(record, ["WINDOW-COUNT", "WINDOW-STRIDE"])] == \
        ["WINDOW-COUNT", "WINDOW-STRIDE"]
    assert known.accepted(known.cases_of(record, ["WINDOW-COUNT"]),
                          [entry("WINDOW-COUNT", match="window arithmetic")], TODAY)


def test_the_section_lists_expired_and_no_longer_failing_entries() -> None:
    accepted, stale, old, elsewhere = (entry(index=1), entry("PAGE-LIMIT", index=2),
                                       entry("PAGE-TOTAL", expires=date(2020, 1, 1), index=3),
                                       entry("JOB-COMPLETES", index=4))
    record = known.known_record("PAGE-DISJOINT", {"test": "t", "violations": [
        {"clause": "PAGE-DISJOINT", "message": "sample 12 on pages 1 and 2"}]}, [accepted])
    statuses = {"PAGE-DISJOINT": "known", "PAGE-LIMIT": "passed", "JOB-COMPLETES": "not run"}
    part = known.section([accepted, stale, old, elsewhere], [record], statuses, TODAY, "k.yaml")
    assert [k["entries"] for k in part["known"]] == [[1]]
    assert [e["entry"] for e in part["expired"]] == [3]
    assert [e["entry"] for e in part["no_longer_failing"]] == [2]  # its clause ran and nothing matched
    assert [e["entry"] for e in part["not_checked"]] == [4]  # its clause did not run: no evidence either way
    lines = known.format_lines(part)
    assert any("expired on 2020-01-01" in line for line in lines)
    assert any("entry 2 (PAGE-LIMIT) is no longer failing" in line for line in lines)


# --- the plugin applies it ---------------------------------------------------------------------------------

FAILING = """
import pytest

from eicontract.violations import Violation, expect_no_violations


@pytest.mark.clause("PAGE-LIMIT")
def test_page_limit_holds():
    expect_no_violations([])


@pytest.mark.clause("PAGE-DISJOINT")
def test_pages_overlap():
    expect_no_violations([Violation("PAGE-DISJOINT", "sample 12 on pages 1 and 2", {"id": 12})])


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE")
def test_filter_unsound():
    expect_no_violations([Violation("FILTER-SOUND", "sample 3 is too short", {"query": "minLength=500"})])
"""

DISJOINT = {"clause": "PAGE-DISJOINT", "match": "pages 1 and 2", "reason": "vendor ticket 4711"}
SOUND = {"clause": "FILTER-SOUND", "regex": "minLength=\\d+", "reason": "vendor ticket 4712"}
LIMIT = {"clause": "PAGE-LIMIT", "match": "anything", "reason": "fixed long ago"}


def _run(pytester: pytest.Pytester, entries: list[dict[str, Any]]) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makepyfile(test_gate=FAILING)
    path = pytester.path / "known.yaml"
    path.write_text(json.dumps(entries))  # JSON is YAML
    result = pytester.runpytest("--ei-report-dir", str(pytester.path / "reports"), "--ei-known-failures", str(path))
    summary = json.loads((pytester.path / "reports" / "summary.json").read_text(encoding="utf-8"))
    return result, summary


@pytest.fixture
def in_process(pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, keep_plugin_globals: None) -> pytest.Pytester:
    return pytester


def test_a_run_whose_every_violation_is_known_passes(in_process: pytest.Pytester) -> None:
    result, summary = _run(in_process, [{**DISJOINT, "expires": FUTURE}, {**SOUND, "expires": FUTURE}])
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, xfailed=2)
    assert summary["verdict"] == "pass"
    clauses = summary["clauses"]
    assert (clauses["PAGE-DISJOINT"]["status"], clauses["FILTER-SOUND"]["status"]) == ("known", "known")
    assert clauses["FILTER-COMPLETE"]["status"] == "passed"
    assert sorted(k["clause"] for k in summary["known_failures"]["known"]) == ["FILTER-SOUND", "PAGE-DISJOINT"]
    result.stdout.fnmatch_lines(["eicontract known failure: PAGE-DISJOINT in *test_pages_overlap (vendor ticket 4711*"])
    html = (in_process.path / "reports" / "report.html").read_text(encoding="utf-8")
    assert "Known failures" in html and "vendor ticket 4712" in html


def test_a_violation_no_entry_accepts_keeps_the_run_red(in_process: pytest.Pytester) -> None:
    result, summary = _run(in_process, [{**DISJOINT, "expires": FUTURE}])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    assert summary["clauses"]["FILTER-SOUND"]["status"] == "failed"
    assert summary["clauses"]["PAGE-DISJOINT"]["status"] == "known"


def test_an_expired_entry_no_longer_accepts_and_is_reported(in_process: pytest.Pytester) -> None:
    result, summary = _run(in_process, [{**DISJOINT, "expires": PAST}, {**SOUND, "expires": FUTURE}])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert summary["clauses"]["PAGE-DISJOINT"]["status"] == "failed"
    assert [e["entry"] for e in summary["known_failures"]["expired"]] == [1]
    result.stdout.fnmatch_lines(["*entry 1 (PAGE-DISJOINT) expired on 2020-01-01*"])


def test_an_entry_that_matched_nothing_is_reported_as_no_longer_failing(in_process: pytest.Pytester) -> None:
    result, summary = _run(in_process, [{**DISJOINT, "expires": FUTURE}, {**SOUND, "expires": FUTURE},
                                        {**LIMIT, "expires": FUTURE}])
    assert result.ret == pytest.ExitCode.OK
    assert [e["entry"] for e in summary["known_failures"]["no_longer_failing"]] == [3]
    result.stdout.fnmatch_lines(["*entry 3 (PAGE-LIMIT) is no longer failing*"])


def test_a_bad_file_is_a_usage_error_before_any_test(in_process: pytest.Pytester) -> None:
    in_process.makepyfile(test_gate=FAILING)
    (in_process.path / "known.yaml").write_text("- clause: PAGE-DISJOINT\n  match: x\n  reason: r\n")
    result = in_process.runpytest("--ei-known-failures", str(in_process.path / "known.yaml"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.startswith("ERROR:")] == [
        f"ERROR: --known-failures {in_process.path / 'known.yaml'}: entry 1: missing expires"]
    assert "passed" not in result.stdout.str()


def test_eicontract_run_refuses_a_bad_file_before_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: started.append(args) or 0)
    code = cli.main(["run", "--report-dir", str(tmp_path / "r"), "--known-failures", str(tmp_path / "none.yaml")])
    err = capsys.readouterr().err
    assert (code, started) == (cli.EXIT_HARNESS, [])
    assert err.strip().splitlines() == [f"eicontract run: --known-failures {tmp_path / 'none.yaml'}: cannot read it "
                                        "(No such file or directory)"]


def test_eicontract_run_passes_the_file_to_the_plugin(tmp_path: Path) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(json.dumps([{**DISJOINT, "expires": FUTURE}]))
    argv = cli.pytest_arguments(cli.parser().parse_args(["run", "--known-failures", str(path)]))
    assert argv[argv.index("--ei-known-failures") + 1] == str(path)


def test_a_workers_known_failures_reach_the_controller() -> None:
    from eicontract.http.redact import Redactor
    from eicontract.reporting.record import Recorder
    from eicontract.settings import Settings

    def recorder() -> Recorder:
        return Recorder(Settings(target=None, api_key="k" * 12, project_id=1), Redactor("k" * 12))

    worker, controller = recorder(), recorder()
    worker.outcome("PAGE-DISJOINT").known += 1
    worker.known.append({"clause": "PAGE-DISJOINT", "test": "t", "entries": [1]})
    controller.absorb(worker.export())
    assert controller.clauses["PAGE-DISJOINT"].known == 1
    assert controller.known == worker.known


def test_eicontract_run_says_how_many_failures_it_accepted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(json.dumps([{**DISJOINT, "expires": FUTURE}]))
    reports = tmp_path / "r"

    def fake_main(args: list[str]) -> int:
        reports.mkdir()
        (reports / "summary.json").write_text(json.dumps({"verdict": "pass", "known_failures": {"known": [{}, {}]}}))
        return 0

    monkeypatch.setattr(pytest, "main", fake_main)
    assert cli.main(["run", "--report-dir", str(reports), "--known-failures", str(path)]) == cli.EXIT_OK
    assert "every clause holds but for 2 known failure(s)" in capsys.readouterr().out
