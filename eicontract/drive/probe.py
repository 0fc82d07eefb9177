"""Can this target be tested at all? The answer to the first listing request decides.

Two outcomes end a run at its first request:
- `unusable`: the target cannot be judged clause by clause (it does not answer, a gateway says
  it is down, it answers something that is not a JSON object, it refuses the key, the URL is not
  the API root, it refuses even a page of one sample with the failure envelope): "the harness
  could not run" (exit 2) with the reason. A body that opens as JSON but does not parse is the
  API's own broken answer, not a wrong URL: `broken`.
- `broken`: the target answered, as itself, a documented, valid, authenticated request with an
  answer no reading of the contract allows (HTTP 500, a 400/422 without the failure envelope, or
  JSON that does not parse): a violated clause (exit 1). Nothing after it could be judged on
  that answer, so the run stops.
Pure: an `Exchange` in, a reason or a violation (or None) out.
"""

from __future__ import annotations

from dataclasses import dataclass

from eicontract.http.client import Exchange
from eicontract.violations import Violation

# a proxy or load balancer in front of the target answers these when the server behind is down or
# unreachable: no verdict on the API itself (any other 5xx is the server's own error)
GATEWAY_STATUSES = frozenset({502, 503, 504})
# "your request is invalid": for a documented, valid request that is the server's fault
INVALID_STATUSES = frozenset({400, 422})

_SHOWN = 60  # characters of a non-JSON body quoted in the reason


@dataclass(frozen=True, slots=True)
class Known:
    """What the harness knows of the target beyond its answers. `project`: the project exists and
    holds samples (--expect-samples, or the embedded server); `own`: the harness made the server,
    its project and its key (the embedded server), so a refusal of them is the server's fault."""

    project: bool = False
    own: bool = False


UNKNOWN = Known()


def _refusal_is_a_fault(exchange: Exchange, known: Known) -> bool:
    """A refused key or account, or a project not found, that the harness knows to be right."""
    status, body = exchange.status, exchange.body
    refused = status is not None and (400 <= status < 500 or (isinstance(body, dict) and body.get("success") is False))
    return refused and (known.own or (status == 404 and known.project))


def _whose(known: Known) -> str:
    return ("the embedded server, its project and its key are the harness's own" if known.own
            else "the project is known to exist (--expect-samples)")


def unusable(exchange: Exchange, known: Known = UNKNOWN) -> str | None:
    """Why the target cannot be tested, judging by its answer to a documented listing request;
    None when the answer is a JSON object that is not a failure (the oracles judge the rest),
    or a refusal of what the harness knows to be right (`broken` names the clause)."""
    status, body = exchange.status, exchange.body
    if _refusal_is_a_fault(exchange, known):
        return None
    if status is None:
        return f"target unreachable: {exchange.error}"
    if status in GATEWAY_STATUSES:
        return f"the target answers HTTP {status} (a gateway error){_quoted(exchange)}: it is down or unreachable"
    if status >= 500:
        return None  # its own server error on a valid request: `broken` names the clause
    if 300 <= status < 400:
        return (f"the target redirects (HTTP {status}){_location(exchange)}: redirects are not followed, so that "
                "the key never goes to another host; give the URL it redirects to as --target")
    if status in (401, 403):
        return f"the target rejects the API key (HTTP {status}): check EI_API_KEY and --project-id"
    if status == 404:
        return "the listing is not found (HTTP 404): check --target (the API root, …/v1) and --project-id"
    if body is None and _broken_json(exchange, known):
        return None  # the API's own JSON, malformed: `broken` names the clause
    if body is None:
        return (f"the target answers HTTP {status} with a body that is not JSON{_quoted(exchange)}: "
                "is --target the API root (e.g. https://studio.edgeimpulse.com/v1)?")
    if not isinstance(body, dict):
        return f"the target answers HTTP {status} with JSON that is not an object ({type(body).__name__})"
    if status in INVALID_STATUSES and _is_envelope(body):
        # the failure envelope: a refusal no reading forbids ("Maximum number of results" names no
        # maximum, so none is too small), and the gate asks it at its smallest page (limit=1)
        return f"the target refuses the listing (HTTP {status}){_quoted(exchange)}: it answers no page, " \
               "not even of one sample (limit=1), so nothing can be listed or judged"
    if status in INVALID_STATUSES:
        return None  # a valid request called invalid: `broken` names the clause
    if status >= 400 or body.get("success") is False:
        # e.g. a suspended project, or a key without access: the account's state, not the API's
        return f"the target refuses the listing (HTTP {status}){_quoted(exchange)}"
    return None


