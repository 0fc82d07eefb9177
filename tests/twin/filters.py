"""Query parsing and sample filtering for the classify result page."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from .data import Sample

VARIANTS = ("int8", "float32", "akida")
CATEGORIES = ("training", "testing", "anomaly")
DATA_TYPES = ("time-series", "audio", "image")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class BadRequest(Exception):
    """A malformed or out-of-range parameter: becomes a failure reply, never a 500."""


def single(query: dict[str, list[str]], name: str) -> str | None:
    vals = query.get(name)
    if vals is None:
        return None
    if len(vals) > 1:
        raise BadRequest(f"query parameter '{name}' given more than once")
    return vals[0]


def as_int(query: dict[str, list[str]], name: str) -> int | None:
    raw = single(query, name)
    if raw is None:
        return None
    if not re.fullmatch(r"-?\d{1,18}", raw):
        raise BadRequest(f"query parameter '{name}' must be an integer, got {raw!r}")
    return int(raw)


def as_number(query: dict[str, list[str]], name: str) -> float | None:
    raw = single(query, name)
    if raw is None:
        return None
    try:
        val = float(raw)
    except ValueError:
        raise BadRequest(f"query parameter '{name}' must be a number, got {raw!r}") from None
    if val != val or val in (float("inf"), float("-inf")):
        raise BadRequest(f"query parameter '{name}' must be a finite number")
    return val


def as_bool(query: dict[str, list[str]], name: str) -> bool:
    raw = single(query, name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise BadRequest(f"query parameter '{name}' must be true or false, got {raw!r}")
    return raw.lower() == "true"


def as_enum(query: dict[str, list[str]], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = single(query, name)
    if raw is None:
        return default
    if raw not in allowed:
        raise BadRequest(f"query parameter '{name}' must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def as_date(query: dict[str, list[str]], name: str, local_tz: bool = False) -> datetime | None:
    raw = single(query, name)
    if raw is None:
        return None
    text = raw
    if re.search(r" \d{2}:?\d{2}$", text):  # an unencoded '+' became a space: say so, don't guess
        raise BadRequest(f"query parameter '{name}': a space before the offset (send '+' as %2B), got {raw!r}")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"query parameter '{name}' must be an ISO 8601 date-time, got {raw!r}") from None
    if local_tz:  # regression 'date-local-tz': offset dropped, read as UTC+01:00 wall time
        dt = dt.replace(tzinfo=timezone(timedelta(hours=1)))
    elif dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt


def _strict_json(raw: str, name: str) -> Any:
    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise BadRequest(f"query parameter '{name}': duplicate key in JSON object")
        return dict(pairs)
    try:
        return json.loads(raw, object_pairs_hook=no_dupes)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"query parameter '{name}' is not valid JSON: {exc.msg} at position {exc.pos}") from None


def as_labels(query: dict[str, list[str]]) -> list[str] | None:
    raw = single(query, "labels")
    if raw is None:
        return None
    val = _strict_json(raw, "labels")
    if not isinstance(val, list) or not all(isinstance(x, str) for x in val):
        raise BadRequest("query parameter 'labels' must be a JSON array of strings")
    return val


@dataclass
class MetaItem:
    kind: str                       # "eq" | "neq" | "no_metadata"
    key: str = ""
    values: list[str] | None = None
    want_empty: bool = True

    def matches(self, meta: dict[str, str]) -> bool:
        if self.kind == "no_metadata":
            return (not meta) == self.want_empty
        present = self.key in meta
        if self.kind == "eq":
            return present and (not self.values or meta[self.key] in self.values)
        # neq: a sample lacking the key has no value in the excluded list, so it matches
        if not self.values:
            return not present
        return not present or meta[self.key] not in self.values


@dataclass
class MetaFilter:
    items: list[MetaItem] = field(default_factory=list)
    combinator: str = "or"

    def matches(self, meta: dict[str, str], force_and: bool = False) -> bool:
        if not self.items:
            return True
        hits = (i.matches(meta) for i in self.items)
        return all(hits) if (self.combinator == "and" or force_and) else any(hits)


def as_metadata(query: dict[str, list[str]]) -> MetaFilter | None:
    raw = single(query, "metadata")
    if raw is None:
        return None
    val = _strict_json(raw, "metadata")
    if not isinstance(val, list):
        raise BadRequest("query parameter 'metadata' must be a JSON array of filter objects")
    out = MetaFilter()
    for pos, item in enumerate(val):
        where = f"metadata[{pos}]"
        if not isinstance(item, dict):
            raise BadRequest(f"{where} must be an object")
        if "filters_combinator" in item:
            if set(item) != {"filters_combinator"} or item["filters_combinator"] not in ("and", "or"):
                raise BadRequest(f"{where}: filters_combinator must be \"and\" or \"or\", alone in its object")
            out.combinator = item["filters_combinator"]
        elif "no_metadata" in item:
            if set(item) != {"no_metadata"} or not isinstance(item["no_metadata"], bool):
                raise BadRequest(f"{where}: no_metadata must be a boolean, alone in its object")
            out.items.append(MetaItem("no_metadata", want_empty=item["no_metadata"]))
        else:
            extra = set(item) - {"key", "op", "values"}
            if extra:
                raise BadRequest(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
            if not isinstance(item.get("key"), str) or not item["key"]:
                raise BadRequest(f"{where}: 'key' must be a non-empty string")
            if item.get("op") not in ("eq", "neq"):
                raise BadRequest(f"{where}: 'op' must be \"eq\" or \"neq\"")
            vals = item.get("values")
            if vals is not None and (not isinstance(vals, list) or not all(isinstance(v, str) for v in vals)):
                raise BadRequest(f"{where}: 'values' must be an array of strings")
            out.items.append(MetaItem(item["op"], item["key"], vals))
    return out


def _numeric_label(label: str) -> float | None:
    try:
        val = float(label)
    except ValueError:
        return None
    return val if val == val else None


@dataclass
class PageQuery:
    limit: int
    offset: int
    variant: str
    impulse_id: int | None
    truncate: bool
    category: str
    predicates: list[Callable[[Sample], bool]]

    def keep(self, sample: Sample) -> bool:
        return all(p(sample) for p in self.predicates)


def parse_page(query: dict[str, list[str]], regs: set[str]) -> PageQuery:
    limit = as_int(query, "limit")
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 0 <= limit <= MAX_LIMIT:
        raise BadRequest(f"query parameter 'limit' must be between 0 and {MAX_LIMIT}")
    offset = as_int(query, "offset") or 0
    if offset < 0:
        raise BadRequest("query parameter 'offset' must not be negative")
    preds: list[Callable[[Sample], bool]] = []
    add = preds.append
    labels = as_labels(query)
    if labels is not None:
        wanted = set(labels)
        add(lambda s: any(lab in wanted for lab in s.labels))
    fname = single(query, "filename")
    if fname is not None:
        add(lambda s: fname.casefold() in s.filename.casefold())
    max_len, min_len = as_int(query, "maxLength"), as_int(query, "minLength")
    if max_len is not None:
        add(lambda s: s.length_ms < max_len)
    if min_len is not None:
        add(lambda s: s.length_ms > min_len)
    min_f, max_f = as_number(query, "minFrequency"), as_number(query, "maxFrequency")
    if min_f is not None:
        add(lambda s: s.frequency > min_f)
    if max_f is not None:
        add(lambda s: s.frequency < max_f)
    sig = as_enum(query, "signatureValidity", ("both", "valid", "invalid"), "both")
    if sig != "both":
        add(lambda s: s.signature_valid == (sig == "valid"))
    min_l, max_l = as_number(query, "minLabel"), as_number(query, "maxLabel")
    if min_l is not None or max_l is not None:
        def label_ok(s: Sample) -> bool:
            if "label-string-compare" in regs:  # regression: lexicographic comparison
                return ((min_l is None or s.label >= _fmt(min_l))
                        and (max_l is None or s.label < _fmt(max_l)))
            val = _numeric_label(s.label)
            return (val is not None and (min_l is None or val >= min_l)
                    and (max_l is None or val < max_l))
        add(label_ok)
    search = single(query, "search")
    if search is not None and search.strip():
        tokens = search.split()
        add(lambda s: all(t == str(s.id) or t.casefold() in s.filename.casefold() for t in tokens))
    dtype = single(query, "dataType")
    if dtype is not None:
        if dtype not in DATA_TYPES:
            raise BadRequest(f"query parameter 'dataType' must be one of {', '.join(DATA_TYPES)}")
        add(lambda s: s.data_type == dtype)
    min_id, max_id = as_int(query, "minId"), as_int(query, "maxId")
    if min_id is not None:
        add(lambda s: s.id >= min_id)
    if max_id is not None:
        if "maxid-inclusive" in regs:
            add(lambda s: s.id <= max_id)
        else:
            add(lambda s: s.id < max_id)
    try:
        meta = as_metadata(query)
    except BadRequest:
        if "metadata-malformed-unfiltered" not in regs:
            raise
        meta = None
    if meta is not None:
        force_and = "metadata-and" in regs
        add(lambda s: meta.matches(s.metadata, force_and))
    local = "date-local-tz" in regs
    min_d, max_d = as_date(query, "minDate", local), as_date(query, "maxDate", local)
    if min_d is not None:
        add(lambda s: s.added > min_d)
    if max_d is not None:
        add(lambda s: s.added < max_d)
    category = as_enum(query, "category", CATEGORIES, "testing")
    add(lambda s: s.category == category)
    return PageQuery(limit, offset, as_enum(query, "variant", VARIANTS, "float32"),
                     as_int(query, "impulseId"), as_bool(query, "truncateStructuredLabels"),
                     category, preds)


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)
