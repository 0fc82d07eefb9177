"""eicontract.reporting: the JSON summary and the HTML page, built from a hand-made Recorder."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from eicontract.clauses import CLAUSES
from eicontract.drive.jobflow import JobTiming
from eicontract.http.client import curl_command
from eicontract.http.redact import MASK, Redactor
from eicontract.reporting import HTML_FILE, SUMMARY_FILE, write_reports
from eicontract.reporting.html import render_html
from eicontract.reporting.record import Recorder
from eicontract.reporting.summary import build_summary
from eicontract.settings import PROFILE_TABLE, Settings
from eicontract.violations import Observation

KEY = "ei_" + "rEp0rtKey" * 5
TARGET = "http://127.0.0.1:4810/v1"
PAGE_URL = f"{TARGET}/api/3/classify/all/result/page?limit=2&offset=4"
SCRIPT = "<script>alert('x')</script>"


def make_recorder(tmp_path: Path, *, target: str | None = TARGET, faults: tuple[str, ...] = ()) -> Recorder:
    settings = Settings(target=target, api_key=KEY, project_id=3, seed=11, profile=PROFILE_TABLE["thorough"],
                        report_dir=tmp_path / "reports", strictness="strict", server_faults=faults)
    return Recorder(settings, Redactor(KEY))


def failure_record(test: str, clause: str | None, message: str, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "test": test,
        "violations": [] if clause is None else [{"clause": clause, "message": message, "evidence": {"ids": [5]}}],
        "minimal_example": "",
        "reproduce": [curl_command("GET", PAGE_URL)],
        "exchanges": [f"GET {PAGE_URL} -> 200"],
        "detail": f"AssertionError: {message}",
    }
    record.update(extra)
    return record


@pytest.fixture
def recorder(tmp_path: Path) -> Recorder:
    """PAGE-LIMIT passed twice, PAGE-DISJOINT failed once (hypothesis example), the rest not run."""
    rec = make_recorder(tmp_path)
    rec.outcome("PAGE-LIMIT").passed = 2
    disjoint = rec.outcome("PAGE-DISJOINT")
    disjoint.passed, disjoint.failed = 1, 1
    disjoint.failures.append(failure_record(
        "tests/contract/test_paging.py::test_disjoint", "PAGE-DISJOINT", "sample 5 on two pages",
        minimal_example="Falsifying example: test_disjoint(\n    page_size=2,\n)"))
    rec.observe(Observation("filter:minLength", "strict (>)", "minLength=100 dropped a 100 ms sample"))
    rec.observe(Observation("filter:minLength", "strict (>)", "second sighting"))
    rec.observe(Observation("paging:totalCount", "absent"))
    return rec


class _Cells(HTMLParser):
    """Collects the text of each table row, to read the clause matrix like a person would."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data


