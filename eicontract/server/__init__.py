"""The reference server: an independent implementation of the classify API contract.

It imports nothing from the rest of eicontract (only stdlib, starlette and uvicorn), so the
harness's oracles can be checked against it. See docs/REFERENCE-SERVER.md.

The names below load on first use: `eicontract --help` (or `faults`) imports no uvicorn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time __getattr__ loads them
    from eicontract.server.attached import build_app  # noqa: F401
    from eicontract.server.config import DEFAULT_API_KEY, ServerConfig  # noqa: F401
    from eicontract.server.faults import FAULTS, Fault  # noqa: F401
    from eicontract.server.runner import RunningServer, serve_forever, start_in_thread  # noqa: F401
    from eicontract.server.variants import LEGAL_VARIANTS, LegalVariant  # noqa: F401

_EXPORTS = {
    "build_app": "attached",
    "DEFAULT_API_KEY": "config",
    "ServerConfig": "config",
    "FAULTS": "faults",
    "Fault": "faults",
    "RunningServer": "runner",
    "serve_forever": "runner",
    "start_in_thread": "runner",
    "LEGAL_VARIANTS": "variants",
    "LegalVariant": "variants",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
