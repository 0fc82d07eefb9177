"""`eicontract run --record DIR`: keep the target's answers for `eicontract drift` to read later.

Layout of DIR:
- `exchanges.jsonl` (or `exchanges-<worker>.jsonl` under pytest-xdist): one JSON object per line,
  `{"operationId", "method", "path", "query", "status", "body"}`, the key already masked;
- `manifest.json`: `{"target", "project_id", "recorded"}` for the whole run.

Bodies are what drift compares against the contract, so only JSON answers are kept, and at most
`per_kind` of them per (operation, status): a thorough run must not write gigabytes.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eicontract.http.redact import Redactor

EXCHANGES_GLOB = "exchanges*.jsonl"
MANIFEST = "manifest.json"


class Recording:
    def __init__(self, folder: Path, redactor: Redactor, *, worker: str = "", per_kind: int = 50) -> None:
        self.folder = folder
        self.redactor = redactor
        self.per_kind = per_kind
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / (f"exchanges-{worker}.jsonl" if worker else "exchanges.jsonl")
        self._file = self.path.open("w", encoding="utf-8")
        self._kinds: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self.recorded = 0

    def add(self, operation_id: str, method: str, path: str, query: Mapping[str, str], status: int,
            body: Any) -> None:
        if body is None:
            return  # not JSON: nothing for drift to compare
        kind = (operation_id, status)
        with self._lock:
            if self._kinds[kind] >= self.per_kind:
                return
            self._kinds[kind] += 1
            self.recorded += 1
            line = {"operationId": operation_id, "method": method, "path": self.redactor.text(path),
                    "query": self.redactor.data(dict(query)), "status": status, "body": self.redactor.data(body)}
            self._file.write(json.dumps(line, sort_keys=True) + "\n")

    def close(self, target: str, project_id: int) -> None:
        """Flush and (re)write the manifest; under xdist every worker adds its own count."""
        with self._lock:
            self._file.close()
        manifest = self.folder / MANIFEST
        try:
            counted = sum(1 for p in self.folder.glob(EXCHANGES_GLOB) for _ in p.open(encoding="utf-8"))
        except OSError:
            counted = self.recorded
        document = {"target": self.redactor.text(target), "project_id": project_id, "recorded": counted}
        manifest.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
