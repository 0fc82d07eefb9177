"""The contract as data: load the bundled contract (OpenAPI, JSON Schemas, examples in
`contracts/` at the top of the repository, shipped as the package `eicontract.contract.data`) and validate bodies.

The JSON Schema files are the single source of truth. `openapi.yaml` points at them with
relative `$ref`s; `bundled_openapi()` inlines them under `components/schemas` so that tools that
want one self-contained document (schemathesis) get it without touching the disk again.

Two strictness levels:
- lenient (default): unknown properties are allowed, because the live API already returns
  fields the documents don't show;
- strict: every object schema that lists its properties is closed (`additionalProperties:
  false`), for drift hunting.

Two validators per schema and strictness, with the same verdicts: a compiled one
(jsonschema_rs, ~100x faster on page bodies) answers "valid or not"; only for an invalid body
does the pure-Python one (jsonschema) run, for its well-chosen error messages.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_BASE = "https://contracts.eicontract.invalid/schemas/"


class Strictness(StrEnum):
    LENIENT = "lenient"
    STRICT = "strict"


def contracts_dir() -> Path:
    """The contract's data, shipped inside the package (wheel, editable install or checkout alike)."""
    folder = Path(str(resources.files("eicontract.contract.data")))
    if not (folder / "openapi.yaml").is_file():
        raise FileNotFoundError(f"the contract data is missing from the installed package ({folder})")
    return folder


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def raw_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file, keyed by its file name (e.g. 'page.schema.json')."""
    folder = contracts_dir() / "schemas"
    return {p.name: _read_json(p) for p in sorted(folder.glob("*.schema.json"))}


def close_objects(schema: Any) -> Any:
    """A copy of `schema` in which every object that lists properties forbids others."""
    if isinstance(schema, list):
        return [close_objects(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: close_objects(value) for key, value in schema.items()}
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


@cache
def registry(strictness: Strictness = Strictness.LENIENT) -> Registry[Any]:
    resources = []
    for name, schema in raw_schemas().items():
        content = close_objects(schema) if strictness is Strictness.STRICT else schema
        resources.append((SCHEMA_BASE + name, Resource.from_contents(content, DRAFT202012)))
    return Registry().with_resources(resources)


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True  # format only constrains strings
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value or " " in value  # a bare date is not a date-time


_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(_is_datetime)


def _formats_used(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_formats_used, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["format"]} if isinstance(node.get("format"), str) else set()
    return found.union(*map(_formats_used, node.values())) if node else found


def _fast_formats() -> dict[str, Any]:
    """The compiled validator's format checks: ours for date-time, and every other format the
    schemas use accepted, as the pure-Python validator (which checks only date-time) does."""
    used = _formats_used(list(raw_schemas().values()))
    return {name: (_is_datetime if name == "date-time" else _any_value) for name in used}


def _any_value(_value: object) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One place where a body breaks its schema."""

    path: str  # JSON pointer-ish location in the body, e.g. "/result/0/sample/id"
    message: str
    schema_path: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


@cache
def validator(name: str, strictness: Strictness = Strictness.LENIENT) -> jsonschema.Validator:
    """A compiled validator for schema file `name` ('page' or 'page.schema.json')."""
    file_name = name if name.endswith(".schema.json") else f"{name}.schema.json"
    if file_name not in raw_schemas():
        raise KeyError(f"no schema {file_name!r} in {contracts_dir() / 'schemas'}")
    reg = registry(strictness)
    schema = reg.contents(SCHEMA_BASE + file_name)
    return jsonschema.Draft202012Validator(schema, registry=reg, format_checker=_FORMATS)


@cache
def fast_validator(name: str, strictness: Strictness = Strictness.LENIENT) -> Any:
    """The compiled (jsonschema_rs) validator for schema file `name`: a yes/no answer."""
    file_name = name if name.endswith(".schema.json") else f"{name}.schema.json"
    schemas = raw_schemas()
    if file_name not in schemas:
        raise KeyError(f"no schema {file_name!r} in {contracts_dir() / 'schemas'}")
    closed = {n: close_objects(s) if strictness is Strictness.STRICT else s for n, s in schemas.items()}
    registry_rs = jsonschema_rs.Registry([(SCHEMA_BASE + n, s) for n, s in closed.items()])
    return jsonschema_rs.validator_for(closed[file_name], registry=registry_rs, formats=_fast_formats(),
                                       validate_formats=True)


