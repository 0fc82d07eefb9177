"""How a run reaches its target, kept apart from what it finds there (reporting's `Recorder`):
the guard every request of the run passes, the client the `target` fixture makes, and the
`--record` writer. One per run, owned by the pytest config (the hooks' TRANSPORT_KEY).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eicontract.http.guard import Guard

if TYPE_CHECKING:
    from eicontract.http.client import ApiClient, Exchange
    from eicontract.http.recording import Recording


@dataclass
class Transport:
    guard: Guard
    recording: Recording | None = None
    client: ApiClient | None = None  # set by the target fixture

    def recent(self, limit: int) -> list[Exchange]:
        """The client's last exchanges (none before the target fixture made it)."""
        return [] if self.client is None else list(self.client.history)[-limit:]
