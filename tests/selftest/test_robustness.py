"""The gate against a misbehaving target: a chaos proxy (eicontract.server.chaos) in front of the
reference server resets, hangs, answers HTML, truncated JSON or 5xx, or dies mid-run.

Every case ends in one of two clear outcomes, never a traceback or a hang:
- exit 1: a documented request got a broken answer, and the clause it breaks is named (a request
  the target closes without an answer, twice, while it answers a listing right after, is NO-5XX);
- exit 2: the target could not be tested (or stopped answering), with the reason in
  summary.json's notes and on stderr; no clause is failed for requests a silent target left
  unanswered.
Either way summary.json, junit.xml and report.html are written and parse, and hold no key.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from eicontract.server import RunningServer, ServerConfig, start_in_thread
from eicontract.server.chaos import ChaosConfig, ChaosProxy
from tests.selftest.gate import GateRun

pytestmark = [pytest.mark.xdist_group("robustness")]

SECRET = "ei_robustness_secret_" + "c4o5" * 10
CLASSIFY = ("/classify/anomaly-gmm/",)
HANG_DETECTOR_S = 240  # bounds a gate run that hangs; never a measurement
MID_RUN = 30  # requests answered before the target breaks: after the probe and the listing
EIC = Path(sys.executable).with_name("eicontract")  # the console script, as a user runs it


@dataclass(frozen=True)
class Case:
    chaos: ChaosConfig
    clauses: tuple[str, ...]  # --clause selection: keeps each run short
    exit_code: int
    failed: str = ""  # exit 1: the clause that must be named as failed
    note: tuple[str, ...] = field(default=())  # exit 2, or exit 1 that stops the run: words the reason must hold


CASES = {
    # the target cannot be tested at all: exit 2 with the reason
    "html-everywhere": Case(ChaosConfig(mode="html"), ("PAGE-LIMIT",), 2, note=("not JSON", "API root")),
    "5xx-everywhere": Case(ChaosConfig(mode="5xx", status=503), ("PAGE-LIMIT",), 2, note=("HTTP 503",)),
    # ... but the server's own 500 to the first, valid request is a violation: exit 1, and the run stops
    "500-everywhere": Case(ChaosConfig(mode="5xx", status=500), ("PAGE-LIMIT",), 1, failed="SCHEMA-RESPONSE",
                           note=("stopped at the first request", "HTTP 500")),
    "500-page-everywhere": Case(ChaosConfig(mode="5xx", status=500, error_body="html"), ("PAGE-LIMIT",), 1,
                                failed="SCHEMA-RESPONSE", note=("stopped at the first request", "HTTP 500")),
    "hang-at-start": Case(ChaosConfig(mode="hang"), ("PAGE-LIMIT",), 2, note=("unreachable", "timed out")),
    "listing-unusable": Case(ChaosConfig(mode="html", after=1), ("PAGE-LIMIT",), 2,
                             note=("listing is unusable", "not JSON")),
    # ... while JSON the API itself sent, cut short, is its own broken answer: exit 1, the run stops
    "listing-broken-json": Case(ChaosConfig(mode="truncated-json", after=1), ("PAGE-LIMIT",), 1,
                                failed="SCHEMA-RESPONSE", note=("not valid JSON",)),
    # one operation answers badly: its clauses fail, the others pass
    "html-on-classify": Case(ChaosConfig(mode="html", paths=CLASSIFY), ("JOB-EXCLUSIVE", "PAGE-LIMIT"), 1,
                             failed="JOB-EXCLUSIVE"),
    "502-page-on-classify": Case(ChaosConfig(mode="5xx", status=502, error_body="html", paths=CLASSIFY),
                                 ("SCHEMA-RESPONSE", "PAGE-LIMIT"), 1, failed="SCHEMA-RESPONSE"),
    "truncated-json-on-classify": Case(ChaosConfig(mode="truncated-json", paths=CLASSIFY),
                                       ("SCHEMA-RESPONSE", "PAGE-LIMIT"), 1, failed="SCHEMA-RESPONSE"),
    # ... and one that closes the connection on classify (twice, while listings are answered) failed
    # those requests: NO-5XX, exit 1, the run stops there (a target gone away is the cases below)
    "reset-on-classify": Case(ChaosConfig(mode="reset", paths=CLASSIFY), ("JOB-EXCLUSIVE", "PAGE-LIMIT"), 1,
                              failed="NO-5XX", note=("closed the connection without an answer",)),
    # the target stops answering mid-run: exit 2, and nothing is blamed on a clause
    "reset-mid-run": Case(ChaosConfig(mode="reset", after=MID_RUN), ("JOB-EXCLUSIVE", "PAGE-LIMIT"), 2,
                          note=("stopped answering", "reset")),
    "hang-mid-run": Case(ChaosConfig(mode="hang", after=MID_RUN), ("JOB-EXCLUSIVE", "PAGE-LIMIT"), 2,
                         note=("stopped answering", "timed out")),
    "cut-off-mid-run": Case(ChaosConfig(mode="cut-off", after=MID_RUN), ("JOB-EXCLUSIVE", "PAGE-LIMIT"), 2,
                            note=("stopped answering", "complete message body")),
    "die-mid-run": Case(ChaosConfig(mode="die", after=MID_RUN), ("JOB-EXCLUSIVE", "PAGE-LIMIT"), 2,
                        note=("stopped answering",)),
    # schemathesis' own HTTP stack (requests) meets the same breaker
    "hang-in-schema-tests": Case(ChaosConfig(mode="hang", after=20), ("SCHEMA-RESPONSE",), 2,
                                 note=("stopped answering", "ReadTimeout")),
}
SLOW = {"html-on-classify", "502-page-on-classify", "truncated-json-on-classify"}  # a whole clause group each


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    with start_in_thread(ServerConfig(samples=60, job_seconds=0.1, api_key=SECRET)) as running:
        yield running


def _run(url: str, report_dir: Path, clauses: tuple[str, ...]) -> GateRun:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EI_", "PYTEST_"))}
    environment["EI_API_KEY"] = SECRET
    command = [str(EIC), "run", "--target", url, "--project-id", "1", "--report-dir", str(report_dir),
               "--no-shrink", "--request-timeout", "1", "--rps", "0"]
    for clause_id in clauses:
        command += ["--clause", clause_id]
    done = subprocess.run(command, capture_output=True, text=True, timeout=HANG_DETECTOR_S, env=environment,
                          cwd=Path(__file__).resolve().parents[2], check=False)
    return GateRun(done.returncode, done.stdout, done.stderr, report_dir)


def _artefacts(run: GateRun) -> dict[str, Any]:
    """Every report, parsed: a report that is missing or does not parse fails here."""
    summary = json.loads((run.report_dir / "summary.json").read_text())
    junit = ElementTree.parse(run.report_dir / "junit.xml").getroot()
    page = (run.report_dir / "report.html").read_text()
    assert junit.tag == "testsuites" and page.rstrip().endswith("</html>")
    return {"summary": summary, "junit": junit, "html": page}


def _assert_clean(run: GateRun) -> None:
    output = run.stdout + run.stderr
    assert "Traceback (most recent call last)" not in output, run.explain()
    texts = {p.name: p.read_text(errors="replace") for p in run.report_dir.iterdir() if p.is_file()}
    texts.update(stdout=run.stdout, stderr=run.stderr)
    for part in (SECRET, SECRET[:16], SECRET[-16:]):
        leaks = [name for name, text in texts.items() if part in text]
        assert not leaks, f"the key (or part of it) is in {leaks}"


@pytest.mark.parametrize("name", [pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else [])
                                  for name in CASES])
def test_a_misbehaving_target_gives_a_clean_outcome(upstream: RunningServer, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    with ChaosProxy(upstream.url, case.chaos) as proxy:
        run = _run(proxy.url, tmp_path / "reports", case.clauses)
    assert proxy.misbehaved >= 1, "the target never misbehaved: the case proves nothing"
    assert proxy.seen > case.chaos.after, "a mid-run case must break after the good requests"
    assert run.exit_code == case.exit_code, run.explain()
    reports = _artefacts(run)
    _assert_clean(run)
    summary = reports["summary"]
    assert summary["exit_status"] == case.exit_code
    if case.exit_code == 1 and case.note:  # the run stopped at the violation: only its clause failed
        assert run.failed_clauses() == {case.failed}, run.explain()
        reason = " ".join(summary["notes"])
        assert all(word in reason for word in case.note), f"{summary['notes']}\n{run.explain()}"
        return
    if case.exit_code == 1:
        assert case.failed in run.failed_clauses(), run.explain()
        assert run.status("PAGE-LIMIT") == "passed", "only the misbehaving operation's clauses may fail"
        return
    reason = " ".join(summary["notes"])
    assert all(word in reason for word in case.note), f"{summary['notes']}\n{run.explain()}"
    assert all(word in run.stderr for word in case.note), "the reason is also on stderr"
    assert summary["notes"][0] in html.unescape(reports["html"]), "the report says why the run stopped"
    assert run.failed_clauses() == set(), "a request without an answer is no evidence against a clause"
