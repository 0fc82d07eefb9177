"""SCHEMA-RESPONSE: a reply body against the JSON Schema documented for it."""

from __future__ import annotations

from eicontract.contract import Strictness, validate
from eicontract.violations import Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "decision.negative-unknown-params",
)

MAX_ERRORS = 5  # the first few errors say enough; the rest are usually the same one repeated


def check_schema(body: object, schema: str, strictness: str = "lenient", *, where: str = "") -> list[Violation]:
    """Violations of schema file `schema` (e.g. 'page-response') by `body`."""
    errors = validate(body, schema, Strictness(strictness))
    return [
        Violation("SCHEMA-RESPONSE", f"{where + ': ' if where else ''}{schema} ({strictness}) at {error}",
                  {"path": error.path, "schema_path": error.schema_path})
        for error in errors[:MAX_ERRORS]
    ]
