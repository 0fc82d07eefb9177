"""The three endpoints over real HTTP: shapes, filters, paging and every error path."""

from __future__ import annotations

import json
import math
import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from eicontract.server import RunningServer, ServerConfig, start_in_thread
from eicontract.server.classify import window_count
from eicontract.server.dataset import SampleRecord
from eicontract.server.params import DEFAULT_LIMIT
from tests.server.server_helpers import (
    ANOMALY,
    CLASSIFIER,
    DATA,
    PAGE,
    TESTING,
    classify_path,
    make_client,
    status_path,
)

DIRECT = [s for s in TESTING if s.frequency == 100 and s.total_length_ms <= 8000]


def direct_sample(predicate: Callable[[SampleRecord], bool] = lambda s: True) -> SampleRecord:
    """A sample whose classify result comes back directly (native rate, short)."""
    return next(s for s in DIRECT if predicate(s))


def page(client: httpx.Client, **query: Any) -> dict[str, Any]:
    reply = client.get(PAGE, params=query)
    assert reply.status_code == 200, reply.text[:300]
    body: dict[str, Any] = reply.json()
    assert body["success"] is True
    return body


def page_ids(client: httpx.Client, **query: Any) -> list[int]:
    body = page(client, limit=10_000, **query)
    ids = [r["sampleId"] for r in body["result"]]
    assert body["totalCount"] == len(ids)
    return ids


def ids_where(predicate: Callable[[SampleRecord], bool],
              samples: list[SampleRecord] = TESTING) -> list[int]:
    return [s.id for s in samples if predicate(s)]


def assert_failure(reply: httpx.Response, status: int, *words: str) -> None:
    assert reply.status_code == status, reply.text[:300]
    body = reply.json()
    assert set(body) == {"success", "error"}
    assert body["success"] is False
    assert body["error"]
    for word in words:
        assert word in body["error"]


# -- startup and the runner -------------------------------------------------------------

def test_url_and_port(server: RunningServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}/v1"
    assert server.port > 0


def test_startup_is_fast_and_stop_frees_the_port() -> None:
    import time

    started = time.perf_counter()
    with start_in_thread(ServerConfig()) as running:
        elapsed = time.perf_counter() - started
        with make_client(running) as c:
            assert c.get(PAGE, params={"limit": 1}).status_code == 200
    assert elapsed < 2.0
    with pytest.raises(httpx.TransportError):
        httpx.get(running.url + PAGE, timeout=1.0)


def test_serve_forever_announces_its_url_and_stops_on_sigint() -> None:
    code = ("from eicontract.server import ServerConfig, serve_forever; "
            "serve_forever(ServerConfig(samples=20))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "no announcement within 20 s"
        line = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        assert url and "default key" in line, line
        assert "ei_reference_local_key" not in line  # keys are named, never printed
        reply = httpx.get(url.group(1) + PAGE, params={"limit": 1},
                          headers={"x-api-key": "ei_reference_local_key"})
        assert reply.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_unknown_fault_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"valid faults: .*auth-ignored"):
        ServerConfig(faults=frozenset({"no-such-fault"}))


# -- classify ---------------------------------------------------------------------------

def test_classify_result_shape(client: httpx.Client) -> None:
    sample = direct_sample()
    body = client.post(classify_path(CLASSIFIER, sample.id)).json()
    assert body["success"] is True and "id" not in body
    assert {"classifications", "sample", "windowSizeMs", "windowIncreaseMs",
            "alreadyInDatabase"} <= set(body)
    assert (body["windowSizeMs"], body["windowIncreaseMs"]) == (1000, 250)
    (cls,) = body["classifications"]
    n = window_count(sample.total_length_ms, 1000, 250)
    assert cls["learnBlock"]["id"] == CLASSIFIER and cls["learnBlock"]["type"] == "keras"
    assert len(cls["result"]) == cls["resultCount"] == len(cls["expectedLabels"]) == n
    for probs in cls["result"]:
        assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-6)
    assert cls["thresholds"][0]["value"] == cls["minimumConfidenceRating"]
    raw = body["sample"]
    assert raw["sample"]["id"] == sample.id
    assert raw["totalPayloadLength"] == sample.values_count
    assert 0 < len(raw["payload"]["values"]) <= sample.values_count
    assert raw["sample"]["datastreams"][0]["totalLengthMs"] == sample.total_length_ms


