"""The failure envelope and authentication.

Both failure conventions are legal: HTTP 4xx with ``{success: false, error}``, or HTTP 200
with the same envelope (the published spec declares only 200 replies). What is never legal
for a request that must fail: a 5xx, or ``success: true``.
"""

from __future__ import annotations

from collections.abc import Mapping

from eicontract.oracles._common import clip, type_name
from eicontract.violations import Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "reading.failure-status",
    "decision.extra-fields",
)

ENVELOPE_KEYS = frozenset({"success", "error"})
# The contract's data fields: the top-level properties of its success bodies (classify result,
# job reply, job status, page) beyond the envelope; tests/oracles checks this against the
# schemas. A rejected request must carry none of them. Any other key (xTrace, requestId,
# traceId, ...) is an unknown extra field, which the contract allows everywhere: not data.
DATA_FIELDS = frozenset({
    "classifications", "sample", "windowSizeMs", "windowIncreaseMs", "alreadyInDatabase", "warning",
    "id", "job", "result", "predictions", "totalCount",
})


def is_client_error(status: int) -> bool:
    return 400 <= status < 500


def is_success_status(status: int) -> bool:
    return 200 <= status < 300


def has_error_text(body: Mapping[str, object]) -> bool:
    error = body.get("error")
    return isinstance(error, str) and error.strip() != ""


def check_failure(
    body: object,
    status: int,
    *,
    clause_id: str = "SCHEMA-NEGATIVE",
    context: str = "invalid input",
) -> list[Violation]:
    """A request that MUST fail got a proper failure.

    ``clause_id`` names the rule broken when the server did not fail (5xx, success: true,
    or a 2xx without the envelope); other oracles reuse this with their own clause
    (PAGE-PARAMS, JOB-UNKNOWN, FILTER-MALFORMED, VARIANT). A failure whose envelope lacks
    ``success: false`` or the error text is always ENVELOPE-ERROR.
    """
    evidence = {"status": status, "context": context}
    if status >= 500:
        return [Violation(clause_id, f"{context}: expected a failure envelope (4xx or 200 with "
                                     f"success: false), got HTTP {status}", evidence)]
    if not isinstance(body, Mapping):
        if is_client_error(status):
            return [Violation("ENVELOPE-ERROR", f"{context}: expected the failure envelope "
                              f"{{success: false, error}}, got HTTP {status} with a "
                              f"{type_name(body)} body", evidence)]
        return [Violation(clause_id, f"{context}: expected a failure, got HTTP {status} with a "
                          f"{type_name(body)} body and no failure envelope", evidence)]
    success = body.get("success")
    if success is True:
        return [Violation(clause_id, f"{context}: expected a failure, got success: true "
                          f"(HTTP {status})", evidence)]
    if success is not False and not is_client_error(status):
        # A 2xx (or 3xx) without success: false does not signal failure at all.
        return [Violation(clause_id, f"{context}: expected success: false, got success="
                          f"{clip(success)} with HTTP {status}", evidence)]
    return _envelope_text_violations(body, status, context)


def check_not_a_key_refusal(status: int, clause_id: str, context: str) -> list[Violation]:
    """Bad input on a request whose key is valid, for a project it may read: a 401 or 403 would
    tell the client its key is refused, which it is not (any other 4xx, or 200 with success:
    false, names the input)."""
    if status not in (401, 403):
        return []
    return [Violation(clause_id, f"{context}: HTTP {status} refuses the key, but the key is valid and the "
                                 "input is what is wrong (a 4xx such as 400, or 200 with success: false)",
                      {"status": status, "context": context})]


def _envelope_text_violations(
    body: Mapping[str, object], status: int, context: str
) -> list[Violation]:
    """The failure is signalled; now the envelope itself must be complete."""
    out: list[Violation] = []
    evidence = {"status": status, "context": context}
    if body.get("success") is not False:
        out.append(Violation("ENVELOPE-ERROR", f"{context}: a failure must carry success: false, "
                             f"got success={clip(body.get('success'))} (HTTP {status})", evidence))
    if not has_error_text(body):
        out.append(Violation("ENVELOPE-ERROR", f"{context}: a failure must carry a non-empty "
                             f"error text, got error={clip(body.get('error'))} (HTTP {status})",
                             evidence))
    return out


def check_success_envelope(body: object) -> list[Violation]:
    """A 2xx reply to a valid request: success: true and no error text."""
    if not isinstance(body, Mapping):
        return [Violation("ENVELOPE-ERROR", f"expected an object with success: true, got a "
                          f"{type_name(body)} body")]
    out: list[Violation] = []
    if body.get("success") is not True:
        out.append(Violation("ENVELOPE-ERROR", f"expected success: true for a valid request, got "
                             f"success={clip(body.get('success'))}",
                             {"error": clip(body.get("error"))}))
    elif _carries_error(body.get("error")):
        out.append(Violation("ENVELOPE-ERROR", f"success: true must not carry an error text, got "
                             f"error={clip(body.get('error'))}"))
    return out


def _carries_error(error: object) -> bool:
    """null, an absent key and blank text carry no error; anything else does."""
    return error is not None and not (isinstance(error, str) and not error.strip())


def check_auth_rejected(body: object, status: int) -> list[Violation]:
    """A missing or wrong API key: rejected, and the body leaks no data."""
    out: list[Violation] = []
    rejected = is_client_error(status) or (
        status < 500 and isinstance(body, Mapping) and body.get("success") is False
    )
    if not rejected:
        success = body.get("success") if isinstance(body, Mapping) else None
        out.append(Violation("AUTH-REJECT", f"expected the request to be rejected (4xx or "
                             f"success: false), got HTTP {status} with success={clip(success)}",
                             {"status": status}))
    data_keys = _data_keys(body)
    if data_keys:
        out.append(Violation("AUTH-REJECT", f"a rejected request must carry no data, got keys "
                             f"{data_keys}", {"status": status, "keys": data_keys}))
    return out


def _data_keys(body: object) -> list[str]:
    """The contract's data fields in a body; a non-empty array body counts as data too."""
    if isinstance(body, Mapping):
        return sorted(str(k) for k in body if k in DATA_FIELDS)
    if isinstance(body, list) and body:
        return [f"<array of {len(body)}>"]
    return []


def check_key_not_echoed(key_echoed: bool, where: str) -> list[Violation]:
    """SECRET-ECHO: the HTTP layer saw the sent key in a reply (it masks it before anyone sees it)."""
    if not key_echoed:
        return []
    return [Violation("SECRET-ECHO", f"{where}: the reply carried the API key it was sent with "
                      "(masked in every report)", {"where": where})]
