"""Consumer compatibility: the official edgeimpulse_api client (1.96.3) against the server.

Each known client defect (see API-FACTS.md) has one test named test_defect_*, which proves the
defect exists; if a client release fixes it, that test fails and should be revisited.
Everything else is shown to work: all three operations, the job polling path, and parsing
of every reply into the client's models, with every field the client declares required.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import edgeimpulse_api as ei
import pytest
from edgeimpulse_api.exceptions import ApiException
from pydantic.v1 import BaseModel

from eicontract.server import RunningServer
from eicontract.server.dataset import SampleRecord, generate

DATA = generate(seed=1, count=300)
TESTING = [s for s in DATA.samples if s.category == "testing"]
CLASSIFIER = DATA.impulse.classifier.id
DIRECT = next(s for s in TESTING if s.frequency == 100 and s.total_length_ms <= 8000)
RESAMPLED = [s for s in TESTING if s.frequency != 100]


@pytest.fixture(scope="module")
def api_client(server: RunningServer) -> Iterator[ei.ApiClient]:
    conf = ei.Configuration(host=server.url,
                            api_key={"ApiKeyAuthentication": server.config.api_key})
    with ei.ApiClient(conf) as client:
        yield client


@pytest.fixture(scope="module")
def classify_api(api_client: ei.ApiClient) -> ei.ClassifyApi:
    return ei.ClassifyApi(api_client)


@pytest.fixture(scope="module")
def jobs_api(api_client: ei.ApiClient) -> ei.JobsApi:
    return ei.JobsApi(api_client)


def raw_json(response: Any) -> dict[str, Any]:
    """The body of a `_preload_content=False` reply (a urllib3 response)."""
    assert response.status == 200
    body: dict[str, Any] = json.loads(response.data)
    return body


def missing_required(model: type[BaseModel], data: Any, path: str = "$") -> list[str]:
    """Fields the client's model declares required but `data` lacks (the client won't check)."""
    if not isinstance(data, dict):
        return [f"{path} is not an object"]
    missing = []
    for field in model.__fields__.values():
        if field.alias not in data:
            if field.required:
                missing.append(f"{path}.{field.alias}")
            continue
        inner = field.type_
        is_model = isinstance(inner, type) and issubclass(inner, BaseModel)
        if not is_model or "actual_instance" in inner.__fields__:  # oneOf/anyOf wrappers
            continue
        value = data[field.alias]
        items = value if isinstance(value, list) else [value]
        for n, item in enumerate(items):
            missing += missing_required(inner, item, f"{path}.{field.alias}[{n}]")
    return missing


def without_threshold_values(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a reply with every thresholds[].value removed (see the first defect)."""
    copy: dict[str, Any] = json.loads(json.dumps(body))
    results = copy.get("result", [copy])
    for holder in results:
        for cls in holder.get("classifications", []):
            for threshold in cls["thresholds"]:
                del threshold["value"]
    return copy


def start_job(classify_api: ei.ClassifyApi, sample_id: int, **kwargs: Any) -> int:
    body = raw_json(classify_api.classify_sample_by_learn_block_v2(
        1, sample_id, CLASSIFIER, _preload_content=False, **kwargs))
    assert set(body) == {"success", "id"}, "expected a job for a resampled sample"
    return int(body["id"])


def poll_job(jobs_api: ei.JobsApi, job_id: int, deadline_s: float = 5.0) -> ei.GetJobResponse:
    deadline = time.monotonic() + deadline_s
    while True:
        status = jobs_api.get_job_status(1, job_id)
        if status.job.finished is not None:
            return status
        assert time.monotonic() < deadline, f"job {job_id} did not finish"
        time.sleep(0.01)


# -- the known defects ------------------------------------------------------------------

@pytest.mark.parametrize("value", [0.5, "text", 1])
def test_defect_block_threshold_value_never_deserializes(value: object) -> None:
    with pytest.raises(ValueError, match=r"Multiple matches found .* BlockThresholdValue"):
        ei.BlockThresholdValue.from_json(json.dumps(value))


def test_defect_block_threshold_value_breaks_the_page_call(classify_api: ei.ClassifyApi) -> None:
    with pytest.raises(ValueError, match=r"Multiple matches found .* BlockThresholdValue"):
        classify_api.get_classify_job_result_page(1, limit=2)


