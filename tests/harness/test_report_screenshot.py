"""report.html in a real browser: headless Chromium (Debian's, driven by Playwright) opens a red
report on its failures. The failed-clauses table must be in the first 1280x800 viewport, above
the clause matrix, even with notes and many clauses on the page.

Skipped, with the reason, where Playwright or a Chromium binary is missing (.ci/run installs
Debian's chromium; Playwright's own browser download needs an internet this machine lacks).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from eicontract.drive.evidence import judged
from eicontract.http.client import Exchange
from eicontract.http.redact import Redactor
from eicontract.pytest.hooks import _failure_record
from eicontract.reporting import HTML_FILE, write_reports
from eicontract.reporting.record import Recorder
from eicontract.settings import PROFILE_TABLE, Settings
from eicontract.violations import Violation

VIEWPORT = {"width": 1280, "height": 800}
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def _chromium() -> str | None:
    configured = os.environ.get("EI_TEST_CHROMIUM")
    return configured or next((path for path in map(shutil.which, CANDIDATES) if path), None)


def _red_report(folder: Path) -> Path:
    """A red run as the gate writes it: notes first in the record, two failed clauses, many passed."""
    settings = Settings(target=None, api_key="ei_" + "scr33nsh0t" * 4, project_id=1, seed=3,
                        profile=PROFILE_TABLE["quick"], report_dir=folder, server_faults=("limit-plus-one",))
    recorder = Recorder(settings, Redactor(settings.api_key))
    recorder.target_url = "http://127.0.0.1:41234/v1"
    recorder.notes.append("quick profile: PAGE-LIMIT, PAGE-DISJOINT, PAGE-COMPLETE judged on samples of the "
                          "listing " + "(regions at offsets [0, 36, 69, 90, 136, 150]) " * 4)
    for clause, message in (("PAGE-LIMIT", "limit=1 offset=0: expected at most 1 results, got 2"),
                            ("PAGE-TOTAL", "totalCount 301 but the listing holds 300")):
        page = Exchange("GET", f"{recorder.target_url}/api/1/classify/all/result/page?limit=1&offset=0", 200,
                        {"success": True, "result": [{"sampleId": 1}, {"sampleId": 2}], "totalCount": 301})
        outcome = recorder.outcome(clause)
        outcome.failed = 1
        outcome.failures.append(_failure_record(recorder, f"suite/test_paging.py::test_{clause.lower()}", "",
                                                judged(page, [Violation(clause, message)])))
    for clause in ("PAGE-DISJOINT", "PAGE-COMPLETE", "FILTER-SOUND", "WINDOW-COUNT", "JOB-EXCLUSIVE"):
        recorder.outcome(clause).passed = 3
    write_reports(recorder, exitstatus=1)
    return folder / HTML_FILE


def test_the_red_report_opens_on_its_failures(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install "
                                                                  "'eicontract[test]')")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium binary (apt-get install chromium; or set EI_TEST_CHROMIUM to one)")
    page_file = _red_report(tmp_path / "reports")
    shot = tmp_path / "report.png"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(page_file.as_uri())
            page.screenshot(path=str(shot))
            table = page.locator("#failed-clauses").bounding_box()
            matrix = page.locator("h2", has_text="Clause matrix").bounding_box()
            rows = page.locator("#failed-clauses tr.failed-clause").all_inner_texts()
        finally:
            browser.close()
    assert table is not None and matrix is not None
    assert table["y"] + table["height"] <= VIEWPORT["height"], f"the failures end below the first screen: {table}"
    assert matrix["y"] > table["y"] + table["height"]
    assert [row.split()[0] for row in rows] == ["PAGE-LIMIT", "PAGE-TOTAL"]
    assert "127.0.0.1:4810/v1/api/1/classify/all/result/page?limit=1&offset=0" in rows[0]
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
