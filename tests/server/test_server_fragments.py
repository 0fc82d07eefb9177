"""Page items rendered once: the bytes kept are what rendering again would give, and the cache
is bounded; the encoder gives the standard library's JSON with or without orjson."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.types import ASGIApp, Message

from eicontract.server import ServerConfig, build_app, fragments
from eicontract.server.fragments import FragmentCache, dumps, encode_object, json_array

KEY = {"x-api-key": ServerConfig().api_key}
PAGE = "/v1/api/1/classify/all/result/page"
QUERIES: list[dict[str, Any]] = [
    {"limit": 30}, {"limit": 30, "offset": 20, "truncateStructuredLabels": "true"},
    {"limit": 10, "variant": "int8"}, {"dataType": "image", "limit": 1000}, {"offset": 5000},
]


def get(app: ASGIApp, query: dict[str, Any]) -> bytes:
    """One GET through the whole ASGI app (middleware included), without a socket."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": PAGE, "raw_path": PAGE.encode(),
             "query_string": urlencode(query).encode(), "root_path": "", "scheme": "http",
             "http_version": "1.1", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
             "headers": [(k.encode(), v.encode()) for k, v in KEY.items()]}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    return b"".join(m.get("body", b"") for m in sent[1:])


def pages(config: ServerConfig, budget: int | None = None) -> list[bytes]:
    app = build_app(config)
    if budget is not None:
        app.state.ctx.fragments._budget = budget  # evict almost everything
    return [get(app, q) for q in QUERIES * 2]


@pytest.mark.parametrize("config", [
    ServerConfig(),
    ServerConfig(variants=frozenset({"extra-fields", "order-desc"})),
    ServerConfig(faults=frozenset({"wrong-type", "truncate-wrong", "foreign-predictions"})),
], ids=["clean", "variants", "faults"])
def test_kept_fragments_serve_what_rendering_again_gives(config: ServerConfig) -> None:
    kept, rendered_again = pages(config), pages(config, budget=1)
    # the second round is served from kept bytes; with budget 1 every item is rendered again
    # (the extra-fields reply counter differs between the two rounds, so compare within each)
    assert [json.loads(b) for b in kept] == [json.loads(b) for b in rendered_again]
    if "extra-fields" not in config.variants:
        assert kept[:len(QUERIES)] == kept[len(QUERIES):]


def test_without_orjson_the_pages_are_the_same_json(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = pages(ServerConfig())
    monkeypatch.setattr(fragments, "orjson", None)
    slow = pages(ServerConfig())
    assert [json.loads(b) for b in fast] == [json.loads(b) for b in slow]


@pytest.mark.parametrize("value", [
    {"a": [1, 2.5, 1e-05, 1e16, -0.0, True, None, "é%_\u2028"], "b": {}},
    {"id": 10**30},  # beyond 64 bits: orjson refuses, the standard library encodes it
])
def test_dumps_is_json(value: Any) -> None:
    assert json.loads(dumps(value)) == value


def test_spliced_arrays_are_the_json_of_their_items() -> None:
    items = [dumps({"n": k}) for k in range(3)]
    body = {"success": True, "result": [], "predictions": [], "totalCount": 3}
    spliced = {id(body["result"]): json_array(items), id(body["predictions"]): json_array([])}
    assert json.loads(encode_object(body, spliced)) == {
        "success": True, "result": [{"n": 0}, {"n": 1}, {"n": 2}], "predictions": [],
        "totalCount": 3}
    # predictions fragments are comma-joined lists; an empty one adds nothing
    assert json.loads(b"".join(json_array([b"1,2", b"", b"3"]))) == [1, 2, 3]


def test_the_cache_is_bounded_by_bytes_and_the_oldest_go_first() -> None:
    cache = FragmentCache(budget_bytes=10)
    renders: list[int] = []

    def render(k: int) -> tuple[bytes, bytes]:
        renders.append(k)
        return b"abc", b"de"  # 5 bytes a fragment: two fit

    assert [cache.get(k, render, k) for k in (1, 2, 1)] == [(b"abc", b"de")] * 3
    assert renders == [1, 2] and cache.kept_bytes == 10
    cache.get(3, render, 3)  # 1 is the oldest, so it goes (a hit does not reorder)
    assert len(cache) == 2 and cache.kept_bytes == 10
    found = cache.get_many([2, 3, 1, 4], lambda i: render(10 + i))
    assert renders == [1, 2, 3, 12, 13] and len(found) == 4 and len(cache) == 2


def test_json_array_pieces() -> None:
    for items in ([], [b"1"], [b"1", b"", b"2,3"], [b""]):
        assert json.loads(b"".join(json_array(items))) == json.loads(
            b"[" + b",".join(i for i in items if i) + b"]")
