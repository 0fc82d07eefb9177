"""Our per-response oracles as schemathesis 4 checks: name this module in schemathesis' hooks.

    SCHEMATHESIS_HOOKS=eicontract.schemathesis schemathesis run openapi.json --url URL ...
    # or in schemathesis.toml:  hooks = "eicontract.schemathesis"
    # or from your own hooks file:  import eicontract.schemathesis

Importing it registers five checks (each judges one reply on its own, whatever schemathesis sent):

- ``eicontract_failure_envelope`` (ENVELOPE-ERROR): a failure (4xx, or ``success: false``)
  carries ``success: false`` and an error text; a 2xx success carries ``success: true`` and no
  error text. 5xx answers are left to schemathesis' ``not_a_server_error``.
- ``eicontract_key_not_echoed`` (SECRET-ECHO): no reply quotes the ``x-api-key`` it was sent with.
- ``eicontract_page_limit`` (PAGE-LIMIT, PAGE-DISJOINT within the page): a page sent with
  ``limit=N`` holds at most N results, none twice.
- ``eicontract_page_predictions`` (PAGE-PREDICTIONS): every prediction on a page names a sample
  of that page and a window inside it.
- ``eicontract_filter_sound`` (FILTER-SOUND): every sample on a filtered page satisfies the
  query's filters (the union of their documented readings).

Each decision is an oracle of ``eicontract.oracles`` (pure: data in, violations out); this module
only reads the wire (the query as sent, the decoded body) and raises ``AssertionError`` with the
violations, as schemathesis expects. It imports nothing beyond schemathesis, the standard library
and the oracles, and registering is idempotent: importing it twice (SCHEMATHESIS_HOOKS and your
own hooks file) registers each check once. ``--checks`` with an explicit list switches off the
checks it does not name: add ours to it, or use ``--checks all``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import schemathesis

from eicontract.http.redact import Redactor
from eicontract.oracles.envelope import check_failure, check_key_not_echoed, check_success_envelope
from eicontract.oracles.filter_readings import FILTER_NAMES, parse_filter
from eicontract.oracles.filters import check_filter
from eicontract.oracles.paging import PageRead, check_page, page_results
from eicontract.violations import Violation

PAGE_OPERATION = ("GET", "/api/{projectId}/classify/all/result/page")
# A key shorter than this is not judged: a generated junk header ("true", "null") may appear in a
# body by chance, and a real key is far longer (Edge Impulse keys are 67 characters).
MIN_KEY_LENGTH = 8
_NON_NEGATIVE_INT = re.compile(r"0|[1-9]\d*")
_UNREAD = object()  # a body that is not JSON


@dataclass(frozen=True, slots=True)
class Reply:
    """What the checks read of one exchange: the wire, decoded once."""

    method: str
    path_template: str
    status: int
    query: Mapping[str, str]  # the query string as sent (last value of a repeated name)
    sent_key: str | None
    text: str
    body: Any  # the decoded JSON body, or _UNREAD

    @property
    def is_page(self) -> bool:
        return (self.method.upper(), self.path_template) == PAGE_OPERATION

    @property
    def is_success_page(self) -> bool:
        return (self.is_page and 200 <= self.status < 300 and isinstance(self.body, dict)
                and self.body.get("success") is True)


def reply_of(response: Any, case: Any) -> Reply:
    """The parts of a schemathesis (response, case) the checks need."""
    request = response.request
    headers = request.headers if request is not None else {}
    url = str(request.url) if request is not None and request.url else ""
    content: bytes = response.content or b""
    try:
        body: Any = json.loads(content)
    except ValueError:
        body = _UNREAD
    return Reply(method=str(case.method), path_template=str(case.operation.path), status=response.status_code,
                 query=dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)),
                 sent_key=headers.get("x-api-key"), text=content.decode("utf-8", "replace"), body=body)


# --- the judgements (pure: a Reply in, violations out) --------------------------------------

def envelope_violations(reply: Reply) -> list[Violation]:
    """ENVELOPE-ERROR on any reply: complete failure envelopes, clean success envelopes."""
    status, body = reply.status, (None if reply.body is _UNREAD else reply.body)
    if status >= 500 or 300 <= status < 400:
        return []  # a 5xx is not_a_server_error's; redirects claim nothing
    failed = status >= 400 or (isinstance(body, dict) and body.get("success") is False)
    if failed:
        return [v for v in check_failure(body, status, context="a failure") if v.clause == "ENVELOPE-ERROR"]
    return check_success_envelope(body)


def echo_violations(reply: Reply) -> list[Violation]:
    """SECRET-ECHO: the key this request carried appears nowhere in its reply."""
    key = reply.sent_key
    if not key or len(key) < MIN_KEY_LENGTH:
        return []
    return check_key_not_echoed(Redactor(key).echoed_in(reply.text), "this reply")


def _page_read(reply: Reply) -> PageRead | None:
    """The page as the paging oracles read it, when it was asked for with an integer limit."""
    limit, offset = reply.query.get("limit"), reply.query.get("offset", "0")
    if not reply.is_success_page or limit is None or not _NON_NEGATIVE_INT.fullmatch(limit):
        return None
    return PageRead(int(limit), int(offset) if _NON_NEGATIVE_INT.fullmatch(offset) else 0, reply.body)


def page_limit_violations(reply: Reply) -> list[Violation]:
    """PAGE-LIMIT and PAGE-DISJOINT (within the page): at most `limit` results, none twice."""
    read = _page_read(reply)
    if read is None:
        return []
    return [v for v in check_page(read) if v.clause in ("PAGE-LIMIT", "PAGE-DISJOINT")]


def page_prediction_violations(reply: Reply) -> list[Violation]:
    """PAGE-PREDICTIONS: each prediction names a sample of this page and a window inside it.
    Without the impulse's window size only "starts inside the sample" is judged (as in the suite)."""
    if not reply.is_success_page or page_results(reply.body) is None:
        return []
    # the limit plays no part in this clause: a page without one is judged too
    read = PageRead(len(page_results(reply.body) or []), 0, reply.body)
    return [v for v in check_page(read) if v.clause == "PAGE-PREDICTIONS"]


