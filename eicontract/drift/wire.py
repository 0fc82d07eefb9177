"""Wire drift: responses recorded by `eicontract run --record DIR` against the contract's schemas.

Each recorded body is walked along the normalised schema of its operation and status. Where the
schema has alternatives (anyOf: result, job or failure), the body is read against the one it
fits best (fewest breaking findings, then fewest findings). Findings are aggregated by field
path over all bodies:

- a field seen on the wire but not in the contract: reported, not breaking (the lenient
  contract allows unknown fields; the strict one would not);
- a field the contract requires that a body lacked: breaking;
- a value of another type, or outside the enum: breaking;
- a status code the contract does not declare for the operation: breaking.

Values are never copied into a finding, only their JSON type: a recorded body carries data.
Pure: exchanges in, changes out (`load_exchanges` is the only function that reads files).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eicontract.drift.compare import Area, Change, Kind, branch_label, covers, describe_types, join_path
from eicontract.drift.model import Node, Operation, json_type, operations
from eicontract.http.recording import EXCHANGES_GLOB
from eicontract.http.recording import MANIFEST as MANIFEST_FILE


class RecordingError(ValueError):
    """The recorded directory cannot be read (missing file, a line that is not an exchange)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    operation_id: str | None
    method: str
    path: str
    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one body, before aggregation."""

    kind: str  # "unknown", "missing", "type", "enum"
    path: str
    expected: str | None
    seen: str | None  # a JSON type name, never a value

    @property
    def breaking(self) -> bool:
        return self.kind != "unknown"


# --- walking one body -----------------------------------------------------------------------------


def _same_value(a: Any, b: Any) -> bool:
    return json_type(a) == json_type(b) and a == b  # True is not 1 here


def walk(node: Node, value: Any, path: str = "") -> list[Finding]:
    """Every finding of one value against one normalised schema."""
    if node.branches:
        return _best_reading(node.branches, value, path)
    seen = json_type(value)
    if not covers(node.types, seen):
        return [Finding("type", path, describe_types(node.types), seen)]
    if node.enum is not None and not any(_same_value(value, v) for v in node.enum):
        return [Finding("enum", path, json.dumps(list(node.enum)), f"a {seen} outside the enum")]
    if isinstance(value, dict):
        return _walk_object(node, value, path)
    if isinstance(value, list) and node.items is not None:
        return [f for item in value for f in walk(node.items, item, path + "[]")]
    return []


def _clashes(node: Node | None, value: Any) -> bool:
    """The value breaks the node's own type or enum (not looking deeper)."""
    if node is None:
        return False
    if not covers(node.types, json_type(value)):
        return True
    return node.enum is not None and not any(_same_value(value, v) for v in node.enum)


def _best_reading(branches: tuple[Node, ...], value: Any, path: str) -> list[Finding]:
    """The alternative the body is meant to be. A reading without breaking findings wins (the body
    is valid that way, as a validator would say); else the one that knows most of the body's
    top-level keys, then whose top-level types and constants hold (success true or false), then
    the fewest breaking findings, then the fewest findings."""
    readings = [walk(branch, value, path + branch_label(branch, i)) for i, branch in enumerate(branches)]

    def fit(index: int) -> tuple[bool, int, int, int, int]:
        branch = branches[index]
        shared = [name for name in branch.fields if isinstance(value, dict) and name in value]
        clashes = _clashes(branch, value) + sum(_clashes(branch.fields[name].node, value[name]) for name in shared)
        found = readings[index]
        breaking = sum(f.breaking for f in found)
        return breaking > 0, -len(shared), clashes, breaking, len(found)

    return readings[min(range(len(branches)), key=fit)]


def _walk_object(node: Node, value: dict[str, Any], path: str) -> list[Finding]:
    found: list[Finding] = []
    for name, f in node.fields.items():
        if name not in value:
            if f.required:
                found.append(Finding("missing", join_path(path, name), "required", None))
        elif f.node is not None:
            found.extend(walk(f.node, value[name], join_path(path, name)))
    for name in value.keys() - node.fields.keys():
        if node.additional is not None:
            found.extend(walk(node.additional, value[name], path + ".*"))
        elif node.fields:  # only an object that lists its properties can have unknown ones
            found.append(Finding("unknown", join_path(path, name), None, json_type(value[name])))
    return found


# --- all bodies -----------------------------------------------------------------------------------


def _template_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path)) + "$")


def find_operation(ops: Iterable[Operation], exchange: Exchange) -> Operation | None:
    """By operationId, else by method and a path that fits the template."""
    candidates = list(ops)
    for op in candidates:
        if exchange.operation_id and op.operation_id == exchange.operation_id:
            return op
    for op in candidates:
        if op.method == exchange.method.upper() and _template_regex(op.path).match(exchange.path):
            return op
    return None


