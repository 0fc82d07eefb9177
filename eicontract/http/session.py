"""The guard for schemathesis' own HTTP stack (requests), so its cases obey the same limits.

schemathesis sends its cases with `requests`; `case.call(session=...)` takes a session. This
module gives one whose adapter passes every attempt through the run's `Guard` (operation,
budget, pace, deadline, 429, breaker), reads every body within the guard's bounds
(eicontract.http.bounds), records the answers like `ApiClient` does, and notes each classify it
sends in the client's record of them (eicontract.http.classified). It follows no redirect:
`requests` would strip only `Authorization` on the way to another host and send `x-api-key`
along, so a 3xx is the answer schemathesis judges, as with `ApiClient`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter

from eicontract.http.bounds import CHUNK, AnswerTooSlow, check_depth, read_bounded
from eicontract.http.classified import Classified
from eicontract.http.guard import Guard, UndocumentedOperation, path_under
from eicontract.http.recording import Recording


class GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: Guard, root_url: str, *, timeout: tuple[float, float], api_key: str,
                 recording: Recording | None = None, classified: Classified | None = None) -> None:
        super().__init__()
        self.guard, self.root_url, self.timeout = guard, root_url, timeout
        self._key, self.recording = api_key, recording
        self.classified = classified if classified is not None else Classified(root_url)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        method, url = str(request.method), str(request.url)
        if _origin(url) != _origin(self.root_url):
            raise UndocumentedOperation(f"{method} to another host than the target: not sent")
        path = path_under(self.root_url, url)
        kwargs["timeout"] = self.timeout  # the run's, not schemathesis' own 10 s: a hang costs --request-timeout
        kwargs["stream"] = True  # the body is read here, within the bounds
        try:
            operation_id, response = self.guard.exchange(
                method, path, lambda: self._bounded(request, f"{method} {path}", *args, **kwargs),
                lambda r: (r.status_code, r.headers.get("retry-after")))
        except (requests.RequestException, AnswerTooSlow) as exc:
            self.guard.unanswered(type(exc).__name__)
            if isinstance(exc, AnswerTooSlow):
                raise requests.ReadTimeout(str(exc), request=request) from None
            raise
        if self.recording is not None and request.headers.get("x-api-key") == self._key:
            self._record(operation_id, method, url, path, response)
        return response

    def _bounded(self, request: requests.PreparedRequest, what: str, *args: Any, **kwargs: Any) -> requests.Response:
        """One attempt with its body read in full, within the guard's bounds. urllib3 decompresses
        (read1 gives at most CHUNK decoded bytes at a time, as they arrive); the guard counts them."""
        started = self.guard.now()
        self.classified.add(str(request.method), str(request.url))
        response = super().send(request, *args, **kwargs)
        try:
            content = read_bounded(_chunks(response.raw), self.guard, started, what)
        except BaseException:
            response.close()  # a body left unread: the connection cannot be reused
            raise
        response.raw.release_conn()
        check_depth(content, self.guard, what)
        response._content, response._content_consumed = content, True
        return response

    def _record(self, operation_id: str, method: str, url: str, path: str, response: requests.Response) -> None:
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        assert self.recording is not None
        self.recording.add(operation_id, method, path, query, response.status_code, body)


def _chunks(raw: Any) -> Iterator[bytes]:
    """The decoded body as it arrives (urllib3's read1; iter_content would wait for whole chunks, so a
    trickle would never be seen); urllib3's errors as requests' own, as requests would raise them."""
    while True:
        try:
            data = raw.read1(CHUNK, decode_content=True)
        except Exception as exc:
            error = requests.ReadTimeout if "Timeout" in type(exc).__name__ else requests.ConnectionError
            raise error(f"{type(exc).__name__}: {exc}") from exc
        if not data:
            return
        yield data


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)


class _NoRedirects(requests.Session):
    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None  # never followed: the 3xx is the answer (the key must not go to another host)


def guarded_session(guard: Guard, root_url: str, *, timeout: tuple[float, float], api_key: str,
                    recording: Recording | None = None, classified: Classified | None = None,
                    ) -> requests.Session:
    """A requests session for `case.call(session=...)`: only loopback or the target, always guarded.

    classified: the record of classify requests to add to (the run's client's, so that one record
    holds what both stacks sent); a fresh one when none is given."""
    session = _NoRedirects()
    session.trust_env = False  # no proxies or netrc from the environment: the target is what we were given
    adapter = GuardedAdapter(guard, root_url, timeout=timeout, api_key=api_key, recording=recording,
                             classified=classified)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