def _filters(query: Mapping[str, str]) -> dict[str, str]:
    """The query's filters the oracle can evaluate; a value it cannot read is the server's to reject
    (FILTER-MALFORMED needs the unfiltered listing, which one reply does not have)."""
    out = {}
    for name in FILTER_NAMES:
        if name in query:
            try:
                parse_filter(name, query[name])
            except ValueError:
                continue
            out[name] = query[name]
    return out


def filter_violations(reply: Reply) -> list[Violation]:
    """FILTER-SOUND on one page: every returned sample satisfies every filter of the query.
    The page itself stands in for the unfiltered listing: soundness needs nothing else."""
    results = page_results(reply.body) if reply.is_success_page else None
    filters = _filters(reply.query)
    if not results or not filters:
        return []
    findings = check_filter(results, results, filters)
    return [v for v in findings.violations if v.clause == "FILTER-SOUND"]


# --- schemathesis glue ----------------------------------------------------------------------

def _fail(violations: list[Violation]) -> None:
    if violations:
        raise AssertionError("\n".join(str(v) for v in violations))


def _as_check(judge: Callable[[Reply], list[Violation]], name: str, doc: str | None) -> Callable[..., None]:
    def check(ctx: Any, response: Any, case: Any) -> None:
        _fail(judge(reply_of(response, case)))

    check.__name__ = check.__qualname__ = name  # schemathesis names a check by its function name
    check.__doc__ = doc
    return check


JUDGES: dict[str, Callable[[Reply], list[Violation]]] = {
    "eicontract_failure_envelope": envelope_violations,
    "eicontract_key_not_echoed": echo_violations,
    "eicontract_page_limit": page_limit_violations,
    "eicontract_page_predictions": page_prediction_violations,
    "eicontract_filter_sound": filter_violations,
}
CHECKS: dict[str, Callable[..., None]] = {
    name: schemathesis.check(_as_check(judge, name, judge.__doc__)) for name, judge in JUDGES.items()
}
