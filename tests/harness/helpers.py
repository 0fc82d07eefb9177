"""Shared fakes of the harness-layer tests: an ApiClient over httpx.MockTransport, a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from eicontract.http.client import ApiClient

BASE = "http://127.0.0.1:4810/v1"
KEY = "ei_" + "5ecret9Q" * 6  # long enough to be redacted, unlike anything else in a reply

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, *, key: str = KEY, history: int = 20) -> ApiClient:
    return ApiClient(BASE, key, transport=httpx.MockTransport(handler), history=history)


def page_body(ids: list[int]) -> dict[str, object]:
    return {"success": True, "result": [{"sampleId": i, "classifications": []} for i in ids], "predictions": []}


@dataclass
class FakeClock:
    """`clock` and `sleep` for jobflow: time moves only when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"negative sleep {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds
