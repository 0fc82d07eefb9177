"""contracts/ is sound: the OpenAPI document validates, every $ref resolves, every documented
example validates, and where the seed examples disagree with the vendor we say exactly where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.readers import read_from_filename

from eicontract import contract
from eicontract.contract import Strictness

DATA = Path(__file__).resolve().parents[1] / "data"  # vendored copies of shared/ (tests/data/README.md)
VENDOR_EXCERPT = DATA / "edge-impulse-openapi-excerpt.json"

# The page query parameters under their wire names, in the order of API-FACTS.md's table
# (which lists the seed's descriptions in the seed's order, plus the client-only `category`).
PAGE_WIRE_NAMES = [
    "limit", "offset", "variant", "impulseId", "truncateStructuredLabels", "labels", "filename",
    "maxLength", "minLength", "minFrequency", "maxFrequency", "signatureValidity", "minLabel",
    "maxLabel", "search", "dataType", "minId", "maxId", "metadata", "minDate", "maxDate", "category",
]
EXAMPLE_SCHEMAS = {"classify-result.json": "classify-result", "page.json": "page"}


def _operation(doc: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for item in doc["paths"].values():
        for op in item.values():
            if op.get("operationId") == operation_id:
                return dict(op)
    raise AssertionError(f"no operation {operation_id}")


def _parameters(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    params = {}
    for p in op["parameters"]:
        if "$ref" in p:
            p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
        params[p["name"]] = p
    return params


def test_openapi_file_passes_the_spec_validator() -> None:
    spec, base_uri = read_from_filename(str(contract.contracts_dir() / "openapi.yaml"))
    assert spec["openapi"].startswith("3.1")
    validate_openapi(spec, base_uri=base_uri)


@pytest.mark.parametrize("strictness", list(Strictness))
def test_bundled_openapi_passes_the_spec_validator(strictness: Strictness) -> None:
    validate_openapi(contract.bundled_openapi(strictness))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _resolve_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_ref_of_the_bundled_document_resolves() -> None:
    doc = contract.bundled_openapi()
    refs = _refs(doc)
    assert len(refs) > 30
    for ref in refs:
        assert ref.startswith("#/"), ref
        assert _resolve_pointer(doc, ref) is not None, ref


def test_every_ref_of_every_schema_file_resolves() -> None:
    registry = contract.registry()
    for name, schema in contract.raw_schemas().items():
        resolver = registry.resolver(base_uri=contract.SCHEMA_BASE + name)
        for ref in _refs(schema):
            resolver.lookup(ref)  # raises Unresolvable


def test_every_schema_file_is_a_valid_2020_12_schema_with_provenance() -> None:
    for name, schema in contract.raw_schemas().items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(name)
        assert schema["x-provenance"], f"{name} must say where it comes from"


def test_page_parameters_use_every_wire_name_with_types() -> None:
    doc = contract.openapi_document()
    params = _parameters(doc, _operation(doc, "getClassifyJobResultPage"))
    assert [n for n in params if n != "projectId"] == PAGE_WIRE_NAMES
    assert params["signatureValidity"]["schema"]["enum"] == ["both", "valid", "invalid"]
    assert params["variant"]["schema"]["enum"] == ["int8", "float32", "akida"]
    assert params["minFrequency"]["schema"]["type"] == "number"
    assert params["minId"]["schema"]["type"] == "integer"
    assert params["minDate"]["schema"]["format"] == "date-time"
    # the JSON-valued filters travel as strings holding JSON
    assert "application/json" in params["labels"]["content"]
    assert "application/json" in params["metadata"]["content"]


def test_classify_parameters_and_auth() -> None:
    doc = contract.openapi_document()
    params = _parameters(doc, _operation(doc, "classifySampleByLearnBlockV2"))
    assert set(params) == {"projectId", "blockId", "sampleId", "variant", "truncateStructuredLabels"}
    assert doc["components"]["securitySchemes"]["ApiKeyAuthentication"] == {
        "type": "apiKey", "in": "header", "name": "x-api-key",
        "description": "Project API key (keys start with ei_).",
    }
    assert doc["security"] == [{"ApiKeyAuthentication": []}]


def test_every_operation_documents_the_failure_envelope() -> None:
    doc = contract.bundled_openapi()
    for operation_id in ("classifySampleByLearnBlockV2", "getJobStatus", "getClassifyJobResultPage"):
        op = _operation(doc, operation_id)
        assert set(op["responses"]) == {"200", "400", "401", "404"}
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        members = _resolve_pointer(doc, ok["$ref"])["anyOf"]
        assert {"$ref": "#/components/schemas/FailureEnvelope"} in members, operation_id


@pytest.mark.parametrize("strictness", list(Strictness))
@pytest.mark.parametrize("example", sorted(EXAMPLE_SCHEMAS))
def test_documented_examples_validate(example: str, strictness: Strictness) -> None:
    body = contract.example(example)
    assert contract.validate(body, EXAMPLE_SCHEMAS[example], strictness) == []


def test_examples_are_the_seed_text_verbatim() -> None:
    seeds = DATA / "seeds"
    texts = "".join(p.read_text() for p in seeds.glob("*.txt"))
    for name in EXAMPLE_SCHEMAS:
        raw = (contract.contracts_dir() / "examples" / name).read_text().rstrip("\n")
        assert raw in texts, name


def _vendor_errors(schema_name: str, body: Any) -> list[tuple[str, str]]:
    vendor = json.loads(VENDOR_EXCERPT.read_text())
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": vendor["components"]}
    return sorted(
        ("/".join(map(str, e.absolute_path)), e.message)
        for e in jsonschema.Draft4Validator(root).iter_errors(body)
    )


def test_where_the_seed_examples_break_the_vendor_schemas() -> None:
    """The vendor excerpt requires ImpulseLearnBlock.primaryVersion (without even defining it);
    the seed examples don't carry it. That is the ONLY place they break the vendor's types."""
    missing = "'primaryVersion' is a required property"
    assert _vendor_errors("ClassifySampleResponse", contract.example("classify-result.json")) == [
        ("classifications/0/learnBlock", missing)
    ]
    assert _vendor_errors("ClassifyJobResponsePage", contract.example("page.json")) == [
        ("result/0/classifications/0/learnBlock", missing)
    ]


def test_where_the_seed_examples_break_the_semantic_contract() -> None:
    """Placeholders of the docs generator that a real reply must not copy."""
    classify, page = contract.example("classify-result.json"), contract.example("page.json")
    # success: true together with an error text: the ENVELOPE-ERROR clause forbids this on the wire
    assert (classify["success"], classify["error"]) == (True, "text")
    assert (page["success"], page["error"]) == (True, "text")
    # the page's only result claims sampleId 1 for the sample whose id is 2
    assert (page["result"][0]["sampleId"], page["result"][0]["sample"]["id"]) == (1, 2)


def test_seed_metadata_examples_include_malformed_json() -> None:
    items = contract.example("metadata-filters.json")
    assert len(items) == 5
    broken = []
    for text in items:
        try:
            json.loads(text)
        except json.JSONDecodeError:
            broken.append(text)
    # the second one has an unquoted key (exclude) and a duplicate "key": a server must reject it
    assert broken == [items[1]]
    assert "exclude:" in items[1] and items[1].count('"key"') == 2


def test_strict_rejects_unknown_properties_lenient_allows_them() -> None:
    body = contract.example("page.json")
    body["result"][0]["sample"]["brandNewField"] = 1
    assert contract.validate(body, "page", Strictness.LENIENT) == []
    errors = contract.validate(body, "page", Strictness.STRICT)
    assert [e.path for e in errors] == ["/result/0/sample"]
    assert "brandNewField" in errors[0].message


@pytest.mark.parametrize(
    ("schema", "example", "path", "field"),
    [
        ("classify-result", "classify-result.json", [], "windowSizeMs"),
        ("classify-result", "classify-result.json", ["classifications", 0], "expectedLabels"),
        ("page", "page.json", ["result", 0, "sample"], "sha256Hash"),
        ("page", "page.json", ["predictions", 0], "prediction"),
    ],
)
def test_a_dropped_required_field_is_caught(schema: str, example: str, path: list[Any], field: str) -> None:
    body = contract.example(example)
    node = body
    for part in path:
        node = node[part]
    del node[field]
    errors = contract.validate(body, schema)
    assert len(errors) == 1 and field in errors[0].message


def test_wrong_types_bad_dates_and_enum_values_are_caught() -> None:
    body = contract.example("page.json")
    body["result"][0]["sample"]["added"] = "yesterday"
    body["result"][0]["sample"]["chartType"] = "hologram"
    body["predictions"][0]["startMs"] = "1"
    paths = sorted(e.path for e in contract.validate(body, "page"))
    assert paths == ["/predictions/0/startMs", "/result/0/sample/added", "/result/0/sample/chartType"]


def test_the_response_unions_accept_jobs_and_failures_but_not_half_of_each() -> None:
    assert contract.validate({"success": True, "id": 7}, "classify-response") == []
    assert contract.validate({"success": False, "error": "no such sample"}, "classify-response") == []
    assert contract.validate({"success": False, "error": "nope"}, "page-response") == []
    assert contract.validate({"success": True}, "classify-response") != []
    assert contract.validate({"success": False, "error": ""}, "job-status-response") != []
    assert contract.validate({"success": True, "result": []}, "page-response") != []


@pytest.mark.parametrize(("body", "path", "words"), [
    ({"success": True, "result": [], "predictions": [], "totalCount": None}, "/totalCount", "not of type 'integer'"),
    ({"success": True, "result": []}, "", "'predictions' is a required property"),
    ({"success": False}, "", "'error' is a required property"),
], ids=["page-with-a-bad-field", "page-missing-a-field", "envelope-missing-its-error"])
def test_a_schema_error_names_the_branch_the_success_flag_chose(body: dict[str, object], path: str,
                                                                 words: str) -> None:
    """A reply is a page or the failure envelope (anyOf): the error reported is the one of the
    branch its `success` says it is, not the failure envelope's missing error text."""
    errors = contract.validate(body, "page-response")
    assert [(e.path, words in e.message) for e in errors] == [(path, True)]
