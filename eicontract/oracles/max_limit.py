"""A page the server refuses by its size (docs/CLAIMS.md, decision.large-limit-offset).

"Maximum number of results" names no maximum, nor a least one, and says nothing of how a server
caps its pages: a server may refuse any limit above a maximum of its own (one maximum), or any
page reaching past a window of its own, offset + limit above N (a search engine's result window),
with the failure envelope. Every reading agrees on this much: a page is not refused while a page
at least as large (limit) reaching at least as far (offset + limit) was answered; that fits
neither a maximum nor a window. Which reading the server takes is observed (page:maximum-limit),
never judged. A page is an (offset, limit) pair.
"""

from __future__ import annotations

from collections.abc import Iterable

from eicontract.oracles._common import Findings
from eicontract.oracles.envelope import check_failure
from eicontract.oracles.paging import PageRead, page_results
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = ("decision.large-limit-offset",)

LIMIT_TOPIC = "page:maximum-limit"
MAXIMUM = "refuses a limit above its maximum"
WINDOW = "refuses a page reaching past a window (offset+limit above N)"
EITHER = f"{MAXIMUM} | {WINDOW}"  # a refusal both readings explain: it decides nothing

Page = tuple[int, int]  # (offset, limit)


def limit_refusal(read: PageRead, status: int) -> Findings | None:
    """None when the page is to be judged as a page (it has a result array); else the refusal
    judged as a failure envelope (whether the answers explain it: check_limit_consistent). One
    refusal alone tells no reading from the other: it is observed as either."""
    if page_results(read.body) is not None:
        return None
    failures = check_failure(read.body, status, clause_id="PAGE-LIMIT",
                             context=f"page limit={read.limit} offset={read.offset} refused")
    if failures:
        return Findings(failures, [])
    return Findings([], [Observation(LIMIT_TOPIC, EITHER, f"limit={read.limit} offset={read.offset} "
                                                          f"refused with the failure envelope")])


def _dominating(refused: Page, answered: Iterable[Page]) -> Page | None:
    """An answered page at least as large and reaching at least as far as `refused`, if any
    (the largest such: the plainest evidence)."""
    offset, limit = refused
    found = [(o, n) for o, n in answered if n >= limit and o + n >= offset + limit]
    return max(found, key=lambda page: (page[1], page[0] + page[1]), default=None)


def check_limit_consistent(answered: Iterable[Page], refused: Iterable[Page]) -> list[Violation]:
    """PAGE-LIMIT: no refused page is dominated by an answered one (limit >= and offset+limit >=):
    neither one maximum limit nor a window offset+limit <= N explains both. The evidence names
    both pages, each as the request sent."""
    answered = list(answered)
    violations = []
    for offset, limit in sorted(set(refused)):
        other = _dominating((offset, limit), answered)
        if other is None:
            continue
        violations.append(Violation(
            "PAGE-LIMIT", f"the page limit={limit} offset={offset} was refused, but limit={other[1]} "
                          f"offset={other[0]} (as large, reaching as far) was answered: neither a maximum "
                          f"limit nor a window offset+limit <= N explains both",
            {"refused": {"limit": limit, "offset": offset},
             "answered": {"limit": other[1], "offset": other[0]}}))
    return violations


def refusal_reading(answered: Iterable[Page], refused: Page) -> str | None:
    """The readings that explain a refused page beside the answered ones: a maximum (its limit
    above every answered limit), a window (its end above every answered end), either (both), or
    None (neither: check_limit_consistent's violation)."""
    answered = list(answered)
    offset, limit = refused
    maximum = all(n < limit for _, n in answered)
    window = all(o + n < offset + limit for o, n in answered)
    if maximum and window:
        return EITHER
    return MAXIMUM if maximum else WINDOW if window else None


def limit_readings(answered: Iterable[Page], refused: Iterable[Page]) -> list[Observation]:
    """One observation per refused page a reading explains (page:maximum-limit): which reading."""
    answered = list(answered)
    observations = []
    for offset, limit in sorted(set(refused)):
        reading = refusal_reading(answered, (offset, limit))
        if reading is not None:
            observations.append(Observation(LIMIT_TOPIC, reading, f"limit={limit} offset={offset} refused; "
                                            f"answered: {_shown(answered)}"))
    return observations


def _shown(answered: list[Page], most: int = 4) -> str:
    """The answered pages that bound the readings: the largest limit, the farthest reach."""
    if not answered:
        return "none"
    picks = dict.fromkeys([max(answered, key=lambda p: (p[1], p[0])), max(answered, key=lambda p: sum(p))])
    return ", ".join(f"limit={n} offset={o}" for o, n in list(picks)[:most])


def judge_refusal(read: PageRead, status: int, answered: Iterable[Page]) -> Findings | None:
    """None unless the page was refused with the failure envelope (a page, or a bad answer: the
    caller's own oracle judges it); else whether a maximum or a window explains the refusal
    beside the `answered` pages (check_limit_consistent), and the reading it leaves."""
    found = limit_refusal(read, status)
    if found is None or found.violations:
        return None
    answered, page = list(answered), (read.offset, read.limit)
    return Findings(check_limit_consistent(answered, [page]), limit_readings(answered, [page]))
