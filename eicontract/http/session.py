"""The guard for schemathesis' own HTTP stack (requests), so its cases obey the same limits.

schemathesis sends its cases with `requests`; `case.call(session=...)` takes a session. This
module gives one whose adapter passes every attempt through the run's `Guard` (operation,
budget, pace, deadline, 429, breaker) and records the answers like `ApiClient` does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter

from eicontract.http.guard import Guard, path_under
from eicontract.http.recording import Recording


class GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: Guard, root_url: str, *, timeout: tuple[float, float], api_key: str,
                 recording: Recording | None = None) -> None:
        super().__init__()
        self.guard, self.root_url, self.timeout = guard, root_url, timeout
        self._key, self.recording = api_key, recording

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        method, url = str(request.method), str(request.url)
        path = path_under(self.root_url, url)
        kwargs["timeout"] = self.timeout  # the run's, not schemathesis' own 10 s: a hang costs --request-timeout
        try:
            operation_id, response = self.guard.exchange(
                method, path, lambda: super(GuardedAdapter, self).send(request, *args, **kwargs),
                lambda r: (r.status_code, r.headers.get("retry-after")))
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.guard.unanswered(type(exc).__name__)
            raise
        if self.recording is not None and request.headers.get("x-api-key") == self._key:
            self._record(operation_id, method, url, path, response)
        return response

    def _record(self, operation_id: str, method: str, url: str, path: str, response: requests.Response) -> None:
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        assert self.recording is not None
        self.recording.add(operation_id, method, path, query, response.status_code, body)


def guarded_session(guard: Guard, root_url: str, *, timeout: tuple[float, float], api_key: str,
                    recording: Recording | None = None) -> requests.Session:
    """A requests session for `case.call(session=...)`: only loopback or the target, always guarded."""
    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the environment: the target is what we were given
    adapter = GuardedAdapter(guard, root_url, timeout=timeout, api_key=api_key, recording=recording)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
