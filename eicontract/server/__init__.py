"""The reference server: an independent implementation of the classify API contract.

It imports nothing from the rest of eicontract (only stdlib, starlette and uvicorn), so the
harness's oracles can be checked against it. See docs/REFERENCE-SERVER.md.
"""

from eicontract.server.app import build_app
from eicontract.server.config import DEFAULT_API_KEY, ServerConfig
from eicontract.server.faults import FAULTS, Fault
from eicontract.server.runner import RunningServer, serve_forever, start_in_thread
from eicontract.server.variants import LEGAL_VARIANTS, LegalVariant

__all__ = [
    "DEFAULT_API_KEY",
    "FAULTS",
    "LEGAL_VARIANTS",
    "Fault",
    "LegalVariant",
    "RunningServer",
    "ServerConfig",
    "build_app",
    "serve_forever",
    "start_in_thread",
]
