"""Compare two normalised OpenAPI documents: `before` (our contract) against `after` (the other).

Breaking is judged from a client written against `before` talking to a server that follows
`after`. The client sends requests as `before` says and reads responses as `before` says, so:

requests (parameters)            breaking when `after` ...
- operation, parameter           removes it, or adds a required one
- required                       makes an optional parameter required
- type, enum                     rejects a value `before` allowed (type narrowed, enum value removed)
responses (status codes, bodies) breaking when `after` ...
- status                         drops a status code `before` declares, or drops its body
- field                          drops a field `before` requires, or makes it optional
- type, enum                     may send a value `before` rejects (type widened, enum value added)
- branch (anyOf/oneOf)           adds a shape `before` does not know

Everything else is reported but not breaking: additions (a new optional parameter, a new field,
a new status, a new operation), a response narrowing (a dropped optional field, fewer enum
values), a new operationId, a changed format. `integer` counts as a kind of `number`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from eicontract.drift.model import Field, Node, Operation, Parameter, operations


class Kind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Area(StrEnum):
    OPERATION = "operation"
    PARAMETER = "parameter"
    RESPONSE = "response"  # a status code or an anyOf branch of a body
    FIELD = "field"
    TYPE = "type"
    ENUM = "enum"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference. `before` is our contract's side, `after` the other source's."""

    operation: str  # "GET /api/{projectId}/jobs/{jobId}/status" as our contract writes it
    kind: Kind
    area: Area
    where: str  # "query limit", "200 <Page>.result[].sample.id"
    before: str | None
    after: str | None
    breaking: bool
    why: str
    source: str = "spec"  # "spec": another document; "wire": recorded responses
    operation_id: str | None = None
    count: int | None = None  # wire: in how many recorded bodies

    @property
    def key(self) -> str:
        """Identity across runs (a baseline of known drift is a set of these)."""
        return "|".join((self.source, self.operation, self.area, self.kind, self.where,
                         str(self.before), str(self.after)))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"], data["area"], data["key"] = str(self.kind), str(self.area), self.key
        return data


# --- describing schemas ---------------------------------------------------------------------------


def covers(types: frozenset[str] | None, t: str) -> bool:
    return types is None or t in types or (t == "integer" and "number" in types)


def describe_types(types: frozenset[str] | None) -> str:
    return " | ".join(sorted(types)) if types is not None else "any"


def describe(node: Node | None) -> str:
    if node is None:
        return "undefined"
    if node.branches:
        return "one of " + " | ".join(f"<{b.name}>" if b.name else describe(b) for b in node.branches)
    text = describe_types(node.types)
    if node.items is not None and node.types == frozenset({"array"}):
        text = f"array of {describe(node.items)}"
    if node.format:
        text += f" ({node.format})"
    if node.enum is not None:
        text += " " + _values(node.enum)
    return text


def _values(values: Sequence[Any] | set[Any] | None) -> str:
    if values is None:
        return "any"
    return "[" + ", ".join(sorted(json.dumps(v) for v in values)) + "]"


def join_path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- the walk ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ctx:
    operation: str
    operation_id: str | None
    request: bool  # parameters: a narrowing breaks; response bodies: a widening breaks
    prefix: str  # "query labels" or "200"

    def change(self, kind: Kind, area: Area, path: str, before: str | None, after: str | None,
               breaking: bool, why: str) -> Change:
        where = f"{self.prefix} {path}" if path else self.prefix
        return Change(self.operation, kind, area, where, before, after, breaking, why,
                      operation_id=self.operation_id)


def compare_nodes(ctx: _Ctx, before: Node, after: Node, path: str = "") -> Iterator[Change]:
    if before.branches or after.branches:
        yield from _compare_branches(ctx, before, after, path)
        return
    yield from _compare_types(ctx, before, after, path)
    yield from _compare_enums(ctx, before, after, path)
    if before.format != after.format and before.format and after.format:
        yield ctx.change(Kind.CHANGED, Area.TYPE, path, f"format {before.format}", f"format {after.format}",
                         False, "a different string format")
    yield from _compare_fields(ctx, before.fields, after.fields, path)
    if before.items is not None and after.items is not None:
        yield from compare_nodes(ctx, before.items, after.items, path + "[]")
    if before.additional is not None and after.additional is not None:
        yield from compare_nodes(ctx, before.additional, after.additional, path + ".*")


def _compare_types(ctx: _Ctx, before: Node, after: Node, path: str) -> Iterator[Change]:
    if before.types == after.types:
        return
    widened = (after.types is None and before.types is not None) or (
        after.types is not None and any(not covers(before.types, t) for t in after.types))
    narrowed = (before.types is None and after.types is not None) or (
        before.types is not None and any(not covers(after.types, t) for t in before.types))
    if not (widened or narrowed):
        return  # e.g. {number} against {number, integer}: the same values
    breaking = narrowed if ctx.request else widened
    why = ("the other document rejects values the contract allows" if narrowed and ctx.request else
           "the server may send values the contract rejects" if widened and not ctx.request else
           "the other document accepts more" if ctx.request else "the server sends fewer kinds of value")
    yield ctx.change(Kind.CHANGED, Area.TYPE, path, describe_types(before.types), describe_types(after.types),
                     breaking, why)


