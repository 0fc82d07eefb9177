"""eicontract.drift: the pure diff on small documents (each change kind, its breaking flag), the
real drift against the vendor excerpt (API-FACTS), wire drift of recorded bodies, and the CLI."""

from __future__ import annotations

import copy
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from eicontract import cli, contract
from eicontract.drift import command
from eicontract.drift.compare import Area, Change, Kind, compare_documents
from eicontract.drift.model import DocumentError, operations, to_node
from eicontract.drift.report import Report, known_keys, render_text
from eicontract.drift.wire import Exchange, RecordingError, compare_exchanges, load_exchanges

EXCERPT = Path(__file__).resolve().parents[1] / "data" / "edge-impulse-openapi-excerpt.json"
RECORDED = Path(__file__).parent / "drift" / "recorded"
PAGE_OP, CLASSIFY_OP, JOB_OP = ("GET /api/{projectId}/classify/all/result/page",
                                "POST /api/{projectId}/classify/anomaly-gmm/v2/{blockId}/{sampleId}",
                                "GET /api/{projectId}/jobs/{jobId}/status")


# --- small synthetic documents ---------------------------------------------------------------------


def item_schema() -> dict[str, Any]:
    return {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "score": {"type": "number"},
        "kind": {"type": "string", "enum": ["x", "y"]},
    }}


