"""What the target was seen to answer as a listing page size, remembered for the run.

The documents say only "Maximum number of results" of `limit`: they name no maximum, so a server
may refuse a limit above one of its own with the failure envelope, whatever that maximum is.
A client learns it the way any client would: a refused page is asked again smaller
(drive/pagesize.py). The run's client carries this memory so that every later read (sweeps,
regions, windows) asks for pages the target answers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class PageLimit:
    """The largest limit answered with a page, and the smallest refused with the failure
    envelope while a smaller one was answered for the same query (0 / None: none yet)."""

    answered: int = 0
    refused: int | None = None

    def fit(self, limit: int) -> int:
        """The page size to ask for instead of `limit`: `limit` itself below every refusal; else
        the largest answered below the refusal, or half the refusal while none is known."""
        if self.refused is None or limit < self.refused:
            return limit
        if 0 < self.answered < self.refused:
            return self.answered
        return max(1, self.refused // 2)

    def saw_answered(self, limit: int) -> None:
        self.answered = max(self.answered, limit)

    def saw_refused(self, limit: int) -> None:
        self.refused = limit if self.refused is None else min(self.refused, limit)