def test_classify_anomaly_block(client: httpx.Client) -> None:
    sample = direct_sample(lambda s: s.total_length_ms > 2000)
    (cls,) = client.post(classify_path(ANOMALY, sample.id)).json()["classifications"]
    assert cls["learnBlock"]["type"] == "anomaly-gmm"
    assert all(isinstance(r["anomaly"], float) for r in cls["result"])
    assert len(cls["anomalyResult"]) == len(cls["result"]) == cls["resultCount"]


def test_classify_is_deterministic_and_variants_differ(client: httpx.Client) -> None:
    path = classify_path(CLASSIFIER, direct_sample().id)
    first, second = (client.post(path).json() for _ in range(2))
    assert first == second
    results = {v: client.post(path, params={"variant": v}).json()["classifications"][0]["result"]
               for v in ("int8", "float32", "akida")}
    assert results["float32"] == first["classifications"][0]["result"]
    assert results["int8"] != results["float32"] != results["akida"]


def test_truncate_structured_labels(client: httpx.Client) -> None:
    multi = direct_sample(lambda s: s.is_multi_label)
    single = direct_sample(lambda s: not s.is_multi_label)
    full = client.post(classify_path(CLASSIFIER, multi.id)).json()["sample"]["sample"]
    cut = client.post(classify_path(CLASSIFIER, multi.id),
                      params={"truncateStructuredLabels": "true"}).json()["sample"]["sample"]
    assert len(full["structuredLabels"]) >= 3
    assert cut["structuredLabels"] == full["structuredLabels"][:2]
    assert cut["structuredLabelsList"] == full["structuredLabelsList"][:2]
    for value in ("true", "false"):
        other = client.post(classify_path(CLASSIFIER, single.id),
                            params={"truncateStructuredLabels": value}).json()
        assert "structuredLabels" not in other["sample"]["sample"]


def test_expected_labels_follow_segments(client: httpx.Client) -> None:
    multi = direct_sample(lambda s: s.is_multi_label)
    (cls,) = client.post(classify_path(CLASSIFIER, multi.id)).json()["classifications"]
    assert len({e["label"] for e in cls["expectedLabels"]}) >= 2
    assert all(e["startIndex"] <= e["endIndex"] < multi.values_count
               for e in cls["expectedLabels"])


# -- the page ---------------------------------------------------------------------------

def test_page_default(client: httpx.Client) -> None:
    body = page(client)
    assert body["totalCount"] == len(TESTING)
    assert len(body["result"]) == min(DEFAULT_LIMIT, len(TESTING))
    assert [r["sampleId"] for r in body["result"]] == [s.id for s in TESTING][:DEFAULT_LIMIT]
    first = body["result"][0]
    assert first["sample"]["id"] == first["sampleId"]
    assert [c["learnBlock"]["id"] for c in first["classifications"]] == [CLASSIFIER, ANOMALY]


def test_page_predictions_belong_to_the_page(client: httpx.Client) -> None:
    body = page(client, limit=7, offset=3)
    on_page = {r["sampleId"]: r for r in body["result"]}
    lengths = {i: r["sample"]["totalLengthMs"] for i, r in on_page.items()}
    assert {p["sampleId"] for p in body["predictions"]} == set(on_page)
    for p in body["predictions"]:
        assert 0 <= p["startMs"] < p["endMs"] <= lengths[p["sampleId"]]
        assert p["predictionCorrect"] == (p["prediction"] == p["label"])
    for sid, r in on_page.items():
        windows = [p for p in body["predictions"] if p["sampleId"] == sid]
        assert len(windows) == r["classifications"][0]["resultCount"]


def test_page_category(client: httpx.Client) -> None:
    assert page_ids(client, category="training") == ids_where(
        lambda s: True, [s for s in DATA.samples if s.category == "training"])
    assert page_ids(client, category="testing") == page_ids(client)
    assert page(client, category="no-such")["result"] == []


