"""Encoded JSON: the one encoder of successful replies, and page items rendered once.

A page of 100 results at 100,000 samples is about 570 KB of JSON, and encoding it (floats above
all) cost more than everything else the page does. A page result (ModelResult) and its
predictions depend only on (sample, variant, truncate) and on the server's fixed seams
(seams.py), so each is rendered and encoded once and kept as bytes; a page is those bytes joined.

orjson is used when it is installed (about 10x faster than the standard library on these
bodies); without it the standard library gives the same JSON text (numbers may be spelled
differently, e.g. 1e-05 and 1e-5, with the same value).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, cast

from starlette.responses import Response

try:  # optional: a faster encoder, same JSON
    import orjson  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - exercised where orjson is not installed
    orjson = None  # type: ignore[assignment]

# Bytes of encoded page items kept (least recently used out). A sample is about 5.7 KB (result
# and predictions): the whole default listing (category testing) of a 100,000-sample project is
# 465 MB, and fits.
FRAGMENT_BYTES = 512 * 2**20


def _stdlib_dumps(value: Any) -> bytes:
    # exactly what starlette's JSONResponse sends
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON. The bodies hold no NaN or infinity (orjson would write null where
    the standard library, like JSONResponse, raises)."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:  # e.g. an integer beyond 64 bits (an echoed huge id): the slow path
            pass
    return _stdlib_dumps(value)


class JSONBytes(Response):
    """A reply whose JSON body is already encoded."""

    media_type = "application/json"


def json_reply(value: Any, status_code: int = 200) -> JSONBytes:
    return JSONBytes(dumps(value), status_code=status_code)


def encode_object(body: dict[str, Any], spliced: dict[int, list[bytes]]) -> bytes:
    """`body` encoded key by key; a value whose id() is in `spliced` is written as that JSON
    array of already-encoded items (see json_array), so large parts are copied once, into the
    body, never decoded and encoded again."""
    parts = [b"{"]
    for key, value in body.items():
        if len(parts) > 1:
            parts.append(b",")
        parts.append(dumps(key) + b":")
        array = spliced.get(id(value))
        if array is None:
            parts.append(dumps(value))
        else:
            parts.extend(array)
    parts.append(b"}")
    return b"".join(parts)


def json_array(items: Iterable[bytes]) -> list[bytes]:
    """Encoded items (each a JSON value, or b"" for none) as the pieces of one JSON array."""
    kept = [item for item in items if item]
    if not kept:
        return [b"[]"]
    parts = [b","] * (2 * len(kept) + 1)  # [ item , item , ... item ]
    parts[0], parts[-1] = b"[", b"]"
    parts[1:-1:2] = kept
    return parts


Fragment = tuple[bytes, bytes]  # (encoded ModelResult, encoded predictions joined by commas)


class FragmentCache:
    """key -> Fragment, rendered on first use; bounded by the bytes it keeps, the oldest first
    out. A hit does not reorder (a page of 100 is 100 lookups): the budget holds the whole
    default listing of the largest project, so eviction is the exception."""

    def __init__(self, budget_bytes: int = FRAGMENT_BYTES) -> None:
        self._budget = budget_bytes
        self._kept = 0
        self._items: OrderedDict[Hashable, Fragment] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def kept_bytes(self) -> int:
        return self._kept

    def get_many(self, keys: Sequence[Hashable], render: Callable[[int], Fragment]
                 ) -> list[Fragment]:
        """The fragments for keys; render(i) makes the one for keys[i] when it is not kept."""
        found: list[Fragment | None] = list(map(self._items.get, keys))
        if None in found:
            for i, fragment in enumerate(found):
                if fragment is None:
                    found[i] = self._keep(keys[i], render(i))
        return cast(list[Fragment], found)

    def get(self, key: Hashable, render: Callable[..., Fragment], *args: Any) -> Fragment:
        """The kept fragment for key, or render(*args) (then kept)."""
        found = self._items.get(key)
        return self._keep(key, render(*args)) if found is None else found

    def _keep(self, key: Hashable, fragment: Fragment) -> Fragment:
        # exact-size copies: orjson's bytes keep spare capacity, which doubled the memory kept
        kept = bytes(memoryview(fragment[0])), bytes(memoryview(fragment[1]))
        self._items[key] = kept
        self._kept += len(kept[0]) + len(kept[1])
        while self._kept > self._budget and len(self._items) > 1:
            _, (result, predictions) = self._items.popitem(last=False)
            self._kept -= len(result) + len(predictions)
        return kept