def test_defect_job_reply_decodes_as_empty_classify_response(
        classify_api: ei.ClassifyApi) -> None:
    job_id = start_job(classify_api, RESAMPLED[0].id)
    decoded = classify_api.classify_sample_by_learn_block_v2(1, RESAMPLED[0].id, CLASSIFIER)
    assert type(decoded.actual_instance) is ei.ClassifySampleResponse  # not StartJobResponse
    assert decoded.actual_instance.success is True
    assert decoded.actual_instance.classifications is None
    assert not hasattr(decoded.actual_instance, "id")  # the job id is lost
    raw = raw_json(classify_api.classify_sample_by_learn_block_v2(
        1, RESAMPLED[0].id, CLASSIFIER, _preload_content=False))
    assert raw == {"success": True, "id": job_id}


def test_defect_query_values_not_url_encoded(api_client: ei.ApiClient,
                                            classify_api: ei.ClassifyApi) -> None:
    query = api_client.parameters_to_url_query(
        [("minDate", datetime(2025, 1, 1, tzinfo=UTC).isoformat())], {})
    assert query == "minDate=2025-01-01T00:00:00+00:00"  # '+' unescaped: a space on arrival
    # The reference server reads " HH:MM" right after the seconds as the '+' it was (see
    # docs/REFERENCE-SERVER.md); another space in a date-time is still a 400.
    body = raw_json(classify_api.get_classify_job_result_page(
        1, limit=1, min_date=datetime(2025, 1, 1, tzinfo=UTC), _preload_content=False))
    assert body["totalCount"] == len(TESTING)
    with pytest.raises(ApiException) as caught:
        classify_api.get_classify_job_result_page(
            1, limit=1, min_date=datetime(2025, 1, 1), _preload_content=False)  # no zone
    assert caught.value.status == 400
    assert "2025-01-01T00:00:00" in json.loads(caught.value.body)["error"]


def test_defect_required_fields_not_enforced() -> None:
    page = ei.ClassifyJobResponsePage.from_dict({"success": True, "result": [],
                                                 "predictions": []})
    assert page.total_count is None
    assert missing_required(ei.ClassifyJobResponsePage, page.to_dict()) == ["$.totalCount"]
    status = ei.GetJobResponse.from_dict({"success": True})
    assert status.job is None


# -- everything else works ---------------------------------------------------------------

def test_page_has_every_required_field_and_parses_without_threshold_values(
        classify_api: ei.ClassifyApi) -> None:
    body = raw_json(classify_api.get_classify_job_result_page(
        1, limit=5, offset=2, _preload_content=False))
    assert missing_required(ei.ClassifyJobResponsePage, body) == []
    with pytest.raises(ValueError, match="BlockThresholdValue"):
        ei.ClassifyJobResponsePage.from_dict(body)
    page = ei.ClassifyJobResponsePage.from_dict(without_threshold_values(body))
    assert page.total_count == len(TESTING)
    assert [r.sample_id for r in page.result] == [s.id for s in TESTING[2:7]]
    first = page.result[0]
    assert isinstance(first.sample, ei.Sample)
    assert isinstance(first.sample.datastreams[0], ei.SampleDatastream)
    assert {c.learn_block.type for c in first.classifications} == {"keras", "anomaly-gmm"}
    assert all(isinstance(p, ei.ModelPrediction) for p in page.predictions)
    assert ei.RawDataCategory(first.sample.category) is ei.RawDataCategory.TESTING


def test_page_with_filters_through_the_client(classify_api: ei.ClassifyApi) -> None:
    east = timezone(timedelta(hours=-1))  # a '-' offset survives the missing URL encoding
    body = raw_json(classify_api.get_classify_job_result_page(
        1, limit=1000, labels='["idle", "wave"]', signature_validity="valid", min_id=150,
        max_id=600, min_length=500, max_frequency=150.0, min_date=datetime(2025, 1, 6, 7,
                                                                            tzinfo=east),
        metadata='[{"key": "site", "op": "neq"}]', category="testing", impulse_id=1,
        variant="int8", _preload_content=False))
    got = [r["sampleId"] for r in body["result"]]
    boundary = datetime(2025, 1, 6, 8, tzinfo=UTC)
    assert got == [s.id for s in TESTING if s.label in ("idle", "wave") and s.signature_valid
                   and 150 <= s.id < 600 and s.total_length_ms > 500 and s.frequency < 150
                   and s.added > boundary and "site" not in (s.metadata or {})]
    assert got and body["totalCount"] == len(got)


def listing(classify_api: ei.ClassifyApi, **query: Any) -> list[int]:
    """The ids of a whole listing through the official client (raw: see the first defect);
    totalCount is checked against them on the way."""
    body = raw_json(classify_api.get_classify_job_result_page(
        1, limit=1000, _preload_content=False, **query))
    got = [r["sampleId"] for r in body["result"]]
    assert body["totalCount"] == len(got)
    return got