def conforms(body: Any, name: str, strictness: Strictness = Strictness.LENIENT) -> bool:
    """Whether `body` conforms to schema `name`, by the compiled validator.

    It is at least as strict as the pure-Python one (it also rejects NaN and Infinity, which
    are not JSON); where it says no, validate() asks the pure-Python one, so verdicts agree.
    A body the compiled validator cannot take (e.g. a non-JSON Python value) counts as no."""
    try:
        return bool(fast_validator(name, strictness).is_valid(body))
    except Exception:  # whatever the fast path cannot take, the slow one judges
        return False


def _best_errors(errors: Iterator[jsonschema.ValidationError]) -> list[jsonschema.ValidationError]:
    """Descend into anyOf/oneOf so the message names the real field, not 'not valid under any'."""
    found: list[jsonschema.ValidationError] = []
    for error in errors:
        if error.context:
            best = jsonschema.exceptions.best_match(_branch_it_meant(error.context))
            found.append(best if best is not None else error)
        else:
            found.append(error)
    return found


def _branch_it_meant(context: list[jsonschema.ValidationError]) -> list[jsonschema.ValidationError]:
    """The errors of the anyOf branches whose `success` the body has right: a page with success
    true and a null totalCount is a page with a bad field, not a failure envelope that lacks its
    error text (which best_match alone, preferring shallow errors, would name)."""
    wrong_success = {e.relative_schema_path[0] for e in context
                     if list(e.relative_path)[:1] == ["success"] and e.relative_schema_path}
    meant = [e for e in context if e.relative_schema_path and e.relative_schema_path[0] not in wrong_success]
    return meant or context


def validate(body: Any, name: str, strictness: Strictness = Strictness.LENIENT) -> list[SchemaError]:
    """Every schema error of `body` against schema `name`; empty when it conforms."""
    if conforms(body, name, strictness):
        return []
    return validate_slow(body, name, strictness)


def validate_slow(body: Any, name: str, strictness: Strictness = Strictness.LENIENT) -> list[SchemaError]:
    """validate() by the pure-Python validator alone (the reference for the fast path)."""
    errors = _best_errors(validator(name, strictness).iter_errors(body))
    return [
        SchemaError(
            path="".join(f"/{part}" for part in error.absolute_path),
            message=error.message if len(error.message) < 300 else error.message[:297] + "...",
            schema_path="/".join(str(p) for p in error.absolute_schema_path),
        )
        for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))
    ]


@cache
def openapi_document() -> dict[str, Any]:
    """The bundled openapi.yaml as written (relative $refs to the schema files)."""
    loaded = yaml.safe_load((contracts_dir() / "openapi.yaml").read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError("the bundled openapi.yaml is not a mapping")
    return loaded


def _component_name(file_name: str) -> str:
    return str(raw_schemas()[file_name]["title"])


def _rewrite_ref(ref: str, current_file: str | None) -> str:
    """Map a file-relative $ref onto the bundled document's components/schemas."""
    target, _, fragment = ref.partition("#")
    if not target:  # a ref inside the same schema file
        if current_file is None:
            return ref  # an OpenAPI-internal ref: leave it
        target = current_file
    file_name = Path(target).name
    return f"#/components/schemas/{_component_name(file_name)}{fragment}"


def _rewrite(node: Any, current_file: str | None) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, current_file) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = _rewrite_ref(value, current_file)
        elif key in ("$id", "$schema"):
            continue  # identifiers of the files; meaningless inside one document
        else:
            out[key] = _rewrite(value, current_file)
    return out


@cache
def _bundled(strictness: Strictness) -> dict[str, Any]:
    document = _rewrite(copy.deepcopy(openapi_document()), None)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for file_name, schema in raw_schemas().items():
        content = close_objects(schema) if strictness is Strictness.STRICT else schema
        components[_component_name(file_name)] = _rewrite(content, file_name)
    return document


def bundled_openapi(strictness: Strictness = Strictness.LENIENT) -> dict[str, Any]:
    """One self-contained OpenAPI 3.1 dict (a fresh copy: callers may mutate it)."""
    return copy.deepcopy(_bundled(strictness))


def example(name: str) -> Any:
    """A documented example from the bundled examples/ (e.g. 'page.json')."""
    return _read_json(contracts_dir() / "examples" / name)


def example_names() -> list[str]:
    return sorted(p.name for p in (contracts_dir() / "examples").glob("*.json"))