def _broken_json(exchange: Exchange, known: Known) -> bool:
    """A body that failed to parse, whole (the byte cap ends an answer before it is decoded), which
    the API itself sent: it opens as JSON does (an HTML page or a proxy's text does not), or the
    harness made the server (the embedded one answers JSON or nothing)."""
    return exchange.body is None and exchange.status is not None and exchange.status < 500 and (
        known.own or exchange.text.lstrip().startswith(("{", "[")))


def _is_envelope(body: dict[str, object]) -> bool:
    return body.get("success") is False and isinstance(body.get("error"), str)


def _location(exchange: Exchange) -> str:
    return f" to {exchange.location}" if exchange.location else ""


def broken(exchange: Exchange, request: str, known: Known = UNKNOWN) -> Violation | None:
    """SCHEMA-RESPONSE: the documented, valid `request` (a listing page at offset 0) got HTTP 500
    (any 5xx but a gateway's) or was called invalid (400/422); PAGE-TOTAL: its page is empty while
    its totalCount says the listing is not; SCHEMA-RESPONSE too: it was refused (a 4xx, or success
    false) though the harness `known`s the request to be right. None for any other answer
    (`unusable` judges those first)."""
    status = exchange.status
    if status is None or status in GATEWAY_STATUSES:
        return None
    if status >= 500:
        what = f"HTTP {status}, a server error"
    elif status in INVALID_STATUSES and isinstance(exchange.body, dict) and not _is_envelope(exchange.body):
        what = f"HTTP {status}: the server calls it invalid"
    elif _refusal_is_a_fault(exchange, known):
        what = f"HTTP {status}, a refusal, though {_whose(known)}"
    elif _broken_json(exchange, known):
        what = f"HTTP {status} with a body that is not valid JSON ({exchange.error})"
    else:
        return _empty_but_counted(exchange, request)
    return Violation("SCHEMA-RESPONSE", f"a documented, valid, authenticated request ({request}) was answered "
                                        f"{what}{_quoted(exchange)}; the run cannot go on from it",
                     {"status": status, "request": request})


def _empty_but_counted(exchange: Exchange, request: str) -> Violation | None:
    """An empty first page is an empty project (nothing to test: `unusable`'s caller says so),
    unless the same page counts samples: then the listing and its total disagree."""
    body = exchange.body
    if not isinstance(body, dict) or body.get("result") != []:
        return None
    total = body.get("totalCount")
    if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
        return None
    return Violation("PAGE-TOTAL", f"the first page ({request}) is empty, but its totalCount is {total}: "
                                   "a listing of that many samples starts with one", {"totalCount": total})


def empty_but_expected(expected: int | None) -> Violation | None:
    """An empty listing is an empty project (nothing to test), unless the project is known to
    hold samples (--expect-samples, or the embedded server's own data)."""
    if not expected:
        return None
    return Violation("PAGE-COMPLETE", f"the unfiltered listing is empty, but the project holds at least {expected} "
                                      "samples (--expect-samples, or the embedded server's own data)",
                     {"expected_samples": expected})


def shorter_than_expected(length: int | None, expected: int | None) -> Violation | None:
    """PAGE-COMPLETE: the listing's length by offsets is below what the project is known to hold."""
    if length is None or not expected or length >= expected:
        return None
    return Violation("PAGE-COMPLETE", f"the unfiltered listing ends after {length} samples (the first offset "
                                      f"answered with an empty page), but the project holds at least {expected}",
                     {"length": length, "expected_samples": expected})


def _quoted(exchange: Exchange) -> str:
    """The start of the body: its error text when it is JSON, else its raw text (both redacted)."""
    error = exchange.body.get("error") if isinstance(exchange.body, dict) else None
    raw = str(error) if error else exchange.text
    flat = " ".join(raw.split())
    if not flat:
        return ""
    return f" ({flat[:_SHOWN]!r}{'...' if len(flat) > _SHOWN else ''})"