def table_rows(page: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(page)
    return parser.rows


# --- summary ------------------------------------------------------------------------------------


def test_the_summary_lists_every_clause_with_its_status(recorder: Recorder) -> None:
    clauses = build_summary(recorder, 1)["clauses"]
    assert list(clauses) == list(CLAUSES)
    assert clauses["PAGE-LIMIT"]["status"] == "passed"
    assert clauses["PAGE-DISJOINT"]["status"] == "failed"  # one failure outweighs passes
    assert {c["status"] for cid, c in clauses.items() if cid not in ("PAGE-LIMIT", "PAGE-DISJOINT")} == {"not run"}
    assert (clauses["PAGE-DISJOINT"]["passed"], clauses["PAGE-DISJOINT"]["failed"]) == (1, 1)
    assert clauses["PAGE-LIMIT"]["group"] == CLAUSES["PAGE-LIMIT"].group
    assert clauses["PAGE-LIMIT"]["summary"] == CLAUSES["PAGE-LIMIT"].summary


def test_the_summary_counts_clauses_by_status(recorder: Recorder) -> None:
    assert build_summary(recorder, 1)["counts"] == {"passed": 1, "failed": 1, "not run": len(CLAUSES) - 2, "known": 0}


def test_the_summary_describes_the_run(recorder: Recorder) -> None:
    summary = build_summary(recorder, 1)
    assert summary["tool"] == "eicontract"
    assert (summary["target"], summary["embedded"], summary["project_id"]) == (TARGET, False, 3)
    assert (summary["profile"], summary["seed"], summary["strictness"]) == ("thorough", 11, "strict")
    assert summary["error_style"] is None  # only meaningful for the embedded server
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", summary["started"])
    assert summary["duration_s"] >= 0
    json.dumps(summary)  # it is JSON as it is


def test_an_embedded_run_names_the_server_it_started(tmp_path: Path) -> None:
    rec = make_recorder(tmp_path, target=None, faults=("page-overlap",))
    summary = build_summary(rec, 0)
    assert summary["target"] == "embedded reference server"
    assert (summary["embedded"], summary["error_style"], summary["server_faults"]) == (True, "http", ["page-overlap"])
    rec.target_url = "http://127.0.0.1:40123/v1"
    assert build_summary(rec, 0)["target"] == "http://127.0.0.1:40123/v1"


@pytest.mark.parametrize(
    ("exitstatus", "verdict"),
    [(0, "pass"), (1, "fail"), (2, "interrupted"), (3, "harness error"), (4, "usage error"), (5, "no tests ran"),
     (77, "exit 77")],
)
def test_the_verdict_follows_the_exit_status(recorder: Recorder, exitstatus: int, verdict: str) -> None:
    summary = build_summary(recorder, exitstatus)
    assert (summary["verdict"], summary["exit_status"]) == (verdict, exitstatus)


def test_the_summary_keeps_the_failure_records(recorder: Recorder) -> None:
    (record,) = build_summary(recorder, 1)["clauses"]["PAGE-DISJOINT"]["failures"]
    assert record["minimal_example"].startswith("Falsifying example")
    assert record["reproduce"] == [curl_command("GET", PAGE_URL)]


def test_the_summary_holds_one_reading_per_topic_with_its_probes_and_first_example(recorder: Recorder) -> None:
    recorder.observe(Observation("filter:minLength", "inconclusive", "minLength=5: the readings agree"))
    assert build_summary(recorder, 1)["readings"] == {
        "filter:minLength": {"reading": "strict (>)", "decided_by": 2, "inconclusive": 1,
                             "example": "minLength=100 dropped a 100 ms sample"},
        "paging:totalCount": {"reading": "absent", "decided_by": 1, "inconclusive": 0, "example": ""},
    }
    assert "observations" not in build_summary(recorder, 1)  # no row of its own for an inconclusive probe


def test_the_summary_records_job_timing_from_the_flows(recorder: Recorder) -> None:
    for latency, polls in ((0.2, 2), (0.4, 3), (1.0, 5)):
        recorder.job(JobTiming(latency, polls, 1, True))
    recorder.job(JobTiming(None, 9, 0, False))  # never finished: polls count, no latency
    recorder.job(None)  # the result at once
    jobs = build_summary(recorder, 0)["jobs"]
    assert (jobs["flows"], jobs["direct_results"], jobs["jobs"], jobs["finished"], jobs["with_result"]) == \
        (5, 1, 4, 3, 3)
    assert jobs["latency_s"] == {"median": 0.4, "p95": 1.0, "max": 1.0}
    assert jobs["polls"] == {"median": 4.0, "p95": 9, "max": 9}
    assert jobs["recalls"]["max"] == 1


def test_no_jobs_give_empty_timing(recorder: Recorder) -> None:
    assert build_summary(recorder, 0)["jobs"]["latency_s"] == {"median": None, "p95": None, "max": None}


@pytest.mark.parametrize(("total", "size"), [(12, 12), (None, 10), (True, 10)])
def test_the_listing_size_is_its_total_count_or_else_its_length(recorder: Recorder, total: object,
                                                                size: int) -> None:
    recorder.listed(10, total)
    assert build_summary(recorder, 0)["listing"]["size"] == size


def test_a_summary_with_a_baseline_has_a_baseline_section(recorder: Recorder) -> None:
    earlier = build_summary(recorder, 1)
    earlier["readings"]["filter:minLength"]["reading"] = "inclusive (>=)"
    earlier["clauses"]["PAGE-DISJOINT"]["status"] = "passed"
    recorder.baseline, recorder.baseline_source = earlier, "night-1/summary.json"
    section = build_summary(recorder, 1)["baseline"]
    assert [(c["topic"], c["was"], c["now"]) for c in section["changed_readings"]] == \
        [("filter:minLength", "inclusive (>=)", "strict (>)")]
    assert section["new_failures"] == ["PAGE-DISJOINT"]
    assert section["source"] == "night-1/summary.json"


# --- HTML --------------------------------------------------------------------------------------------


def test_the_matrix_has_one_row_per_clause_with_its_status(recorder: Recorder) -> None:
    rows = table_rows(render_html(build_summary(recorder, 1)))
    matrix = {row[1]: row for row in rows if len(row) == 6 and row[1] in CLAUSES}
    assert set(matrix) == set(CLAUSES)
    assert matrix["PAGE-LIMIT"][2:5] == ["passed", "2", "0"]
    assert matrix["PAGE-DISJOINT"][2:5] == ["failed", "1", "1"]
    assert matrix["JOB-COMPLETES"][2:5] == ["not run", "0", "0"]


def test_the_page_shows_the_verdict_and_the_counts(recorder: Recorder) -> None:
    page = render_html(build_summary(recorder, 1))
    assert '<span class="verdict fail">fail</span>' in page
    assert f"1 clauses passed, 1 failed, {len(CLAUSES) - 2} not run." in page


def test_a_failure_shows_its_message_minimal_example_and_reproduce_lines(recorder: Recorder) -> None:
    page = render_html(build_summary(recorder, 1))
    assert 'id="PAGE-DISJOINT"' in page and 'href="#PAGE-DISJOINT"' in page
    assert "<p>sample 5 on two pages</p>" in page
    assert escape("Falsifying example: test_disjoint(\n    page_size=2,\n)") in page
    assert escape(curl_command("GET", PAGE_URL)) in page
    assert "$EI_API_KEY" in page


def test_a_failure_without_violations_shows_its_detail(tmp_path: Path) -> None:
    rec = make_recorder(tmp_path)
    rec.outcome("WINDOW-COUNT").failed = 1
    rec.outcome("WINDOW-COUNT").failures.append(
        failure_record("tests/contract/test_window.py::test_count", None, "3 windows, expected 4"))
    page = render_html(build_summary(rec, 1))
    assert "<h4>Detail</h4>" in page
    assert "AssertionError: 3 windows, expected 4" in page


def test_a_failure_with_violations_hides_the_traceback_detail(recorder: Recorder) -> None:
    assert "<h4>Detail</h4>" not in render_html(build_summary(recorder, 1))


def test_at_most_three_failures_per_clause_are_shown(tmp_path: Path) -> None:
    rec = make_recorder(tmp_path)
    outcome = rec.outcome("PAGE-STABLE")
    outcome.failed = 5
    outcome.failures.extend(failure_record(f"t.py::test_{i}", "PAGE-STABLE", f"drift number {i}") for i in range(5))
    page = render_html(build_summary(rec, 1))
    assert [i for i in range(5) if f"drift number {i}" in page] == [0, 1, 2]


def test_everything_from_the_server_or_tests_is_html_escaped(tmp_path: Path) -> None:
    rec = make_recorder(tmp_path, faults=(SCRIPT,))
    rec.target_url = f"http://127.0.0.1:1/{SCRIPT}"
    outcome = rec.outcome("FILTER-SOUND")
    outcome.failed = 1
    outcome.failures.append(failure_record(f"t.py::test[{SCRIPT}]", "FILTER-SOUND", f"bad label {SCRIPT}",
                                           minimal_example=f"Falsifying example: f(label='{SCRIPT}')",
                                           reproduce=[curl_command("GET", f"{TARGET}/x?filename={SCRIPT}")]))
    detail = rec.outcome("WINDOW-LABELS")
    detail.failed = 1
    detail.failures.append(failure_record("t.py::test_labels", None, SCRIPT))
    rec.observe(Observation(f"topic {SCRIPT}", f"reading {SCRIPT}", f"example {SCRIPT}"))
    page = render_html(build_summary(rec, 1))
    assert "<script" not in page
    assert page.count("&lt;script&gt;") >= 9


def test_the_observations_table_has_one_row_per_topic(recorder: Recorder) -> None:
    recorder.observe(Observation("filter:minLength", "inconclusive", "minLength=5: the readings agree"))
    recorder.observe(Observation("filter:labels", "inconclusive", "labels=idle: the readings agree"))
    rows = table_rows(render_html(build_summary(recorder, 1)))
    assert ["filter:minLength", "strict (>)", "2", "1", "minLength=100 dropped a 100 ms sample"] in rows
    assert ["paging:totalCount", "absent", "1", "0", ""] in rows
    assert ["filter:labels", "undecided", "0", "1", "labels=idle: the readings agree"] in rows
    assert not any(row[1:2] == ["inconclusive"] for row in rows)


def test_the_page_shows_job_timing_and_the_listing(recorder: Recorder) -> None:
    recorder.job(JobTiming(0.25, 2, 1, True))
    recorder.listed(300, 300)
    rows = table_rows(render_html(build_summary(recorder, 0)))
    assert ["job latency (start to finished)", "median 0.25 s, p95 0.25 s, max 0.25 s"] in rows
    assert ["listing size", "300 samples (totalCount 300, listed 300)"] in rows


def test_a_page_without_a_baseline_has_no_since_the_baseline_part(recorder: Recorder) -> None:
    assert "Since the baseline" not in render_html(build_summary(recorder, 1))


def test_the_page_says_what_changed_since_the_baseline(recorder: Recorder) -> None:
    earlier = build_summary(recorder, 1)
    earlier["readings"]["filter:minLength"]["reading"] = "inclusive (>=)"
    earlier["clauses"]["PAGE-DISJOINT"]["status"] = "passed"
    earlier["clauses"]["PAGE-LIMIT"]["status"] = "failed"
    recorder.baseline = earlier
    page = render_html(build_summary(recorder, 1))
    assert "<h2>Since the baseline</h2>" in page
    assert ["filter:minLength", "inclusive (&gt;=)", "strict (&gt;)", "minLength=100 dropped a 100 ms sample"] in \
        [[escape(cell) for cell in row] for row in table_rows(page)]
    assert '<strong>New failures:</strong> <a href="#PAGE-DISJOINT">PAGE-DISJOINT</a>.' in page
    assert "<strong>Fixed:</strong> PAGE-LIMIT." in page


def test_no_observations_says_so(tmp_path: Path) -> None:
    page = render_html(build_summary(make_recorder(tmp_path), 0))
    assert "<h2>Observed semantics</h2>\n<p>None recorded.</p>" in page
    assert "<h2>Failures</h2>\n<p>None.</p>" in page


def test_every_status_cell_class_is_a_plain_css_class_name(recorder: Recorder) -> None:
    page = render_html(build_summary(recorder, 1))
    classes = set(re.findall(r'<td class="([^"]+)"', page))
    assert classes >= {"s-passed", "s-failed"}
    for name in classes:
        assert re.fullmatch(r"-?[_a-zA-Z][_a-zA-Z0-9-]*", name), name


# --- write_reports ---------------------------------------------------------------------------------------


def test_write_reports_writes_the_summary_and_the_page(recorder: Recorder) -> None:
    paths = write_reports(recorder, exitstatus=1)
    folder = recorder.settings.report_dir
    assert paths == [folder / SUMMARY_FILE, folder / HTML_FILE]
    summary = json.loads(paths[0].read_text(encoding="utf-8"))
    assert summary["verdict"] == "fail"
    assert summary["clauses"]["PAGE-DISJOINT"]["status"] == "failed"
    assert paths[1].read_text(encoding="utf-8").startswith("<!doctype html>")


def test_write_reports_masks_the_key_wherever_it_was_recorded(tmp_path: Path) -> None:
    rec = make_recorder(tmp_path)
    rec.target_url = f"{TARGET}?debug={KEY}"
    outcome = rec.outcome("AUTH-REJECT")
    outcome.failed = 1
    outcome.failures.append(failure_record(
        f"t.py::test_auth[{KEY}]", "AUTH-REJECT", f"echoed {KEY}", minimal_example=f"Falsifying example: k='{KEY}'",
        evidence={KEY: KEY}, detail=f"E   {KEY}"))
    outcome.failures[0]["violations"][0]["evidence"] = {"body": {KEY: [KEY]}}
    rec.observe(Observation("auth:echo", "echoes the key", f"error text was {KEY}"))
    rec.notes.append(f"note with {KEY}")
    for path in write_reports(rec, exitstatus=1):
        text = path.read_text(encoding="utf-8")
        assert KEY not in text, path.name
        assert MASK in text, path.name
    summary = json.loads((rec.settings.report_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["clauses"]["AUTH-REJECT"]["failures"][0]["violations"][0]["evidence"] == {"body": {MASK: [MASK]}}


def test_write_reports_creates_a_missing_folder(tmp_path: Path) -> None:
    rec = make_recorder(tmp_path)
    assert not rec.settings.report_dir.exists()
    write_reports(rec, exitstatus=5)
    assert (rec.settings.report_dir / SUMMARY_FILE).is_file()


def test_known_failures_show_as_accepted_and_the_entries_to_review(recorder: Recorder) -> None:
    summary = build_summary(recorder, 1)
    assert "Known failures" not in render_html(summary)  # no file given: no section
    summary["known_failures"] = {
        "file": "known.yaml",
        "known": [{"clause": "PAGE-TOTAL", "test": "test_paging", "message": "off by one",
                   "reason": "<b>ticket</b> 4712", "expires": "2027-01-01"}],
        "expired": [{"entry": 2, "clause": "FILTER-SOUND", "reason": "old"}],
        "no_longer_failing": [{"entry": 3, "clause": "PAGE-LIMIT", "reason": "fixed"}],
    }
    page = render_html(summary)
    assert "Accepted by known.yaml; not red." in page and "<strong>PAGE-TOTAL</strong>" in page
    assert "&lt;b&gt;ticket&lt;/b&gt; 4712" in page and "<b>ticket</b>" not in page  # autoescaped
    assert "entry 2 (FILTER-SOUND, old): expired" in page
    assert "entry 3 (PAGE-LIMIT, fixed): no longer failing" in page
