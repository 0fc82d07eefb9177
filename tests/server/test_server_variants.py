"""Every legal variant is wired: it visibly changes the behaviour, and stays inside the contract."""

from __future__ import annotations

import gzip
import json
import math
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from eicontract.oracles.window import check_probabilities
from eicontract.server import LEGAL_VARIANTS, LegalVariant, ServerConfig, start_in_thread
from eicontract.server.params import DEFAULT_LIMIT
from eicontract.server.render import iso
from eicontract.server.variants import (
    ACCEPTED_VARIANTS,
    BIG_ID_BASE,
    DATA_KINDS,
    LIMIT_CAP,
    LIMIT_MAX,
    OWN_STEP,
    PAGE_DEFAULT_VARIANT,
    PENDING_VARIANTS,
    PRECISE_STEP,
    RESAMPLE_FACTOR,
    SLOW_JOB_FACTOR,
    THROTTLE_EVERY,
    TRACE_FIELD,
    TRUNCATE_SLICE,
    UNSET_LIMIT,
    WINDOW_SLACK,
    VariantSet,
)
from tests.server.server_helpers import (
    CLASSIFIER,
    DATA,
    PAGE,
    TESTING,
    check_registry,
    classify_path,
    make_client,
    status_path,
    wait_for_job,
)

JOB_SECONDS = 0.05
# A short native-rate sample (its result comes back directly on a clean server), and one
# that needs resampling (a job on any server).
DIRECT = next(s for s in TESTING if s.frequency == 100 and s.total_length_ms <= 2000)
RESAMPLED = next(s for s in TESTING if s.frequency != 100 and s.total_length_ms <= 2000)
FULL_LISTING = [s.id for s in TESTING]

CHECKS, check = check_registry()


def body_of(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text[:300]
    body: dict[str, Any] = reply.json()
    assert body["success"] is True and "error" not in body
    return body


def page(c: httpx.Client, **query: Any) -> dict[str, Any]:
    return body_of(c.get(PAGE, params=query))


def ids(c: httpx.Client, **query: Any) -> list[int]:
    return [r["sampleId"] for r in page(c, **{"limit": 10_000, **query})["result"]]


def classify(c: httpx.Client, sample_id: int = DIRECT.id, **query: Any) -> dict[str, Any]:
    return body_of(c.post(classify_path(CLASSIFIER, sample_id), params=query))


def sweep(c: httpx.Client, size: int, **query: Any) -> list[int]:
    """Concatenated pages of `size`, stepping by what each page returned (as the gate does)."""
    out: list[int] = []
    while True:
        got = [r["sampleId"] for r in page(c, limit=size, offset=len(out), **query)["result"]]
        assert len(got) <= size
        if not got:
            return out
        out += got


def is_job(body: dict[str, Any]) -> bool:
    return "classifications" not in body and isinstance(body.get("id"), int)


def without_extras(value: Any) -> Any:
    """The body with every extra-fields addition removed (recursively)."""
    if isinstance(value, dict):
        return {k: without_extras(v) for k, v in value.items() if k not in ("x-debug", "newField")}
    if isinstance(value, list):
        return [without_extras(v) for v in value]
    return value


# -- the variants -------------------------------------------------------------------------

@check("order-desc")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    listing = ids(variant)
    assert listing == FULL_LISTING[::-1] == ids(clean)[::-1]
    for size in (1, 7, 100):  # pages concatenate to the full listing, no gaps, no repeats
        assert sweep(variant, size) == listing
    assert ids(variant, limit=5, offset=5) == ids(variant, limit=5, offset=5)  # stable
    filtered = ids(variant, dataType="image")
    assert filtered == sorted(ids(clean, dataType="image"), reverse=True)
    assert sweep(variant, 3, dataType="image") == filtered  # filtering commutes with paging


@check("always-job")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    assert not is_job(classify(clean))  # short and native: a clean server answers at once
    started = classify(variant)
    assert is_job(started)
    assert classify(variant) == started  # the same job while it runs
    assert wait_for_job(variant, started["id"])["finishedSuccessful"] is True
    assert classify(variant) == classify(clean)  # then the cached result, the same result
    assert is_job(classify(variant, truncateStructuredLabels="true"))  # another cache key
    assert is_job(classify(variant, variant="int8"))
    assert page(variant, limit=3) == page(clean, limit=3)  # the page is unchanged


@check("inclusive-bounds")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    tie = max(TESTING, key=lambda s: sum(t.added == s.added for t in TESTING)).added
    bounds: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("Length", 1000, lambda s: s.total_length_ms),
        ("Frequency", 100, lambda s: s.frequency),
        ("Date", iso(tie), lambda s: iso(s.added)),
    ]
    for name, value, field in bounds:
        on_edge = {s.id for s in TESTING if field(s) == value}
        assert on_edge
        for bound in (f"min{name}", f"max{name}"):
            strict, inclusive = set(ids(clean, **{bound: value})), set(ids(variant, **{bound: value}))
            assert inclusive == strict | on_edge and not strict & on_edge
    for explicit in ({"minId": DIRECT.id}, {"maxId": DIRECT.id}, {"minLabel": 3}, {"maxLabel": 3}):
        assert ids(variant, **explicit) == ids(clean, **explicit)  # documented bounds stay


@check("labels-listed-empty")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    result = classify(variant)
    assert result["sample"]["sample"]["structuredLabels"] == result["sample"]["sample"]["structuredLabelsList"] == []
    assert "structuredLabels" not in classify(clean)["sample"]["sample"]
    listing, listed = page(variant, limit=100), page(clean, limit=100)
    multi = {r["sampleId"] for r in listed["result"] if "structuredLabels" in r["sample"]}
    assert multi and len(multi) < len(listed["result"])
    for ours, theirs in zip(listing["result"], listed["result"], strict=True):
        expected = theirs["sample"] if ours["sampleId"] in multi else {
            **theirs["sample"], "structuredLabels": [], "structuredLabelsList": []}
        assert ours["sample"] == expected  # a multi-label sample keeps its lists


@check("extra-fields")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    result = classify(variant)
    for doc in (result, result["sample"], result["sample"]["sample"], result["classifications"][0]):
        assert doc["newField"] == 1 and isinstance(doc["x-debug"], dict)
    assert without_extras(result) == classify(clean)
    listing = page(variant, limit=3)
    entry = listing["result"][0]
    for doc in (listing, entry, entry["sample"], *entry["classifications"],
                listing["predictions"][0]):
        assert "x-debug" in doc and "newField" in doc
    assert without_extras(listing) == page(clean, limit=3)
    started = classify(variant, RESAMPLED.id)
    assert is_job(started) and "x-debug" in started
    status = body_of(variant.get(status_path(started["id"])))
    assert "x-debug" in status and "x-debug" in status["job"]
    failure = variant.get(status_path(999_999))  # failure bodies stay exactly the envelope
    assert failure.status_code == 404 and set(failure.json()) == {"success", "error"}


@check("no-total-count")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for query in ({"limit": 5}, {"limit": 5, "offset": 10_000}, {"dataType": "image"}):
        body = page(variant, **query)
        assert "totalCount" not in body
        assert body == {k: v for k, v in page(clean, **query).items() if k != "totalCount"}


@check("slow-jobs")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    quick = wait_for_job(clean, classify(clean, RESAMPLED.id)["id"])
    job = wait_for_job(variant, classify(variant, RESAMPLED.id)["id"])
    assert job["finishedSuccessful"] is True
    assert job["computeTime"] >= SLOW_JOB_FACTOR * JOB_SECONDS * 0.9
    assert quick["computeTime"] < job["computeTime"]
    assert classify(variant, RESAMPLED.id) == classify(clean, RESAMPLED.id)


# -- pending variants (PENDING_VARIANTS: accepted, not yet in LEGAL_VARIANTS) ---------------

