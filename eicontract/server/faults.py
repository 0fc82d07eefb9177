"""Deliberate faults: each one breaks exactly one clause of the harness.

The catalogue (FAULTS) is data; the behaviour lives in the small FaultSet hook methods below,
each called from exactly one place in the app. Adding a fault = one catalogue line plus a
line or two in the hook where it acts. Clause ids are plain strings here: the server imports
nothing from the harness (tests/server checks them against eicontract.clauses).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type-only: keeps config -> faults free of the store at import time
    from eicontract.server.store import PagePlan

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    clause: str
    description: str


_CATALOGUE = (
    Fault("schema-drop-required", "SCHEMA-RESPONSE", "classify results lack `windowSizeMs`"),
    Fault("negative-500", "SCHEMA-NEGATIVE",
          "malformed `metadata` (not JSON, or JSON of the wrong shape) answers 500"),
    Fault("error-empty", "ENVELOPE-ERROR", "failure bodies carry `error: \"\"`"),
    Fault("auth-ignored", "AUTH-REJECT", "the API key is not checked"),
    Fault("key-echoed", "SECRET-ECHO", "failure bodies quote the API key the request was sent with"),
    Fault("job-and-result", "JOB-EXCLUSIVE", "result replies also carry the job `id`"),
    Fault("result-wrong-sample", "JOB-SUBJECT",
          "the result's sample is another sample (the next id in the list)"),
    Fault("status-wrong-id", "JOB-STATUS-ID", "job status answers job.id + 1"),
    Fault("status-time-backwards", "JOB-MONOTONE",
          "once finished, `started` is later than `finished`"),
    Fault("job-never-finishes", "JOB-COMPLETES",
          "jobs stay started forever; classify keeps returning the job"),
    Fault("results-nondeterministic", "JOB-DETERMINISTIC",
          "classifier probabilities vary between identical classify calls (still summing to 1)"),
    Fault("unknown-job-success", "JOB-UNKNOWN",
          "an unknown job id answers success with a made-up job"),
    Fault("window-off-by-one", "WINDOW-COUNT",
          "result (and resultCount) has one window too many; expectedLabels stays right"),
    Fault("labels-short", "WINDOW-LABELS", "expectedLabels has one entry fewer than windows"),
    Fault("probs-unnormalised", "WINDOW-PROBS", "classifier probabilities sum to about 1.2"),
    Fault("anomaly-missing", "WINDOW-ANOMALY", "anomaly block results omit the anomaly score"),
    Fault("limit-plus-one", "PAGE-LIMIT", "pages hold limit+1 results"),
    Fault("page-duplicate", "PAGE-DISJOINT",
          "each page with offset>0 starts with the previous page's last item, dropping its own"),
    Fault("page-skip", "PAGE-COMPLETE", "offset>0 is applied as offset+1"),
    Fault("order-unstable", "PAGE-STABLE", "the order alternates id asc / id desc per request"),
    Fault("past-end-last-page", "PAGE-PAST-END", "an offset past the end returns the last page"),
    Fault("total-wrong", "PAGE-TOTAL", "totalCount is the unfiltered count + 1"),
    Fault("foreign-predictions", "PAGE-PREDICTIONS",
          "predictions include one window of a sample not on the page"),
    Fault("negative-limit-accepted", "PAGE-PARAMS",
          "a negative limit/offset is treated as 0 instead of rejected"),
    Fault("maxid-inclusive", "FILTER-SOUND", "maxId is applied as id <= v"),
    Fault("minlabel-strict", "FILTER-COMPLETE", "minLabel is applied as label > v"),
    Fault("filters-ored", "FILTER-COMPOSE",
          "two or more different filters are ORed instead of ANDed"),
    Fault("filter-after-paging", "FILTER-PAGING",
          "LIMIT/OFFSET are applied first, then the filters on that slice"),
    Fault("malformed-metadata-ignored", "FILTER-MALFORMED",
          "invalid metadata JSON is ignored (an unfiltered list)"),
    Fault("truncate-wrong", "LABELS-TRUNCATE",
          "truncateStructuredLabels=true returns the labels reversed plus a made-up one"),
    Fault("variant-int8-rejected", "VARIANT", "variant=int8 answers 400"),
)

FAULTS: dict[str, Fault] = {f.name: f for f in _CATALOGUE}

MADE_UP_LABEL = "made-up-label"


def validate_fault_names(names: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(unknown)}; "
                         f"valid faults: {', '.join(sorted(FAULTS))}")
    return chosen


class MetadataParserCrash(RuntimeError):
    """Raised on purpose (fault negative-500) so the catch-all answers 500."""


class FaultSet:
    """The active faults and one hook method per place in the app where a fault acts."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = validate_fault_names(names)
        self._page_requests = itertools.count()
        self._noise = random.Random()  # unseeded on purpose: results-nondeterministic

    def __contains__(self, name: object) -> bool:
        if name not in FAULTS:  # a typo in a hook would silently disable a fault
            raise KeyError(f"unknown fault {name!r}")
        return name in self.names

    # -- requests and the envelope ------------------------------------------------------

    def checks_auth(self) -> bool:
        return "auth-ignored" not in self

    def error_text(self, text: str, presented_key: str = "") -> str:
        if "key-echoed" in self and presented_key:
            text = f"{text} (request key {presented_key})"
        return "" if "error-empty" in self else text

    def rejects_variant(self, variant: str) -> bool:
        return variant == "int8" and "variant-int8-rejected" in self

    def negative_paging_value(self) -> int | None:
        """What a negative limit/offset becomes; None = reject it (the contract)."""
        return 0 if "negative-limit-accepted" in self else None

    def on_malformed_metadata(self, message: str) -> None:
        """Called for any malformed metadata (not JSON, or JSON of the wrong shape)."""
        if "negative-500" in self:
            raise MetadataParserCrash(message)

    def ignores_unparsable_metadata(self) -> bool:
        """For metadata that is not JSON at all: False = 400 (the contract), True = ignore it."""
        return "malformed-metadata-ignored" in self

    # -- the page ---------------------------------------------------------------------

    def page_plan(self, plan: PagePlan) -> PagePlan:
        changes: dict[str, Any] = {}
        if "maxid-inclusive" in self:
            changes["max_id_op"] = "<="
        if "minlabel-strict" in self:
            changes["min_label_op"] = ">"
        if "filters-ored" in self:
            changes["combinator"] = "or"
        if "filter-after-paging" in self:
            changes["filter_after_paging"] = True
        if "order-unstable" in self:
            changes["descending"] = next(self._page_requests) % 2 == 1
        if "limit-plus-one" in self:
            changes["limit"] = plan.limit + 1
        if "page-skip" in self and plan.offset > 0:
            changes["offset"] = plan.offset + 1
        if "page-duplicate" in self and plan.offset > 0:
            changes["offset"] = plan.offset - 1
        return replace(plan, **changes)

    def past_end_plan(self, plan: PagePlan, total: int) -> PagePlan:
        if "past-end-last-page" in self and plan.offset >= total > 0 and plan.limit > 0:
            return replace(plan, offset=(total - 1) // plan.limit * plan.limit)
        return plan

    def total_count(self, filtered: int, unfiltered: Callable[[], int]) -> int:
        return unfiltered() + 1 if "total-wrong" in self else filtered

    def foreign_prediction_sample(self, page_ids: Sequence[int],
                                  all_ids: Sequence[int]) -> int | None:
        if "foreign-predictions" not in self:
            return None
        on_page = set(page_ids)
        return next((i for i in all_ids if i not in on_page), None)

    # -- classify results (both endpoints unless noted) ----------------------------------

    def result_subject(self, sample_id: int, ids: Sequence[int]) -> int:
        """Which sample a classify result describes (classify endpoint)."""
        if "result-wrong-sample" not in self:
            return sample_id
        return ids[(ids.index(sample_id) + 1) % len(ids)]

    def classification(self, doc: JSON, stable: bool = False) -> JSON:
        """One classification object, faulted; copy-on-write (the input may be shared).

        stable=True (the page) leaves out results-nondeterministic: the page must stay
        stable, or PAGE-STABLE would break too and the fault would not be single-clause.
        """
        doc = dict(doc)
        if "window-off-by-one" in self:
            doc["result"] = [*doc["result"], dict(doc["result"][-1])]
            if "anomalyResult" in doc:
                doc["anomalyResult"] = [*doc["anomalyResult"], dict(doc["anomalyResult"][-1])]
            doc["resultCount"] += 1
        if "labels-short" in self:
            doc["expectedLabels"] = doc["expectedLabels"][:-1]
        is_classifier = doc["learnBlock"]["type"] == "keras"
        if "probs-unnormalised" in self and is_classifier:
            doc["result"] = [{k: round(v * 1.2, 6) for k, v in r.items()} for r in doc["result"]]
        if "anomaly-missing" in self and not is_classifier:
            doc["result"] = [{k: v for k, v in r.items() if k != "anomaly"}
                             for r in doc["result"]]
            doc.pop("anomalyResult", None)
        if "results-nondeterministic" in self and is_classifier and not stable:
            doc["result"] = [self._shaken(r) for r in doc["result"]]
        return doc

    def _shaken(self, probabilities: dict[str, float]) -> dict[str, float]:
        weights = {k: v + self._noise.uniform(0.01, 0.2) for k, v in probabilities.items()}
        total = sum(weights.values())
        labels = list(weights)
        head = {k: round(weights[k] / total, 6) for k in labels[:-1]}
        return {**head, labels[-1]: round(1 - sum(head.values()), 6)}

    def truncated_labels(self, sample_doc: JSON, full: list[JSON]) -> None:
        """Called for truncateStructuredLabels=true on multi-label samples."""
        if "truncate-wrong" in self:
            wrong = [*reversed(full), {"startIndex": 0, "endIndex": 0, "label": MADE_UP_LABEL}]
            sample_doc["structuredLabels"] = wrong
            sample_doc["structuredLabelsList"] = [s["label"] for s in wrong]

    def classify_reply(self, body: JSON, job_id: Callable[[], int]) -> None:
        if "schema-drop-required" in self:
            body.pop("windowSizeMs", None)
        if "job-and-result" in self:
            body["id"] = job_id()

    # -- jobs -------------------------------------------------------------------------

    def jobs_finish(self) -> bool:
        return "job-never-finishes" not in self

    def job_status(self, doc: JSON, finished: datetime | None, iso: Callable[[datetime], str]
                   ) -> None:
        if "status-wrong-id" in self:
            doc["id"] += 1
        if "status-time-backwards" in self and finished is not None:
            doc["started"] = iso(finished + timedelta(seconds=1))

    def unknown_job(self, job_id: int, now: str) -> JSON | None:
        if "unknown-job-success" not in self:
            return None
        return {"id": job_id, "key": "made-up-job", "category": "Classify sample",
                "categoryKey": "classify", "created": now, "started": now, "finished": now,
                "finishedSuccessful": True, "jobNotificationUids": []}