def _compare_enums(ctx: _Ctx, before: Node, after: Node, path: str) -> Iterator[Change]:
    if before.enum == after.enum:
        return
    if before.enum is None or after.enum is None:  # the whole constraint appears or goes
        widened = after.enum is None
        yield ctx.change(Kind.CHANGED, Area.ENUM, path, _values(before.enum), _values(after.enum),
                         widened != ctx.request,
                         "no enum in the other document: any value of the type" if widened
                         else "the other document restricts the values to an enum")
        return
    old, new = set(map(_hashable, before.enum)), set(map(_hashable, after.enum))
    if old - new:
        yield ctx.change(Kind.REMOVED, Area.ENUM, path, _values(old - new), None, ctx.request,
                         "a value the client may send is gone" if ctx.request
                         else "values the other document does not list: the server does not send them")
    if new - old:
        yield ctx.change(Kind.ADDED, Area.ENUM, path, None, _values(new - old), not ctx.request,
                         "the server may send a value the contract rejects" if not ctx.request
                         else "the other document accepts more values")


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else json.dumps(value)


def _compare_fields(ctx: _Ctx, before: Mapping[str, Field], after: Mapping[str, Field],
                    path: str) -> Iterator[Change]:
    for name in sorted(set(before) | set(after)):
        where = join_path(path, name)
        old, new = before.get(name), after.get(name)
        if new is None and old is not None:
            breaking = ctx.request or old.required
            yield ctx.change(Kind.REMOVED, Area.FIELD, where, _field_text(old), None, breaking,
                             "a field the contract requires is gone" if old.required and not ctx.request
                             else "a field the client may send is unknown there" if ctx.request
                             else "an optional field of the contract is not in the other document")
        elif old is None and new is not None:
            breaking = ctx.request and new.required
            yield ctx.change(Kind.ADDED, Area.FIELD, where, None, _field_text(new), breaking,
                             "a new required field the client does not send" if breaking
                             else "not in the contract")
        elif old is not None and new is not None:
            yield from _compare_field(ctx, old, new, where)


def _field_text(f: Field) -> str:
    return f"{'required' if f.required else 'optional'} {describe(f.node)}"


def _compare_field(ctx: _Ctx, old: Field, new: Field, where: str) -> Iterator[Change]:
    if new.node is None and old.node is not None:
        yield ctx.change(Kind.CHANGED, Area.REQUIRED, where, _field_text(old), "required, never defined",
                         False, "the other document requires it but defines no schema for it")
    elif old.required != new.required:
        loosened = old.required and not new.required
        breaking = loosened != ctx.request  # a response may now omit it / a request must now send it
        yield ctx.change(Kind.CHANGED, Area.REQUIRED, where, "required" if old.required else "optional",
                         "required" if new.required else "optional", breaking,
                         "the server may omit a field the contract requires" if loosened and not ctx.request
                         else "the client must now send it" if not loosened and ctx.request
                         else "the other document requires it; the contract does not" if not loosened
                         else "no longer required by the other document")
    if old.node is not None and new.node is not None:
        yield from compare_nodes(ctx, old.node, new.node, where)


def branch_label(node: Node, index: int) -> str:
    return f"<{node.name}>" if node.name else f"<#{index}>"


def _overlap(a: Node, b: Node) -> float:
    names_a, names_b = set(a.fields), set(b.fields)
    if not names_a | names_b:
        return 1.0 if a.types == b.types else 0.0
    return len(names_a & names_b) / len(names_a | names_b)


