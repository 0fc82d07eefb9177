"""Legal variants: behaviours a server that KEEPS the contract may have; the gate must pass them.

Each one is a choice the documents leave open (an order, a bound's reading, extra fields, ...).
The catalogue (LEGAL_VARIANTS) is data; the behaviour lives in the small VariantSet hook
methods below, like the faults' FaultSet. Variants act first, faults after them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from eicontract.server.switches import Switches, validate_names

if TYPE_CHECKING:  # type-only, as in faults.py: config -> variants stays free of the store
    from eicontract.server.store import PagePlan

JSON = dict[str, Any]

SLOW_JOB_FACTOR = 5


@dataclass(frozen=True, slots=True)
class LegalVariant:
    name: str
    description: str


_CATALOGUE = (
    LegalVariant("order-desc", "a different but stable order: id descending"),
    LegalVariant("always-job", "every classify of an uncached (sample, block, variant, truncate) "
                               "answers a job first, whatever the sample's size"),
    LegalVariant("inclusive-bounds", "minLength/maxLength, minFrequency/maxFrequency and "
                                     "minDate/maxDate are inclusive (>= / <=)"),
    LegalVariant("extra-fields", "every reply object (top level, samples, classifications, "
                                 "jobs) carries unknown extra fields"),
    LegalVariant("no-total-count", "pages carry no totalCount"),
    LegalVariant("slow-jobs", f"jobs take {SLOW_JOB_FACTOR}x job_seconds"),
)

LEGAL_VARIANTS: dict[str, LegalVariant] = {v.name: v for v in _CATALOGUE}


def validate_variant_names(names: Iterable[str]) -> frozenset[str]:
    return validate_names(names, LEGAL_VARIANTS, "variant")


class VariantSet(Switches):
    """The active legal variants and one hook method per place in the app where one acts."""

    CATALOGUE, KIND = LEGAL_VARIANTS, "variant"

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__(names)
        self._replies = itertools.count(1)

    def page_plan(self, plan: PagePlan) -> PagePlan:
        return replace(plan, descending=plan.descending or "order-desc" in self,
                       inclusive_bounds=plan.inclusive_bounds or "inclusive-bounds" in self)

    def always_job(self) -> bool:
        return "always-job" in self

    def job_seconds(self, seconds: float) -> float:
        return seconds * SLOW_JOB_FACTOR if "slow-jobs" in self else seconds

    def has_total_count(self) -> bool:
        return "no-total-count" not in self

    def extra_fields(self, doc: JSON, kind: str, top_level: bool = False) -> JSON:
        """Unknown fields on a reply object, in place; the top level also gets a reply counter
        (so the gate is shown never to compare unknown fields between replies)."""
        if "extra-fields" in self:
            debug: JSON = {"object": kind, "server": "eicontract-reference"}
            if top_level:
                debug["reply"] = next(self._replies)
            doc["x-debug"] = debug
            doc["newField"] = 1
        return doc
