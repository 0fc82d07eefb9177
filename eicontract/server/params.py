"""Parsing and validating path and query values: anything malformed is a 400 with a clear text."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from eicontract.server.classify import DEFAULT_VARIANT, VARIANTS
from eicontract.server.errors import ApiError, bad_request
from eicontract.server.seams import Seams
from eicontract.server.store import (
    DEFAULT_CATEGORY,
    Combinator,
    MetadataFilter,
    MetadataItem,
    PageFilters,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000  # larger limits are clamped to this
MAX_OFFSET = 2**62  # larger offsets are clamped: still past the end of any dataset
_HUGE_DIGITS = 40  # longer integers are read as +-10**40 (Python refuses to parse >4300 digits)

# re.ASCII: \d must not accept other scripts' digits (int() would happily parse them).
_INT = re.compile(r"-?\d+", re.ASCII)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
# RFC 3339 / ISO 8601 date-time with a mandatory zone: Z or +-HH:MM.
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::(\d{2})(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII)
# The official Python client (edgeimpulse-api) does not URL-encode query values, so the '+' of a
# '+HH:MM' zone arrives as a space. A single space and HH:MM right after the seconds (and their
# fraction) can only be that '+', and is read as one; nothing looser (no zone-less form, no
# space before Z, a '-' zone or anywhere else: those stay 400s).
_UNENCODED_PLUS = re.compile(
    r"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}:\d{2})", re.ASCII)
_BOOLEANS = {"true": True, "false": False}
_SIGNATURES: dict[str, bool | None] = {"both": None, "valid": True, "invalid": False}


def parse_int(name: str, text: str) -> int:
    if not _INT.fullmatch(text):
        raise bad_request(f"{name} must be an integer, got {text!r}")
    digits = text.lstrip("-")
    if len(digits) > _HUGE_DIGITS:
        return -(10**_HUGE_DIGITS) if text.startswith("-") else 10**_HUGE_DIGITS
    return int(text)


def path_int(request: Request, name: str) -> int:
    return parse_int(name, request.path_params[name])


class DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    repeated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if repeated:
        raise DuplicateKeyError(f"duplicate key(s) {', '.join(map(repr, repeated))} in an object")
    return dict(pairs)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def strict_json(text: str) -> Any:
    """json.loads that also rejects duplicate object keys and NaN/Infinity."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
        json.dumps(value, ensure_ascii=False).encode()  # "\\ud800" parses but is not text
    except RecursionError:
        raise ValueError("JSON is nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("JSON contains an unpaired surrogate escape") from None
    return value


def _date(name: str, text: str, leap: bool, shown: str) -> datetime:
    """RFC 3339 allows lowercase t/z and a leap second (:60), which fromisoformat does not.

    shown: the value as it was sent (for the error message)."""
    normal = text.upper()
    if leap:
        normal = normal[:17] + "59" + normal[19:]
    try:
        parsed = datetime.fromisoformat(normal)
        return parsed + timedelta(seconds=1) if leap else parsed
    except (ValueError, OverflowError):
        raise bad_request(f"{name} is not a valid date-time: {shown!r}") from None


class QueryReader:
    """Typed access to query parameters; every method raises a 400 ApiError on bad input."""

    def __init__(self, params: QueryParams) -> None:
        self._params = params

    def text(self, name: str) -> str | None:
        values = self._params.getlist(name)
        if len(values) > 1:
            raise bad_request(f"query parameter {name} is given {len(values)} times; give it once")
        return values[0] if values else None

    def integer(self, name: str) -> int | None:
        text = self.text(name)
        return None if text is None else parse_int(name, text)

    def number(self, name: str) -> float | None:
        text = self.text(name)
        if text is None:
            return None
        if not _NUMBER.fullmatch(text):
            raise bad_request(f"{name} must be a number, got {text!r}")
        value = float(text)
        if not math.isfinite(value):
            raise bad_request(f"{name} is out of range: {text!r}")
        return value

    def boolean(self, name: str) -> bool | None:
        # Case-insensitive because the vendor Python client sends "True"/"False".
        text = self.text(name)
        if text is None:
            return None
        if text.lower() not in _BOOLEANS:
            raise bad_request(f"{name} must be true or false, got {text!r}")
        return _BOOLEANS[text.lower()]

    def choice(self, name: str, options: Sequence[str]) -> str | None:
        text = self.text(name)
        if text is not None and text not in options:
            raise bad_request(f"{name} must be one of {', '.join(options)}; got {text!r}")
        return text

    def date(self, name: str, seams: Seams | None = None) -> datetime | None:
        text = self.text(name)
        if text is None:
            return None
        unencoded = _UNENCODED_PLUS.fullmatch(text)
        match = _DATE.fullmatch(f"{unencoded[1]}+{unencoded[2]}" if unencoded else text)
        if not match:
            hint = " (a '+' in a URL query means a space: encode it as %2B)" if " " in text else ""
            raise bad_request(f"{name} must be an ISO 8601 date-time with a zone "
                              f"(e.g. 2025-01-31T12:00:00.000Z), got {text!r}{hint}")
        leap = match.group(1) == "60"
        instant = _date(name, match.group(0), leap=leap, shown=text)
        return seams.leap_second(instant) if leap and seams is not None else instant

    def json_value(self, name: str) -> tuple[str, Any] | None:
        """(raw text, parsed value); raises 400 for JSON that does not parse or repeats keys."""
        text = self.text(name)
        if text is None:
            return None
        try:
            return text, strict_json(text)
        except ValueError as exc:  # JSONDecodeError, duplicate keys and NaN are all ValueErrors
            raise bad_request(f"{name} is not valid JSON: {exc}") from None


def variant(q: QueryReader, seams: Seams, on_page: bool = False) -> str:
    default = seams.default_variant(DEFAULT_VARIANT)
    value = q.choice("variant", VARIANTS) or (seams.page_default_variant(default) if on_page
                                              else default)
    if seams.rejects_variant(value):
        raise bad_request(f"variant {value} is not supported")
    return value


def truncate(q: QueryReader, seams: Seams) -> bool:
    return seams.truncate(bool(q.boolean("truncateStructuredLabels")))


def paging(q: QueryReader, seams: Seams) -> tuple[int, int]:
    """(limit, offset), clamped to [0, MAX_LIMIT] and [0, MAX_OFFSET]."""
    limit = _non_negative(q, "limit", DEFAULT_LIMIT, seams)
    offset = _non_negative(q, "offset", seams.default_offset(0), seams)
    if seams.ignores_limit():  # validated above, then dropped: only PAGE-LIMIT breaks
        limit = DEFAULT_LIMIT
    return min(limit, MAX_LIMIT), min(offset, MAX_OFFSET)


def _non_negative(q: QueryReader, name: str, default: int, seams: Seams) -> int:
    value = q.integer(name)
    if value is None:
        return default
    if value < 0:
        replacement = seams.negative_paging_value()
        if replacement is None:
            raise bad_request(f"{name} must not be negative, got {value}")
        return replacement
    return value


def labels(q: QueryReader) -> tuple[str, ...] | None:
    parsed = q.json_value("labels")
    if parsed is None:
        return None
    _, value = parsed
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request('labels must be a JSON array of strings, e.g. ["idle", "snake"]')
    return tuple(value)


def search(q: QueryReader) -> tuple[str, ...] | None:
    text = q.text("search")
    tokens = tuple(text.split()) if text is not None else ()
    return tokens or None  # blank search = no filter


def metadata(q: QueryReader, seams: Seams) -> MetadataFilter | None:
    text = q.text("metadata")
    if text is None:
        return None
    try:
        return metadata_filter(seams.metadata_json(strict_json(text)))
    except json.JSONDecodeError as exc:  # not JSON at all
        message = f"metadata is not valid JSON: {exc}"
        seams.on_malformed_metadata(message)
        if seams.ignores_unparsable_metadata():
            return None
        raise bad_request(message) from None
    except ValueError as exc:  # duplicate keys, NaN, unpaired surrogates
        message = f"metadata is not valid JSON: {exc}"
        seams.on_malformed_metadata(message)
        raise bad_request(message) from None
    except ApiError as exc:  # JSON of the wrong shape
        seams.on_malformed_metadata(exc.message)
        raise


def metadata_filter(value: Any) -> MetadataFilter:
    """The parsed JSON metadata filter; any other shape is a 400."""
    if not isinstance(value, list):
        raise bad_request("metadata must be a JSON array of filter objects")
    items: list[MetadataItem] = []
    combinator: Combinator | None = None  # not given
    for position, raw in enumerate(value):
        where = f"metadata item {position}"
        if not isinstance(raw, dict):
            raise bad_request(f"{where} must be an object")
        if set(raw) == {"no_metadata"}:
            items.append(_no_metadata(raw["no_metadata"], where))
        elif set(raw) == {"filters_combinator"}:
            combinator = _combinator(raw["filters_combinator"], where)  # the last one wins
        else:
            items.append(_key_item(raw, where))
    return MetadataFilter(tuple(items), combinator)


def _no_metadata(flag: Any, where: str) -> MetadataItem:
    if flag is not True:  # the documented form is exactly {"no_metadata": true}
        raise bad_request(f"{where}: no_metadata must be true")
    return MetadataItem("none")


def _combinator(value: Any, where: str) -> Combinator:
    if value == "and":
        return "and"
    if value == "or":
        return "or"
    raise bad_request(f'{where}: filters_combinator must be "and" or "or"')


def _key_item(raw: dict[str, Any], where: str) -> MetadataItem:
    unknown = sorted(set(raw) - {"key", "op", "values"})
    if unknown:
        raise bad_request(f"{where} has unknown field(s) {', '.join(unknown)}; "
                          'expected {"key", "op", "values"}, {"no_metadata"} '
                          'or {"filters_combinator"}')
    key, op, values = raw.get("key"), raw.get("op"), raw.get("values", [])
    if not isinstance(key, str):
        raise bad_request(f"{where}: key must be a string")
    if op not in ("eq", "neq"):
        raise bad_request(f'{where}: op must be "eq" or "neq", got {op!r}')
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise bad_request(f"{where}: values must be an array of strings")
    return MetadataItem("eq" if op == "eq" else "neq", key, tuple(values))


def page_filters(q: QueryReader, seams: Seams) -> PageFilters:
    category = q.text("category")
    return PageFilters(
        category=DEFAULT_CATEGORY if category is None else category,
        labels=labels(q),
        filename=q.text("filename"),
        min_length=q.integer("minLength"),
        max_length=q.integer("maxLength"),
        min_frequency=q.number("minFrequency"),
        max_frequency=q.number("maxFrequency"),
        signature_valid=_SIGNATURES[q.choice("signatureValidity", tuple(_SIGNATURES)) or "both"],
        min_label=q.number("minLabel"),
        max_label=q.number("maxLabel"),
        search=search(q),
        data_type=q.text("dataType"),
        min_id=q.integer("minId"),
        max_id=q.integer("maxId"),
        metadata=metadata(q, seams),
        min_date=q.date("minDate", seams),
        max_date=q.date("maxDate", seams),
    )
