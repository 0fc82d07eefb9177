"""The exchange a violation was judged on, attached to it as evidence.

The oracles never see HTTP (data in, violations out); the glue that fed them an exchange's body
wraps what they returned with that exchange: the request (method, URL, which key was sent) and
an excerpt of the response it judged (status, the offending JSON path when the oracle named
one, at most EXCERPT characters). The reports turn it into a replayable curl line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from eicontract.http.client import Exchange
from eicontract.oracles.paging import page_ids
from eicontract.violations import Violation

EXCHANGE_KEY = "exchange"  # the evidence key the reports read
EXCERPT = 4000  # characters of the judged response kept per violation
_PATH_KEYS = ("path", "json_path", "pointer")  # how oracles name the offending place, when they do


def excerpt(exchange: Exchange, limit: int = EXCERPT) -> str:
    """The response as text (JSON compact, else the raw body kept), cut to `limit` characters."""
    if exchange.status is None:
        return f"no answer: {exchange.error}"[:limit]
    text = json.dumps(exchange.body, separators=(",", ":"), default=str) if exchange.body is not None \
        else exchange.text
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def exchange_evidence(exchange: Exchange, path: object = None) -> dict[str, Any]:
    """What a report needs of an exchange to show it and to replay it."""
    found: dict[str, Any] = {"method": exchange.method, "url": exchange.url, "sent_key": exchange.sent_key,
                             "status": exchange.status, "excerpt": excerpt(exchange)}
    if isinstance(exchange.body, dict):  # an excerpt may end early: the list lengths are seen whole
        found["lengths"] = {k: len(v) for k, v in exchange.body.items() if isinstance(v, list)}
    if path not in (None, ""):
        found["path"] = str(path)
    return found


def judged(exchange: Exchange, violations: list[Violation]) -> list[Violation]:
    """`violations` as found on `exchange`: each carries it (a violation that already names its
    exchange keeps that one)."""
    return [v if EXCHANGE_KEY in v.evidence else
            replace(v, evidence={**v.evidence, EXCHANGE_KEY: exchange_evidence(exchange, _path(v))})
            for v in violations]


def judged_on_listing(pages: Sequence[Exchange], violations: list[Violation]) -> list[Violation]:
    """`violations` found on a listing read page by page (`pages`, in order): each shown with the
    page that holds a sample it names, else with the listing's first page (a sample that is
    missing is on no page)."""
    if not pages:
        return violations
    out: list[Violation] = []
    for violation in violations:
        named = _named_ids(violation.evidence)
        shown = next((page for page in pages if named & set(page_ids(page.body))), pages[0]) if named else pages[0]
        out += judged(shown, [violation])
    return out


def _named_ids(evidence: dict[str, Any]) -> set[int]:
    """The sample ids an oracle named as its example (`ids`, or `samples` with an `id` each)."""
    ids = [i for i in evidence.get("ids") or [] if isinstance(i, int)]
    ids += [s["id"] for s in evidence.get("samples") or [] if isinstance(s, dict) and isinstance(s.get("id"), int)]
    return set(ids)


def _path(violation: Violation) -> object:
    return next((violation.evidence[k] for k in _PATH_KEYS if k in violation.evidence), None)
