"""Normalise an OpenAPI document (3.0 or 3.1) into what drift compares.

An operation becomes its parameters (name, in, required, schema) and its responses (status ->
body schema). A schema becomes a `Node`: its JSON types, enum, format, object fields (with
required-ness), array items and anyOf/oneOf branches, with every `$ref` resolved and every
`allOf` merged. 3.0's `nullable: true` and 3.1's `type: [..., "null"]` both become the type
"null"; `const` becomes a one-value enum. Pure: a dict in, frozen data out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


class DocumentError(ValueError):
    """The document is not an OpenAPI document drift can read (a dangling $ref, no paths, ...)."""


@dataclass(frozen=True, slots=True)
class Field:
    """A property of an object schema. `defined` is false when it is only named in `required`."""

    required: bool
    node: Node | None  # None when not defined under properties


@dataclass(frozen=True, slots=True)
class Node:
    """One schema, normalised. `types` None means unconstrained (an empty schema)."""

    types: frozenset[str] | None = None
    enum: tuple[Any, ...] | None = None
    format: str | None = None
    fields: Mapping[str, Field] = field(default_factory=dict)
    items: Node | None = None
    additional: Node | None = None  # a schema for other properties (e.g. label -> score)
    branches: tuple[Node, ...] = ()  # anyOf/oneOf alternatives
    name: str | None = None  # component name of the $ref it came from, or its title


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # path, query, header, cookie
    required: bool
    node: Node
    json_encoded: bool  # given through `content: application/json` (a JSON text in the query)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str  # upper case
    path: str
    operation_id: str | None
    parameters: Mapping[tuple[str, str], Parameter]  # (in, name) -> parameter
    responses: Mapping[str, Node | None]  # status -> body schema (None: no JSON body)

    @property
    def label(self) -> str:
        suffix = f" ({self.operation_id})" if self.operation_id else ""
        return f"{self.method} {self.path}{suffix}"


def match_key(method: str, path: str) -> tuple[str, str]:
    """Operations match on method and path shape: `{projectId}` and `{id}` are the same slot."""
    return method.upper(), re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")


# --- $ref resolution ------------------------------------------------------------------------------


def _pointer_part(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def resolve_ref(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        raise DocumentError(f"external $ref {ref!r} is not supported: bundle the document first")
    node: Any = document
    for part in filter(None, ref[1:].split("/")):
        key = _pointer_part(part)
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, Mapping) and key in node:
            node = node[key]
        else:
            raise DocumentError(f"$ref {ref!r} does not resolve")
    return node


def _ref_name(ref: str) -> str:
    return _pointer_part(ref.rstrip("/").rsplit("/", 1)[-1])


def _deref(document: Mapping[str, Any], obj: Any, stack: tuple[str, ...] = ()) -> tuple[Any, str | None]:
    """Follow a chain of $refs; the name is the last component name met."""
    name = None
    while isinstance(obj, Mapping) and isinstance(obj.get("$ref"), str):
        ref = obj["$ref"]
        if ref in stack:
            raise DocumentError(f"$ref cycle through {ref!r}")
        stack = (*stack, ref)
        name = _ref_name(ref)
        siblings = {k: v for k, v in obj.items() if k != "$ref"}
        target = resolve_ref(document, ref)
        obj = {**target, **siblings} if siblings and isinstance(target, Mapping) else target
    return obj, name


# --- schemas --------------------------------------------------------------------------------------


def _types_of(schema: Mapping[str, Any]) -> frozenset[str] | None:
    declared = schema.get("type")
    types: set[str] | None
    if isinstance(declared, str):
        types = {declared}
    elif isinstance(declared, list):
        types = {t for t in declared if isinstance(t, str)}
    else:
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        types = {json_type(v) for v in values} if isinstance(values, list) and values else None
    if types is not None and schema.get("nullable") is True:
        types.add("null")
    return frozenset(types) if types is not None else None


def _enum_of(schema: Mapping[str, Any]) -> tuple[Any, ...] | None:
    if "const" in schema:
        return (schema["const"],)
    values = schema.get("enum")
    return tuple(values) if isinstance(values, list) else None


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (an integral float is still a number)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _merge(a: Node, b: Node) -> Node:
    """allOf: both must hold, so types intersect and fields (and required-ness) add up."""
    if a.types is None or b.types is None:
        types = a.types if b.types is None else b.types
    else:
        types = a.types & b.types
        if ("number" in a.types and "integer" in b.types) or ("number" in b.types and "integer" in a.types):
            types |= {"integer"}
    fields = dict(a.fields)
    for key, f in b.fields.items():
        mine = fields.get(key)
        if mine is None:
            fields[key] = f
        else:
            node = mine.node if f.node is None else f.node if mine.node is None else _merge(mine.node, f.node)
            fields[key] = Field(required=mine.required or f.required, node=node)
    return Node(types=types, enum=a.enum if a.enum is not None else b.enum, format=a.format or b.format,
                fields=fields, items=a.items or b.items, additional=a.additional or b.additional,
                branches=a.branches or b.branches, name=a.name or b.name)


def to_node(document: Mapping[str, Any], schema: Any, stack: tuple[str, ...] = ()) -> Node:
    """Normalise one schema (resolving refs inside `document`)."""
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if isinstance(ref, str) and ref in stack:
        return Node(name=_ref_name(ref))  # a recursive schema: stop here, unconstrained
    resolved, name = _deref(document, schema, stack)
    if isinstance(ref, str):
        stack = (*stack, ref)
    if not isinstance(resolved, Mapping):
        return Node(name=name)  # `true` or junk: unconstrained
    own = _own_node(document, resolved, stack, name or _title(resolved))
    for part in resolved.get("allOf") or ():
        own = _merge(own, to_node(document, part, stack))
    alternatives = resolved.get("anyOf") or resolved.get("oneOf")
    if alternatives:
        branches = tuple(to_node(document, alt, stack) for alt in alternatives)
        own = Node(types=own.types, enum=own.enum, format=own.format, fields=own.fields, items=own.items,
                   additional=own.additional, branches=branches, name=own.name)
    return own


def _title(schema: Mapping[str, Any]) -> str | None:
    title = schema.get("title")
    return title if isinstance(title, str) else None


def _own_node(document: Mapping[str, Any], schema: Mapping[str, Any], stack: tuple[str, ...],
              name: str | None) -> Node:
    required = {r for r in schema.get("required") or () if isinstance(r, str)}
    properties = schema.get("properties") or {}
    fields = {key: Field(required=key in required, node=to_node(document, value, stack))
              for key, value in properties.items()}
    for key in sorted(required - set(fields)):
        fields[key] = Field(required=True, node=None)
    items = schema.get("items")
    additional = schema.get("additionalProperties")
    types = _types_of(schema)
    if types is None and (fields or isinstance(additional, Mapping)):
        types = frozenset({"object"})
    fmt = schema.get("format")
    return Node(
        types=types,
        enum=_enum_of(schema),
        format=fmt if isinstance(fmt, str) else None,
        fields=fields,
        items=to_node(document, items, stack) if isinstance(items, Mapping) else None,
        additional=to_node(document, additional, stack) if isinstance(additional, Mapping) else None,
        name=name,
    )


# --- operations -----------------------------------------------------------------------------------


def _json_schema(content: Any) -> Any:
    """The schema of the JSON media type of a `content` map (or of the first one)."""
    if not isinstance(content, Mapping) or not content:
        return None
    media = content.get("application/json") or next(iter(content.values()))
    return media.get("schema") if isinstance(media, Mapping) else None


def _parameter(document: Mapping[str, Any], raw: Any) -> Parameter:
    param, _ = _deref(document, raw)
    if not isinstance(param, Mapping) or "name" not in param or "in" not in param:
        raise DocumentError(f"a parameter without name or in: {raw!r}")
    schema = param.get("schema")
    encoded = schema is None and _json_schema(param.get("content")) is not None
    if encoded:
        schema = _json_schema(param.get("content"))
    return Parameter(name=str(param["name"]), location=str(param["in"]),
                     required=bool(param.get("required", param["in"] == "path")),
                     node=to_node(document, schema if schema is not None else {}), json_encoded=encoded)


def _responses(document: Mapping[str, Any], raw: Any) -> dict[str, Node | None]:
    out: dict[str, Node | None] = {}
    for status, response in (raw or {}).items():
        resolved, _ = _deref(document, response)
        schema = _json_schema(resolved.get("content")) if isinstance(resolved, Mapping) else None
        out[str(status)] = to_node(document, schema) if schema is not None else None
    return out


def operations(document: Mapping[str, Any]) -> dict[tuple[str, str], Operation]:
    """Every operation of the document, keyed by `match_key`."""
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        raise DocumentError("not an OpenAPI document: no `paths` object")
    found: dict[tuple[str, str], Operation] = {}
    for path, item in paths.items():
        item, _ = _deref(document, item)
        shared = list(item.get("parameters") or ())
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            params = {}
            for raw in [*shared, *(op.get("parameters") or ())]:  # operation-level ones win
                p = _parameter(document, raw)
                params[(p.location, p.name)] = p
            operation_id = op.get("operationId")
            found[match_key(method, path)] = Operation(
                method=method.upper(), path=str(path),
                operation_id=operation_id if isinstance(operation_id, str) else None,
                parameters=params, responses=_responses(document, op.get("responses")))
    return found