def pair_branches(before: Sequence[Node], after: Sequence[Node]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair alternatives by name, then by the most shared field names; the rest stay single."""
    pairs: list[tuple[int, int]] = []
    free_b, free_a = list(range(len(before))), list(range(len(after)))
    for i in list(free_b):
        match = next((j for j in free_a if before[i].name and before[i].name == after[j].name), None)
        if match is not None:
            pairs.append((i, match))
            free_b.remove(i)
            free_a.remove(match)
    candidates = sorted(((_overlap(before[i], after[j]), i, j) for i in free_b for j in free_a), reverse=True)
    for score, i, j in candidates:
        if score > 0 and i in free_b and j in free_a:
            pairs.append((i, j))
            free_b.remove(i)
            free_a.remove(j)
    return sorted(pairs), free_b, free_a


def _compare_branches(ctx: _Ctx, before: Node, after: Node, path: str) -> Iterator[Change]:
    old = before.branches or (before,)
    new = after.branches or (after,)
    pairs, only_old, only_new = pair_branches(old, new)
    for i, j in pairs:
        yield from compare_nodes(ctx, old[i], new[j], path + branch_label(old[i], i))
    for i in only_old:
        yield ctx.change(Kind.REMOVED, Area.RESPONSE if not ctx.request else Area.TYPE,
                         path + branch_label(old[i], i), describe_branch(old[i]), None, ctx.request,
                         "an alternative the client may send is gone" if ctx.request
                         else "the other document has no such alternative")
    for j in only_new:
        yield ctx.change(Kind.ADDED, Area.RESPONSE if not ctx.request else Area.TYPE,
                         path + branch_label(new[j], j), None, describe_branch(new[j]), not ctx.request,
                         "the server may send a shape the contract does not know" if not ctx.request
                         else "the other document accepts another shape")


def describe_branch(node: Node) -> str:
    required = [k for k, f in node.fields.items() if f.required]
    return describe(node) + (f" requiring {', '.join(required)}" if required else "")


# --- operations -------------------------------------------------------------------------------------


def _compare_parameters(op: Operation, old: Parameter | None, new: Parameter | None) -> Iterator[Change]:
    ref = old or new
    assert ref is not None
    where = f"{ref.location} {ref.name}"
    base = Change(op.method + " " + op.path, Kind.CHANGED, Area.PARAMETER, where, None, None, False, "",
                  operation_id=op.operation_id)
    if new is None and old is not None:
        yield replace(base, kind=Kind.REMOVED, before=_param_text(old), breaking=True,
                    why="a parameter the contract documents is not in the other document")
        return
    if old is None and new is not None:
        yield replace(base, kind=Kind.ADDED, after=_param_text(new), breaking=new.required,
                    why="a new required parameter the client does not send" if new.required
                    else "a new optional parameter")
        return
    assert old is not None and new is not None
    if old.required != new.required:
        yield replace(base, area=Area.REQUIRED, before="required" if old.required else "optional",
                    after="required" if new.required else "optional", breaking=new.required,
                    why="the client must now send it" if new.required else "no longer required")
    if old.json_encoded != new.json_encoded:
        yield replace(base, area=Area.TYPE, before=_encoding(old), after=_encoding(new), breaking=True,
                    why="the value is encoded differently on the wire")
    ctx = _Ctx(base.operation, op.operation_id, request=True, prefix=where)
    yield from compare_nodes(ctx, old.node, new.node)


def _encoding(p: Parameter) -> str:
    return "JSON text (content: application/json)" if p.json_encoded else "plain value (schema)"


def _param_text(p: Parameter) -> str:
    return f"{'required' if p.required else 'optional'} {describe(p.node)}" + (" as JSON" if p.json_encoded else "")


def compare_operations(old: Operation, new: Operation) -> Iterator[Change]:
    name = old.method + " " + old.path
    if old.operation_id != new.operation_id:
        yield Change(name, Kind.CHANGED, Area.OPERATION, "operationId", old.operation_id, new.operation_id,
                     False, "same method and path, another operationId", operation_id=old.operation_id)
    for key in sorted(set(old.parameters) | set(new.parameters)):
        yield from _compare_parameters(old, old.parameters.get(key), new.parameters.get(key))
    for status in sorted(set(old.responses) | set(new.responses)):
        yield from _compare_response(old, status, status in old.responses, status in new.responses,
                                     old.responses.get(status), new.responses.get(status))


def _compare_response(op: Operation, status: str, in_old: bool, in_new: bool,
                      old: Node | None, new: Node | None) -> Iterator[Change]:
    name = op.method + " " + op.path
    if in_old and not in_new:
        yield Change(name, Kind.REMOVED, Area.RESPONSE, status, describe_branch(old) if old else "no body", None,
                     True, "a status code the contract declares is not declared there",
                     operation_id=op.operation_id)
    elif in_new and not in_old:
        yield Change(name, Kind.ADDED, Area.RESPONSE, status, None, describe_branch(new) if new else "no body",
                     False, "a status code the contract does not declare", operation_id=op.operation_id)
    elif old is not None and new is None:
        yield Change(name, Kind.REMOVED, Area.RESPONSE, f"{status} body", describe(old), None, True,
                     "the other document declares no JSON body", operation_id=op.operation_id)
    elif old is None and new is not None:
        yield Change(name, Kind.ADDED, Area.RESPONSE, f"{status} body", None, describe(new), False,
                     "a body the contract does not describe", operation_id=op.operation_id)
    elif old is not None and new is not None:
        ctx = _Ctx(name, op.operation_id, request=False, prefix=status)
        yield from compare_nodes(ctx, old, new)


def compare_documents(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every difference between two OpenAPI documents, operation by operation."""
    old_ops, new_ops = operations(before), operations(after)
    changes: list[Change] = []
    for key in sorted(set(old_ops) | set(new_ops)):
        old, new = old_ops.get(key), new_ops.get(key)
        if old is not None and new is not None:
            changes.extend(compare_operations(old, new))
        elif old is not None:
            changes.append(Change(old.method + " " + old.path, Kind.REMOVED, Area.OPERATION, "operation",
                                  old.operation_id, None, True, "an operation of the contract is not there",
                                  operation_id=old.operation_id))
        elif new is not None:
            changes.append(Change(new.method + " " + new.path, Kind.ADDED, Area.OPERATION, "operation",
                                  None, new.operation_id, False, "an operation the contract does not cover",
                                  operation_id=new.operation_id))
    return changes