def test_paging_concatenates(client: httpx.Client) -> None:
    full = page_ids(client, maxLength=3000)
    for size in (1, 13, 100):
        got: list[int] = []
        for offset in range(0, len(full) + size, size):
            body = page(client, limit=size, offset=offset, maxLength=3000)
            assert len(body["result"]) <= size
            assert body["totalCount"] == len(full)
            got.extend(r["sampleId"] for r in body["result"])
        assert got == full


def test_paging_edges(client: httpx.Client) -> None:
    assert page(client, limit=0)["result"] == []
    assert page(client, offset=len(TESTING))["result"] == []
    body = page(client, limit=10**30, offset=10**30)
    assert body["result"] == [] and body["totalCount"] == len(TESTING)
    assert len(page(client, limit=10**30)["result"]) == len(TESTING)


def test_page_variant_and_impulse(client: httpx.Client) -> None:
    a = page(client, limit=2, variant="int8")["result"][0]["classifications"][0]["result"]
    b = page(client, limit=2)["result"][0]["classifications"][0]["result"]
    assert a != b
    assert page(client, limit=1, impulseId=1)["result"]


def test_page_truncate(client: httpx.Client) -> None:
    multi = next(s for s in TESTING if s.is_multi_label)
    body = page(client, minId=multi.id, maxId=multi.id + 1, truncateStructuredLabels="true")
    assert len(body["result"][0]["sample"]["structuredLabels"]) == 2


def meta(s: SampleRecord) -> dict[str, str]:
    return s.metadata or {}


