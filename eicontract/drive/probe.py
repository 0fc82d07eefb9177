"""Can this target be tested at all? The answer to the first listing request decides.

A target that does not answer, answers a server error, answers something that is not a JSON
object (a web page, half a body) or refuses the key cannot be judged clause by clause: the run
ends as "the harness could not run" (exit 2) with the reason, instead of failing every clause.
Pure: an `Exchange` in, a reason (or None) out.
"""

from __future__ import annotations

from eicontract.http.client import Exchange

_SHOWN = 60  # characters of a non-JSON body quoted in the reason


def unusable(exchange: Exchange) -> str | None:
    """Why the target cannot be tested, judging by its answer to a documented listing request;
    None when the answer is a JSON object that is not a failure (the oracles judge the rest)."""
    status, body = exchange.status, exchange.body
    if status is None:
        return f"target unreachable: {exchange.error}"
    if status >= 500:
        return f"the target answers HTTP {status} (a server error){_quoted(exchange)}: it is down or failing"
    if status in (401, 403):
        return f"the target rejects the API key (HTTP {status}): check EI_API_KEY and --project-id"
    if status == 404:
        return "the listing is not found (HTTP 404): check --target (the API root, …/v1) and --project-id"
    if body is None:
        return (f"the target answers HTTP {status} with a body that is not JSON{_quoted(exchange)}: "
                "is --target the API root (e.g. https://studio.edgeimpulse.com/v1)?")
    if not isinstance(body, dict):
        return f"the target answers HTTP {status} with JSON that is not an object ({type(body).__name__})"
    if status >= 400 or body.get("success") is False:
        return f"the target refuses the listing (HTTP {status}){_quoted(exchange)}"
    return None


def _quoted(exchange: Exchange) -> str:
    """The start of the body: its error text when it is JSON, else its raw text (both redacted)."""
    error = exchange.body.get("error") if isinstance(exchange.body, dict) else None
    raw = str(error) if error else exchange.text
    flat = " ".join(raw.split())
    if not flat:
        return ""
    return f" ({flat[:_SHOWN]!r}{'...' if len(flat) > _SHOWN else ''})"
