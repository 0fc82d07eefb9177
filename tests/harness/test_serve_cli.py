"""`eicontract serve` as a user runs it: a subprocess on a free loopback port, answering all three
documented operations under the real paths and parameter names, and stopping on SIGINT."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from eicontract.server import DEFAULT_API_KEY

STARTUP_DEADLINE_S = 20.0


def _first_url(process: subprocess.Popen[bytes]) -> str:
    """Read stdout until the server names its URL, or fail at the deadline (no sleeping).

    Raw reads from the descriptor: a buffered readline could hold the line select() waits for."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    seen = ""
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            break
        seen += chunk.decode(errors="replace")
        match = re.search(r"http://127\.0\.0\.1:\d+/v1", seen)
        if match:
            return match.group(0)
    raise AssertionError(f"no URL announced within {STARTUP_DEADLINE_S} s; output: {seen!r}")


@pytest.fixture
def served() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, "-m", "eicontract.cli", "serve", "--port", "0", "--samples", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={k: v for k, v in os.environ.items() if not k.startswith("EI_")})
    try:
        yield _first_url(process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_answers_the_three_operations(served: str) -> None:
    with httpx.Client(base_url=served, headers={"x-api-key": DEFAULT_API_KEY}, timeout=10) as http:
        page = http.get("/api/1/classify/all/result/page", params={"limit": 2, "minId": 0, "signatureValidity": "both"})
        assert page.status_code == 200 and page.json()["success"] is True
        [first, _] = page.json()["result"]
        block = first["classifications"][0]["learnBlock"]["id"]
        reply = http.post(f"/api/1/classify/anomaly-gmm/v2/{block}/{first['sampleId']}", params={"variant": "int8"})
        assert reply.status_code == 200 and reply.json()["success"] is True
        status = http.get("/api/1/jobs/123456789/status")
        assert status.status_code == 404 and status.json() == {"success": False, "error": status.json()["error"]}
        assert status.json()["error"]
        unauthorised = httpx.get(f"{served}/api/1/classify/all/result/page", timeout=10)
        assert unauthorised.status_code == 401