@dataclass
class _Tally:
    count: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    expected: str | None = None


def compare_exchanges(contract: Mapping[str, Any], exchanges: Iterable[Exchange]) -> list[Change]:
    """Wire drift of every recorded exchange against the contract document."""
    ops = list(operations(contract).values())
    tallies: dict[tuple[str, str, str, str], _Tally] = defaultdict(_Tally)
    bodies: Counter[tuple[str, str]] = Counter()
    labels: dict[str, str | None] = {}
    for exchange in exchanges:
        op = find_operation(ops, exchange)
        name = op.method + " " + op.path if op else exchange.method.upper() + " " + exchange.path
        labels[name] = op.operation_id if op else exchange.operation_id
        status = str(exchange.status)
        if op is None:
            tallies[(name, status, "operation", "")].count += 1
            continue
        if status not in op.responses:
            tallies[(name, status, "status", "")].count += 1
            continue
        schema = op.responses[status]
        if schema is None:
            continue
        bodies[(name, status)] += 1
        for finding in set(walk(schema, exchange.body)):  # once per body
            tally = tallies[(name, status, finding.kind, finding.path)]
            tally.count += 1
            tally.expected = finding.expected
            if finding.seen:
                tally.seen[finding.seen] += 1
    return [_change(key, tally, labels[key[0]], bodies[(key[0], key[1])]) for key, tally in sorted(
        tallies.items(), key=lambda item: (item[0][0], item[0][1], item[0][2], item[0][3]))]


def _change(key: tuple[str, str, str, str], tally: _Tally, operation_id: str | None, bodies: int) -> Change:
    name, status, kind, path = key
    where = f"{status} {path}".rstrip()
    seen = ", ".join(sorted(tally.seen))  # sorted: the key must not depend on body order
    of = f"in {tally.count} of {bodies} recorded {status} bodies"
    base = Change(name, Kind.ADDED, Area.FIELD, where, None, None, True, "", source="wire",
                  operation_id=operation_id, count=tally.count)
    if kind == "operation":
        return replace(base, area=Area.OPERATION, where="operation", after=f"status {status}", breaking=False,
                       why=f"recorded {tally.count} times; the contract has no such operation")
    if kind == "status":
        return replace(base, area=Area.RESPONSE, after=f"status {status}",
                       why=f"a status code the contract does not declare for this operation, seen {tally.count} times")
    if kind == "unknown":
        return replace(base, after=seen, breaking=False, why=f"seen on the wire, not in the contract, {of}")
    if kind == "missing":
        return replace(base, kind=Kind.REMOVED, area=Area.REQUIRED, before="required", after="absent",
                       why=f"the contract requires it; absent {of}")
    area = Area.ENUM if kind == "enum" else Area.TYPE
    return replace(base, kind=Kind.CHANGED, area=area, before=tally.expected, after=seen,
                   why=f"the value breaks the contract's {area}, {of}")


# --- reading a recording --------------------------------------------------------------------------


def _exchange(line_no: int, raw: Any) -> Exchange:
    if not isinstance(raw, dict) or not isinstance(raw.get("status"), int) or "body" not in raw:
        raise RecordingError(f"line {line_no}: not an exchange (an object with status and body)")
    operation_id = raw.get("operationId")
    return Exchange(operation_id=operation_id if isinstance(operation_id, str) else None,
                    method=str(raw.get("method", "GET")), path=str(raw.get("path", "")),
                    status=raw["status"], body=raw["body"])


def _read_lines(path: Path) -> list[Exchange]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"cannot read {path}: {exc}") from exc
    exchanges = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            exchanges.append(_exchange(number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise RecordingError(f"{path} line {number}: not JSON ({exc.msg})") from exc
        except RecordingError as exc:
            raise RecordingError(f"{path} {exc}") from exc
    return exchanges


def load_exchanges(folder: Path) -> tuple[dict[str, Any], list[Exchange]]:
    """The manifest (empty when absent) and every exchange of a `--record` directory.

    Under pytest-xdist every worker writes its own `exchanges-<worker>.jsonl`: all are read.
    """
    files = sorted(folder.glob(EXCHANGES_GLOB)) if folder.is_dir() else []
    if not files:
        raise RecordingError(f"no {EXCHANGES_GLOB} in {folder} (made by `eicontract run --record DIR`)")
    exchanges = [exchange for path in files for exchange in _read_lines(path)]
    manifest: dict[str, Any] = {}
    manifest_file = folder / MANIFEST_FILE
    if manifest_file.is_file():
        try:
            loaded = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RecordingError(f"cannot read {manifest_file}: {exc}") from exc
        manifest = loaded if isinstance(loaded, dict) else {}
    return manifest, exchanges