ADDED = sorted({s.added for s in TESTING})
TIE = max(ADDED, key=lambda d: sum(s.added == d for s in TESTING))
TIE_TEXT = TIE.strftime("%Y-%m-%dT%H:%M:%S.") + f"{TIE.microsecond // 1000:03d}Z"
MID_ID = TESTING[len(TESTING) // 2].id

FILTER_CASES: list[tuple[dict[str, Any], Callable[[SampleRecord], bool]]] = [
    ({"labels": '["idle", "snake"]'}, lambda s: s.label in ("idle", "snake")),
    ({"labels": "[]"}, lambda s: False),
    ({"filename": "IdLe"}, lambda s: "idle" in s.filename.lower()),
    ({"filename": "_"}, lambda s: "_" in s.filename),
    ({"filename": "%"}, lambda s: "%" in s.filename),
    ({"minLength": 1000}, lambda s: s.total_length_ms > 1000),
    ({"maxLength": 1000}, lambda s: s.total_length_ms < 1000),
    ({"minFrequency": 62.5}, lambda s: s.frequency > 62.5),
    ({"maxFrequency": 100}, lambda s: s.frequency < 100),
    ({"signatureValidity": "both"}, lambda s: True),
    ({"signatureValidity": "valid"}, lambda s: s.signature_valid),
    ({"signatureValidity": "invalid"}, lambda s: not s.signature_valid),
    ({"minLabel": 3}, lambda s: s.numeric_label is not None and s.numeric_label >= 3),
    ({"maxLabel": 3}, lambda s: s.numeric_label is not None and s.numeric_label < 3),
    ({"minLabel": "1.25", "maxLabel": "7.5"},
     lambda s: s.numeric_label is not None and 1.25 <= s.numeric_label < 7.5),
    ({"search": f"{MID_ID}"}, lambda s: s.id == MID_ID or str(MID_ID) in s.filename.lower()),
    ({"search": "wave ABC"},
     lambda s: "wave" in s.filename.lower() and "abc" in s.filename.lower()),
    ({"dataType": "image"}, lambda s: s.chart_type == "image"),
    ({"minId": MID_ID}, lambda s: s.id >= MID_ID),
    ({"maxId": MID_ID}, lambda s: s.id < MID_ID),
    ({"metadata": '[{"key": "site", "op": "eq", "values": ["buildingA"]}]'},
     lambda s: meta(s).get("site") == "buildingA"),
    ({"metadata": '[{"key": "site", "op": "neq", "values": ["buildingA"]}]'},
     lambda s: meta(s).get("site", "buildingA") != "buildingA"),
    ({"metadata": '[{"key": "device", "op": "eq"}]'}, lambda s: "device" in meta(s)),
    ({"metadata": '[{"key": "device", "op": "neq"}]'}, lambda s: "device" not in meta(s)),
    ({"metadata": '[{"no_metadata": true}]'}, lambda s: not s.metadata),
    ({"metadata": '[{"no_metadata": true}, {"key": "operator", "op": "eq"}]'},
     lambda s: not s.metadata or "operator" in meta(s)),
    ({"metadata": '[{"key": "site", "op": "eq"}, {"key": "distance", "op": "eq", '
                  '"values": ["1.5"]}, {"filters_combinator": "and"}]'},
     lambda s: "site" in meta(s) and meta(s).get("distance") == "1.5"),
    ({"minDate": TIE_TEXT}, lambda s: s.added > TIE),
    ({"maxDate": TIE_TEXT}, lambda s: s.added < TIE),
    ({"minDate": TIE_TEXT.replace("Z", "+00:00")}, lambda s: s.added > TIE),
    ({"labels": '["wave"]', "signatureValidity": "valid", "maxLength": 5000},
     lambda s: s.label == "wave" and s.signature_valid and s.total_length_ms < 5000),
]


@pytest.mark.parametrize(("query", "predicate"), FILTER_CASES,
                         ids=[json.dumps(q)[:60] for q, _ in FILTER_CASES])
def test_filter(client: httpx.Client, query: dict[str, Any],
                predicate: Callable[[SampleRecord], bool]) -> None:
    assert page_ids(client, **query) == ids_where(predicate)


# -- errors -----------------------------------------------------------------------------

ROUTES = [("POST", classify_path(CLASSIFIER, DIRECT[0].id)), ("GET", status_path(1)),
          ("GET", PAGE)]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("key", [None, "", "wrong", "EI_REFERENCE_LOCAL_KEY"])
def test_auth_rejected(server: RunningServer, method: str, path: str, key: str | None) -> None:
    headers = {} if key is None else {"x-api-key": key}
    reply = httpx.request(method, server.url + path, headers=headers)
    assert_failure(reply, 401, "x-api-key")


def test_auth_is_checked_first(server: RunningServer) -> None:
    reply = httpx.post(server.url + classify_path(CLASSIFIER, 1, project=99) + "?variant=x")
    assert_failure(reply, 401)


BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/api/x/classify/anomaly-gmm/v2/3/101", {}, 400, "projectId"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/3.5/101", {}, 400, "blockId"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/3/abc", {}, 400, "sampleId"),
    ("POST", "/api/2/classify/anomaly-gmm/v2/3/101", {}, 404, "project 2"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/99/101", {}, 404, "learn block 99"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/2/101", {}, 404, "learn block 2"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/3/102", {}, 404, "sample 102"),
    ("POST", f"/api/1/classify/anomaly-gmm/v2/3/{10**30}", {}, 404, "sample"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/3/101", {"variant": "int4"}, 400, "variant"),
    ("POST", "/api/1/classify/anomaly-gmm/v2/3/101", {"truncateStructuredLabels": "yes"}, 400,
     "truncateStructuredLabels"),
    ("GET", "/api/1/jobs/999999/status", {}, 404, "job 999999"),
    ("GET", "/api/1/jobs/-1/status", {}, 404, "job -1"),
    ("GET", f"/api/1/jobs/{10**30}/status", {}, 404, "job"),
    ("GET", "/api/1/jobs/abc/status", {}, 400, "jobId"),
    ("GET", "/api/3/jobs/1/status", {}, 404, "project 3"),
    ("GET", PAGE.replace("/1/", "/7/"), {}, 404, "project 7"),
    ("GET", PAGE, {"impulseId": 2}, 404, "impulse 2"),
    ("GET", PAGE, {"impulseId": "one"}, 400, "impulseId"),
    ("GET", PAGE, {"limit": "ten"}, 400, "limit"),
    ("GET", PAGE, {"limit": -1}, 400, "limit"),
    ("GET", PAGE, {"offset": -5}, 400, "offset"),
    ("GET", PAGE, {"offset": "1.0"}, 400, "offset"),
    ("GET", PAGE, {"variant": "fp16"}, 400, "variant"),
    ("GET", PAGE, {"truncateStructuredLabels": "1"}, 400, "truncateStructuredLabels"),
    ("GET", PAGE, {"labels": '["idle"'}, 400, "labels"),
    ("GET", PAGE, {"labels": '{"a": "idle"}'}, 400, "labels"),
    ("GET", PAGE, {"labels": "[1]"}, 400, "labels"),
    ("GET", PAGE, {"metadata": "[{bad"}, 400, "metadata"),
    ("GET", PAGE, {"metadata": '[{"key": "a", "op": "eq", "key": "b"}]'}, 400, "duplicate"),
    ("GET", PAGE, {"metadata": '[{"key": "a", "op": "gt"}]'}, 400, "op"),
    ("GET", PAGE, {"metadata": '{"key": "a", "op": "eq"}'}, 400, "array"),
    ("GET", PAGE, {"minLength": "long"}, 400, "minLength"),
    ("GET", PAGE, {"maxLength": "1.5"}, 400, "maxLength"),
    ("GET", PAGE, {"minFrequency": "fast"}, 400, "minFrequency"),
    ("GET", PAGE, {"maxFrequency": "NaN"}, 400, "maxFrequency"),
    ("GET", PAGE, {"minLabel": "three"}, 400, "minLabel"),
    ("GET", PAGE, {"maxLabel": ""}, 400, "maxLabel"),
    ("GET", PAGE, {"minId": "a1"}, 400, "minId"),
    ("GET", PAGE, {"maxId": "1e3"}, 400, "maxId"),
    ("GET", PAGE, {"minDate": "2025-01-01"}, 400, "minDate"),
    ("GET", PAGE, {"maxDate": "2025-02-30T00:00:00Z"}, 400, "maxDate"),
    ("GET", PAGE, {"signatureValidity": "all"}, 400, "signatureValidity"),
    ("GET", PAGE + "?limit=1&limit=2", {}, 400, "once"),
    ("GET", "/api/1/no/such/route", {}, 404, "no such endpoint"),
]


@pytest.fixture(scope="module")
def body_style() -> Any:
    with start_in_thread(ServerConfig(error_style="body")) as running, \
            make_client(running) as c:
        yield c


@pytest.mark.parametrize(("method", "path", "query", "status", "word"), BAD_REQUESTS,
                         ids=[f"{m} {p[:40]} {q}" for m, p, q, _, _ in BAD_REQUESTS])
def test_errors_http_style(client: httpx.Client, method: str, path: str, query: dict[str, Any],
                           status: int, word: str) -> None:
    assert_failure(client.request(method, path, params=query or None), status, word)


@pytest.mark.parametrize(("method", "path", "query", "status", "word"), BAD_REQUESTS,
                         ids=[f"{m} {p[:40]} {q}" for m, p, q, _, _ in BAD_REQUESTS])
def test_errors_body_style(body_style: httpx.Client, method: str, path: str,
                           query: dict[str, Any], status: int, word: str) -> None:
    assert_failure(body_style.request(method, path, params=query or None), 200, word)


def test_auth_body_style(body_style: httpx.Client) -> None:
    assert_failure(body_style.get(PAGE, headers={"x-api-key": "nope"}), 200, "x-api-key")


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", classify_path(CLASSIFIER, 101), "POST"),
    ("DELETE", classify_path(CLASSIFIER, 101), "POST"),
    ("POST", PAGE, "GET"),
    ("PUT", status_path(1), "GET"),
])
@pytest.mark.parametrize("style", ["http", "body"])
def test_method_not_allowed(client: httpx.Client, body_style: httpx.Client, method: str,
                            path: str, allow: str, style: str) -> None:
    reply = (client if style == "http" else body_style).request(method, path)
    assert_failure(reply, 405, allow)
    assert allow in reply.headers["allow"]


def test_success_never_carries_error(client: httpx.Client) -> None:
    assert "error" not in page(client, limit=1)
    assert "error" not in client.post(classify_path(CLASSIFIER, DIRECT[0].id)).json()
