"""Fixtures of the reference-server tests: one server per module and an httpx client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from eicontract.server import RunningServer, ServerConfig, start_in_thread
from tests.server.server_helpers import JOB_SECONDS, make_client


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_in_thread(ServerConfig(job_seconds=JOB_SECONDS)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with make_client(server) as c:
        yield c