def matching(keep: Callable[[SampleRecord], bool],
             samples: list[SampleRecord] = TESTING) -> list[int]:
    return [s.id for s in samples if keep(s)]


# An instant several samples share, with a millisecond part, in the middle of the data.
TIES = sorted({s.added for s in TESTING if s.added.microsecond
               and sum(t.added == s.added for t in TESTING) > 1})
TIE = TIES[len(TIES) // 2]
PLUS_2 = timezone(timedelta(hours=2))
MINUS_5 = timezone(timedelta(hours=-5))
MID_ID = TESTING[len(TESTING) // 2].id


def has_item(s: SampleRecord, key: str, values: tuple[str, ...] = (), neq: bool = False) -> bool:
    """A metadata item: the key with a value in (eq) / not in (neq) values; any value if none."""
    meta = s.metadata or {}
    return key in meta and (not values or (meta[key] in values) != neq)


# Every page filter of the client's get_classify_job_result_page, one at a time, each with the
# samples it must select (the seed's readings; the server's strict bounds); dates in several
# zones, '+' ones included (the client sends them unencoded). Each selects some, not all.
FILTERS: list[tuple[dict[str, Any], Callable[[SampleRecord], bool]]] = [
    ({"labels": '["idle", "wave"]'}, lambda s: s.label in ("idle", "wave")),
    ({"filename": "IDLE"}, lambda s: "idle" in s.filename.lower()),
    ({"filename": "%snake"}, lambda s: "%snake" in s.filename.lower()),
    ({"min_length": 1000}, lambda s: s.total_length_ms > 1000),
    ({"max_length": 2000}, lambda s: s.total_length_ms < 2000),
    ({"min_frequency": 62.5}, lambda s: s.frequency > 62.5),
    ({"max_frequency": 100.0}, lambda s: s.frequency < 100),
    ({"signature_validity": "invalid"}, lambda s: not s.signature_valid),
    ({"signature_validity": "valid"}, lambda s: s.signature_valid),
    ({"min_label": 3.0}, lambda s: s.numeric_label is not None and s.numeric_label >= 3),
    ({"max_label": 2.0}, lambda s: s.numeric_label is not None and s.numeric_label < 2),
    ({"search": "wave"}, lambda s: "wave" in s.filename.lower()),
    ({"search": f"{MID_ID} {DATA.sample(MID_ID).filename[:3]}"},  # type: ignore[union-attr]
     lambda s: s.id == MID_ID),
    ({"data_type": "image"}, lambda s: s.chart_type == "image"),
    ({"min_id": MID_ID}, lambda s: s.id >= MID_ID),
    ({"max_id": MID_ID}, lambda s: s.id < MID_ID),
    ({"metadata": '[{"key": "site", "op": "eq", "values": ["buildingA"]}, {"no_metadata": true}]'},
     lambda s: has_item(s, "site", ("buildingA",)) or not s.metadata),
    ({"metadata": '[{"key": "site", "op": "neq", "values": ["buildingB"]}, '
                  '{"key": "device", "op": "eq"}, {"filters_combinator": "and"}]'},
     lambda s: has_item(s, "site", ("buildingB",), neq=True) and has_item(s, "device")),
    ({"min_date": datetime(2025, 1, 8, tzinfo=UTC)},  # "+00:00": a space on the wire
     lambda s: s.added > datetime(2025, 1, 8, tzinfo=UTC)),
    ({"max_date": datetime(2025, 1, 8, 14, 30, tzinfo=PLUS_2)},
     lambda s: s.added < datetime(2025, 1, 8, 12, 30, tzinfo=UTC)),
    ({"min_date": TIE.astimezone(PLUS_2)}, lambda s: s.added > TIE),  # microseconds, then " 02:00"
    ({"max_date": TIE.astimezone(MINUS_5)}, lambda s: s.added < TIE),
    ({"min_date": TIE - timedelta(days=1), "max_date": (TIE + timedelta(days=1)).astimezone(PLUS_2)},
     lambda s: TIE - timedelta(days=1) < s.added < TIE + timedelta(days=1)),
]


@pytest.mark.parametrize(("query", "keep"), FILTERS, ids=[
    "-".join(f"{k}={v}" for k, v in q.items()) for q, _ in FILTERS])
def test_every_page_filter_through_the_client(classify_api: ei.ClassifyApi, query: dict[str, Any],
                                              keep: Callable[[SampleRecord], bool]) -> None:
    expected = matching(keep)
    assert 0 < len(expected) < len(TESTING)  # the filter can be seen to act
    assert listing(classify_api, **query) == expected


def test_category_filter_through_the_client(classify_api: ei.ClassifyApi) -> None:
    training = [s for s in DATA.samples if s.category == "training"]
    assert listing(classify_api, category="training") == [s.id for s in training]
    assert listing(classify_api, category="training", min_label=2.0) == matching(
        lambda s: s.numeric_label is not None and s.numeric_label >= 2, training)


def test_every_filter_at_once_through_the_client(classify_api: ei.ClassifyApi) -> None:
    query: dict[str, Any] = {}
    for one, _ in FILTERS:
        query.update(one)
    query.update(labels='["idle", "wave", "3", "10"]', filename="", search=None,
                 signature_validity="both", min_label=None, max_label=None,
                 metadata='[{"key": "operator", "op": "neq"}, {"no_metadata": true}]')
    query = {k: v for k, v in query.items() if v is not None}
    low, high = query["min_date"], query["max_date"]
    expected = matching(lambda s: s.label in ("idle", "wave", "3", "10")
                        and 1000 < s.total_length_ms < 2000 and 62.5 < s.frequency < 100
                        and s.chart_type == "image" and MID_ID <= s.id < MID_ID
                        and low < s.added < high)
    assert expected == []  # minId = maxId: nothing, yet every value parsed (no 400)
    assert listing(classify_api, **query) == expected
    query.update(min_id=TESTING[0].id, max_length=99_999, max_frequency=1000.0,
                 min_frequency=0.0, data_type="chart")
    expected = matching(lambda s: s.label in ("idle", "wave", "3", "10")
                        and s.total_length_ms > 1000 and s.chart_type == "chart"
                        and s.id < MID_ID and low < s.added < high
                        and "operator" not in (s.metadata or {}))
    assert expected
    assert listing(classify_api, variant="akida", impulse_id=1, offset=0,
                   truncate_structured_labels=False, **query) == expected


def test_client_sends_capitalised_booleans_which_the_server_accepts(
        api_client: ei.ApiClient, classify_api: ei.ClassifyApi) -> None:
    query = api_client.parameters_to_url_query([("truncateStructuredLabels", True)], {})
    assert query == "truncateStructuredLabels=True"
    multi = next(s for s in TESTING if s.is_multi_label)
    body = raw_json(classify_api.get_classify_job_result_page(
        1, min_id=multi.id, max_id=multi.id + 1, truncate_structured_labels=True,
        _preload_content=False))
    assert len(body["result"][0]["sample"]["structuredLabels"]) == 2


def test_direct_classify_result_parses(classify_api: ei.ClassifyApi) -> None:
    body = raw_json(classify_api.classify_sample_by_learn_block_v2(
        1, DIRECT.id, CLASSIFIER, variant="float32", truncate_structured_labels=False,
        _preload_content=False))
    assert missing_required(ei.ClassifySampleResponse, body) == []
    result = ei.ClassifySampleResponse.from_dict(without_threshold_values(body))
    assert result.window_size_ms == 1000 and result.already_in_database is True
    assert result.sample.sample.id == DIRECT.id
    assert result.classifications[0].result_count == len(result.classifications[0].result)


def test_job_polling_path(classify_api: ei.ClassifyApi, jobs_api: ei.JobsApi) -> None:
    sample = RESAMPLED[1]
    job_id = start_job(classify_api, sample.id, variant="akida")
    status = poll_job(jobs_api, job_id)
    assert isinstance(status, ei.GetJobResponse)
    assert status.job.id == job_id and status.job.finished_successful is True
    raw_status = raw_json(jobs_api.get_job_status(1, job_id, _preload_content=False))
    assert missing_required(ei.GetJobResponse, raw_status) == []
    body = raw_json(classify_api.classify_sample_by_learn_block_v2(
        1, sample.id, CLASSIFIER, variant="akida", _preload_content=False))
    assert "id" not in body
    assert missing_required(ei.ClassifySampleResponse, body) == []
    result = ei.ClassifySampleResponse.from_dict(without_threshold_values(body))
    assert result.sample.sample.id == sample.id


def test_errors_surface_as_api_exceptions(server: RunningServer,
                                          jobs_api: ei.JobsApi) -> None:
    with pytest.raises(ApiException) as caught:
        jobs_api.get_job_status(1, 999_999)
    assert caught.value.status == 404
    assert json.loads(caught.value.body) == {"success": False,
                                             "error": "job 999999 not found in project 1"}
    conf = ei.Configuration(host=server.url, api_key={"ApiKeyAuthentication": "ei_wrong"})
    with ei.ApiClient(conf) as wrong, pytest.raises(ApiException) as unauthorised:
        ei.JobsApi(wrong).get_job_status(1, 1)
    assert unauthorised.value.status == 401
