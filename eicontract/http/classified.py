"""The classify requests a run has sent, by what each one selects: a record, not a safety rule.

A classify sent again may meet its first one's job still running or failed, and a server may refuse
it by a reading (docs/CLAIMS.md reading.classify-while-running, decision.failed-job). The suite
(suite/test_schema.py) judges valid data for acceptance only on a first-time classify, so it asks
this record, which both HTTP stacks feed (`ApiClient` and schemathesis' guarded session).

"The same classify" is what a server's job is for: the path (project, block, sample) and the query
parameters that choose what is classified (contracts/openapi.yaml: `variant`,
`truncateStructuredLabels`). Another variant of the same sample is a first-time classify.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from eicontract.http.guard import CLASSIFY, operation_of, path_under

DEFAULT_VARIANT = "float32"  # the openapi's Variant: "float32 is the default"

# (method, path under the API root, variants sent, truncateStructuredLabels sent)
ClassifyKey = tuple[str, str, tuple[str, ...], tuple[str, ...]]


def classify_key(method: str, path: str, query: Iterable[tuple[str, str]]) -> ClassifyKey | None:
    """What a request classifies, or None when it is no classify. An absent variant is the documented
    default; an absent truncateStructuredLabels is "not true" (only true slices the labels); a
    boolean is compared in any case (httpx sends `true`, requests `True`)."""
    if operation_of(method, path) != CLASSIFY:
        return None
    pairs = list(query)
    variants = tuple(v for name, v in pairs if name == "variant") or (DEFAULT_VARIANT,)
    truncates = tuple(v.lower() for name, v in pairs if name == "truncateStructuredLabels") or ("false",)
    return method.upper(), path, variants, truncates


class Classified:
    """The classify requests sent to one API root; every attempt counts (a 429's retry too)."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url
        self._keys: set[ClassifyKey] = set()
        self._lock = threading.Lock()  # load tests share one client

    def _key(self, method: str, url: str) -> ClassifyKey | None:
        return classify_key(method, path_under(self.root_url, url),
                            parse_qsl(urlsplit(url).query, keep_blank_values=True))

    def add(self, method: str, url: str) -> None:
        """A request about to be sent (its full URL, with the query)."""
        key = self._key(method, url)
        if key is not None:
            with self._lock:
                self._keys.add(key)

    def sent_before(self, method: str, url: str) -> bool:
        """The same classify (path and what it selects) was sent already this run."""
        key = self._key(method, url)
        with self._lock:
            return key is not None and key in self._keys
