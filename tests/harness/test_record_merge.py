"""Under pytest-xdist each worker records its share and the controller writes one report: a
worker's `export` absorbed by the controller gives the summary one process would have written."""

from __future__ import annotations

import json
from pathlib import Path

from eicontract.drive.jobflow import JobTiming
from eicontract.http.redact import Redactor
from eicontract.reporting.record import Recorder
from eicontract.reporting.summary import build_summary
from eicontract.settings import Settings
from eicontract.violations import Observation

KEY = "ei_" + "m" * 40


def _recorder(tmp_path: Path) -> Recorder:
    return Recorder(Settings(target=None, api_key=KEY, project_id=1, report_dir=tmp_path), Redactor(KEY))


def _share_a(recorder: Recorder) -> None:
    recorder.outcome("PAGE-LIMIT").passed += 2
    recorder.outcome("PAGE-TOTAL").failed += 1
    recorder.outcome("PAGE-TOTAL").failures.append({"test": "a", "violations": []})
    recorder.outcome("PAGE-TOTAL").first_failed_s = 4.0
    recorder.observe(Observation("filter:minLength", "strict (>)", "first"))
    recorder.job(JobTiming(latency_s=0.2, polls=2, recalls=1, result=True))
    recorder.traffic.sent += 10
    recorder.notes.append("a note")


def _share_b(recorder: Recorder) -> None:
    recorder.outcome("PAGE-TOTAL").failed += 1
    recorder.outcome("PAGE-TOTAL").failures.append({"test": "b", "violations": []})
    recorder.outcome("PAGE-TOTAL").first_failed_s = 2.5
    recorder.observe(Observation("filter:minLength", "strict (>)", "second"))
    recorder.observe(Observation("filter:maxLength", "inclusive (<=)", ""))
    recorder.job(None)
    recorder.listed(300, 300)
    recorder.traffic.sent += 5
    recorder.traffic.retried_429 += 1
    recorder.notes.append("b note")


def test_two_workers_shares_add_up_to_one_processes_record(tmp_path: Path) -> None:
    one = _recorder(tmp_path)
    _share_a(one)
    _share_b(one)
    worker_a, worker_b, controller = _recorder(tmp_path), _recorder(tmp_path), _recorder(tmp_path)
    _share_a(worker_a)
    _share_b(worker_b)
    for worker in (worker_a, worker_b):  # the trip through execnet is plain data
        controller.absorb(json.loads(json.dumps(worker.export())))
    merged, alone = build_summary(controller, 1), build_summary(one, 1)
    for key in ("clauses", "readings", "jobs", "listing", "requests", "notes"):
        assert merged[key] == alone[key], key
    assert controller.clauses["PAGE-TOTAL"].first_failed_s == 2.5  # the earliest catch of any worker


def test_a_note_every_worker_wrote_is_said_once(tmp_path: Path) -> None:
    """Each worker that hits the same stop (the budget, a dead target) says so: once is enough."""
    controller = _recorder(tmp_path)
    for _ in range(2):
        worker = _recorder(tmp_path)
        worker.notes.append("run stopped: the request budget is spent")
        controller.absorb(worker.export())
    assert controller.notes == ["run stopped: the request budget is spent"]


def test_an_empty_share_changes_nothing(tmp_path: Path) -> None:
    controller = _recorder(tmp_path)
    _share_a(controller)
    before = build_summary(controller, 1)
    controller.absorb(_recorder(tmp_path).export())
    after = build_summary(controller, 1)
    assert {k: after[k] for k in ("clauses", "readings", "jobs", "requests")} == \
        {k: before[k] for k in ("clauses", "readings", "jobs", "requests")}