def base_doc() -> dict[str, Any]:
    """One operation: a path parameter, two query parameters, a 200 body and a 404."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/api/{projectId}/things": {"get": {
            "operationId": "listThings",
            "parameters": [
                {"name": "projectId", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "variant", "in": "query", "schema": {"type": "string", "enum": ["a", "b"]}},
            ],
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["success", "items"], "properties": {
                        "success": {"type": "boolean"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                    }}}}},
                "404": {"description": "no", "content": {"application/json": {"schema": {"type": "object"}}}},
            },
        }}},
        "components": {"schemas": {"Item": item_schema()}},
    }


def op_of(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["paths"]["/api/{projectId}/things"]["get"]
    return result


def param(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op_of(doc)["parameters"] if p["name"] == name)


def item(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]["Item"]
    return result


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, "\n".join(map(str, changes))
    return changes[0]


def diff(edit_after: Any = None, edit_before: Any = None) -> list[Change]:
    before, after = base_doc(), base_doc()
    if edit_before:
        edit_before(before)
    if edit_after:
        edit_after(after)
    return compare_documents(before, after)


def test_identical_documents_have_no_drift() -> None:
    assert diff() == []


def test_our_own_contract_against_itself_has_no_drift() -> None:
    assert compare_documents(contract.bundled_openapi(), contract.bundled_openapi()) == []


# operations


def test_an_operation_gone_is_breaking() -> None:
    change = only(diff(lambda d: d["paths"].clear()))
    assert (change.kind, change.area, change.breaking) == (Kind.REMOVED, Area.OPERATION, True)
    assert change.operation == "GET /api/{projectId}/things"


def test_a_new_operation_is_not_breaking() -> None:
    def add(d: dict[str, Any]) -> None:
        d["paths"]["/api/{projectId}/other"] = {"post": {"operationId": "other", "responses": {}}}

    change = only(diff(add))
    assert (change.kind, change.area, change.breaking, change.after) == (Kind.ADDED, Area.OPERATION, False, "other")


def test_operations_match_on_path_shape_and_a_new_operation_id_is_noted() -> None:
    def rename(d: dict[str, Any]) -> None:
        op = d["paths"].pop("/api/{projectId}/things")
        op["get"]["operationId"] = "getThings"
        op["get"]["parameters"][0]["name"] = "projectId"  # the parameter keeps its name: only the path differs
        d["paths"]["/api/{project}/things/"] = op

    change = only(diff(rename))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.CHANGED, Area.OPERATION,
                                                                           "operationId", False)
    assert (change.before, change.after) == ("listThings", "getThings")


# parameters


def test_a_documented_parameter_gone_is_breaking() -> None:
    change = only(diff(lambda d: op_of(d)["parameters"].pop(1)))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.REMOVED, Area.PARAMETER,
                                                                           "query limit", True)


@pytest.mark.parametrize(("required", "breaking"), [(False, False), (True, True)])
def test_a_new_parameter_breaks_only_when_required(required: bool, breaking: bool) -> None:
    new = {"name": "extra", "in": "query", "required": required, "schema": {"type": "string"}}
    change = only(diff(lambda d: op_of(d)["parameters"].append(new)))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.ADDED, Area.PARAMETER,
                                                                           "query extra", breaking)


def test_a_parameter_becoming_required_is_breaking_and_the_reverse_is_not() -> None:
    change = only(diff(lambda d: param(d, "limit").update(required=True)))
    assert (change.area, change.before, change.after, change.breaking) == (Area.REQUIRED, "optional",
                                                                             "required", True)
    change = only(diff(edit_before=lambda d: param(d, "limit").update(required=True)))
    assert (change.area, change.before, change.after, change.breaking) == (Area.REQUIRED, "required",
                                                                             "optional", False)


@pytest.mark.parametrize(("before", "after", "breaking"), [
    ("integer", "number", False),  # the server accepts more
    ("number", "integer", True),  # 1.5 is rejected now
    ("integer", "string", True),
])
def test_a_parameter_type_breaks_when_it_narrows(before: str, after: str, breaking: bool) -> None:
    change = only(diff(lambda d: param(d, "limit")["schema"].update(type=after),
                       lambda d: param(d, "limit")["schema"].update(type=before)))
    assert (change.area, change.where, change.before, change.after, change.breaking) == (
        Area.TYPE, "query limit", before, after, breaking)


def test_a_parameter_enum_value_gone_is_breaking_and_a_new_one_is_not() -> None:
    change = only(diff(lambda d: param(d, "variant")["schema"].update(enum=["a"])))
    assert (change.kind, change.area, change.before, change.breaking) == (Kind.REMOVED, Area.ENUM, '["b"]', True)
    change = only(diff(lambda d: param(d, "variant")["schema"].update(enum=["a", "b", "c"])))
    assert (change.kind, change.area, change.after, change.breaking) == (Kind.ADDED, Area.ENUM, '["c"]', False)


def test_a_parameter_enum_lifted_is_not_breaking_one_imposed_is() -> None:
    change = only(diff(lambda d: param(d, "variant")["schema"].pop("enum")))
    assert (change.area, change.before, change.after, change.breaking) == (Area.ENUM, '["a", "b"]', "any", False)
    change = only(diff(lambda d: param(d, "limit")["schema"].update(enum=[10, 20])))
    assert (change.area, change.before, change.after, change.breaking) == (Area.ENUM, "any", "[10, 20]", True)


def test_a_parameter_sent_as_json_text_instead_of_a_value_is_breaking() -> None:
    def as_content(d: dict[str, Any]) -> None:
        schema = param(d, "limit").pop("schema")
        param(d, "limit")["content"] = {"application/json": {"schema": schema}}

    change = only(diff(as_content))
    assert (change.area, change.where, change.breaking) == (Area.TYPE, "query limit", True)


# responses


def test_a_status_code_gone_is_breaking_and_a_new_one_is_not() -> None:
    change = only(diff(lambda d: op_of(d)["responses"].pop("404")))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.REMOVED, Area.RESPONSE, "404", True)
    change = only(diff(lambda d: op_of(d)["responses"].update({"429": {"description": "slow down"}})))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.ADDED, Area.RESPONSE, "429", False)


def test_a_response_body_gone_is_breaking() -> None:
    change = only(diff(lambda d: op_of(d)["responses"]["404"].pop("content")))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.REMOVED, Area.RESPONSE,
                                                                           "404 body", True)


def test_a_required_response_field_gone_is_breaking_an_optional_one_is_not() -> None:
    def drop(field: str) -> Any:
        def edit(d: dict[str, Any]) -> None:
            del item(d)["properties"][field]
            item(d)["required"] = [r for r in item(d)["required"] if r != field]
        return edit

    change = only(diff(drop("id")))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.REMOVED, Area.FIELD,
                                                                           "200 items[].id", True)
    change = only(diff(drop("name")))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.REMOVED, Area.FIELD,
                                                                           "200 items[].name", False)


def test_a_new_response_field_is_not_breaking() -> None:
    change = only(diff(lambda d: item(d)["properties"].update(extra={"type": "string"})))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.ADDED, Area.FIELD,
                                                                           "200 items[].extra", False)


def test_a_response_field_no_longer_required_is_breaking_newly_required_is_not() -> None:
    change = only(diff(lambda d: item(d).update(required=[])))
    assert (change.area, change.where, change.before, change.after, change.breaking) == (
        Area.REQUIRED, "200 items[].id", "required", "optional", True)
    change = only(diff(lambda d: item(d).update(required=["id", "name"])))
    assert (change.area, change.where, change.before, change.after, change.breaking) == (
        Area.REQUIRED, "200 items[].name", "optional", "required", False)


def test_a_field_required_but_never_defined_is_one_change() -> None:
    change = only(diff(lambda d: item(d).update(required=["id", "ghost"]),
                       lambda d: item(d)["properties"].update(ghost={"type": "boolean"})))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.CHANGED, Area.REQUIRED,
                                                                           "200 items[].ghost", False)
    assert (change.before, change.after) == ("optional boolean", "required, never defined")


@pytest.mark.parametrize(("before", "after", "breaking"), [
    ("integer", "number", True),  # the client may get 1.5
    ("number", "integer", False),
    ("number", "string", True),
])
def test_a_response_type_breaks_when_it_widens(before: str, after: str, breaking: bool) -> None:
    change = only(diff(lambda d: item(d)["properties"]["score"].update(type=after),
                       lambda d: item(d)["properties"]["score"].update(type=before)))
    assert (change.area, change.where, change.before, change.after, change.breaking) == (
        Area.TYPE, "200 items[].score", before, after, breaking)


def test_a_response_enum_value_added_is_breaking_one_removed_is_not() -> None:
    change = only(diff(lambda d: item(d)["properties"]["kind"].update(enum=["x", "y", "z"])))
    assert (change.kind, change.area, change.after, change.breaking) == (Kind.ADDED, Area.ENUM, '["z"]', True)
    change = only(diff(lambda d: item(d)["properties"]["kind"].update(enum=["x"])))
    assert (change.kind, change.area, change.before, change.breaking) == (Kind.REMOVED, Area.ENUM, '["y"]', False)


def test_a_response_enum_lifted_is_breaking() -> None:
    change = only(diff(lambda d: item(d)["properties"]["kind"].pop("enum")))
    assert (change.kind, change.area, change.before, change.after, change.breaking) == (
        Kind.CHANGED, Area.ENUM, '["x", "y"]', "any", True)


def _as_branches(*names: str) -> Any:
    def edit(d: dict[str, Any]) -> None:
        body = op_of(d)["responses"]["200"]["content"]["application/json"]
        d["components"]["schemas"]["Page"] = body["schema"]
        d["components"]["schemas"]["Oops"] = {"type": "object", "required": ["success", "error"],
                                              "properties": {"success": {"const": False}, "error": {"type": "string"}}}
        body["schema"] = {"anyOf": [{"$ref": f"#/components/schemas/{n}"} for n in names]}
    return edit


def test_response_alternatives_pair_by_name_and_a_new_one_is_breaking() -> None:
    assert diff(_as_branches("Page", "Oops"), _as_branches("Page", "Oops")) == []
    change = only(diff(_as_branches("Page", "Oops"), _as_branches("Page")))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.ADDED, Area.RESPONSE, "200 <Oops>", True)
    change = only(diff(_as_branches("Page"), _as_branches("Page", "Oops")))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.REMOVED, Area.RESPONSE,
                                                                           "200 <Oops>", False)


def test_fields_inside_a_paired_alternative_carry_its_name() -> None:
    def both(d: dict[str, Any]) -> None:
        _as_branches("Page", "Oops")(d)

    def and_drop_id(d: dict[str, Any]) -> None:
        both(d)
        item(d).update(required=[])

    change = only(diff(and_drop_id, both))
    assert change.where == "200 <Page>.items[].id"


# normalisation: spellings that mean the same schema give no drift


def test_openapi_30_nullable_equals_31_type_list() -> None:
    assert diff(lambda d: item(d)["properties"]["name"].update(type="string", nullable=True),
                lambda d: item(d)["properties"]["name"].update(type=["string", "null"])) == []
    change = only(diff(lambda d: item(d)["properties"]["name"].update(nullable=True)))
    assert (change.area, change.after, change.breaking) == (Area.TYPE, "null | string", True)


def test_allof_ref_and_inline_spell_the_same_schema() -> None:
    def split(d: dict[str, Any]) -> None:
        whole = item(d)
        d["components"]["schemas"]["Base"] = {"type": "object", "required": ["id"],
                                              "properties": {"id": whole["properties"].pop("id")}}
        whole.pop("required")
        d["components"]["schemas"]["Item"] = {"allOf": [{"$ref": "#/components/schemas/Base"}, whole]}

    assert diff(split) == []


def test_const_is_a_one_value_enum() -> None:
    assert diff(lambda d: item(d)["properties"].update(kind={"const": "x"}),
                lambda d: item(d)["properties"].update(kind={"type": "string", "enum": ["x"]})) == []


def test_a_dangling_ref_is_a_document_error() -> None:
    doc = base_doc()
    doc["components"]["schemas"].clear()
    with pytest.raises(DocumentError, match="does not resolve"):
        operations(doc)


def test_a_recursive_schema_stops_instead_of_looping() -> None:
    doc = {"components": {"schemas": {"Tree": {"type": "object", "properties": {
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}}}}
    node = to_node(doc, {"$ref": "#/components/schemas/Tree"})
    children = node.fields["children"].node
    assert children is not None and children.items is not None and children.items.types is None


# --- the real drift: the bundled contract against the vendor's published excerpt (API-FACTS) -----------------


@pytest.fixture(scope="module")
def excerpt_drift() -> list[Change]:
    return compare_documents(contract.bundled_openapi(), json.loads(EXCERPT.read_text(encoding="utf-8")))


def _find(changes: list[Change], operation: str, area: Area, where: str) -> Change:
    found = [c for c in changes if (c.operation, c.area, c.where) == (operation, area, where)]
    assert len(found) == 1, f"{operation} {area} {where}: {found}"
    return found[0]


def test_excerpt_page_knows_only_limit_offset_variant_impulse_id(excerpt_drift: list[Change]) -> None:
    gone = {c.where for c in excerpt_drift
            if (c.operation, c.area, c.kind) == (PAGE_OP, Area.PARAMETER, Kind.REMOVED) and c.breaking}
    filters = {"truncateStructuredLabels", "labels", "filename", "maxLength", "minLength", "minFrequency",
               "maxFrequency", "signatureValidity", "minLabel", "maxLabel", "search", "dataType", "minId",
               "maxId", "metadata", "minDate", "maxDate", "category"}
    assert gone == {f"query {name}" for name in filters}
    assert not [c for c in excerpt_drift if c.area == Area.PARAMETER and c.kind == Kind.ADDED]


def test_excerpt_classify_lacks_truncate_structured_labels(excerpt_drift: list[Change]) -> None:
    change = _find(excerpt_drift, CLASSIFY_OP, Area.PARAMETER, "query truncateStructuredLabels")
    assert (change.kind, change.breaking) == (Kind.REMOVED, True)


def test_excerpt_declares_only_200(excerpt_drift: list[Change]) -> None:
    for operation in (PAGE_OP, CLASSIFY_OP, JOB_OP):
        statuses = {c.where for c in excerpt_drift if c.operation == operation and c.area == Area.RESPONSE
                    and c.kind == Kind.REMOVED and c.breaking}
        assert statuses == {"400", "401", "404"}, operation
        # the failure is in the 200 body there: our separate FailureEnvelope alternative has no peer
        envelope = _find(excerpt_drift, operation, Area.RESPONSE, "200 <FailureEnvelope>")
        assert (envelope.kind, envelope.breaking) == (Kind.REMOVED, False)


def test_excerpt_requires_primary_version_without_defining_it(excerpt_drift: list[Change]) -> None:
    for operation, where in ((PAGE_OP, "200 <ClassifyJobResponsePage>.result[].classifications[]"),
                             (CLASSIFY_OP, "200 <ClassifySampleResponse>.classifications[]")):
        change = _find(excerpt_drift, operation, Area.REQUIRED, f"{where}.learnBlock.primaryVersion")
        assert (change.before, change.after) == ("optional boolean", "required, never defined")


def test_excerpt_lacks_the_fields_the_newer_client_and_the_seed_add(excerpt_drift: list[Change]) -> None:
    page = "200 <ClassifyJobResponsePage>"
    for where in (f"{page}.totalCount", f"{page}.result[].sample.datastreams", f"{page}.result[].sample.videoUrl",
                  f"{page}.result[].classifications[].resultCount", f"{page}.result[].classifications[].intervalMs",
                  f"{page}.result[].classifications[].frequencyHz"):
        change = _find(excerpt_drift, PAGE_OP, Area.FIELD, where)
        assert (change.kind, change.breaking) == (Kind.REMOVED, False), where


def test_excerpt_learn_block_type_has_fewer_values(excerpt_drift: list[Change]) -> None:
    change = _find(excerpt_drift, CLASSIFY_OP, Area.ENUM,
                   "200 <ClassifySampleResponse>.classifications[].learnBlock.type")
    assert (change.kind, change.before, change.breaking) == (
        Kind.REMOVED, '["keras-anomaly", "keras-freeform", "vlm"]', False)


def test_excerpt_breaking_drift_is_only_what_api_facts_names(excerpt_drift: list[Change]) -> None:
    """Parameters and statuses the excerpt lacks, and its `success: boolean` where ours is true."""
    for change in (c for c in excerpt_drift if c.breaking):
        assert (change.kind == Kind.REMOVED and change.area in (Area.PARAMETER, Area.RESPONSE)) or (
            change.area == Area.ENUM and change.where.endswith(".success")), change
    assert not [c for c in excerpt_drift if c.area == Area.OPERATION]  # same three operations, same ids


# --- wire drift ----------------------------------------------------------------------------------------


def page_exchange(body: Any, status: int = 200) -> Exchange:
    return Exchange("getClassifyJobResultPage", "GET", "/api/1/classify/all/result/page", status, body)


def classify_exchange(body: Any, status: int = 200) -> Exchange:
    return Exchange("classifySampleByLearnBlockV2", "POST", "/api/1/classify/anomaly-gmm/v2/2/3", status, body)


def wire(*exchanges: Exchange) -> list[Change]:
    return compare_exchanges(contract.bundled_openapi(), exchanges)


def page_body() -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(contract.example("page.json"))
    return body


def test_documented_bodies_have_no_wire_drift() -> None:
    assert wire(page_exchange(page_body()), classify_exchange(contract.example("classify-result.json")),
                classify_exchange({"success": True, "id": 7}),
                classify_exchange({"success": False, "error": "no such sample"}, 404),
                Exchange(None, "GET", "/api/1/jobs/5/status", 200, {"success": False, "error": "no such job"})) == []


def test_a_field_seen_on_the_wire_is_reported_once_with_its_count_not_breaking() -> None:
    extra = page_body()
    extra["result"][0]["sample"]["novelty"] = {"secretValue": 1}
    change = only(wire(page_exchange(extra), page_exchange(page_body()), page_exchange(extra)))
    assert (change.source, change.kind, change.area, change.breaking, change.count) == (
        "wire", Kind.ADDED, Area.FIELD, False, 2)
    assert change.where == "200 <ClassifyJobResponsePage>.result[].sample.novelty"
    assert change.after == "object" and "2 of 3" in change.why
    assert "secretValue" not in json.dumps(change.as_dict())  # only the type, never the value


def test_a_required_field_absent_on_the_wire_is_breaking() -> None:
    body = page_body()
    del body["result"][0]["sample"]["sha256Hash"]
    change = only(wire(page_exchange(body)))
    assert (change.kind, change.area, change.breaking) == (Kind.REMOVED, Area.REQUIRED, True)
    assert change.where == "200 <ClassifyJobResponsePage>.result[].sample.sha256Hash"


def test_a_value_of_another_type_is_breaking_and_its_value_is_not_printed() -> None:
    body = page_body()
    body["predictions"][0]["startMs"] = "PRIVATE-TEXT"
    change = only(wire(page_exchange(body)))
    assert (change.kind, change.area, change.before, change.after, change.breaking) == (
        Kind.CHANGED, Area.TYPE, "number", "string", True)
    assert change.where == "200 <ClassifyJobResponsePage>.predictions[].startMs"
    assert "PRIVATE-TEXT" not in json.dumps(change.as_dict())


def test_a_value_outside_the_enum_is_breaking() -> None:
    body = page_body()
    body["result"][0]["sample"]["chartType"] = "hologram"
    change = only(wire(page_exchange(body)))
    assert (change.area, change.breaking) == (Area.ENUM, True)
    assert "hologram" not in json.dumps(change.as_dict())


def test_the_body_is_read_as_the_alternative_it_is_meant_to_be() -> None:
    job = classify_exchange({"success": True, "id": 7, "queue": "gpu"})
    change = only(wire(job))
    assert change.where == "200 <StartJobResponse>.queue" and not change.breaking
    failure = classify_exchange({"success": False, "error": "busy", "retryAfter": 3})
    assert only(wire(failure)).where == "200 <FailureEnvelope>.retryAfter"
    broken = page_body()  # broken inside: still a page, not a failure envelope with unknown fields
    broken["predictions"][0]["startMs"] = "x"
    assert only(wire(page_exchange(broken))).where.startswith("200 <ClassifyJobResponsePage>.")


def test_a_body_valid_in_one_reading_has_no_breaking_findings() -> None:
    """A failure with empty lists is a valid FailureEnvelope (lenient), not a page with success false."""
    failure = page_exchange({"success": False, "error": "busy", "result": [], "predictions": []})
    changes = wire(failure)
    assert {c.where for c in changes} == {"200 <FailureEnvelope>.result", "200 <FailureEnvelope>.predictions"}
    assert not [c for c in changes if c.breaking]


def test_wire_counts_bodies_not_occurrences() -> None:
    body = page_body()
    body["result"].append(copy.deepcopy(body["result"][0]))
    for result in body["result"]:
        result["sample"]["novelty"] = 1
    change = only(wire(page_exchange(body)))
    assert change.count == 1 and "1 of 1" in change.why


def test_free_form_objects_have_no_unknown_fields() -> None:
    job = {"id": 7, "key": "k", "created": "2026-01-01T00:00:00Z", "category": "c", "jobNotificationUids": [],
           "metadata": {"anything": 1}}
    assert wire(Exchange("getJobStatus", "GET", "/api/1/jobs/7/status", 200, {"success": True, "job": job})) == []


def test_a_status_the_contract_does_not_declare_is_breaking() -> None:
    change = only(wire(page_exchange({"success": False, "error": "boom"}, status=500)))
    assert (change.kind, change.area, change.where, change.breaking) == (Kind.ADDED, Area.RESPONSE, "500", True)


def test_wire_keys_do_not_depend_on_counts_or_order() -> None:
    def bodies(*values: Any) -> list[Exchange]:
        out = []
        for value in values:
            body = page_body()
            body["result"][0]["sample"]["novelty"] = value
            out.append(page_exchange(body))
        return out

    first = only(wire(*bodies(1, "a", "b")))
    second = only(wire(*bodies("a", 1)))
    assert first.key == second.key and first.count != second.count
    assert first.after == "integer, string"
    one, two = wire(page_exchange({}, 503)), wire(page_exchange({}, 503), page_exchange({}, 503))
    assert only(one).key == only(two).key


def test_an_operation_the_contract_does_not_know_is_noted() -> None:
    change = only(wire(Exchange(None, "DELETE", "/api/1/things", 200, {})))
    assert (change.area, change.breaking) == (Area.OPERATION, False)


def test_exchanges_are_matched_by_path_when_the_operation_id_is_missing() -> None:
    body = page_body()
    del body["result"][0]["sampleId"]
    change = only(wire(Exchange(None, "GET", "/api/1/classify/all/result/page", 200, body)))
    assert change.operation_id == "getClassifyJobResultPage" and change.breaking


def write_recording(folder: Path, exchanges: list[dict[str, Any]], name: str = "exchanges.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(e) + "\n" for e in exchanges), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"target": "http://127.0.0.1:1/v1", "project_id": 1,
                                                      "recorded": len(exchanges)}), encoding="utf-8")
    return folder


def recorded(body: Any, status: int = 200) -> dict[str, Any]:
    return {"operationId": "getClassifyJobResultPage", "method": "GET", "path": "/api/1/classify/all/result/page",
            "query": {"limit": "10"}, "status": status, "body": body}


def test_load_exchanges_reads_every_worker_file_and_the_manifest(tmp_path: Path) -> None:
    write_recording(tmp_path, [recorded(page_body())], "exchanges-gw0.jsonl")
    write_recording(tmp_path, [recorded(page_body()), recorded({"success": False, "error": "x"}, 404)],
                    "exchanges-gw1.jsonl")
    manifest, exchanges = load_exchanges(tmp_path)
    assert manifest["project_id"] == 1
    assert [e.status for e in exchanges] == [200, 200, 404]
    assert exchanges[0].operation_id == "getClassifyJobResultPage"


def test_load_exchanges_names_the_bad_line(tmp_path: Path) -> None:
    write_recording(tmp_path, [recorded(page_body())])
    with (tmp_path / "exchanges.jsonl").open("a", encoding="utf-8") as f:
        f.write("{not json\n")
    with pytest.raises(RecordingError, match="line 2: not JSON"):
        load_exchanges(tmp_path)
    (tmp_path / "exchanges.jsonl").write_text('{"status": "200"}\n', encoding="utf-8")
    with pytest.raises(RecordingError, match="line 1: not an exchange"):
        load_exchanges(tmp_path)


def test_load_exchanges_without_a_recording(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no exchanges"):
        load_exchanges(tmp_path)


# --- report --------------------------------------------------------------------------------------------


def _change(breaking: bool, where: str, operation: str = "GET /x") -> Change:
    return Change(operation, Kind.REMOVED, Area.FIELD, where, "a", None, breaking, "why")


def test_text_groups_by_operation_with_breaking_changes_first_and_marked() -> None:
    report = Report("other.json", None, [_change(False, "200 a", "GET /a"), _change(True, "200 b", "GET /a"),
                                         _change(False, "200 c", "GET /b")])
    lines = render_text(report).splitlines()
    assert lines[1] == "3 differences, 1 breaking"
    a, b = lines.index("GET /a"), lines.index("GET /b")
    assert "BREAKING" in lines[a + 1] and "200 b" in lines[a + 1]
    assert "BREAKING" not in lines[a + 2] and "200 a" in lines[a + 2]
    assert "200 c" in lines[b + 1]


def test_a_baseline_makes_known_breaking_changes_not_fail() -> None:
    old, new = _change(True, "200 old"), _change(True, "200 new")
    previous = Report("x", None, [old]).as_dict()
    report = Report("x", None, [old, new], known_keys(previous))
    assert report.breaking == [new]
    assert report.as_dict()["summary"] == {"changes": 2, "breaking": 1, "known_breaking": 1}
    assert known_keys([old.key]) == {old.key}


# --- CLI -----------------------------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["drift", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_contract_copy(path: Path, as_yaml: bool = False) -> Path:
    ours = contract.bundled_openapi()
    path.write_text(yaml.safe_dump(ours) if as_yaml else json.dumps(ours), encoding="utf-8")
    return path


def test_cli_needs_a_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys)
    assert code == 2 and "--against" in err


@pytest.mark.parametrize("as_yaml", [False, True])
def test_cli_exits_0_without_drift(capsys: pytest.CaptureFixture[str], tmp_path: Path, as_yaml: bool) -> None:
    code, out, _ = run_cli(capsys, "--against", str(write_contract_copy(tmp_path / "same", as_yaml)))
    assert code == 0 and "0 differences, 0 breaking" in out


def test_cli_exits_1_on_breaking_drift_and_writes_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "reports" / "drift.json"
    code, out, _ = run_cli(capsys, "--against", str(EXCERPT), "--json", "--output", str(out_file))
    assert code == 1
    printed = json.loads(out)
    assert printed == json.loads(out_file.read_text(encoding="utf-8"))
    assert printed["verdict"] == "breaking" and printed["summary"]["breaking"] > 0
    assert {"operation", "kind", "area", "where", "before", "after", "breaking", "why", "key", "known"} <= set(
        printed["changes"][0])


def test_cli_baseline_accepts_known_drift(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert run_cli(capsys, "--against", str(EXCERPT), "--output", str(baseline))[0] == 1
    code, out, _ = run_cli(capsys, "--against", str(EXCERPT), "--baseline", str(baseline))
    assert code == 0 and ", 0 breaking (" in out and "known" in out


@pytest.mark.parametrize(("content", "message"), [(None, "cannot read"), ("[1, 2", "neither JSON nor YAML"),
                                                  ("{\"openapi\": \"3.0.0\"}", "not an OpenAPI document")])
def test_cli_exits_2_on_an_unreadable_document(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               content: str | None, message: str) -> None:
    path = tmp_path / "spec.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run_cli(capsys, "--against", str(path))
    assert code == 2 and message in err and out == ""


def test_cli_exits_2_on_a_bad_recording_or_baseline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "--recorded", str(tmp_path / "missing"))
    assert code == 2 and "no exchanges" in err
    code, _, err = run_cli(capsys, "--recorded", str(RECORDED), "--baseline", str(tmp_path / "none.json"))
    assert code == 2 and "baseline" in err


def test_cli_recorded_fixture_shows_wire_drift(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--recorded", str(RECORDED), "--json")
    report = json.loads(out)
    assert code == 1 and report["recorded_target"] == "http://127.0.0.1:4810/v1"
    found = {(c["where"], c["breaking"]) for c in report["changes"]}
    assert found == {("200 <ClassifyJobResponsePage>.result[].sample.hasEmbedding", False),
                     ("200 <ClassifyJobResponsePage>.totalCount", True),
                     ("200 <StartJobResponse>.id", True)}


def test_cli_clean_recording_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write_recording(tmp_path, [recorded(page_body()), recorded({"success": False, "error": "bad limit"}, 400)])
    code, out, _ = run_cli(capsys, "--recorded", str(tmp_path))
    assert code == 0 and "0 differences" in out


# the URL source, served on loopback


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/openapi.json":
            self.send_error(404)
            return
        payload = json.dumps(contract.bundled_openapi()).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def spec_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_cli_reads_a_url(capsys: pytest.CaptureFixture[str], spec_server: str) -> None:
    code, out, _ = run_cli(capsys, "--against", f"{spec_server}/openapi.json")
    assert code == 0 and "0 differences" in out


def test_cli_exits_2_when_the_url_answers_404(capsys: pytest.CaptureFixture[str], spec_server: str) -> None:
    code, _, err = run_cli(capsys, "--against", f"{spec_server}/missing.json")
    assert code == 2 and "HTTP 404" in err


def test_cli_exits_2_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = run_cli(capsys, "--against", f"http://127.0.0.1:{port}/openapi.json")
    assert code == 2 and "cannot fetch" in err


def test_fetch_seam_takes_a_transport() -> None:
    import httpx

    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    with pytest.raises(command.SourceError, match="HTTP 503"):
        command.load_document("https://vendor.invalid/openapi.json", transport)
