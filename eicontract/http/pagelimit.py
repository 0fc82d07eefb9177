"""What the target was seen to answer as a listing page, remembered for the run.

The documents say only "Maximum number of results" of `limit`: they name no maximum and say
nothing of how a server caps its pages, so a server may refuse, with the failure envelope, a
limit above a maximum of its own, or a page reaching past a window of its own (offset + limit
above N, as a search engine's result window). A client learns it the way any client would: a
refused page is asked again smaller (drive/pagesize.py). The run's client carries this memory so
that every later read (sweeps, regions, windows) asks for pages the target answers, and the
oracles (oracles/max_limit.py) judge refusals against the pages it answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Page = tuple[int, int]  # (offset, limit)
MAX_REFUSALS = 64  # the refused pages remembered as evidence (a run learns a handful)


@dataclass(slots=True)
class PageLimit:
    """The largest limit answered with a page, and the smallest refused with the failure
    envelope while a smaller one was answered for the same query (0 / None: none yet); `window`:
    the smallest offset+limit refused although a limit as large was answered elsewhere (only a
    window explains it); `pages`: the answered pages no other answered page dominates (as large,
    reaching as far); `refusals`: the refused pages a smaller one then answered."""

    answered: int = 0
    refused: int | None = None
    window: int | None = None
    pages: list[Page] = field(default_factory=list)
    refusals: list[Page] = field(default_factory=list)

    @property
    def reach(self) -> int:
        """The farthest offset+limit answered with a page."""
        return max((o + n for o, n in self.pages), default=0)

    def fit(self, limit: int, offset: int | None = None) -> int:
        """The page size to ask for instead of `limit`: `limit` itself below every refusal; else
        the largest answered below the refusal, or half the refusal while none is known. With an
        `offset`, also short of a learned window: up to the farthest end answered."""
        if self.refused is not None and limit >= self.refused:
            limit = self.answered if 0 < self.answered < self.refused else max(1, self.refused // 2)
        if offset is not None and self.window is not None and offset + limit >= self.window \
                and self.reach > offset:
            limit = min(limit, self.reach - offset)
        return limit

    def answers(self, offset: int, limit: int) -> bool:
        """A page as large, reaching as far, was answered: a refusal of this one is not about
        its size (a refused filter, say)."""
        return any(n >= limit and o + n >= offset + limit for o, n in self.pages)

    def saw_answered(self, limit: int, offset: int = 0) -> None:
        self.answered = max(self.answered, limit)
        if not self.answers(offset, limit):
            self.pages = [(o, n) for o, n in self.pages if not (limit >= n and offset + limit >= o + n)]
            self.pages.append((offset, limit))

    def saw_refused(self, limit: int, offset: int = 0) -> None:
        """A page refused while a smaller one at its offset was answered: a limit above the
        maximum, unless a limit as large was answered elsewhere (then only a window explains it)."""
        if len(self.refusals) < MAX_REFUSALS and (offset, limit) not in self.refusals:
            self.refusals.append((offset, limit))
        if limit <= self.answered:
            self.window = offset + limit if self.window is None else min(self.window, offset + limit)
        else:
            self.refused = limit if self.refused is None else min(self.refused, limit)
