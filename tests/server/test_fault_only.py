"""Code only a fault runs lives with the faults, not in the clean (mutated) modules (issue 19).

Each piece below was a no_coverage line of the mutation run (docs/MUTATION.md, "An honest
score"): no legal configuration's gate run executed it, because only a fault calls it. It now
lives at the seams (faults.py, attached.py, store_seams.py). These tests hold that: the piece
runs under its fault, and under no legal configuration (the clean server, every legal variant,
the body error style), for requests that reach its seam.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from eicontract.server import LEGAL_VARIANTS, ServerConfig
from eicontract.server.attached import Switched, build_app
from eicontract.server.config import DEFAULT_API_KEY
from eicontract.server.faults import FaultSet
from eicontract.server.store_seams import SwitchedReading

BASE = "/v1/api/1/"
CLASSIFIER = 3

# the piece each fault needs: (class, method, whether a result shows that the piece ran)
PIECES: dict[str, tuple[type, str, Callable[[Any], bool]]] = {
    "unfiltered count": (FaultSet, "_unfiltered_count", lambda r: True),
    "slice-first page": (SwitchedReading, "own_page", lambda r: r is not None),
    "extra prediction": (Switched, "extra_prediction", lambda r: r is not None),
    "result's job id": (FaultSet, "_result_job_id", lambda r: True),
    "made-up job": (FaultSet, "unknown_job", lambda r: r is not None),
}
NEEDS = {
    "total-wrong": {"unfiltered count"},
    "filtered-total-unfiltered": {"unfiltered count"},
    "filter-after-paging": {"slice-first page"},
    "foreign-predictions": {"extra prediction"},
    "job-and-result": {"result's job id"},
    "unknown-job-success": {"made-up job"},
}
LEGAL = [ServerConfig(samples=60), ServerConfig(samples=60, error_style="body"),
         *(ServerConfig(samples=60, variants=frozenset({v})) for v in sorted(LEGAL_VARIANTS))]


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The names of the pieces that ran (each method wrapped, its behaviour unchanged)."""
    seen: set[str] = set()
    for name, (owner, method, shows) in PIECES.items():
        original = getattr(owner, method)

        def spy(self: Any, *args: Any, _o: Any = original, _n: str = name,
                _s: Callable[[Any], bool] = shows, **kwargs: Any) -> Any:
            result = _o(self, *args, **kwargs)
            if _s(result):
                seen.add(_n)
            return result

        monkeypatch.setattr(owner, method, spy)
    yield seen


def _requests(config: ServerConfig) -> list[int]:
    """A filtered page, a classify of a short sample (a result at once) and an unknown job's
    status: the requests that reach every seam above."""
    app = build_app(config)
    data = app.state.ctx.dataset
    short = min((s for s in data.samples if not s.processing_error and s.frequency == data.impulse.frequency_hz),
                key=lambda s: (s.total_length_ms, s.id))
    key = {"x-api-key": DEFAULT_API_KEY}
    requests = [("GET", BASE + 'classify/all/result/page?limit=5&offset=3&labels=["idle"]'),
                ("POST", BASE + f"classify/anomaly-gmm/v2/{CLASSIFIER}/{short.id}"),
                ("GET", BASE + "jobs/999999/status")]

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [(await client.request(m, u, headers=key)).status_code for m, u in requests]

    return asyncio.run(run())


@pytest.mark.parametrize("fault", sorted(NEEDS))
def test_the_piece_runs_under_its_fault(ran: set[str], fault: str) -> None:
    _requests(ServerConfig(samples=60, faults=frozenset({fault})))
    assert ran == NEEDS[fault]


@pytest.mark.parametrize("config", LEGAL, ids=lambda c: ",".join(c.variants) or c.error_style)
def test_no_piece_runs_under_a_legal_configuration(ran: set[str], config: ServerConfig) -> None:
    statuses = _requests(config)
    assert statuses[0] == 200  # the page was answered: its seams were reached
    assert ran == set()