def objects(value: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in value with its path, except the maps trace-id leaves alone."""
    if isinstance(value, list):
        for n, item in enumerate(value):
            yield from objects(item, f"{path}[{n}]")
    elif isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            if key != "metadata" and not (key == "result" and "learnBlock" in value):
                yield from objects(item, f"{path}.{key}")


def without(value: Any, field: str) -> Any:
    if isinstance(value, dict):
        return {k: without(v, field) for k, v in value.items() if k != field}
    if isinstance(value, list):
        return [without(v, field) for v in value]
    return value


def traces(body: Any) -> set[str]:
    """The one trace id of a reply: every object carries it (a string), the maps do not."""
    found: set[str] = set()
    for path, doc in objects(body):
        trace = doc.get(TRACE_FIELD)
        assert isinstance(trace, str) and trace, path
        found.add(trace)
        assert TRACE_FIELD not in doc.get("metadata", {}), path
        if "learnBlock" in doc:
            assert all(TRACE_FIELD not in r for r in doc["result"]), path
    assert found
    return found


@check("trace-id")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    replies = [classify(variant), page(variant, limit=3, metadata='[{"key": "site", "op": "eq"}]'),
               classify(variant, RESAMPLED.id)]
    replies.append(body_of(variant.get(status_path(replies[-1]["id"]))))
    seen: set[str] = set()
    for body in replies:
        (trace,) = traces(body)
        seen.add(trace)
    assert len(seen) == len(replies)  # one per reply
    assert without(replies[0], TRACE_FIELD) == classify(clean)
    assert without(replies[1], TRACE_FIELD) == page(clean, limit=3,
                                                    metadata='[{"key": "site", "op": "eq"}]')
    failures = [variant.get(status_path(999_999)), variant.get(PAGE, params={"limit": "x"}),
                variant.get(PAGE, headers={"x-api-key": "wrong"}), variant.get("/nowhere"),
                variant.delete(PAGE)]
    assert [f.status_code for f in failures] == [404, 400, 401, 404, 405]
    for failure in failures:  # the envelope, plus the trace id
        body = failure.json()
        assert set(body) == {"success", "error", TRACE_FIELD} and body["success"] is False
        assert body["error"] and traces(body)


@check("limit-cap")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    body = page(variant, limit=1000)
    assert len(body["result"]) == LIMIT_CAP < len(TESTING) == body["totalCount"]
    assert body == page(clean, limit=LIMIT_CAP)
    assert page(variant, limit=10) == page(clean, limit=10)  # below the cap: as asked
    for size in (7, 100, 10_000):  # offset paging by what came back reads the whole listing
        assert sweep(variant, size) == FULL_LISTING
    images = ids(clean, dataType="chart")
    assert len(images) > LIMIT_CAP and sweep(variant, 1000, dataType="chart") == images
    assert page(variant, dataType="chart", limit=1000)["totalCount"] == len(images)


@check("gzip")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    assert "gzip" in variant.headers["accept-encoding"]  # httpx asks for it, and decodes it
    for path, query in ((PAGE, {"limit": 3}), (status_path(999_999), {})):
        reply = variant.get(path, params=query)
        assert reply.headers["content-encoding"] == "gzip"
        assert reply.json() == clean.get(path, params=query).json()
    assert variant.get(PAGE, headers={"x-api-key": "no"}).headers["content-encoding"] == "gzip"
    with variant.stream("GET", PAGE, params={"limit": 1}) as streamed:  # the bytes on the wire
        wire = b"".join(streamed.iter_raw())
    assert json.loads(gzip.decompress(wire)) == page(clean, limit=1)
    identity = variant.get(PAGE, params={"limit": 3}, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in identity.headers and identity.json() == page(clean, limit=3)
    assert classify(variant) == classify(clean)


@check("throttle-429")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    def status() -> int:
        return variant.get(PAGE, params={"limit": 1}).status_code

    assert [status() for _ in range(THROTTLE_EVERY - 1)] == [200] * (THROTTLE_EVERY - 1)
    throttled = variant.post(classify_path(CLASSIFIER, RESAMPLED.id))  # the 40th request
    assert throttled.status_code == 429 and throttled.headers["retry-after"] in ("0", "1")
    assert throttled.json()["success"] is False and throttled.json()["error"]
    assert variant.get(status_path(1)).status_code == 404  # no job was started: no work done
    started = classify(variant, RESAMPLED.id)  # asked again, it is done
    assert is_job(started) and started["id"] == 1
    later = [status() for _ in range(2 * THROTTLE_EVERY)]  # requests 43 .. 122
    assert [n for n, code in enumerate(later, 43) if code != 200] == [80, 120]
    assert {later[80 - 43], later[120 - 43]} == {429}


DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
OFFSET_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")


def date_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if DATE_TIME.fullmatch(value) else []
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [d for item in items for d in date_strings(item)]


@check("offset-dates")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    listing = page(variant, limit=1000)
    started = classify(variant, RESAMPLED.id)
    job = wait_for_job(variant, started["id"])
    replies = [listing, classify(variant), job, classify(variant, RESAMPLED.id)]
    for body in replies:
        dates = date_strings(body)
        assert dates and all(OFFSET_DATE.fullmatch(d) for d in dates), dates
    assert job["created"] <= job["started"] <= job["finished"]
    # the same samples, added at whole seconds: the filters agree with what the replies say
    added = {r["sampleId"]: r["sample"]["added"] for r in listing["result"]}
    assert [s.id for s in TESTING] == list(added)
    for s in TESTING:
        assert added[s.id] == s.added.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    edge = added[TESTING[len(TESTING) // 2].id]
    after = {i for i, a in added.items() if a > edge}
    assert after and set(ids(variant, minDate=edge)) == after
    assert set(ids(variant, maxDate=edge)) == {i for i, a in added.items() if a < edge}
    assert set(ids(variant, minDate=edge.replace("+00:00", ".000Z"))) == after


@check("big-ids")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    listing = page(variant, limit=1000)
    big = [r["sampleId"] for r in listing["result"]]
    assert big == [i + BIG_ID_BASE for i in FULL_LISTING]
    assert all(2**32 < i < 2**53 for i in big)
    assert all(r["sample"]["id"] == r["sampleId"] for r in listing["result"])
    assert {p["sampleId"] for p in listing["predictions"]} == set(big)
    blocks = {c["learnBlock"]["id"] for c in listing["result"][0]["classifications"]}
    assert blocks == {3 + BIG_ID_BASE, 4 + BIG_ID_BASE}
    big_block = CLASSIFIER + BIG_ID_BASE
    result = body_of(variant.post(classify_path(big_block, DIRECT.id + BIG_ID_BASE)))
    assert result["sample"]["sample"]["id"] == DIRECT.id + BIG_ID_BASE
    assert result["classifications"][0]["learnBlock"]["dsp"] == [2 + BIG_ID_BASE]
    assert variant.post(classify_path(CLASSIFIER, DIRECT.id + BIG_ID_BASE)).status_code == 404
    assert variant.post(classify_path(big_block, DIRECT.id)).status_code == 404
    started = body_of(variant.post(classify_path(big_block, RESAMPLED.id + BIG_ID_BASE)))
    assert is_job(started) and 2**32 < started["id"] < 2**53
    assert wait_for_job(variant, started["id"])["id"] == started["id"]
    middle = big[len(big) // 2]  # the id filters, and search, on big ids
    assert ids(variant, minId=middle) == big[len(big) // 2:]
    assert ids(variant, maxId=middle) == big[:len(big) // 2]
    assert ids(variant, search=str(middle)) == [middle]


@check("unknown-400")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    unknown = [("GET", status_path(999_999)), ("GET", status_path(1, project=2)),
               ("POST", classify_path(CLASSIFIER, 999_999)), ("POST", classify_path(99, DIRECT.id)),
               ("GET", PAGE + "?impulseId=9"), ("GET", PAGE.replace("/1/", "/2/"))]
    for method, path in unknown:
        assert clean.request(method, path).status_code == 404
        reply = variant.request(method, path)
        assert reply.status_code == 400, (method, path)
        assert reply.json() == clean.request(method, path).json()  # the same envelope
    assert variant.get("/nowhere").status_code == 404  # no such endpoint: still a 404
    assert variant.get(PAGE, params={"limit": "x"}).status_code == 400
    assert page(variant, limit=3) == page(clean, limit=3)


def closes_after_one_reply(running: Any) -> bool:
    """Send one keep-alive request on a raw socket: does the server close the connection?"""
    with socket.create_connection(("127.0.0.1", running.port), timeout=2) as sock:
        sock.sendall(f"GET /v1{PAGE}?limit=1 HTTP/1.1\r\nHost: x\r\n"
                     f"x-api-key: {running.config.api_key}\r\n\r\n".encode())
        sock.settimeout(0.5)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            assert received.startswith(b"HTTP/1.1 200")
            return False
        assert received.startswith(b"HTTP/1.1 200")
        return True


@check("connection-close")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for reply in (variant.get(PAGE, params={"limit": 1}), variant.get(status_path(999_999)),
                  variant.get(PAGE, headers={"x-api-key": "wrong"}), variant.post(
                      classify_path(CLASSIFIER, DIRECT.id))):
        assert reply.headers["connection"] == "close"
    assert "close" not in clean.get(PAGE, params={"limit": 1}).headers.get("connection", "")
    assert classify(variant) == classify(clean)
    assert page(variant, limit=3) == page(clean, limit=3)


def test_connection_close_really_closes() -> None:
    with start_in_thread(ServerConfig(variants=frozenset({"connection-close"}))) as closing, \
            start_in_thread(ServerConfig()) as keeping:
        assert closes_after_one_reply(closing)
        assert not closes_after_one_reply(keeping)


# -- issue 18: a server per reading the reference does not take ---------------------------

def result(c: httpx.Client, sample_id: int, **query: Any) -> dict[str, Any]:
    """A classify result, waiting for the job when one is answered."""
    body = classify(c, sample_id, **query)
    if is_job(body):
        wait_for_job(c, body["id"])
        body = classify(c, sample_id, **query)
    return body


@check("metadata-bare-strict")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    bare = {s.id for s in TESTING if not s.metadata}
    key = next(k for s in TESTING if s.metadata for k in s.metadata)
    assert bare
    for op in ("neq", "eq"):
        item = json.dumps([{"key": key, "op": op}])
        strict, loose = set(ids(variant, metadata=item)), set(ids(clean, metadata=item))
        assert strict == loose - bare  # bare samples drop out of key items only
    assert set(ids(clean, metadata=json.dumps([{"key": key, "op": "neq"}]))) & bare
    only_bare = json.dumps([{"no_metadata": True}])
    assert set(ids(variant, metadata=only_bare)) == set(ids(clean, metadata=only_bare)) == bare
    assert page(variant, limit=3) == page(clean, limit=3)


@check("truncate-slice-5")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    multi = [s for s in TESTING if s.segments]
    assert multi and all(3 <= len(s.segments) <= TRUNCATE_SLICE for s in multi)
    sample = max(multi, key=lambda s: len(s.segments))
    for c, kept in ((variant, len(sample.segments)), (clean, 2)):
        got = result(c, sample.id, truncateStructuredLabels="true")["sample"]["sample"]
        assert len(got["structuredLabels"]) == len(got["structuredLabelsList"]) == kept
        listed = {r["sampleId"]: r["sample"] for r in page(
            c, truncateStructuredLabels="true", minId=sample.id, maxId=sample.id + 1)["result"]}
        assert len(listed[sample.id]["structuredLabels"]) == kept
    assert result(variant, sample.id) == result(clean, sample.id)  # untruncated: the same


@check("endindex-exclusive")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    mine, theirs = classify(variant)["classifications"][0], classify(clean)["classifications"][0]
    assert [e["endIndex"] for e in mine["expectedLabels"]] == [
        e["endIndex"] + 1 for e in theirs["expectedLabels"]]
    assert {k: v for k, v in mine.items() if k != "expectedLabels"} == {
        k: v for k, v in theirs.items() if k != "expectedLabels"}
    assert page(variant, limit=3) == page(clean, limit=3)


@check("resampled-partial")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    partial = next(s for s in TESTING if s.frequency == 100 and s.total_length_ms <= 2000
                   and not (s.total_length_ms / (s.interval_ms * RESAMPLE_FACTOR)).is_integer())
    body = result(variant, partial.id)
    doc, total = body["classifications"][0], body["sample"]["sample"]["totalLengthMs"]
    interval = partial.interval_ms * RESAMPLE_FACTOR
    assert doc["intervalMs"] == interval and doc["intervalMs"] != body["sample"]["sample"]["intervalMs"]
    values = math.ceil(total / interval)
    assert values > total / interval  # this sample's last value is partial ...
    assert max(e["endIndex"] for e in doc["expectedLabels"]) == values - 1  # ... and counted
    assert doc["result"] == result(clean, partial.id)["classifications"][0]["result"]


@check("case-sensitive")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    name = DIRECT.filename
    part = name[: max(2, len(name) // 2)]
    assert DIRECT.id in ids(variant, filename=part)
    assert set(ids(variant, filename=part)) < set(ids(clean, filename=part))  # other cases drop
    swapped = part.swapcase()
    assert swapped != part and DIRECT.id in ids(clean, filename=swapped)
    assert DIRECT.id not in ids(variant, filename=swapped)
    assert DIRECT.id not in ids(variant, search=swapped) and DIRECT.id in ids(clean, search=swapped)
    assert DIRECT.id in ids(variant, search=f"{part} {DIRECT.id}")


@check("other-4xx")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    cases = [(PAGE + "?limit=x", 400, 422), (status_path(999_999), 404, 410)]
    for path, before, after in cases:
        mine, theirs = variant.get(path), clean.get(path)
        assert (theirs.status_code, mine.status_code) == (before, after)
        assert mine.json() == theirs.json()  # the same envelope
    refused = variant.get(PAGE, headers={"x-api-key": "ei_wrong"})
    assert refused.status_code == 403 and refused.json()["success"] is False
    assert page(variant, limit=3) == page(clean, limit=3)


@check("labels-case-insensitive")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    label = DIRECT.label
    upper = json.dumps([label.upper()])
    assert label != label.upper() and ids(clean, labels=upper) == []
    assert DIRECT.id in ids(variant, labels=upper)
    exact = json.dumps([label])
    assert ids(variant, labels=upper) == ids(variant, labels=exact) == ids(clean, labels=exact)


@check("neq-loose")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    key, value = next((k, v) for s in TESTING if s.metadata for k, v in s.metadata.items())
    lacking = {s.id for s in TESTING if key not in (s.metadata or {})}
    assert lacking
    item = json.dumps([{"key": key, "op": "neq", "values": [value]}])
    loose, strict = set(ids(variant, metadata=item)), set(ids(clean, metadata=item))
    assert loose == strict | lacking and not strict & lacking
    keyonly = json.dumps([{"key": key, "op": "neq"}])  # without values: unchanged
    assert ids(variant, metadata=keyonly) == ids(clean, metadata=keyonly)


@check("no-prediction-correct")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    mine, theirs = page(variant, limit=5), page(clean, limit=5)
    assert mine["predictions"] and all("predictionCorrect" not in p for p in mine["predictions"])
    assert any("predictionCorrect" in p for p in theirs["predictions"])
    assert mine["predictions"] == [{k: v for k, v in p.items() if k != "predictionCorrect"}
                                   for p in theirs["predictions"]]
    assert mine["result"] == theirs["result"]


@check("akida-refused")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for method, path in (("POST", classify_path(CLASSIFIER, DIRECT.id)), ("GET", PAGE)):
        refused = variant.request(method, path, params={"variant": "akida"})
        assert refused.status_code == 400 and refused.json()["success"] is False
        assert clean.request(method, path, params={"variant": "akida"}).json()["success"] is True
    assert classify(variant, variant="int8") == classify(clean, variant="int8")
    assert page(variant, limit=3) == page(clean, limit=3)


@check("limit-zero-unset")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    assert page(clean, limit=0)["result"] == []
    assert ids(variant, limit=0) == [r["sampleId"] for r in page(clean)["result"]]
    assert len(page(clean)["result"]) == UNSET_LIMIT == DEFAULT_LIMIT
    assert page(variant, limit=3) == page(clean, limit=3)


@check("search-whole")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    part = DIRECT.filename[:3]
    query = f"{DIRECT.id} {part}"
    assert DIRECT.id in ids(clean, search=query) and ids(variant, search=query) == []
    assert ids(variant, search=part) == ids(clean, search=part)
    assert ids(variant, search=str(DIRECT.id)) == ids(clean, search=str(DIRECT.id))


@check("metadata-or-extra")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    key, value = next((k, v) for s in TESTING if s.metadata for k, v in s.metadata.items())
    others = {s.id for s in TESTING if s.metadata and set(s.metadata) - {key}}
    query = json.dumps([{"key": key, "op": "eq", "values": [value]}, {"filters_combinator": "or"}])
    assert others
    assert set(ids(variant, metadata=query)) == set(ids(clean, metadata=query)) | others
    anded = json.dumps([{"key": key, "op": "eq", "values": [value]}, {"filters_combinator": "and"}])
    assert ids(variant, metadata=anded) == ids(clean, metadata=anded)


@check("nometa-ored")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    key = next(k for s in TESTING if s.metadata for k in s.metadata)
    bare = {s.id for s in TESTING if not s.metadata}
    query = json.dumps([{"key": key, "op": "eq"}, {"no_metadata": True}, {"filters_combinator": "and"}])
    assert ids(clean, metadata=query) == []  # ANDed: a sample cannot have the key and no metadata
    has_key = {s.id for s in TESTING if key in (s.metadata or {})}
    assert set(ids(variant, metadata=query)) == has_key | bare
    ored = json.dumps([{"key": key, "op": "eq"}, {"no_metadata": True}])
    assert ids(variant, metadata=ored) == ids(clean, metadata=ored)


@check("resampled-floor")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    partial = next(s for s in TESTING if s.frequency == 100 and s.total_length_ms <= 2000
                   and not (s.total_length_ms / (s.interval_ms * RESAMPLE_FACTOR)).is_integer())
    doc = result(variant, partial.id)["classifications"][0]
    interval = partial.interval_ms * RESAMPLE_FACTOR
    assert doc["intervalMs"] == interval
    values = math.floor(partial.total_length_ms / interval)
    assert max(e["endIndex"] for e in doc["expectedLabels"]) == values - 1  # no partial value


@check("label-first-value")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    changed = 0
    for sample in [s for s in TESTING if s.segments][:5]:
        mine = result(variant, sample.id)
        theirs = result(clean, sample.id)
        listed = theirs["sample"]["sample"]["structuredLabels"]
        for e, f in zip(mine["classifications"][0]["expectedLabels"],
                        theirs["classifications"][0]["expectedLabels"], strict=True):
            assert (e["startIndex"], e["endIndex"]) == (f["startIndex"], f["endIndex"])
            first = next(x["label"] for x in listed if x["startIndex"] <= e["startIndex"] <= x["endIndex"])
            assert e["label"] == first
            changed += e["label"] != f["label"]
    assert changed  # some window's middle value lies in another label than its first


@check("labels-multi")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    multi = next(s for s in TESTING if s.segments and {x.label for x in s.segments} - {s.label})
    other = sorted({x.label for x in multi.segments} - {multi.label})[0]
    wanted = json.dumps([other])
    assert multi.id not in ids(clean, labels=wanted) and multi.id in ids(variant, labels=wanted)
    assert set(ids(clean, labels=wanted)) < set(ids(variant, labels=wanted))
    assert page(variant, limit=3) == page(clean, limit=3)


@check("big-numbers-rejected")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for query in ({"limit": 2**31}, {"offset": 2**31}, {"minId": 2**63}, {"maxLength": -(2**64)}):
        refused = variant.get(PAGE, params=query)
        assert refused.status_code == 400 and refused.json()["success"] is False, query
        assert clean.get(PAGE, params=query).json()["success"] is True
    for query in ({"limit": 2**31 - 1}, {"offset": 2**31 - 1}, {"minId": 2**63 - 1}):
        assert page(variant, **query) == page(clean, **query)


@check("leap-second-refused")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for name in ("minDate", "maxDate"):
        leap = {name: "2016-12-31T23:59:60Z"}
        refused = variant.get(PAGE, params=leap)
        assert refused.status_code == 400 and refused.json()["success"] is False, name
        assert clean.get(PAGE, params=leap).json()["success"] is True
        assert page(variant, **{name: "2016-12-31T23:59:59Z"}) == page(clean, **{name: "2016-12-31T23:59:59Z"})


@check("limit-zero-rejected")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    refused = variant.get(PAGE, params={"limit": 0})
    assert refused.status_code == 400 and refused.json()["success"] is False
    assert page(clean, limit=0)["result"] == []
    assert page(variant, limit=1) == page(clean, limit=1)


@check("limit-max-10")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for limit in (LIMIT_MAX + 1, 100, 10_000):
        refused = variant.get(PAGE, params={"limit": limit})
        assert refused.status_code == 400 and refused.json()["success"] is False, limit
        assert refused.json()["error"]
    for limit in (0, 1, LIMIT_MAX):  # up to its maximum: as asked
        assert page(variant, limit=limit, offset=3) == page(clean, limit=limit, offset=3)
    assert page(variant) == page(clean, limit=LIMIT_MAX)  # the page without a limit: its maximum
    assert sweep(variant, LIMIT_MAX) == FULL_LISTING


@check("window-cap")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    window = len(FULL_LISTING) + WINDOW_SLACK  # offset + limit at most this is answered
    for limit, offset in ((100, window - 99), (20, window - 19), (1, window), (5, 10**9), (window + 1, 0)):
        refused = variant.get(PAGE, params={"limit": limit, "offset": offset})
        assert refused.status_code == 400 and refused.json()["success"] is False, (limit, offset)
        assert refused.json()["error"]
    refused = variant.get(PAGE, params={"offset": window})  # no limit: the rest of the window, none here
    assert refused.status_code == 400, refused.text[:200]
    assert page(variant, offset=window - 99) == page(clean, offset=window - 99)  # the rest of the listing
    for limit, offset in ((100, 0), (window, 0), (20, window - 20), (1, window - 1), (5, len(FULL_LISTING) - 1)):
        assert page(variant, limit=limit, offset=offset) == page(clean, limit=limit, offset=offset)
    assert sweep(variant, WINDOW_SLACK) == FULL_LISTING  # small pages read it whole, the end included


@check("jobs-fail-first")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    # a resampled sample no other check uses: the shared clean server caches what it classifies
    sample = [s for s in TESTING if s.frequency != 100 and s.total_length_ms <= 2000][-1]
    assert sample.id != RESAMPLED.id
    first = classify(variant, sample.id)
    assert is_job(first)
    assert wait_for_job(variant, first["id"])["finishedSuccessful"] is False
    second = classify(variant, sample.id)  # nothing cached: another job, which succeeds
    assert is_job(second) and second["id"] != first["id"]
    assert wait_for_job(variant, second["id"])["finishedSuccessful"] is True
    assert result(variant, sample.id) == result(clean, sample.id)


@check("processing-error-classifies")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    # a short native one: the clean server answers it a job, the variant the result at once
    failed = next(s for s in TESTING if s.processing_error and s.frequency == 100
                  and s.total_length_ms <= 2000)
    assert page(variant, limit=1000) == page(clean, limit=1000)  # still listed as failed
    started = classify(clean, failed.id)
    assert is_job(started) and wait_for_job(clean, started["id"])["finishedSuccessful"] is False
    mine = classify(variant, failed.id)
    assert "classifications" in mine and mine["sample"]["sample"]["processingError"] is True
    assert "classifications" in classify(variant, DIRECT.id)  # the others as before


@check("short-no-window")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    window = DATA.impulse.window_size_ms
    short = next(s for s in TESTING if s.total_length_ms < window)
    mine, theirs = result(variant, short.id), result(clean, short.id)
    assert [len(c["result"]) for c in theirs["classifications"]] == [1] * len(theirs["classifications"])
    for c in mine["classifications"]:
        assert c["result"] == c["expectedLabels"] == [] and c["resultCount"] == 0
    window_ids = {"minId": short.id, "maxId": short.id + 1}
    assert page(variant, **window_ids)["predictions"] == []
    assert page(clean, **window_ids)["predictions"]
    assert page(variant, limit=3, minLength=int(window)) == page(clean, limit=3, minLength=int(window))


@check("probs-precise")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    mine, theirs = classify(variant), classify(clean)
    windows = list(zip(mine["classifications"][0]["result"], theirs["classifications"][0]["result"],
                       strict=True))
    assert any(a != b for a, b in windows)
    for a, b in windows:
        assert a.keys() == b.keys() and abs(sum(a.values()) - sum(b.values())) < 1e-9
        assert max(a, key=a.__getitem__) == max(b, key=b.__getitem__)  # the prediction stays
        assert all(abs(a[k] - b[k]) <= PRECISE_STEP * 1.01 for k in a)
    assert any(len(f"{v}".split(".")[-1]) > 4 for a, _ in windows for v in a.values())
    assert classify(variant) == mine  # deterministic


@check("tail-window")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    impulse = DATA.impulse
    size, step = impulse.window_size_ms, impulse.window_increase_ms
    tailed = next(s for s in TESTING if size < s.total_length_ms <= 4000
                  and (s.total_length_ms - size) % step)
    mine, theirs = result(variant, tailed.id), result(clean, tailed.id)
    for a, b in zip(mine["classifications"], theirs["classifications"], strict=True):
        assert len(a["result"]) == len(a["expectedLabels"]) == a["resultCount"] == len(b["result"]) + 1
        assert a["result"][:-1] == b["result"] and a["expectedLabels"][:-1] == b["expectedLabels"]
        assert a["expectedLabels"][-1]["endIndex"] == tailed.values_count - 1
    window_ids = {"minId": tailed.id, "maxId": tailed.id + 1}
    mine_p, theirs_p = page(variant, **window_ids)["predictions"], page(clean, **window_ids)["predictions"]
    assert mine_p[:-1] == theirs_p and mine_p[-1]["startMs"] == theirs_p[-1]["startMs"] + step
    assert mine_p[-1]["startMs"] < tailed.total_length_ms < mine_p[-1]["startMs"] + size
    exact = next((s for s in TESTING if s.total_length_ms >= size
                  and not (s.total_length_ms - size) % step), None)
    if exact is not None:  # no tail: the same windows
        assert result(variant, exact.id)["classifications"] == result(clean, exact.id)["classifications"]


@check("quantised-each")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for model, step in OWN_STEP.items():
        mine, theirs = classify(variant, variant=model), classify(clean, variant=model)
        windows = [w for c in mine["classifications"] for w in c["result"]]
        assert all(abs(v / step - round(v / step)) < 1e-3 for w in windows for v in w.values())
        for a, b in zip(windows, [w for c in theirs["classifications"] for w in c["result"]], strict=True):
            assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= step / 2 + 1e-6 for k in a)
            assert abs(sum(a.values()) - 1) <= len(a) * step / 2 + 1e-6
        on_page = [w for r in page(variant, variant=model, limit=20)["result"]
                   for w in r["classifications"][0]["result"]]
        assert all(abs(v / step - round(v / step)) < 1e-3 for w in on_page for v in w.values())
        assert any(abs(sum(w.values()) - 1) > 1e-3 for w in on_page)  # no class absorbs the rounding
    assert classify(variant) == classify(clean)  # float32 keeps its 4 decimals
    assert page(variant, limit=3) == page(clean, limit=3)


@check("float32-2dp")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    mine, theirs = classify(variant), classify(clean)
    on_page = [r["classifications"] for r in page(variant, limit=20)["result"]]
    for a, b in zip(mine["classifications"], theirs["classifications"], strict=True):
        if a["learnBlock"]["type"] != "keras":
            assert a == b  # anomaly scores are no probabilities: left alone
            continue
        for x, y in zip(a["result"], b["result"], strict=True):
            assert x.keys() == y.keys() and all(abs(x[k] - y[k]) <= 0.005 + 1e-9 for k in x)
    windows = [w for cs in [mine["classifications"], *on_page] for c in cs if c["learnBlock"]["type"] == "keras"
               for w in c["result"]]
    assert all(abs(v * 100 - round(v * 100)) < 1e-6 for w in windows for v in w.values())
    assert any(abs(sum(w.values()) - 1) > 1e-3 for w in windows)  # no class absorbs the rounding
    # and the gate's oracle passes it: a legal server
    assert check_probabilities(mine) == [] and not [v for r in page(variant, limit=20)["result"]
                                                   for v in check_probabilities(r)]
    for model in ("int8", "akida"):  # only float32 is rounded
        assert classify(variant, variant=model) == classify(clean, variant=model)


@check("page-default-int8")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    assert page(variant, limit=3) == page(clean, limit=3, variant=PAGE_DEFAULT_VARIANT)
    assert page(variant, limit=3) != page(clean, limit=3)
    assert page(variant, limit=3, variant="float32") == page(clean, limit=3)
    assert classify(variant) == classify(clean)  # classify's documented default stays float32


@check("page-blocks-partial")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    mine, theirs = page(variant, limit=6), page(clean, limit=6)
    assert {c["learnBlock"]["type"] for r in theirs["result"] for c in r["classifications"]} != {"keras"}
    assert {r["sampleId"] % 2 for r in mine["result"]} == {0, 1}
    for a, b in zip(mine["result"], theirs["result"], strict=True):
        kept = [c for c in b["classifications"] if c["learnBlock"]["type"] == "keras" or a["sampleId"] % 2 == 0]
        assert a["classifications"] == kept and a["classifications"]
        assert {**a, "classifications": []} == {**b, "classifications": []}
    assert mine["predictions"] == theirs["predictions"]
    anomaly = next(b for b in DATA.impulse.learn_blocks if b.type != "keras")
    assert body_of(variant.post(classify_path(anomaly.id, DIRECT.id))) == \
        body_of(clean.post(classify_path(anomaly.id, DIRECT.id)))  # classify answers every block


@check("datatype-kind")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    for chart, kind in DATA_KINDS.items():
        assert ids(variant, dataType=kind) == ids(clean, dataType=chart)
    assert ids(variant, dataType="time-series") and ids(clean, dataType="time-series") == []
    refused = variant.get(PAGE, params={"dataType": "chart"})
    assert refused.status_code == 400 and refused.json()["success"] is False and refused.json()["error"]
    assert ids(clean, dataType="chart")
    assert page(variant, limit=3) == page(clean, limit=3)


def _long_sample(index: int) -> int:
    """A sample no other check classifies (the clean server caches what it classifies) whose
    classify is a job on any server: resampled."""
    resampled = [s for s in TESTING if s.frequency != 100 and s.total_length_ms <= 2000]
    assert len(resampled) > 6 and resampled[-(index + 2)].id != RESAMPLED.id
    return resampled[-(index + 2)].id


@check("running-another-job")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    sample = _long_sample(0)
    first, second = classify(variant, sample), classify(variant, sample)
    assert is_job(first) and is_job(second) and second["id"] != first["id"]
    assert wait_for_job(variant, first["id"])["finishedSuccessful"] is True
    assert wait_for_job(variant, second["id"])["finishedSuccessful"] is True
    assert result(variant, sample) == result(clean, sample)
    started = classify(clean, sample, variant="int8")
    assert classify(clean, sample, variant="int8") == started  # the clean server: the same job


@check("running-result")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    sample = _long_sample(1)
    first = classify(variant, sample)
    assert is_job(first)
    at_once = classify(variant, sample)
    assert not is_job(at_once) and at_once == result(clean, sample)
    assert wait_for_job(variant, first["id"])["finishedSuccessful"] is True
    assert classify(variant, sample) == at_once
    # a sample whose processing failed has no result to give while its job runs: a job answers
    failed = next(s.id for s in TESTING if s.processing_error)
    started = classify(variant, failed)
    assert is_job(started) and is_job(classify(variant, failed))


@check("running-refused")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    sample = _long_sample(2)
    first = classify(variant, sample)
    assert is_job(first)
    refused = variant.post(classify_path(CLASSIFIER, sample))
    assert refused.status_code == 400 and refused.json()["success"] is False and refused.json()["error"]
    assert wait_for_job(variant, first["id"])["finishedSuccessful"] is True
    assert result(variant, sample) == result(clean, sample)


@check("failure-told")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    sample = _long_sample(3)
    first = classify(variant, sample)
    assert is_job(first) and wait_for_job(variant, first["id"])["finishedSuccessful"] is False
    told = variant.post(classify_path(CLASSIFIER, sample))
    assert told.status_code == 400 and told.json()["success"] is False and told.json()["error"]
    second = classify(variant, sample)  # told once: then another job, which succeeds
    assert is_job(second) and second["id"] != first["id"]
    assert wait_for_job(variant, second["id"])["finishedSuccessful"] is True
    assert result(variant, sample) == result(clean, sample)


@check("failure-kept")
def _(variant: httpx.Client, clean: httpx.Client) -> None:
    failed = next(s.id for s in TESTING if s.processing_error)
    first = classify(variant, failed)
    assert is_job(first) and wait_for_job(variant, first["id"])["finishedSuccessful"] is False
    for _again in range(3):  # kept: told every time, no job again
        told = variant.post(classify_path(CLASSIFIER, failed))
        assert told.status_code == 400 and told.json()["success"] is False and told.json()["error"]
    again = classify(clean, failed)  # the reference starts another job each time
    assert is_job(again) and wait_for_job(clean, again["id"])["finishedSuccessful"] is False
    assert is_job(classify(clean, failed))
    sample = _long_sample(4)  # a sample that classifies: as in the reference
    job = classify(variant, sample)
    assert is_job(job) and wait_for_job(variant, job["id"])["finishedSuccessful"] is True
    assert result(variant, sample) == result(clean, sample)


# -- the catalogue and the config ---------------------------------------------------------

def test_every_variant_has_a_check() -> None:
    assert set(CHECKS) == set(ACCEPTED_VARIANTS)


def test_pending_variants_are_accepted_but_not_catalogued() -> None:
    pending = {v.name for v in PENDING_VARIANTS}  # empty since issue 10 enabled its eight
    assert not pending & set(LEGAL_VARIANTS)
    assert set(ACCEPTED_VARIANTS) == set(LEGAL_VARIANTS) | pending
    assert ServerConfig(variants=frozenset(pending)).variants == pending
    assert all(v.description for v in PENDING_VARIANTS)


def test_catalogue_entries() -> None:
    assert all(isinstance(v, LegalVariant) and v.name == name and v.description
               for name, v in LEGAL_VARIANTS.items())


def test_unknown_variant_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="order-desc") as caught:
        ServerConfig(variants=frozenset({"no-such-variant"}))
    assert "no-such-variant" in str(caught.value)


def test_variants_are_a_frozenset_after_construction() -> None:
    config = ServerConfig(variants=["order-desc"])  # type: ignore[arg-type]
    assert config.variants == frozenset({"order-desc"})
    assert ServerConfig().variants == frozenset()


def test_a_misspelt_variant_in_a_hook_is_an_error() -> None:
    with pytest.raises(KeyError):
        _ = "no-such-variant" in VariantSet()


@pytest.fixture(scope="module")
def clean() -> Iterator[httpx.Client]:
    # its own clean server: jobs here must run JOB_SECONDS, like the variant servers' jobs
    with start_in_thread(ServerConfig(job_seconds=JOB_SECONDS)) as running, \
            make_client(running) as c:
        yield c


@pytest.mark.parametrize("name", sorted(ACCEPTED_VARIANTS))
def test_variant_is_wired_and_legal(name: str, clean: httpx.Client) -> None:
    config = ServerConfig(variants=frozenset({name}), job_seconds=JOB_SECONDS)
    with start_in_thread(config) as running, make_client(running) as variant:
        CHECKS[name](variant, clean)


# The first six variants, together (all of them at once: test_pending_variants_combine below).
FIRST_SIX = frozenset({"order-desc", "always-job", "inclusive-bounds", "extra-fields", "no-total-count",
                       "slow-jobs"})


def test_variants_combine() -> None:
    config = ServerConfig(variants=FIRST_SIX, job_seconds=0.01)
    with start_in_thread(config) as running, make_client(running) as c:
        listing = page(c, limit=10_000)
        assert "totalCount" not in listing and "x-debug" in listing
        assert [r["sampleId"] for r in listing["result"]] == FULL_LISTING[::-1]
        started = classify(c)
        assert is_job(started)
        wait_for_job(c, started["id"])
        assert "classifications" in classify(c)


def test_pending_variants_combine() -> None:
    """Every variant at once (throttling aside: below, with the wire variants it meets)."""
    # unknown-400 shows (not other-4xx); a job gives its result (not jobs-fail-first, failure-told); a
    # large limit is capped (limit-cap), not refused (limit-max-10, window-cap: other readings of the same words)
    chosen = frozenset(ACCEPTED_VARIANTS) - {"throttle-429", "other-4xx", "jobs-fail-first", "failure-told",
                                             "limit-max-10", "window-cap"}
    with start_in_thread(ServerConfig(variants=chosen, job_seconds=0.01)) as running, \
            make_client(running) as c:
        reply = c.get(PAGE, params={"limit": 1000})
        assert reply.headers["content-encoding"] == "gzip" and reply.headers["connection"] == "close"
        listing = body_of(reply)
        assert "totalCount" not in listing and traces(listing) and "x-debug" in listing
        assert [r["sampleId"] for r in listing["result"]] == [
            i + BIG_ID_BASE for i in FULL_LISTING[::-1][:LIMIT_CAP]]
        assert all(OFFSET_DATE.fullmatch(d) for d in date_strings(listing))
        block = CLASSIFIER + BIG_ID_BASE
        started = body_of(c.post(classify_path(block, DIRECT.id + BIG_ID_BASE)))
        assert is_job(started) and started["id"] > 2**32
        wait_for_job(c, started["id"])
        assert "classifications" in body_of(c.post(classify_path(block, DIRECT.id + BIG_ID_BASE)))
        unknown = c.post(classify_path(block, DIRECT.id))
        assert unknown.status_code == 400 and traces(unknown.json())


def test_throttled_replies_meet_the_other_wire_variants() -> None:
    chosen = frozenset({"throttle-429", "trace-id", "gzip", "connection-close"})
    with start_in_thread(ServerConfig(variants=chosen)) as running, make_client(running) as c:
        replies = [c.get(status_path(999_999)) for _ in range(THROTTLE_EVERY)]
        assert [r.status_code for r in replies] == [404] * (THROTTLE_EVERY - 1) + [429]
        throttled = replies[-1]
        assert throttled.headers["content-encoding"] == "gzip"
        assert throttled.headers["connection"] == "close"
        assert set(throttled.json()) == {"success", "error", TRACE_FIELD}
