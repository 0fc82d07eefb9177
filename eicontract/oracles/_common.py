"""Small helpers shared by the oracles: type tests, instants, evidence trimming."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeGuard

from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "decision.sampleid-names-sample",
)

# Evidence stays small: at most this many example items, and short reprs.
MAX_EXAMPLES = 5
MAX_REPR = 120


class Findings(NamedTuple):
    """What an ambiguity-aware oracle returns: violations, and the readings it saw."""

    violations: list[Violation]
    observations: list[Observation]


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer (bool is an int subclass in Python, but not in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite JSON number."""
    # exact types first: this runs once per sample in the filter checks
    if type(value) is int:
        return True
    if type(value) is float:
        return math.isfinite(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def as_number(value: object) -> float | None:
    """The value as a float when it is a finite JSON number, else None."""
    return float(value) if is_number(value) else None


def type_name(value: object) -> str:
    """The JSON-ish name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Sequence):
        return "array"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def clip(value: object, limit: int = MAX_REPR) -> str:
    """A repr cut to ``limit`` characters, so evidence never carries whole bodies."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def examples(items: Iterable[Any], limit: int = MAX_EXAMPLES) -> list[Any]:
    """The first few items, for evidence."""
    out: list[Any] = []
    for item in items:
        if len(out) >= limit:
            break
        out.append(item)
    return out


def is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # dict first: decoded JSON is dicts, and the Mapping ABC check is slow on 100k samples.
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


def strict_json(name: str, value: str) -> Any:
    """JSON that rejects duplicate keys and NaN/Infinity: their meaning is not defined. A clear
    ValueError naming the parameter `name` otherwise."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{name}: duplicate keys in a JSON object: {sorted(keys)}")
        return dict(pairs)

    def no_constants(constant: str) -> Any:
        raise ValueError(f"{name}: {constant} is not JSON")

    try:
        return json.loads(value, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as error:
        raise ValueError(f"{name}: not valid JSON ({error.msg} at {error.pos})") from None


def parse_instant(value: object) -> datetime | None:
    """An ISO-8601 date-time (with 'Z' or an offset) as an aware instant; None if unparseable.

    A value without an offset is read as UTC: the API always sends UTC, and comparing a
    naive with an aware datetime would raise.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_instant(instant: datetime) -> str:
    """An instant in the wire form the API uses: UTC, milliseconds, 'Z'."""
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def get_path(body: object, *keys: str) -> object:
    """body[k1][k2]... or None when any step is missing or not an object."""
    current: object = body
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


# Relative slack for floor((L - W) / I): 0.3 / 0.1 is 2.9999999999999996 in binary floats.
FLOOR_EPSILON = 1e-9


def classifications_of(body: object) -> list[object]:
    """A classify result's classifications (one per learn block); [] when it has none."""
    found = get_path(body, "classifications")
    return found if isinstance(found, list) else []


def block_label(classification: object, index: int) -> str:
    """How a message names one classification."""
    block_id = get_path(classification, "learnBlock", "id")
    return f"classification {index} (block {clip(block_id)})"


def result_sample_id(item: object) -> int | None:
    """The sample id of a page result, a sample object or a bare id: the one rule for the concept.

    A ModelResult's ``sampleId`` names its ``sample`` (docs/CLAIMS.md; the seed example's 1 vs 2
    are placeholders), so either may be read: ``sampleId`` first, as it is what predictions name,
    then ``sample.id``; a sample object's own ``id``; a bare integer is an id already."""
    if type(item) is dict:  # the common case first: a decoded ModelResult or sample
        for candidate in (item.get("sampleId"), _nested_id(item.get("sample")), item.get("id")):
            if type(candidate) is int:
                return candidate
        return None
    if is_int(item):
        return item
    if not isinstance(item, Mapping):
        return None
    for found in (item.get("sampleId"), _nested_id(item.get("sample")), item.get("id")):
        if is_int(found):
            return found
    return None


def _nested_id(sample: object) -> object:
    return sample.get("id") if isinstance(sample, Mapping) else None


# The contract's fields of objects that oracles compare between replies. A server may add
# unknown fields anywhere (a per-reply trace id, for one), so comparisons look at these only;
# tests/oracles checks each set against its schema in contracts/schemas.
LEARN_BLOCK_FIELDS = frozenset({"createdAt", "createdBy", "description", "dsp", "id", "name",
                                "primaryVersion", "title", "trainingProcessor", "type"})
STRUCTURED_LABEL_FIELDS = frozenset({"startIndex", "endIndex", "label"})


def known_part(value: object, fields: frozenset[str]) -> object:
    """An object cut down to the contract's ``fields``; anything else is returned as it is."""
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k in fields}
    return value
