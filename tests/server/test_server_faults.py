"""Every fault is wired: with it, the server visibly breaks its clause; without it, it doesn't."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from eicontract.clauses import CLAUSES
from eicontract.server import FAULTS, ServerConfig, start_in_thread
from eicontract.server.classify import window_count
from eicontract.server.classify import windows as sample_windows
from eicontract.server.dataset import SampleRecord, generate
from eicontract.server.faults import (
    ACCEPTED_FAULTS,
    DEEP_FAULTS,
    DEEP_OFFSET,
    PENDING_FAULTS,
    UNCUT_FROM,
    FaultSet,
    top_tenth_from,
)
from eicontract.server.render import iso
from tests.server.server_helpers import (
    ANOMALY,
    CLASSIFIER,
    DATA,
    PAGE,
    TESTING,
    Check,
    check_registry,
    classify_path,
    make_client,
    status_path,
    wait_for_job,
)

DIRECT = next(s for s in TESTING if s.frequency == 100 and 2000 <= s.total_length_ms <= 8000)
RESAMPLED = next(s for s in TESTING if s.frequency != 100 and s.total_length_ms <= 2000)
MULTI = next(s for s in TESTING if s.is_multi_label and s.frequency == 100
             and s.total_length_ms <= 8000)
WINDOWS = window_count(DIRECT.total_length_ms, 1000, 250)

CHECKS, check = check_registry()


def json_of(reply: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = reply.json()
    return body


def classify(c: httpx.Client, sample: SampleRecord = DIRECT, block: int = CLASSIFIER,
             **query: Any) -> dict[str, Any]:
    return json_of(c.post(classify_path(block, sample.id), params=query))


def page(c: httpx.Client, **query: Any) -> dict[str, Any]:
    return json_of(c.get(PAGE, params=query))


def ids(c: httpx.Client, **query: Any) -> list[int]:
    return [r["sampleId"] for r in page(c, **query)["result"]]


# Each started_job() call uses a sample no server has classified yet (the cache would answer).
_FRESH = iter([s for s in TESTING if s.frequency != 100 and s.total_length_ms <= 2000][1:])


def started_job(c: httpx.Client, sample: SampleRecord | None = None) -> int:
    if sample is not None:
        body = classify(c, sample)
        assert set(body) == {"success", "id"}
        return int(body["id"])
    # the shared clean server may have classified a fresh sample for another check already (its
    # cache then answers the result at once): the next one, never a false failure from test order
    for fresh in _FRESH:
        body = classify(c, fresh)
        if set(body) == {"success", "id"}:
            return int(body["id"])
        assert "classifications" in body, body  # a result, not something broken
    raise AssertionError("no sample left that this server has not classified")


# -- schema and envelope ----------------------------------------------------------------

@check("schema-drop-required")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert "windowSizeMs" in classify(clean)
    assert "windowSizeMs" not in classify(bad)


@check("negative-500")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert clean.get(PAGE, params={"metadata": "[{bad"}).status_code == 400
    for malformed in ("[{bad", '{"key": "site", "op": "eq"}'):
        reply = bad.get(PAGE, params={"metadata": malformed})
        assert reply.status_code == 500 and reply.json()["success"] is False
    assert bad.get(PAGE, params={"labels": "[bad"}).status_code == 400


@check("error-empty")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert clean.get(status_path(999_999)).json()["error"]
    reply = bad.get(status_path(999_999))
    assert reply.status_code == 404 and reply.json() == {"success": False, "error": ""}


@check("key-echoed")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    key = bad.headers["x-api-key"]
    assert key not in clean.get(status_path(999_999)).text
    reply = bad.get(status_path(999_999))
    assert reply.status_code == 404 and key in reply.json()["error"]
    assert key not in bad.get(PAGE, params={"limit": 1}).text  # only failures echo it


@check("auth-ignored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert clean.get(PAGE, headers={"x-api-key": "wrong"}).status_code == 401
    reply = bad.get(PAGE, params={"limit": 1}, headers={"x-api-key": "wrong"})
    assert reply.status_code == 200 and reply.json()["result"]


@check("auth-near-miss")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    key = bad.headers["x-api-key"]
    let_in = (key[:-1] + ("Z" if key[-1] != "Z" else "Y"), key[:-1])  # last character changed, dropped
    refused = ("Z" + key[1:], "ei_wrong_key", "")  # first character changed, another key, none
    for near in let_in:
        assert clean.get(PAGE, params={"limit": 1}, headers={"x-api-key": near}).status_code == 401
        reply = bad.get(PAGE, params={"limit": 1}, headers={"x-api-key": near})
        assert reply.status_code == 200 and reply.json()["result"]
    for other in refused:
        assert bad.get(PAGE, params={"limit": 1}, headers={"x-api-key": other}).status_code == 401
    assert bad.get(PAGE, params={"limit": 1}).status_code == 200  # the key itself: still let in


# -- jobs -------------------------------------------------------------------------------

@check("job-and-result")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert "id" not in classify(clean)
    body = classify(bad)
    assert "classifications" in body and isinstance(body["id"], int)
    assert classify(bad)["id"] == body["id"]  # stable: only JOB-EXCLUSIVE breaks
    job_id = started_job(bad, RESAMPLED)
    wait_for_job(bad, job_id)
    after = classify(bad, RESAMPLED)
    assert "classifications" in after and after["id"] == job_id


@check("result-wrong-sample")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert classify(clean)["sample"]["sample"]["id"] == DIRECT.id
    following = DATA.ids[DATA.ids.index(DIRECT.id) + 1]
    assert classify(bad)["sample"]["sample"]["id"] == following


@check("status-wrong-id")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    job_id = started_job(clean)
    assert clean.get(status_path(job_id)).json()["job"]["id"] == job_id
    job_id = started_job(bad)
    assert bad.get(status_path(job_id)).json()["job"]["id"] == job_id + 1


@check("status-time-backwards")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    job = wait_for_job(clean, started_job(clean))
    assert job["started"] <= job["finished"]
    job = wait_for_job(bad, started_job(bad))
    assert job["started"] > job["finished"]


@check("job-never-finishes")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    wait_for_job(clean, started_job(clean))
    job_id = started_job(bad, RESAMPLED)
    deadline = time.monotonic() + 0.4  # 8x the job time; the poll must never see "finished"
    while time.monotonic() < deadline:
        job = bad.get(status_path(job_id)).json()["job"]
        assert "finished" not in job
        assert classify(bad, RESAMPLED) == {"success": True, "id": job_id}
        time.sleep(0.02)
    assert "started" in job


@check("results-nondeterministic")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert classify(clean) == classify(clean)
    first, second = classify(bad), classify(bad)
    assert first["classifications"] != second["classifications"]
    for probs in first["classifications"][0]["result"]:
        assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-5)
    assert page(bad, limit=3) == page(bad, limit=3)  # only classify varies


@check("unknown-job-success")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert clean.get(status_path(999_999)).status_code == 404
    reply = bad.get(status_path(999_999))
    assert reply.status_code == 200 and reply.json()["success"] is True


# -- windows ----------------------------------------------------------------------------

def classifier_doc(c: httpx.Client, block: int = CLASSIFIER) -> dict[str, Any]:
    doc: dict[str, Any] = classify(c, block=block)["classifications"][0]
    return doc


@check("window-off-by-one")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert len(classifier_doc(clean)["result"]) == WINDOWS
    doc = classifier_doc(bad)
    assert len(doc["result"]) == doc["resultCount"] == WINDOWS + 1
    assert len(doc["expectedLabels"]) == WINDOWS


@check("labels-short")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert len(classifier_doc(clean)["expectedLabels"]) == WINDOWS
    doc = classifier_doc(bad)
    assert len(doc["expectedLabels"]) == WINDOWS - 1 and len(doc["result"]) == WINDOWS


@check("probs-unnormalised")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    for probs in classifier_doc(clean)["result"]:
        assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-6)
    for probs in classifier_doc(bad)["result"]:
        assert math.isclose(sum(probs.values()), 1.2, abs_tol=1e-4)


@check("probs-coarse-window")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    mine, theirs = classifier_doc(bad)["result"], classifier_doc(clean)["result"]
    assert WINDOWS > 1 and mine[:-1] == theirs[:-1]
    assert sorted(mine[-1].values(), reverse=True)[:3] == [0.6, 0.6, 0.0] and mine[-1] != theirs[-1]
    assert mine[-1].keys() == theirs[-1].keys() and math.isclose(sum(mine[-1].values()), 1.2)


@check("anomaly-missing")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert all("anomaly" in r for r in classifier_doc(clean, ANOMALY)["result"])
    assert not any("anomaly" in r for r in classifier_doc(bad, ANOMALY)["result"])


# -- paging -----------------------------------------------------------------------------

@check("limit-plus-one")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert len(ids(clean, limit=5)) == 5
    assert len(ids(bad, limit=5)) == 6


@check("page-duplicate")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert ids(clean, limit=5)[-1] not in ids(clean, limit=5, offset=5)
    first, second = ids(bad, limit=5), ids(bad, limit=5, offset=5)
    assert second[0] == first[-1] and len(second) == 5


@check("page-skip")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    full = ids(clean, limit=20)
    assert ids(clean, limit=5, offset=5) == full[5:10]
    assert ids(bad, limit=5, offset=5) == full[6:11]
    assert ids(bad, limit=5) == full[:5]


@check("order-unstable")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert ids(clean, limit=5) == ids(clean, limit=5)
    assert ids(bad, limit=5) != ids(bad, limit=5)


@check("past-end-last-page")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert ids(clean, limit=10, offset=10_000) == []
    last_page = (len(TESTING) - 1) // 10 * 10
    assert ids(bad, limit=10, offset=10_000) == ids(clean, limit=10, offset=last_page)
    assert ids(bad, limit=10, offset=10_000)


@check("total-wrong")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    query = {"limit": 1, "dataType": "image"}
    image_count = sum(s.chart_type == "image" for s in TESTING)
    assert page(clean, **query)["totalCount"] == image_count
    assert page(bad, **query)["totalCount"] == len(TESTING) + 1


@check("foreign-predictions")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    def foreign(c: httpx.Client) -> set[int]:
        body = page(c, limit=3, offset=3)
        return {p["sampleId"] for p in body["predictions"]} - {
            r["sampleId"] for r in body["result"]}
    assert foreign(clean) == set()
    assert len(foreign(bad)) == 1


@check("negative-limit-accepted")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert clean.get(PAGE, params={"limit": -1}).status_code == 400
    assert bad.get(PAGE, params={"limit": -1}).status_code == 200
    assert bad.get(PAGE, params={"offset": -1, "limit": 1}).status_code == 200


# -- filters ----------------------------------------------------------------------------

@check("maxid-inclusive")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    edge = TESTING[10].id
    assert edge not in ids(clean, maxId=edge)
    assert ids(bad, maxId=edge)[-1] == edge


@check("minlabel-strict")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    labels_clean = {r["sample"]["label"] for r in page(clean, minLabel=3, limit=1000)["result"]}
    labels_bad = {r["sample"]["label"] for r in page(bad, minLabel=3, limit=1000)["result"]}
    assert "3" in labels_clean and "3" not in labels_bad


@check("filters-ored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    one = {"dataType": "image", "limit": 1000}
    both = {**one, "signatureValidity": "invalid"}
    assert ids(bad, **one) == ids(clean, **one)
    union = set(ids(clean, **one)) | set(ids(clean, signatureValidity="invalid", limit=1000))
    assert set(ids(bad, **both)) == union != set(ids(clean, **both))


@check("filter-after-paging")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    query = {"dataType": "image", "limit": 10}
    assert len(ids(clean, **query)) == 10
    in_first_ten = set(ids(clean, limit=10)) & set(ids(clean, dataType="image", limit=1000))
    assert set(ids(bad, **query)) == in_first_ten


@check("malformed-metadata-ignored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert clean.get(PAGE, params={"metadata": "[{bad"}).status_code == 400
    assert page(bad, metadata="[{bad", limit=1)["totalCount"] == len(TESTING)


@check("truncate-wrong")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    full = classify(clean, MULTI)["sample"]["sample"]["structuredLabelsList"]
    cut = classify(clean, MULTI, truncateStructuredLabels="true")
    assert cut["sample"]["sample"]["structuredLabelsList"] == full[:2]
    wrong = classify(bad, MULTI, truncateStructuredLabels="true")["sample"]["sample"]
    assert wrong["structuredLabelsList"][:-1] == full[::-1]
    assert len(wrong["structuredLabelsList"]) > len(full)
    assert classify(bad, MULTI)["sample"]["sample"]["structuredLabelsList"] == full


@check("variant-int8-rejected")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert clean.post(classify_path(CLASSIFIER, DIRECT.id), params={"variant": "int8"}
                      ).status_code == 200
    assert bad.post(classify_path(CLASSIFIER, DIRECT.id), params={"variant": "int8"}
                    ).status_code == 400
    assert bad.post(classify_path(CLASSIFIER, DIRECT.id), params={"variant": "akida"}
                    ).status_code == 200


# -- faults added with the legal variants ------------------------------------------------

@check("success-with-error")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert "error" not in classify(clean) and "error" not in page(clean, limit=1)
    started = classify(bad, next(_FRESH))
    job_status = bad.get(status_path(started["id"])).json()
    for body in (started, classify(bad), page(bad, limit=1), job_status):
        assert body["success"] is True and body["error"]
    assert bad.get(status_path(999_999)).json()["success"] is False


@check("wrong-type")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert all(isinstance(r["sample"]["id"], int) for r in page(clean, limit=3)["result"])
    for result in page(bad, limit=3)["result"]:
        assert result["sample"]["id"] == str(result["sampleId"])  # sampleId stays an integer
    assert classify(bad)["sample"]["sample"]["id"] == DIRECT.id  # only the page


@check("enum-new-value")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert classify(clean)["sample"]["sample"]["chartType"] == DIRECT.chart_type
    assert classify(bad)["sample"]["sample"]["chartType"] == "hologram"
    assert {r["sample"]["chartType"] for r in page(bad, limit=5)["result"]} == {"hologram"}
    # the dataType filter agrees with what the replies say
    assert ids(bad, dataType="hologram", limit=1000) == ids(clean, limit=1000)
    assert ids(bad, dataType=DIRECT.chart_type) == []


@check("finished-too-early")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    job_id = started_job(bad, RESAMPLED)
    job = wait_for_job(bad, job_id)  # "finished" at once; the result comes 30 s later
    assert job["finishedSuccessful"] is True
    for _ in range(3):  # what the gate calls after a finish: the job every time
        assert classify(bad, RESAMPLED) == {"success": True, "id": job_id}
    assert bad.get(status_path(job_id)).json()["job"] == job  # and the status never changes


@check("rejob-forever")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    job_id = started_job(clean, RESAMPLED)
    wait_for_job(clean, job_id)
    assert "classifications" in classify(clean, RESAMPLED)
    seen = [started_job(bad, RESAMPLED)]
    for _ in range(2):
        assert wait_for_job(bad, seen[-1])["finishedSuccessful"] is True
        seen.append(started_job(bad, RESAMPLED))
        assert classify(bad, RESAMPLED) == {"success": True, "id": seen[-1]}  # while it runs
    assert seen == sorted(set(seen))  # a new job each time


@check("jobs-always-fail")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    seen = [started_job(bad, RESAMPLED)]
    for _ in range(2):  # every job fails, and the re-call after it starts another
        assert wait_for_job(bad, seen[-1])["finishedSuccessful"] is False
        seen.append(started_job(bad, RESAMPLED))
    assert seen == sorted(set(seen))
    assert classify(bad, DIRECT)["classifications"]  # a sample answered at once is still classified


@check("limit-ignored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert len(ids(clean, limit=5)) == 5
    assert ids(bad, limit=5) == ids(clean, limit=100) == ids(bad)
    assert len(ids(bad, limit=5)) == 100 < len(TESTING)
    assert bad.get(PAGE, params={"limit": -1}).status_code == 400  # still validated


def edge(values: list[Any]) -> Any:
    """A value in the middle of the data, so that a filter on it has hits and misses."""
    return sorted(values)[len(values) // 2]


IGNORED_FILTERS: dict[str, dict[str, Any]] = {
    "minid-ignored": {"minId": edge([s.id for s in TESTING])},
    "maxid-ignored": {"maxId": edge([s.id for s in TESTING])},
    "minlabel-ignored": {"minLabel": 2},
    "maxlabel-ignored": {"maxLabel": 3},
    "signature-ignored": {"signatureValidity": "invalid"},
    "datatype-ignored": {"dataType": "video"},
}


def ignored_filter_check(name: str) -> Check:
    query = IGNORED_FILTERS[name]
    other = {"category": "training"} if "minLabel" in query or "maxLabel" in query else {
        "labels": '["idle"]'}

    def run(bad: httpx.Client, clean: httpx.Client) -> None:
        everything = ids(clean, limit=1000)
        assert 0 < len(ids(clean, **query, limit=1000)) < len(everything)
        assert ids(bad, **query, limit=1000) == everything
        assert ids(bad, **query, **other, limit=1000) == ids(clean, **other, limit=1000)
    return run


for _name in IGNORED_FILTERS:
    check(_name)(ignored_filter_check(_name))

EQ_A = {"key": "site", "op": "eq", "values": ["buildingA"]}
EQ_DEV2 = {"key": "device", "op": "eq", "values": ["dev-2"]}


def meta_ids(c: httpx.Client, *items: dict[str, Any]) -> set[int]:
    return set(ids(c, metadata=json.dumps(list(items)), limit=1000))


@check("metadata-anded")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    a, b = meta_ids(clean, EQ_A), meta_ids(clean, EQ_DEV2)
    assert meta_ids(clean, EQ_A, EQ_DEV2) == a | b
    assert meta_ids(bad, EQ_A, EQ_DEV2) == a & b != a | b
    ored = {"filters_combinator": "or"}
    assert meta_ids(bad, EQ_A, EQ_DEV2, ored) == a | b  # an explicit "or" is kept


@check("no-metadata-ignored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    none = {"no_metadata": True}
    assert meta_ids(clean, none) == {s.id for s in TESTING if not s.metadata} != set()
    assert meta_ids(bad, none) == set()
    lacks_device = {"key": "device", "op": "neq"}
    with_metadata = {s.id for s in TESTING if s.metadata}
    assert meta_ids(bad, lacks_device) == meta_ids(clean, lacks_device) & with_metadata
    assert meta_ids(bad, lacks_device) != meta_ids(clean, lacks_device)
    assert meta_ids(bad, EQ_A) == meta_ids(clean, EQ_A)
    # any filtered listing loses them (the inner join); the unfiltered listing keeps them
    images = set(ids(clean, dataType="image", limit=1000))
    assert set(ids(bad, dataType="image", limit=1000)) == images & with_metadata != images
    assert ids(bad, limit=1000) == ids(clean, limit=1000)


@check("neq-as-eq")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    neq_a = {**EQ_A, "op": "neq"}
    assert meta_ids(clean, neq_a) != meta_ids(clean, EQ_A)
    assert meta_ids(bad, neq_a) == meta_ids(clean, EQ_A)


@check("metadata-keyonly-inverted")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    has_site = {s.id for s in TESTING if s.metadata and "site" in s.metadata}
    lacks_site = {s.id for s in TESTING} - has_site
    eq_site, neq_site = {"key": "site", "op": "eq"}, {"key": "site", "op": "neq"}
    assert meta_ids(clean, eq_site) == has_site != set() and meta_ids(clean, neq_site) == lacks_site != set()
    assert meta_ids(bad, eq_site) == lacks_site and meta_ids(bad, neq_site) == has_site
    # items with values, and no_metadata, are untouched
    assert meta_ids(bad, EQ_A) == meta_ids(clean, EQ_A)
    assert meta_ids(bad, {**EQ_A, "op": "neq"}) == meta_ids(clean, {**EQ_A, "op": "neq"})
    assert meta_ids(bad, {"no_metadata": True}) == meta_ids(clean, {"no_metadata": True})


@check("metadata-wrong-type-accepted")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    as_string, as_number = {**EQ_A, "values": "buildingA"}, {"key": "distance", "op": "eq", "values": [1.5]}
    for item in (as_string, as_number):
        reply = clean.get(PAGE, params={"metadata": json.dumps([item])})
        assert reply.status_code == 400 and reply.json()["success"] is False
    assert meta_ids(bad, as_string) == meta_ids(clean, EQ_A) != set()
    assert meta_ids(bad, as_number) == meta_ids(clean, {**as_number, "values": ["1.5"]}) != set()
    assert bad.get(PAGE, params={"metadata": '[{"key": "site", "op": "eq", "values": {"a": 1}}]'}).status_code == 400
    assert bad.get(PAGE, params={"metadata": "[{bad"}).status_code == 400  # not JSON: still a 400


@check("labels-first-only")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    both = set(ids(clean, labels='["idle", "wave"]', limit=1000))
    idle = set(ids(clean, labels='["idle"]', limit=1000))
    assert idle < both
    assert set(ids(bad, labels='["idle", "wave"]', limit=1000)) == idle


@check("date-bounds-swapped")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    middle = iso(edge([s.added for s in TESTING]))
    after, before = (set(ids(clean, limit=1000, **{bound: middle}))
                     for bound in ("minDate", "maxDate"))
    assert after and before and not after & before
    assert set(ids(bad, maxDate=middle, limit=1000)) == after  # a lower bound
    assert set(ids(bad, minDate=middle, limit=1000)) == after  # minDate stays right


# -- issue 10's totals and pairs (pending until the bounded-cost oracles caught them) ----------

@check("filtered-total-unfiltered")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    query = {"limit": 1, "dataType": "image"}
    assert page(clean, **query)["totalCount"] == sum(s.chart_type == "image" for s in TESTING)
    assert page(bad, **query)["totalCount"] == len(TESTING)
    assert ids(bad, **query) == ids(clean, **query)  # only the count is wrong
    training = sum(s.category == "training" for s in DATA.samples)
    assert page(bad, limit=1)["totalCount"] == len(TESTING)  # right without filters
    assert page(bad, limit=1, category="training")["totalCount"] == training


@check("filter-pair-ignored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    labels, longer = {"labels": '["idle", "wave"]'}, {"minLength": 1000}
    alone = [ids(clean, **one, limit=1000) for one in (labels, longer)]
    assert [ids(bad, **one, limit=1000) for one in (labels, longer)] == alone  # each alone
    both = ids(clean, **labels, **longer, limit=1000)
    assert set(both) == set(alone[0]) & set(alone[1])
    assert ids(bad, **labels, **longer, limit=1000) == alone[0] != both
    assert ids(bad, **longer, dataType="image", limit=1000) == ids(
        clean, **longer, dataType="image", limit=1000)  # only with labels


def predictions_by_sample(c: httpx.Client) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for p in page(c, limit=1000)["predictions"]:
        out.setdefault(p["sampleId"], []).append(p)
    return out


@check("window-past-end")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    size = 1000
    length = {s.id: s.total_length_ms for s in TESTING}
    good, shifted = predictions_by_sample(clean), predictions_by_sample(bad)
    assert good.keys() == shifted.keys() == set(length)
    for sample_id, windows in good.items():
        total = length[sample_id]
        assert all(w["startMs"] + size <= total or w["startMs"] == 0 for w in windows)
        last = shifted[sample_id][-1]
        assert shifted[sample_id][:-1] == windows[:-1]
        assert len(shifted[sample_id]) == len(windows)
        if total <= size:  # one zero-padded window: unchanged
            assert last == windows[-1]
            continue
        assert last["startMs"] == windows[-1]["startMs"] + 250
        assert last["startMs"] + size > total > last["startMs"]  # ends past the sample's end
        assert last["endMs"] == total  # clipped, as every window's endMs is
    assert classify(bad) == classify(clean)  # classify's windows are right


@check("classify-unknown-sample")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    unknown = max(DATA.ids) + 1
    for block in (CLASSIFIER, ANOMALY):
        assert clean.post(classify_path(block, unknown)).status_code == 404
        reply = bad.post(classify_path(block, unknown))
        body = reply.json()
        assert reply.status_code == 200 and body["success"] is True
        assert body["sample"]["sample"]["id"] == unknown and body["classifications"]
    assert bad.post(classify_path(CLASSIFIER, 2**62)).json()["success"] is True
    assert bad.post(classify_path(99, DIRECT.id)).status_code == 404  # blocks, projects stay
    assert bad.post(classify_path(CLASSIFIER, DIRECT.id, project=2)).status_code == 404
    assert classify(bad) == classify(clean)  # known samples are unchanged


@check("limit-refused-midsize")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    for limit in (40, 50, 60):
        refused = bad.get(PAGE, params={"limit": limit, "offset": 0})
        assert refused.status_code == 400 and refused.json()["success"] is False, limit
        assert refused.json()["error"] and len(ids(clean, limit=limit)) == limit
    for limit in (39, 61, 100):  # smaller and larger pages answered: no maximum, no window explains it
        assert ids(bad, limit=limit, offset=100) == ids(clean, limit=limit, offset=100)


@check("limit-zero-all")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert ids(clean, limit=0) == []
    assert ids(bad, limit=0) == ids(clean, limit=1000) and len(ids(bad, limit=0)) == len(TESTING)
    assert ids(bad, limit=0, offset=10) == ids(clean, limit=1000, offset=10)
    assert ids(bad, limit=0, dataType="image") == ids(clean, dataType="image", limit=1000)
    assert ids(bad, limit=1) == ids(clean, limit=1)


@check("default-offset-one")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert ids(bad)[0] == ids(clean)[1] and ids(bad, limit=5) == ids(clean, limit=6)[1:]
    assert ids(bad, offset=0, limit=5) == ids(clean, limit=5)  # an offset sent is applied as sent
    assert ids(bad, offset=3, limit=5) == ids(clean, offset=3, limit=5)


@check("truncate-ignored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    """Samples of UNCUT_FROM labels or more are left whole, shorter ones still cut: no slice size
    explains both (a flag with no effect at all could be a slice longer than every sample)."""
    def labels_of(c: httpx.Client, sample: Any, **query: Any) -> list[str]:
        body = classify(c, sample, **query)
        if "classifications" not in body:
            wait_for_job(c, body["id"])
            body = classify(c, sample, **query)
        labels: list[str] = body["sample"]["sample"]["structuredLabelsList"]
        return labels
    multi = [s for s in TESTING if s.segments]
    long_one = next(s for s in multi if len(s.segments) >= UNCUT_FROM)
    short_one = next(s for s in multi if len(s.segments) < UNCUT_FROM)
    for sample, cut in ((long_one, False), (short_one, True)):
        full = labels_of(clean, sample)
        assert labels_of(clean, sample, truncateStructuredLabels="true") == full[:2]
        assert labels_of(bad, sample, truncateStructuredLabels="true") == (full[:2] if cut else full)
        query = {"minId": sample.id, "maxId": sample.id + 1, "truncateStructuredLabels": "true"}
        listed = page(bad, **query)["result"][0]["sample"]["structuredLabelsList"]
        assert listed == (full[:2] if cut else full)
    assert bad.get(PAGE, params={"truncateStructuredLabels": "maybe"}).status_code == 400


# -- deep faults (DEEP_FAULTS: accepted, outside FAULTS; the kill matrix runs them on a big project)
# Each acts only deep, so these checks run against two servers large enough to have a deep part
# (the faulty one and deep_client, a clean one of the same size), shallow and deep.

DEEP_SAMPLES = 7_200  # the testing listing holds about 6,000: there are pages past offset 5,000
DEEP_DATA = generate(seed=1, count=DEEP_SAMPLES)
DEEP_TESTING = [s for s in DEEP_DATA.samples if s.category == "testing"]
DEEP_NAMES = frozenset(f.name for f in DEEP_FAULTS)


@check("deep-skip")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert len(DEEP_TESTING) > DEEP_OFFSET + 50
    listing = ids(clean, limit=60, offset=DEEP_OFFSET - 10)  # listing[10] is at offset 5,000
    assert listing == [s.id for s in DEEP_TESTING[DEEP_OFFSET - 10:DEEP_OFFSET + 50]]
    assert ids(bad, limit=100) == ids(clean, limit=100)  # shallow: whole
    assert ids(bad, limit=20, offset=DEEP_OFFSET - 10) == listing[:20]  # offset 4,990: whole
    assert ids(bad, limit=10, offset=DEEP_OFFSET) == listing[10:20]  # offset 5,000: whole
    assert ids(bad, limit=10, offset=DEEP_OFFSET + 1) == listing[12:22]  # past 5,000: one skipped
    # read on from 5,000 in pages of 10: the result at offset 5,010 is never seen
    assert ids(bad, limit=10, offset=DEEP_OFFSET + 10) == listing[21:31]
    assert page(bad, limit=1, offset=DEEP_OFFSET + 1)["totalCount"] == len(DEEP_TESTING)


@check("deep-filter-ignored")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    top = top_tenth_from(DEEP_DATA.ids)
    idle = '["idle"]'
    in_top = [s.id for s in DEEP_TESTING if s.id >= top]
    assert 0 < len(in_top) < len(DEEP_TESTING) // 5
    high = {"labels": idle, "minId": top, "limit": 10_000}
    assert ids(clean, **high) == [s.id for s in DEEP_TESTING if s.id >= top and s.label == "idle"]
    assert ids(bad, **high) == in_top != ids(clean, **high)  # the top tenth: labels ignored
    low = {"labels": idle, "maxId": top, "limit": 10_000}
    assert ids(bad, **low) == ids(clean, **low)  # below it: the filter holds
    assert ids(bad, labels=idle, limit=100) == ids(clean, labels=idle, limit=100)  # shallow pages
    others = {"minId": top, "dataType": "video", "limit": 10_000}
    assert ids(bad, **others) == ids(clean, **others)  # other filters stay right there
    assert ids(bad, minId=top, limit=10_000) == in_top


@check("deep-total-wrong")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    total = len(DEEP_TESTING)
    assert page(clean, limit=1, offset=DEEP_OFFSET + 1)["totalCount"] == total
    for shallow in (0, 100, DEEP_OFFSET):
        assert page(bad, limit=1, offset=shallow)["totalCount"] == total
    deep = page(bad, limit=3, offset=DEEP_OFFSET + 1)
    assert deep["totalCount"] == total + 1
    assert deep["result"] == page(clean, limit=3, offset=DEEP_OFFSET + 1)["result"]  # only the count
    images = {"dataType": "image", "limit": 1}
    image_total = sum(s.chart_type == "image" for s in DEEP_TESTING)
    assert page(bad, **images)["totalCount"] == image_total
    assert page(bad, **images, offset=DEEP_OFFSET + 1)["totalCount"] == image_total + 1  # past the end


@pytest.fixture(scope="module")
def deep_client() -> Iterator[httpx.Client]:
    with start_in_thread(ServerConfig(samples=DEEP_SAMPLES, job_seconds=0.05)) as running, \
            make_client(running) as clean:
        yield clean


@pytest.mark.parametrize("name", sorted(DEEP_NAMES))
def test_deep_fault_is_wired(name: str, deep_client: httpx.Client) -> None:
    config = ServerConfig(samples=DEEP_SAMPLES, faults=frozenset({name}), job_seconds=0.05)
    with start_in_thread(config) as running, make_client(running) as faulty:
        CHECKS[name](faulty, deep_client)


def test_deep_faults_are_accepted_but_not_catalogued() -> None:
    assert DEEP_NAMES and not DEEP_NAMES & set(FAULTS)  # the kill matrix adds them on a big project
    assert set(ACCEPTED_FAULTS) >= DEEP_NAMES
    assert ServerConfig(faults=DEEP_NAMES).faults == DEEP_NAMES
    assert {f.clause for f in DEEP_FAULTS} <= set(CLAUSES)
    assert all(f.description for f in DEEP_FAULTS)


# -- mutation testing's gaps in dates and windows (docs/mutation-triage.yaml) ----------------

LEAP, LEAP_MEANS = "2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000Z"


@check("leap-second-500")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    for bound in ("minDate", "maxDate"):
        assert ids(clean, limit=1000, **{bound: LEAP}) == ids(clean, limit=1000, **{bound: LEAP_MEANS})
        assert bad.get(PAGE, params={bound: LEAP}).status_code == 500
        assert ids(bad, limit=1000, **{bound: LEAP_MEANS}) == ids(clean, limit=1000, **{bound: LEAP_MEANS})


@check("leap-second-as-zero")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    added = next(s.added for s in sorted(TESTING, key=lambda s: s.added) if s.added.second)
    minute = added.replace(second=0, microsecond=0)
    leap = minute.strftime("%Y-%m-%dT%H:%M:60Z")
    for bound in ("minDate", "maxDate"):
        right = ids(clean, limit=1000, **{bound: iso(minute + timedelta(minutes=1))})
        early = ids(clean, limit=1000, **{bound: iso(minute)})
        assert right != early and ids(clean, limit=1000, **{bound: leap}) == right
        assert ids(bad, limit=1000, **{bound: leap}) == early
        assert ids(bad, limit=1000, **{bound: iso(minute)}) == early  # no leap second: right


def _at_a_segment_start(sample: SampleRecord) -> set[int]:
    """The windows (indices) of a sample whose middle value is a structured label's first."""
    starts = {s.start_index for s in sample.segments}
    return {w.index for w in sample_windows(sample, DATA.impulse) if (w.start_index + w.end_index) // 2 in starts}


@check("expected-label-segment-start")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    sample = next(s for s in TESTING if s.is_multi_label and _at_a_segment_start(s))

    def expected_labels(c: httpx.Client) -> list[dict[str, Any]]:
        body = classify(c, sample)
        if "classifications" not in body:  # a resampled sample: a job first
            wait_for_job(c, body["id"])
            body = classify(c, sample)
        labels: list[dict[str, Any]] = body["classifications"][0]["expectedLabels"]
        return labels

    good, wrong = expected_labels(clean), expected_labels(bad)
    segments = [(s.start_index, s.end_index, s.label) for s in sample.segments]
    for k, (right, faulted) in enumerate(zip(good, wrong, strict=True)):
        overlapped = {name for a, b, name in segments if a <= right["endIndex"] and b >= right["startIndex"]}
        assert right["label"] in overlapped
        if k in _at_a_segment_start(sample):
            assert faulted["label"] not in overlapped
        else:
            assert faulted == right
    page_query = {"minId": sample.id, "maxId": sample.id + 1}
    assert page(bad, **page_query)["predictions"] == page(clean, **page_query)["predictions"]



@check("page-label-segment-start")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    """The page's copy only: classify answers as the clean server does."""
    sample = next(s for s in TESTING if s.is_multi_label and _at_a_segment_start(s))
    page_query = {"minId": sample.id, "maxId": sample.id + 1}
    good, wrong = (page(c, **page_query)["result"][0]["classifications"][0]["expectedLabels"] for c in (clean, bad))
    segments = [(s.start_index, s.end_index, s.label) for s in sample.segments]
    for k, (right, faulted) in enumerate(zip(good, wrong, strict=True)):
        overlapped = {name for a, b, name in segments if a <= right["endIndex"] and b >= right["startIndex"]}
        assert right["label"] in overlapped
        assert (faulted["label"] not in overlapped) if k in _at_a_segment_start(sample) else faulted == right

    def classify_labels(c: httpx.Client) -> Any:
        body = classify(c, sample)
        if "classifications" not in body:  # a job first
            wait_for_job(c, body["id"])
            body = classify(c, sample)
        return body["classifications"][0]["expectedLabels"]

    assert classify_labels(bad) == classify_labels(clean) == good


# -- relations between answers (issue 18) ----------------------------------------------------

@check("default-variant-int8")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert classify(clean) == classify(clean, variant="float32")
    assert classify(bad) == classify(bad, variant="int8") != classify(bad, variant="float32")
    assert classify(bad, variant="float32") == classify(clean, variant="float32")  # explicit: right


@check("sample-foreign-project")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert classify(clean)["sample"]["sample"]["projectId"] == 1
    assert classify(bad)["sample"]["sample"]["projectId"] == 2
    assert {r["sample"]["projectId"] for r in page(bad, limit=5)["result"]} == {2}


@check("job-status-no-uids")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert wait_for_job(clean, started_job(clean))["jobNotificationUids"] == []
    job = wait_for_job(bad, started_job(bad))
    assert "jobNotificationUids" not in job and job["key"] and job["finished"]


@check("page-stale-windows")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    window = {"minId": DIRECT.id, "maxId": DIRECT.id + 1}
    good, stale = page(clean, **window)["result"][0], page(bad, **window)["result"][0]
    for right, wrong in zip(good["classifications"], stale["classifications"], strict=True):
        assert len(right["result"]) == WINDOWS == len(wrong["result"]) + 1
        assert wrong["expectedLabels"] == right["expectedLabels"][:-1]
        assert wrong["resultCount"] == WINDOWS - 1
    assert page(bad, **window)["predictions"] == page(clean, **window)["predictions"]
    assert classify(bad) == classify(clean)  # classify is right


@check("variant-drops-window")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    assert classify(bad, variant="float32") == classify(clean, variant="float32")
    for variant in ("int8", "akida"):
        right, wrong = classify(clean, variant=variant), classify(bad, variant=variant)
        doc = wrong["classifications"][0]
        assert len(doc["result"]) == len(right["classifications"][0]["result"]) - 1 == WINDOWS - 1
        assert doc["resultCount"] == len(doc["expectedLabels"]) == WINDOWS - 1
    assert page(bad, limit=3, variant="int8") == page(clean, limit=3, variant="int8")  # the page is right


@check("truncate-drops-window")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    full, cut = classify(bad, MULTI), classify(bad, MULTI, truncateStructuredLabels="true")
    assert full == classify(clean, MULTI)
    right = len(classify(clean, MULTI, truncateStructuredLabels="true")["classifications"][0]["result"])
    doc = cut["classifications"][0]
    assert len(doc["result"]) == right - 1 == len(full["classifications"][0]["result"]) - 1
    assert doc["resultCount"] == len(doc["expectedLabels"]) == right - 1
    single = {"truncateStructuredLabels": "true"}
    assert not DIRECT.is_multi_label and classify(bad, **single) == classify(clean, **single)


@check("running-job-500")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    with pytest.raises(RuntimeError):
        FaultSet({"running-job-500"}).on_running_job(3)
    FaultSet().on_running_job(3)  # the clean server: no raise
    # each try a sample this fresh server has not classified; the job runs 0.05 s, a loopback
    # call takes a few ms: a re-call that found the job over already is tried again
    for fresh in [s for s in TESTING if s.frequency != 100 and s.total_length_ms <= 2000][:3]:
        job_id = int(classify(bad, fresh)["id"])
        again = bad.post(classify_path(CLASSIFIER, fresh.id))
        if again.status_code == 500:
            assert again.json()["success"] is False
            wait_for_job(bad, job_id)
            assert "classifications" in classify(bad, fresh)  # once finished: the result
            return
        assert "classifications" in again.json()
    raise AssertionError("no re-call found its job running")


@check("labels-prefix")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    def labelled(*labels: str) -> list[int]:
        return [s.id for s in TESTING if s.label in labels]

    query = {"labels": '["idl"]', "limit": 10_000}
    assert ids(clean, **query) == [] and ids(bad, **query) == labelled("idle")
    assert ids(bad, labels='["1"]', limit=10_000) == labelled("1.25", "10")
    exact = {"labels": '["idle", "wave"]', "limit": 10_000}
    assert ids(bad, **exact) == ids(clean, **exact) == labelled("idle", "wave")  # whole labels: right


@check("window-count-rounded")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    def result(c: httpx.Client, sample: SampleRecord) -> dict[str, Any]:
        body = classify(c, sample)
        if "id" in body:  # these lengths are all resampled: a job first
            wait_for_job(c, body["id"])
            body = classify(c, sample)
        return body

    def windows(c: httpx.Client, sample: SampleRecord) -> int:
        return len(result(c, sample)["classifications"][0]["result"])

    past_half = next(s for s in TESTING if s.total_length_ms > 1000 and (s.total_length_ms - 1000) % 250 >= 125)
    exact = next(s for s in TESTING if s.total_length_ms > 1000 and (s.total_length_ms - 1000) % 250 == 0)
    right = window_count(past_half.total_length_ms, 1000, 250)
    assert windows(clean, past_half) == right and windows(bad, past_half) == right + 1
    doc = result(bad, past_half)["classifications"][0]
    assert doc["resultCount"] == len(doc["expectedLabels"]) == right + 1
    assert windows(bad, exact) == windows(clean, exact)  # at a multiple: right
    query = {"minId": past_half.id, "maxId": past_half.id + 1}
    assert page(bad, **query) == page(clean, **query)  # the page is right


@check("job-status-any-project")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    job_id = started_job(clean)
    assert clean.get(status_path(job_id, project=7)).status_code == 404
    job_id = started_job(bad)
    reply = bad.get(status_path(job_id, project=7))
    assert reply.status_code == 200 and reply.json()["job"]["id"] == job_id
    assert bad.get(status_path(999_999, project=7)).status_code == 404  # an unknown job: still refused


@check("metadata-first-value-only")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    def with_(query: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
        value = {"metadata": json.dumps(query), "limit": 10_000}
        return ids(clean, **value), ids(bad, **value)

    def having(values: set[str]) -> list[int]:
        return [s.id for s in TESTING if (s.metadata or {}).get("site") in values]

    right, wrong = with_([{"key": "site", "op": "eq", "values": ["buildingA", "buildingB"]}])
    assert right == having({"buildingA", "buildingB"}) and wrong == having({"buildingA"})
    for same in ([{"key": "site", "op": "eq", "values": ["buildingB"]}],
                 [{"key": "site", "op": "neq", "values": ["buildingA", "buildingB"]}]):
        clean_ids, bad_ids = with_(same)
        assert clean_ids == bad_ids  # one value, and neq items, stay right


@check("failed-job-successful")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    failing = next(s for s in TESTING if s.processing_error)
    for c, reported in ((clean, False), (bad, True)):
        job_id = started_job(c, failing)
        assert wait_for_job(c, job_id)["finishedSuccessful"] is reported
        again = classify(c, failing)
        assert set(again) == {"success", "id"} and again["id"] != job_id  # no result either way
    job_id = started_job(bad, RESAMPLED)  # a job that computed its result: unchanged
    assert wait_for_job(bad, job_id)["finishedSuccessful"] is True
    assert "classifications" in classify(bad, RESAMPLED)


# -- the catalogue itself ----------------------------------------------------------------

# Clause ids that pending faults name and eicontract/clauses.py does not have yet.
PENDING_CLAUSES: set[str] = set()  # clause ids a pending fault may name before eicontract/clauses.py has them


# -- issue 19: the 5xx hunt's fault ---------------------------------------------------------

def _result_of(c: httpx.Client, sample: int, **query: Any) -> httpx.Response:
    """classify until there is an answer other than a job (a long sample answers a job first)."""
    reply = c.post(classify_path(CLASSIFIER, sample), params=query)
    if reply.status_code == 200 and set(reply.json()) == {"success", "id"}:
        wait_for_job(c, int(reply.json()["id"]))
        reply = c.post(classify_path(CLASSIFIER, sample), params=query)
    return reply


@check("variant-end-500")
def _(bad: httpx.Client, clean: httpx.Client) -> None:
    last, other = max(s.id for s in DATA.samples), min(s.id for s in DATA.samples)
    crash = {"variant": "akida", "truncateStructuredLabels": "true"}
    assert _result_of(clean, last, **crash).status_code == 200
    assert _result_of(bad, last, **crash).status_code == 500
    # only that combination: another variant, no truncation, another sample are answered
    for sample, query in ((last, {**crash, "variant": "int8"}), (last, {**crash, "truncateStructuredLabels": "false"}),
                          (other, crash)):
        assert _result_of(bad, sample, **query).status_code == 200


def test_every_fault_has_a_check() -> None:
    assert set(CHECKS) == set(ACCEPTED_FAULTS)


def test_pending_faults_are_accepted_but_not_catalogued() -> None:
    pending = {f.name for f in PENDING_FAULTS}  # empty while every pending fault is caught
    assert not pending & set(FAULTS)
    assert set(ACCEPTED_FAULTS) == set(FAULTS) | pending | DEEP_NAMES
    assert ServerConfig(faults=frozenset(pending)).faults == pending
    assert {f.clause for f in PENDING_FAULTS} <= set(CLAUSES) | PENDING_CLAUSES
    assert all(f.description for f in PENDING_FAULTS)


def test_a_misspelt_fault_in_a_hook_is_an_error() -> None:
    with pytest.raises(KeyError):
        _ = "no-such-fault" in FaultSet()


def test_faults_name_known_clauses() -> None:
    # several faults may break the same clause (e.g. each ignored filter breaks FILTER-SOUND)
    assert {f.clause for f in FAULTS.values()} <= set(CLAUSES)
    assert all(name == f.name and f.description for name, f in FAULTS.items())


@pytest.mark.parametrize("name", sorted(set(ACCEPTED_FAULTS) - DEEP_NAMES))  # deep: above
def test_fault_is_wired(name: str, client: httpx.Client) -> None:
    with start_in_thread(ServerConfig(faults=frozenset({name}), job_seconds=0.05)) as running, \
            make_client(running) as faulty:
        CHECKS[name](faulty, client)
