"""Fast tests of the twin: clean behaviour, and one test per regression showing it differs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

import pytest

from .data import JOB_VALUES_THRESHOLD, Project, Sample, generate, iso, windows
from .server import REGRESSIONS, State, make_server

KEY = "ei_twin_local_key_0123456789"
PID = 4711


class Twin:
    def __init__(self, regressions: tuple[str, ...] = (), style: str = "http") -> None:
        self.project = generate(1, 240, PID)
        self.state = State(self.project, KEY, style, set(regressions))
        self.srv = make_server("127.0.0.1", 0, self.state)
        self.base = f"http://127.0.0.1:{self.srv.server_address[1]}/v1"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def call(self, method: str, path: str, params: dict[str, Any] | None = None,
             key: str | None = KEY) -> tuple[int, dict[str, Any]]:
        url = self.base + path.replace("{pid}", str(PID)) + ("?" + urlencode(params) if params else "")
        req = urllib.request.Request(url, method=method, headers={"x-api-key": key} if key else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def page(self, **params: Any) -> dict[str, Any]:
        status, body = self.call("GET", "/api/{pid}/classify/all/result/page", params)
        assert status == 200 and body["success"], body
        return body

    def classify(self, sample: Sample, block: int = 3, **params: Any) -> dict[str, Any]:
        """Classify, following a job to its end (max 2.5 s)."""
        path = f"/api/{{pid}}/classify/anomaly-gmm/v2/{block}/{sample.id}"
        end = time.monotonic() + 2.5
        while True:
            status, body = self.call("POST", path, params)
            if "id" not in body or time.monotonic() > end:
                return body
            time.sleep(0.05)

    def close(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture(scope="module")
def twin() -> Any:
    t = Twin()
    yield t
    t.close()


def pick(p: Project, cond: Callable[[Sample], bool]) -> Sample:
    return next(s for s in p.samples if cond(s))


def small(s: Sample) -> bool:
    return s.values_count <= JOB_VALUES_THRESHOLD and not s.resampled and not s.processing_error


# ------------------------------------------------------------------ clean behaviour

def test_cli_line_and_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "twin", "--samples", "30", "--port", "0"],
                            cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline() if proc.stdout else ""
    assert line.startswith("twin: http://127.0.0.1:") and line.rstrip().endswith("project=4711 samples=30")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 0


def test_auth_and_project(twin: Twin) -> None:
    path = "/api/{pid}/classify/all/result/page"
    assert twin.call("GET", path, key=None) == (401, {"success": False, "error": twin.call("GET", path, key=None)[1]["error"]})
    assert twin.call("GET", path, key="ei_wrong")[0] == 401
    status, body = twin.call("GET", "/api/1/classify/all/result/page")
    assert status == 404 and body["success"] is False
    assert twin.call("GET", "/api/{pid}/jobs/5/status")[0] == 404
    assert twin.call("GET", "/api/{pid}/classify/anomaly-gmm/v2/3/1")[0] == 405


def test_body_error_style() -> None:
    t = Twin(style="body")
    try:
        status, body = t.call("GET", "/api/{pid}/classify/all/result/page", key=None)
        assert status == 200 and body["success"] is False and body["error"]
    finally:
        t.close()


def test_page_shape_and_paging(twin: Twin) -> None:
    full = twin.page(limit=100)
    testing = [s.id for s in twin.project.samples if s.category == "testing"]
    assert full["totalCount"] == len(testing)
    assert [r["sampleId"] for r in full["result"]] == testing[:100]
    p2 = twin.page(limit=7, offset=3)
    assert [r["sampleId"] for r in p2["result"]] == testing[3:10]
    r0 = full["result"][0]
    assert r0["sample"]["id"] == r0["sampleId"] and "datastreams" in r0["sample"]
    cls = r0["classifications"][0]
    assert cls["resultCount"] == len(cls["result"]) == len(cls["expectedLabels"])
    assert {"intervalMs", "frequencyHz", "learnBlock"} <= set(cls)
    ids = {r["sampleId"] for r in p2["result"]}
    assert p2["predictions"] and {p["sampleId"] for p in p2["predictions"]} <= ids
    assert twin.page(limit=5, offset=10_000)["result"] == []


@pytest.mark.parametrize("params", [
    {"limit": "x"}, {"limit": -1}, {"offset": -2}, {"minId": "1.5"}, {"labels": "idle"},
    {"labels": '["idle", 3]'}, {"metadata": '[{ "key": "distance", "op": "eq", "key": "x" }]'},
    {"metadata": '[{ "key": "comments", exclude: ["faulty"] }]'}, {"metadata": '{"no_metadata": true}'},
    {"metadata": '[{"key": "a", "op": "like"}]'}, {"minDate": "yesterday"}, {"variant": "fp16"},
    {"signatureValidity": "maybe"}, {"truncateStructuredLabels": "yes"}, {"minFrequency": "nan"},
    {"dataType": "video"}, {"category": "nope"}, {"impulseId": 99},
])
def test_malformed_input_fails(twin: Twin, params: dict[str, Any]) -> None:
    status, body = twin.call("GET", "/api/{pid}/classify/all/result/page", params)
    assert status in (400, 404) and body["success"] is False and body["error"]


def ids_of(twin: Twin, **params: Any) -> list[int]:
    return [r["sampleId"] for r in twin.page(limit=100, **params)["result"]]


def expect(twin: Twin, cond: Callable[[Sample], bool]) -> list[int]:
    return [s.id for s in twin.project.samples if s.category == "testing" and cond(s)][:100]


def test_filters(twin: Twin) -> None:
    p = twin.project
    mid = p.samples[len(p.samples) // 2]
    assert ids_of(twin, minId=mid.id, maxId=mid.id + 40) == expect(twin, lambda s: mid.id <= s.id < mid.id + 40)
    assert ids_of(twin, labels='["idle", "snake"]') == expect(twin, lambda s: bool({"idle", "snake"} & set(s.labels)))
    assert ids_of(twin, filename="CAFÉ") == expect(twin, lambda s: "café" in s.filename)
    assert ids_of(twin, minLength=2000, maxLength=5000) == expect(twin, lambda s: 2000 < s.length_ms < 5000)
    assert ids_of(twin, minFrequency=50, maxFrequency=200) == expect(twin, lambda s: 50 < s.frequency < 200)
    assert ids_of(twin, minLabel=1.5, maxLabel=10) == expect(
        twin, lambda s: s.label in ("1.5", "3"))
    assert ids_of(twin, signatureValidity="invalid") == expect(twin, lambda s: not s.signature_valid)
    assert ids_of(twin, dataType="audio") == expect(twin, lambda s: s.data_type == "audio")
    assert ids_of(twin, search=f"{mid.id}") == [mid.id] * (mid.category == "testing")
    meta = '[{"key": "site", "op": "eq", "values": ["buildingA"]}, {"no_metadata": true}]'
    assert ids_of(twin, metadata=meta) == expect(twin, lambda s: not s.metadata or s.metadata.get("site") == "buildingA")
    meta = '[{"key": "deviceId", "op": "neq", "values": ["val1", "val2"]}]'
    assert ids_of(twin, metadata=meta) == expect(twin, lambda s: s.metadata.get("deviceId") not in ("val1", "val2"))
    meta = '[{"filters_combinator": "and"}, {"key": "site", "op": "eq"}, {"key": "distance", "op": "neq"}]'
    assert ids_of(twin, metadata=meta) == expect(twin, lambda s: "site" in s.metadata and "distance" not in s.metadata)
    lo, hi = mid.added - timedelta(days=90), mid.added + timedelta(days=90)
    assert ids_of(twin, minDate=iso(lo), maxDate=iso(hi).replace("Z", "+00:00")) == expect(
        twin, lambda s: lo < s.added < hi)
    assert ids_of(twin, category="training")[:5] == [s.id for s in p.samples if s.category == "training"][:5]


def test_truncate_structured_labels(twin: Twin) -> None:
    multi = [s.id for s in twin.project.samples if len(s.segments) > 3 and s.category == "testing"]
    body = twin.page(limit=100, truncateStructuredLabels="true", minId=multi[0], maxId=multi[0] + 1)
    assert len(body["result"][0]["sample"]["structuredLabels"]) == 3


def test_classify_direct_and_job(twin: Twin) -> None:
    p = twin.project
    s = pick(p, lambda s: small(s) and s.length_ms > 3000)
    status, body = twin.call("POST", f"/api/{{pid}}/classify/anomaly-gmm/v2/3/{s.id}")
    assert status == 200 and body["success"] and body["sample"]["sample"]["id"] == s.id
    assert len(body["classifications"][0]["result"]) == len(windows(s, p.impulses[1]))
    assert isinstance(body["windowSizeMs"], int) and body["alreadyInDatabase"] is True
    big = pick(p, lambda s: s.resampled and not s.processing_error)
    status, job = twin.call("POST", f"/api/{{pid}}/classify/anomaly-gmm/v2/5/{big.id}")
    assert set(job) == {"success", "id"} and isinstance(job["id"], int)
    assert twin.call("POST", f"/api/{{pid}}/classify/anomaly-gmm/v2/5/{big.id}")[1] == job
    time.sleep(0.6)
    st = twin.call("GET", f"/api/{{pid}}/jobs/{job['id']}/status")[1]["job"]
    assert st["finishedSuccessful"] is True and {"id", "key", "created", "jobNotificationUids"} <= set(st)
    res = twin.classify(big, 5)
    assert res["classifications"][0]["learnBlock"]["type"] == "anomaly-gmm"


def test_failed_job(twin: Twin) -> None:
    bad = pick(twin.project, lambda s: s.processing_error)
    _, job = twin.call("POST", f"/api/{{pid}}/classify/anomaly-gmm/v2/3/{bad.id}")
    time.sleep(0.6)
    st = twin.call("GET", f"/api/{{pid}}/jobs/{job['id']}/status")[1]["job"]
    assert st["finishedSuccessful"] is False
    assert twin.call("POST", f"/api/{{pid}}/classify/anomaly-gmm/v2/3/{bad.id}")[1]["success"] is False


# ------------------------------------------------------------------ regressions

def _sample(t: Twin, cond: Callable[[Sample], bool]) -> Sample:
    return pick(t.project, cond)


def _testing(t: Twin) -> list[Sample]:
    return [s for s in t.project.samples if s.category == "testing"]


PROBES: dict[str, Callable[[Twin], Any]] = {
    "variant-ignored": lambda t: t.classify(_sample(t, small), variant="int8")["classifications"][0]["result"]
    == t.classify(_sample(t, small), variant="float32")["classifications"][0]["result"],
    "job-never-finishes": lambda t: "id" in t.classify(_sample(t, lambda s: s.resampled and not s.processing_error)),
    "cache-wrong-sample": lambda t: [t.classify(s)["sample"]["sample"]["id"]
                                     for s in [x for x in t.project.samples if small(x)][:2]],
    "drop-last-window": lambda t: len(t.classify(_sample(t, lambda s: small(s) and s.length_ms > 3000))
                                      ["classifications"][0]["result"]),
    "truncate-windows": lambda t: len(t.classify(_sample(t, lambda s: small(s) and len(s.segments) > 3),
                                                 truncateStructuredLabels="true")["classifications"][0]["result"]),
    "window-size-string": lambda t: type(t.classify(_sample(t, small))["windowSizeMs"]).__name__,
    "failed-job-successful": lambda t: (t.classify(_sample(t, lambda s: s.processing_error)),
                                        t.call("GET", f"/api/{{pid}}/jobs/{t.state.next_job}/status")[1]
                                        ["job"]["finishedSuccessful"])[1],
    "unknown-job-success": lambda t: t.call("GET", "/api/{pid}/jobs/77/status")[1]["success"],
    "total-count-page": lambda t: t.page(limit=5)["totalCount"],
    "offset-off-by-one": lambda t: t.page(limit=2, offset=3)["result"][0]["sampleId"],
    "maxid-inclusive": lambda t: ids_of(t, maxId=_testing(t)[4].id),
    "metadata-and": lambda t: t.page(metadata='[{"key": "site", "op": "eq", "values": ["buildingA"]},'
                                     '{"key": "deviceId", "op": "eq", "values": ["val1"]}]')["totalCount"],
    "date-local-tz": lambda t: ids_of(t, minDate=iso(_testing(t)[0].added - timedelta(minutes=30)),
                                      maxDate=iso(_testing(t)[0].added + timedelta(minutes=30))),
    "label-string-compare": lambda t: t.page(minLabel=2)["totalCount"],
    "metadata-malformed-unfiltered": lambda t: t.call("GET", "/api/{pid}/classify/all/result/page",
                                                      {"metadata": '[{ "key": "comments", exclude: ["faulty"] }]'})[0],
}


def test_every_regression_has_a_probe() -> None:
    assert set(PROBES) == set(REGRESSIONS)


@pytest.mark.parametrize("name", list(REGRESSIONS))
def test_regression_differs(name: str) -> None:
    clean, broken = Twin(), Twin((name,))
    try:
        assert PROBES[name](clean) != PROBES[name](broken)
    finally:
        clean.close()
        broken.close()


def test_phase2_readings(twin: Twin) -> None:
    p = twin.project
    path = "/api/{pid}/classify/all/result/page"
    assert twin.call("GET", path, {"minDate": "2024-01-01T00:00:00 00:00"})[0] == 400
    assert twin.call("GET", path, {"minDate": "2024-01-01T00:00:00+00:00"})[0] == 200
    assert twin.call("GET", path, {"colour": "red"})[0] == 400
    assert twin.call("GET", path, {"limit": " 5"})[0] == 400
    preds = twin.page(limit=30)["predictions"]
    assert all(("predictionCorrect" in x) == (x["prediction"] != "uncertain") for x in preds)
    imp = p.impulses[1]
    s = pick(p, lambda s: small(s) and (s.length_ms - imp.window_size_ms) % imp.window_increase_ms > 0
             and s.length_ms > imp.window_size_ms)
    full = int((s.length_ms - imp.window_size_ms) // imp.window_increase_ms) + 1
    assert len(twin.classify(s)["classifications"][0]["result"]) == full + 1
