"""eicontract.http.classified: the classify requests sent, by path and what they select.

suite/test_schema judges valid data for acceptance only on a first-time classify (a repeated one may
be refused by a reading: its job still runs or failed). A classify of the same sample with another
variant or truncateStructuredLabels is a first-time classify, and must still be judged.
"""

from __future__ import annotations

import httpx
import pytest

from eicontract.http.classified import Classified, classify_key
from tests.harness.helpers import BASE, make_client

SAMPLE = BASE + "/api/1/classify/anomaly-gmm/v2/7/42"


def sent(*urls: str) -> Classified:
    record = Classified(BASE)
    for url in urls:
        record.add("POST", url)
    return record


def test_the_same_classify_is_sent_before_and_another_sample_is_not() -> None:
    record = sent(SAMPLE + "?variant=int8")
    assert not Classified(BASE).sent_before("POST", SAMPLE + "?variant=int8")
    assert record.sent_before("POST", SAMPLE + "?variant=int8")
    assert record.sent_before("post", SAMPLE + "?variant=int8")
    assert not record.sent_before("POST", BASE + "/api/1/classify/anomaly-gmm/v2/7/43?variant=int8")


@pytest.mark.parametrize("other", [
    "?variant=float32",
    "?variant=akida",
    "",  # the documented default, float32
    "?variant=int8&truncateStructuredLabels=true",
])
def test_the_same_path_with_another_selection_is_a_first_time_classify(other: str) -> None:
    """Keyed by the path alone, each of these would count as repeated (and a refusal be excused)."""
    assert not sent(SAMPLE + "?variant=int8").sent_before("POST", SAMPLE + other)


@pytest.mark.parametrize(("first", "again"), [
    ("", "?variant=float32"),  # "float32 is the default"
    ("?variant=float32", ""),
    ("", "?truncateStructuredLabels=false"),  # only true slices the labels
    ("?truncateStructuredLabels=true", "?truncateStructuredLabels=True"),  # httpx and requests spell it
    ("?truncateStructuredLabels=true&variant=int8", "?variant=int8&truncateStructuredLabels=true"),
])
def test_the_same_selection_spelt_otherwise_is_the_same_classify(first: str, again: str) -> None:
    assert sent(SAMPLE + first).sent_before("POST", SAMPLE + again)


def test_only_classify_requests_are_recorded() -> None:
    page = BASE + "/api/1/classify/all/result/page?limit=5"
    record = sent(page, BASE + "/api/1/jobs/9/status")
    assert not record.sent_before("GET", page)
    assert classify_key("GET", "/api/1/classify/anomaly-gmm/v2/7/42", []) is None  # not the documented verb
    assert classify_key("POST", "/api/1/classify/anomaly-gmm/v2/7/42", []) == (
        "POST", "/api/1/classify/anomaly-gmm/v2/7/42", ("float32",), ("false",))


def test_the_client_records_each_classify_it_sends() -> None:
    client = make_client(lambda request: httpx.Response(200, json={"success": True, "id": 1}))
    client.classify(1, 7, 42, variant="int8", truncate=True)
    assert client.classified.sent_before("POST", SAMPLE + "?variant=int8&truncateStructuredLabels=true")
    assert not client.classified.sent_before("POST", SAMPLE + "?variant=int8")
