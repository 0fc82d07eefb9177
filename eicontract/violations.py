"""What an oracle returns: violations of named clauses, and observations.

Oracles are pure functions (data in, violations out). A violation says which clause
broke and shows the evidence; an observation records a legal choice the server made
where the documents allow several readings (it never fails the gate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eicontract.clauses import clause


@dataclass(frozen=True, slots=True)
class Violation:
    clause: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clause(self.clause)  # fail fast on a misspelt clause id

    def __str__(self) -> str:
        return f"[{self.clause}] {self.message}"


@dataclass(frozen=True, slots=True)
class Observation:
    """A reading the server follows where the documents are ambiguous."""

    topic: str  # e.g. "filter:minLength"
    reading: str  # e.g. "strict (>)"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.topic}: {self.reading}" + (f" ({self.detail})" if self.detail else "")


class ContractViolation(AssertionError):
    """Raised by pytest glue when an oracle found violations; carries them for the reports."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__("\n".join(str(v) for v in violations))


def expect_no_violations(violations: list[Violation]) -> None:
    """The one way glue code fails a test: with the violations, for the reports."""
    if violations:
        raise ContractViolation(violations)
