"""Deliberate faults: each one breaks exactly one clause of the harness.

The catalogue (FAULTS) is data; the behaviour lives in the small FaultSet hook methods below,
each called from one seam hook (attached.Switched; SQL readings: store_seams.py), never from
the clean server. Adding a fault = one catalogue line, a line or two in the hook where it
acts, and its seams in attached.SEAM_OF. Clause ids are plain strings here: the server imports
nothing from the harness (tests/server checks them against eicontract.clauses).
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from eicontract.server.switches import Switches, validate_names

if TYPE_CHECKING:  # type-only: keeps config -> faults free of the store at import time
    from eicontract.server.dataset import Dataset, Impulse, SampleRecord
    from eicontract.server.jobs import CacheKey, Job, JobRegistry
    from eicontract.server.store import MetadataFilter, PageFilters, PagePlan

JSON = dict[str, Any]

NEW_CHART_TYPE = "hologram"  # enum-new-value: a chartType the documents do not list
UNCUT_FROM = 4  # truncate-ignored: samples with this many labels or more are left whole
COARSE_VALUE = 0.6  # probs-coarse-window: alone, a window a legal 0.3 grid could write
MIDSIZE = (40, 60)  # limit-refused-midsize: the limits refused (the gate's own pages are 100)


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
    Fault("success-with-error", "ENVELOPE-ERROR",
          "successful replies carry an `error` text next to `success: true`"),
    Fault("wrong-type", "SCHEMA-RESPONSE", "page results' `sample.id` is a string (\"123\")"),
    Fault("enum-new-value", "SCHEMA-RESPONSE",
          f"samples' `chartType` is a new value {NEW_CHART_TYPE!r} (classify and page)"),
    Fault("finished-too-early", "JOB-COMPLETES",
          "job status says finished at once; classify answers the job until the real task ends"),
    Fault("rejob-forever", "JOB-COMPLETES",
          "after a job finishes, every re-call starts a new job, never the result"),
    Fault("jobs-always-fail", "JOB-COMPLETES",
          "every job finishes unsuccessfully (each re-call starts another that fails too): no "
          "sample that needs a job is ever classified"),
    Fault("limit-ignored", "PAGE-LIMIT", "limit is ignored: pages hold the default page size"),
    Fault("minid-ignored", "FILTER-SOUND", "minId is ignored (other filters still apply)"),
    Fault("maxid-ignored", "FILTER-SOUND", "maxId is ignored (other filters still apply)"),
    Fault("minlabel-ignored", "FILTER-SOUND", "minLabel is ignored (other filters still apply)"),
    Fault("maxlabel-ignored", "FILTER-SOUND", "maxLabel is ignored (other filters still apply)"),
    Fault("signature-ignored", "FILTER-SOUND",
          "signatureValidity is ignored (other filters still apply)"),
    Fault("datatype-ignored", "FILTER-SOUND", "dataType is ignored (other filters still apply)"),
    Fault("metadata-anded", "FILTER-COMPLETE",
          "metadata items are ANDed when no filters_combinator is given"),
    Fault("no-metadata-ignored", "FILTER-COMPLETE",
          "samples without metadata drop out of every filtered listing (an inner join on the "
          "metadata table), so `{\"no_metadata\": true}` matches nothing"),
    Fault("neq-as-eq", "FILTER-SOUND", "metadata `op: \"neq\"` items are applied as `eq`"),
    Fault("labels-first-only", "FILTER-COMPLETE", "the labels filter uses only its first label"),
    Fault("date-bounds-swapped", "FILTER-SOUND",
          "maxDate is applied as a lower bound (`added > maxDate`); minDate stays right"),
    # issue 10's symptoms, caught since their oracles exist
    Fault("window-past-end", "PAGE-PREDICTIONS",
          "page predictions: the last window of a sample longer than the window starts one "
          "increase late, so it ends past the sample (endMs stays clipped)"),
    Fault("classify-unknown-sample", "CLASSIFY-UNKNOWN",
          "classify of an unknown sample id answers success with a made-up result"),
    Fault("limit-zero-all", "PAGE-LIMIT", "limit=0 is answered with the whole listing"),
    # an offset the request does not send is the listing's start (page.param.offset,
    # decision.default-limit): boundaries.check_default_page
    Fault("default-offset-one", "PAGE-COMPLETE",
          "a page without an offset starts at the listing's second sample (the default offset is 1)"),
    # neither a maximum limit nor a window offset+limit <= N refuses a page while a larger one,
    # reaching farther, is answered (decision.large-limit-offset)
    Fault("limit-refused-midsize", "PAGE-LIMIT",
          f"a page whose limit is {MIDSIZE[0]} to {MIDSIZE[1]} is refused with the failure envelope "
          f"(400), though larger pages are answered"),
    # No effect at all cannot be told from a slice longer than every sample (issue 18): the
    # fault is a slice applied to some samples only, which no slice size explains.
    Fault("truncate-ignored", "LABELS-TRUNCATE-EFFECT",
          f"truncateStructuredLabels has no effect on samples of {UNCUT_FROM} labels or more "
          f"(shorter ones are still cut to 2)"),
    Fault("filtered-total-unfiltered", "PAGE-TOTAL",
          "totalCount counts the whole (unfiltered) category, also on filtered listings"),
    Fault("filter-pair-ignored", "FILTER-COMPOSE",
          "minLength is ignored when labels is given too (each alone is right)"),
    # mutation testing's gaps (docs/mutation-triage.yaml), caught since the gate draws them
    Fault("metadata-keyonly-inverted", "FILTER-SOUND",
          "a metadata item without values is inverted: `eq` keeps the samples that lack the key, "
          "`neq` those that have it"),
    Fault("metadata-wrong-type-accepted", "FILTER-MALFORMED",
          "metadata `values` of the wrong type are read instead of rejected: a string as a "
          "one-value list, a number as its text"),
    # mutation testing's gaps in dates and windows (docs/mutation-triage.yaml)
    Fault("leap-second-500", "SCHEMA-NEGATIVE",
          "a date filter with a leap second (e.g. minDate=2016-12-31T23:59:60Z) answers 500"),
    Fault("leap-second-as-zero", "FILTER-SOUND",
          "a date filter's leap second (hh:mm:60) is read as hh:mm:00, a minute early, not as "
          "hh:mm:59 plus one second"),
    Fault("expected-label-segment-start", "WINDOW-LABELS",
          "classify's expectedLabels: a window whose middle value is a structured label's first "
          "value gets a label the window does not overlap (the sample's own when it is one)"),
    # the page's own copy of the classifications (labels.check_page_expected_labels)
    Fault("page-label-segment-start", "WINDOW-LABELS",
          "the page's expectedLabels (not classify's): a window whose middle value is a structured "
          "label's first value gets a label the window does not overlap"),
    # issue 18: relations between answers, each broken alone
    Fault("default-variant-int8", "OPTION-DEFAULT",
          "a request without `variant` uses the int8 model, not the documented float32"),
    Fault("sample-foreign-project", "SUBJECT-OWNER",
          "sample objects name another project (projectId + 1) than the one asked"),
    Fault("job-status-no-uids", "SCHEMA-RESPONSE",
          "job status objects leave out the required `jobNotificationUids` (an empty list)"),
    Fault("page-stale-windows", "CLASSIFY-PAGE",
          "the page's classifications lack the last window of a sample with several (as if an "
          "older job with another window increase made them); classify is right"),
    Fault("variant-drops-window", "OPTION-SCOPE",
          "classify with variant int8 or akida loses the last window of a sample with several "
          "(result, expectedLabels, resultCount alike)"),
    Fault("truncate-drops-window", "OPTION-SCOPE",
          "classify with truncateStructuredLabels=true loses the last window of a multi-label "
          "sample with several (result, expectedLabels, resultCount alike)"),
    Fault("running-job-500", "CONCURRENT",
          "a classify of a request whose job is still running answers 500 (the job lock raises)"),
    Fault("labels-prefix", "FILTER-SOUND",
          "the labels filter matches every label that starts with a given one (an autocomplete "
          "query reused: `label LIKE 'x%'`)"),
    Fault("window-count-rounded", "CLASSIFY-PAGE",
          "classify counts windows as round((L - W) / I) + 1, not floor: a sample whose length is "
          "past a multiple of the increase by half an increase or more gets one window more over "
          "its tail (result, expectedLabels and resultCount alike); the page does not. Each alone "
          "is a legal reading (tail-window): only the two together disagree"),
    Fault("job-status-any-project", "CLASSIFY-UNKNOWN",
          "job status does not check the project: a job is answered under any project id"),
    Fault("metadata-first-value-only", "FILTER-COMPLETE",
          "a metadata `eq` item with several values matches only its first value"),
    # issue 19: a 5xx on one combination only the 5xx hunt sends
    Fault("variant-end-500", "NO-5XX",
          "classify of the highest sample id with variant akida and truncateStructuredLabels=true "
          "answers 500 (its result, once computed: a job first when the sample is long)"),
    # checks that had no reference fault (their proof was a mock server or the twin)
    Fault("auth-near-miss", "AUTH-REJECT",
          "only the key's first n-1 characters are compared (a prefix check): a key with its last "
          "character changed or dropped is let in; a missing or another key is still refused"),
    Fault("failed-job-successful", "JOB-COMPLETES",
          "a job that failed (every job of a sample whose processing failed) reports "
          "`finishedSuccessful: true`; classify still has no result and starts another job"),
    # the shape a rounding step granted window by window lets through (WINDOW-PROBS)
    Fault("probs-coarse-window", "WINDOW-PROBS",
          f"a classifier's last window (of two or more) says {COARSE_VALUE} for its two most "
          f"likely classes and 0 for the rest: a sum of {2 * COARSE_VALUE:g}, on a grid of "
          f"{COARSE_VALUE / 2:g} the other windows do not share"),
)

FAULTS: dict[str, Fault] = {f.name: f for f in _CATALOGUE}

# Issue 10's symptoms, whose oracles are still being written: a server can be started with them
# (`--fault`, `--server-fault`), but they are not in FAULTS, the catalogue that the kill matrix,
# `eicontract faults` and the self-tests iterate. To enable one: move its line to _CATALOGUE.
PENDING_FAULTS: tuple[Fault, ...] = ()
# Faults that live deep (issue 11): they act only past offset DEEP_OFFSET, or only on ids in the
# top tenth of the id range, so a gate that reads only the first pages or the first ids misses
# them. Accepted by `--fault`; kept out of FAULTS because they need a big project to act: the
# kill matrix (eicontract.mutants.catalogue) runs each on 8,000 samples.
DEEP_FAULTS = (
    Fault("deep-skip", "PAGE-COMPLETE",
          "pages whose offset is past 5,000 skip one result (offset applied as offset+1)"),
    Fault("deep-filter-ignored", "FILTER-SOUND",
          "the labels filter is ignored for samples whose id is in the top tenth of the id range"),
    Fault("deep-total-wrong", "PAGE-TOTAL", "totalCount is one too many when offset is past 5,000"),
)
# Every fault a server accepts: the catalogue, the pending and the deep ones.
ACCEPTED_FAULTS: dict[str, Fault] = {**FAULTS,
                                     **{f.name: f for f in (*PENDING_FAULTS, *DEEP_FAULTS)}}
# Where the deep faults act: offsets above this, ids at or above top_tenth_from(ids).
DEEP_OFFSET = 5_000

MADE_UP_LABEL = "made-up-label"
UNLIMITED = 2**62  # limit-zero-all: a limit no listing reaches
SUCCESS_ERROR_TEXT = "partial failure: some windows could not be classified"
# finished-too-early: the real task runs this many job_seconds, and at least FLOOR seconds, so
# every re-call the gate makes after the (false) finish still finds the job running, also while
# hypothesis shrinks and replays the failing example (3 s was seen to end mid-shrink: "flaky").
EARLY_FINISH_FACTOR = 20
EARLY_FINISH_FLOOR_S = 30.0
# The page filters each "<name>-ignored" fault drops (PageFilters field names).
_IGNORED_FILTERS = {
    "minid-ignored": "min_id",
    "maxid-ignored": "max_id",
    "minlabel-ignored": "min_label",
    "maxlabel-ignored": "max_label",
    "signature-ignored": "signature_valid",
    "datatype-ignored": "data_type",
}


_INVERTED: dict[str, Literal["eq", "neq"]] = {"eq": "neq", "neq": "eq"}  # metadata-keyonly-inverted


def _values_coerced(entry: JSON) -> JSON:
    """metadata-wrong-type-accepted: a lenient reader's "values" (a string is one value, a
    number its JSON text); anything else is left for the parser to reject."""
    values = entry["values"]
    if isinstance(values, str):
        values = [values]
    if isinstance(values, list):
        values = [v if isinstance(v, str) else json.dumps(v) for v in values]
    return {**entry, "values": values}


def _coarse(window: dict[str, float]) -> dict[str, float]:
    """probs-coarse-window: the two most likely classes at COARSE_VALUE, the others at 0."""
    top = sorted(window, key=lambda k: -window[k])[:2]
    return {k: COARSE_VALUE if k in top else 0.0 for k in window}


def _without_last_window(doc: JSON) -> JSON:
    """A classification (copied) whose last window is gone from every per-window list."""
    doc = dict(doc)
    for key in ("result", "anomalyResult", "expectedLabels"):
        if key in doc:
            doc[key] = doc[key][:-1]
    if "resultCount" in doc:
        doc["resultCount"] = len(doc["result"])
    return doc


def top_tenth_from(ids: Sequence[int]) -> int:
    """The first id of the top tenth of the id range (ids ascending, not empty)."""
    return ids[-1] - (ids[-1] - ids[0]) // 10


def validate_fault_names(names: Iterable[str]) -> frozenset[str]:
    return validate_names(names, ACCEPTED_FAULTS, "fault")


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later of two optional instants (None = not given)."""
    return max((d for d in (a, b) if d is not None), default=None)


class MetadataParserCrash(RuntimeError):
    """Raised on purpose (fault negative-500) so the catch-all answers 500."""


class RunningJobCrash(RuntimeError):
    """Raised on purpose (fault running-job-500) so the catch-all answers 500."""


class LeapSecondCrash(RuntimeError):
    """Raised on purpose (fault leap-second-500) so the catch-all answers 500."""


class VariantEndCrash(RuntimeError):
    """Raised on purpose (fault variant-end-500) so the catch-all answers 500."""


class FaultSet(Switches):
    """The active faults and their hook methods (the seams call them: attached.py)."""

    CATALOGUE, KIND = ACCEPTED_FAULTS, "fault"

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__(names)
        self._page_requests = itertools.count()
        self._noise = random.Random()  # unseeded on purpose: results-nondeterministic
        self._variant, self._truncate = "", False  # the current request's (variant-end-500)
        self._started: dict[str, int] = {}  # job-and-result: the last job started, by job key
        self._made_up: dict[CacheKey, int] = {}  # job-and-result: a finished job per key
        self._unfiltered: dict[str, int] = {}  # total-wrong, filtered-total-unfiltered: by category

    # -- requests and the envelope ------------------------------------------------------

    def checks_auth(self) -> bool:
        return "auth-ignored" not in self

    def accepts_near_key(self, given: str, key: str) -> bool:
        """True: a key that is not the project's is let in all the same (auth-near-miss)."""
        prefix = key[:-1]
        return "auth-near-miss" in self and bool(prefix) and given[:len(prefix)] == prefix

    def error_text(self, text: str, presented_key: str = "") -> str:
        if "key-echoed" in self and presented_key:
            text = f"{text} (request key {presented_key})"
        return "" if "error-empty" in self else text

    def rejects_variant(self, variant: str) -> bool:
        self._variant = variant  # variant-end-500: the request's, read before any await in its handler
        return variant == "int8" and "variant-int8-rejected" in self

    def default_variant(self, documented: str) -> str:
        """The model variant used when a request names none."""
        return "int8" if "default-variant-int8" in self else documented

    def refused_number(self, limit: int | None) -> str | None:
        """limit-refused-midsize: why a page of this limit (as sent) is refused, or None."""
        if "limit-refused-midsize" in self and limit is not None and MIDSIZE[0] <= limit <= MIDSIZE[1]:
            return f"limit {limit} is not allowed"
        return None

    def negative_paging_value(self) -> int | None:
        """What a negative limit/offset becomes; None = reject it (the contract)."""
        return 0 if "negative-limit-accepted" in self else None

    def on_malformed_metadata(self, message: str) -> None:
        """Called for any malformed metadata (not JSON, or JSON of the wrong shape)."""
        if "negative-500" in self:
            raise MetadataParserCrash(message)

    def metadata_json(self, value: Any) -> Any:
        """The parsed metadata JSON as the parser sees it (before its shape is checked)."""
        if "metadata-wrong-type-accepted" not in self or not isinstance(value, list):
            return value
        return [_values_coerced(e) if isinstance(e, dict) and "values" in e else e for e in value]

    def leap_second(self, instant: datetime) -> datetime:
        """A date filter with a leap second, as read (the contract: hh:mm:59 plus one second)."""
        if "leap-second-500" in self:
            raise LeapSecondCrash(f"leap second {instant.isoformat()}")
        if "leap-second-as-zero" in self:
            return instant - timedelta(minutes=1)  # hh:mm:00 of the leap second's own minute
        return instant

    def ignores_unparsable_metadata(self) -> bool:
        """For metadata that is not JSON at all: False = 400 (the contract), True = ignore it."""
        return "malformed-metadata-ignored" in self

    def truncate(self, asked: bool) -> bool:
        """truncateStructuredLabels as it takes effect (validated before)."""
        self._truncate = asked  # variant-end-500, like rejects_variant
        return asked

    def ignores_limit(self) -> bool:
        """True: a (valid) limit is read, then replaced by the default page size."""
        return "limit-ignored" in self

    def default_offset(self, documented: int) -> int:
        """The offset of a page that sends none (default-offset-one: one more, skipping the first)."""
        return documented + 1 if "default-offset-one" in self else documented

    def success_reply(self, body: JSON) -> JSON:
        """Every successful reply (result, job, page, job status) passes here, in place."""
        if "success-with-error" in self:
            body["error"] = SUCCESS_ERROR_TEXT
        return body

    # -- the page ---------------------------------------------------------------------

    def page_plan(self, plan: PagePlan) -> PagePlan:
        """The page as asked (filters, slice, order); the SQL faults are store_seams.py's."""
        changes: dict[str, Any] = {"filters": self._filters(plan.filters)}
        if "order-unstable" in self:
            changes["descending"] = next(self._page_requests) % 2 == 1
        if "limit-plus-one" in self:
            changes["limit"] = plan.limit + 1
        if "limit-zero-all" in self and plan.limit == 0:  # `if limit:` around the LIMIT clause
            changes["limit"] = UNLIMITED
        if "page-skip" in self and plan.offset > 0:
            changes["offset"] = plan.offset + 1
        if "page-duplicate" in self and plan.offset > 0:
            changes["offset"] = plan.offset - 1
        return replace(plan, **changes)

    def _filters(self, filters: PageFilters) -> PageFilters:
        """The filter faults that change what was asked for (not how SQL reads it)."""
        changes: dict[str, Any] = {field: None for fault, field in _IGNORED_FILTERS.items()
                                   if fault in self}
        if "date-bounds-swapped" in self:
            # Only maxDate flips: a flipped minDate would also drop every sample for a minDate
            # before the data, and the gate's shrinker reports that as FILTER-COMPLETE instead.
            changes.update(min_date=_later(filters.min_date, filters.max_date), max_date=None)
        if "enum-new-value" in self and filters.data_type is not None:
            # every sample reads as the new type, and dataType follows what the replies say
            # (else the gate's dataType draws would break FILTER-COMPLETE too)
            changes["data_type"] = None if filters.data_type == NEW_CHART_TYPE else ""
        if "filter-pair-ignored" in self and filters.labels is not None:
            changes["min_length"] = None
        if "labels-first-only" in self and filters.labels:
            changes["labels"] = filters.labels[:1]
        if filters.metadata is not None:
            changes["metadata"] = self._metadata(filters.metadata)
        return replace(filters, **changes)

    def _metadata(self, metadata: MetadataFilter) -> MetadataFilter:
        if "neq-as-eq" in self:
            items = tuple(replace(i, op="eq") if i.op == "neq" else i for i in metadata.items)
            metadata = replace(metadata, items=items)
        if "metadata-anded" in self and metadata.combinator is None:
            metadata = replace(metadata, combinator="and")
        if "metadata-first-value-only" in self:  # `value = values[0]` where `IN values` was meant
            items = tuple(replace(i, values=i.values[:1]) if i.op == "eq" else i for i in metadata.items)
            metadata = replace(metadata, items=items)
        if "metadata-keyonly-inverted" in self:  # only items without values: "none" has none either
            items = tuple(replace(i, op=_INVERTED[i.op]) if i.op != "none" and not i.values else i
                          for i in metadata.items)
            metadata = replace(metadata, items=items)
        return metadata

    def past_end_plan(self, plan: PagePlan, total: int) -> PagePlan:
        if "past-end-last-page" in self and plan.offset >= total > 0 and plan.limit > 0:
            return replace(plan, offset=(total - 1) // plan.limit * plan.limit)
        return plan

    def deep_page_plan(self, plan: PagePlan, ids: Sequence[int]) -> PagePlan:
        """The deep faults' knobs (after page_plan); ids: every sample id, ascending."""
        changes: dict[str, Any] = {}
        if "deep-skip" in self and plan.offset > DEEP_OFFSET:
            changes["offset"] = plan.offset + 1
        return replace(plan, **changes) if changes else plan

    def deep_total_count(self, total: int, offset: int) -> int:
        """totalCount as answered, given the requested offset."""
        return total + 1 if "deep-total-wrong" in self and offset > DEEP_OFFSET else total

    def total_count(self, filtered: int, category: str, dataset: Dataset) -> int:
        if "filtered-total-unfiltered" in self:
            return self._unfiltered_count(category, dataset)
        return self._unfiltered_count(category, dataset) + 1 if "total-wrong" in self else filtered

    def _unfiltered_count(self, category: str, dataset: Dataset) -> int:
        """The category's size (the store holds exactly dataset.samples), counted once."""
        if category not in self._unfiltered:
            self._unfiltered[category] = sum(s.category == category for s in dataset.samples)
        return self._unfiltered[category]

    def page_predictions(self, predictions: list[JSON], sample: SampleRecord,
                         impulse: Impulse) -> list[JSON]:
        """One page sample's predictions (shared objects: copy before changing one)."""
        if "window-past-end" not in self:
            return predictions
        length, size = sample.total_length_ms, impulse.window_size_ms
        if length <= size or not predictions:  # one zero-padded window starting at 0: keep it
            return predictions
        last = dict(predictions[-1])
        last["startMs"] += impulse.window_increase_ms  # now startMs + size > length
        last["endMs"] = min(last["startMs"] + size, length)
        return [*predictions[:-1], last]

    def foreign_prediction_sample(self, page_ids: Sequence[int],
                                  all_ids: Sequence[int]) -> int | None:
        if "foreign-predictions" not in self:
            return None
        on_page = set(page_ids)
        return next((i for i in all_ids if i not in on_page), None)

    # -- classify results (both endpoints unless noted) ----------------------------------

    def made_up_sample(self, sample_id: int, dataset: Dataset) -> SampleRecord | None:
        """For an unknown sample id: None (a 404, the contract), or a made-up sample of that id
        (the shortest native-rate one, renamed, so classify answers a result at once). Ids
        outside 64 bits stay 404s: no JSON encoder has to write them."""
        if "classify-unknown-sample" not in self or dataset.sample(sample_id) is not None:
            return None
        if not -(2**63) <= sample_id < 2**63:
            return None
        rate = dataset.impulse.frequency_hz
        native = [s for s in dataset.samples if s.frequency == rate] or list(dataset.samples)
        return replace(min(native, key=lambda s: (s.total_length_ms, s.id)), id=sample_id,
                       processing_error=False)

    def result_subject(self, sample_id: int, ids: Sequence[int]) -> int:
        """Which sample a classify result describes (classify endpoint)."""
        if ("variant-end-500" in self and sample_id == max(ids) and self._variant == "akida"
                and self._truncate):
            raise VariantEndCrash(f"sample {sample_id}, akida, truncated")
        if "result-wrong-sample" not in self:
            return sample_id
        return ids[(ids.index(sample_id) + 1) % len(ids)]

    def classification(self, doc: JSON, stable: bool = False) -> JSON:
        """One classification object, faulted; copy-on-write (the input may be shared).

        stable=True (the page) leaves out results-nondeterministic: the page must stay
        stable, or PAGE-STABLE would break too and the fault would not be single-clause.
        """
        doc = dict(doc)
        if "page-stale-windows" in self and stable and len(doc["result"]) > 1:
            doc = _without_last_window(doc)
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
        if "probs-coarse-window" in self and is_classifier and len(doc["result"]) > 1:
            doc["result"] = [*doc["result"][:-1], _coarse(doc["result"][-1])]
        if "anomaly-missing" in self and not is_classifier:
            doc["result"] = [{k: v for k, v in r.items() if k != "anomaly"}
                             for r in doc["result"]]
            doc.pop("anomalyResult", None)
        if "results-nondeterministic" in self and is_classifier and not stable:
            doc["result"] = [self._shaken(r) for r in doc["result"]]
        return doc

    def variant_classification(self, doc: JSON, variant: str, truncated: bool = False) -> JSON:
        """One classification of the classify endpoint (a copy), for the variant asked; truncated:
        truncateStructuredLabels took effect on a multi-label sample."""
        several = len(doc["result"]) > 1
        if several and "variant-drops-window" in self and variant != "float32":
            return _without_last_window(doc)
        if several and truncated and "truncate-drops-window" in self:
            return _without_last_window(doc)
        return doc

    def rounded_windows(self, doc: JSON, length_ms: float, size_ms: float, increase_ms: float,
                        interval_ms: float, values: int) -> JSON:
        """One classification of the classify endpoint (a copy), given its sample's geometry."""
        if "window-count-rounded" not in self or length_ms <= size_ms:
            return doc
        steps = (length_ms - size_ms) / increase_ms
        if math.floor(steps + 0.5) == math.floor(steps):
            return doc
        start = len(doc["result"]) * increase_ms  # the extra window, starting past L - W
        doc = dict(doc)
        doc["result"] = [*doc["result"], dict(doc["result"][-1])]
        if "anomalyResult" in doc:
            doc["anomalyResult"] = [*doc["anomalyResult"], dict(doc["anomalyResult"][-1])]
        last = doc["expectedLabels"][-1]
        doc["expectedLabels"] = [*doc["expectedLabels"], {
            "startIndex": min(values - 1, math.floor(start / interval_ms)), "endIndex": values - 1,
            "label": last["label"]}]
        doc["resultCount"] = len(doc["result"])
        return doc

    def expected_labels(self, doc: JSON, segments: Sequence[tuple[int, int, str]],
                        labels: Sequence[str]) -> JSON:
        """One classification of the classify endpoint (a copy); segments: its sample's
        structured labels (start, end value index, label); labels: the wrong labels to pick
        from, in order (the sample's own label first, as the mutant of expected_label does)."""
        if "expected-label-segment-start" not in self or not segments:
            return doc
        doc["expectedLabels"] = _segment_start_labels(doc["expectedLabels"], segments, labels)
        return doc

    def page_expected_labels(self, result: JSON, labels: Sequence[str]) -> JSON:
        """A page's result for one sample (in place; its classifications are shared, so the
        changed ones are copies): as expected_labels, with the structured labels the result's
        sample lists; labels: the wrong ones to pick from after the sample's own."""
        listed = result.get("sample", {}).get("structuredLabels") or []
        if "page-label-segment-start" not in self or not listed:
            return result
        segments = [(s["startIndex"], s["endIndex"], s["label"]) for s in listed]
        wrong = (result["sample"].get("label", ""), *labels)
        result["classifications"] = [
            {**c, "expectedLabels": _segment_start_labels(c["expectedLabels"], segments, wrong)}
            for c in result["classifications"]]
        return result

    def _shaken(self, probabilities: dict[str, float]) -> dict[str, float]:
        weights = {k: v + self._noise.uniform(0.01, 0.2) for k, v in probabilities.items()}
        total = sum(weights.values())
        labels = list(weights)
        head = {k: round(weights[k] / total, 6) for k in labels[:-1]}
        return {**head, labels[-1]: round(1 - sum(head.values()), 6)}

    def truncated_labels(self, sample_doc: JSON, full: list[JSON]) -> None:
        """Called for truncateStructuredLabels=true on multi-label samples."""
        if "truncate-ignored" in self and len(full) >= UNCUT_FROM:
            sample_doc["structuredLabels"] = full
            sample_doc["structuredLabelsList"] = [s["label"] for s in full]
        if "truncate-wrong" in self:
            wrong = [*reversed(full), {"startIndex": 0, "endIndex": 0, "label": MADE_UP_LABEL}]
            sample_doc["structuredLabels"] = wrong
            sample_doc["structuredLabelsList"] = [s["label"] for s in wrong]

    def sample(self, doc: JSON, on_page: bool) -> JSON:
        """A Sample object (classify's RawSampleData.sample, or a page result's), in place."""
        if "sample-foreign-project" in self:
            doc["projectId"] += 1
        if "enum-new-value" in self:
            doc["chartType"] = NEW_CHART_TYPE
        if "wrong-type" in self and on_page:
            doc["id"] = str(doc["id"])
        return doc

    def classify_reply(self, body: JSON, jobs: JobRegistry, key: CacheKey) -> None:
        if "schema-drop-required" in self:
            body.pop("windowSizeMs", None)
        if "job-and-result" in self:
            body["id"] = self._result_job_id(jobs, key)

    def _result_job_id(self, jobs: JobRegistry, key: CacheKey) -> int:
        """The job that computed the result, else one already-finished job per key."""
        ran = jobs.get(self._started.get(key.job_key, -1))
        if ran is not None and ran.successful and jobs.cached(key) is not None:
            return ran.id
        if key not in self._made_up:
            job = jobs.new_job(key)
            job.started = job.finished = job.created
            job.successful = True
            self._made_up[key] = job.id
        return self._made_up[key]

    def job_started(self, job: Job) -> None:
        self._started[job.key] = job.id

    # -- jobs -------------------------------------------------------------------------

    def on_running_job(self, job_id: int) -> None:
        """Called when a classify finds its request's job still running."""
        if "running-job-500" in self:
            raise RunningJobCrash(f"job {job_id} is locked")

    def job_status_checks_project(self) -> bool:
        return "job-status-any-project" not in self

    def job_outcome(self, successful: bool) -> bool:
        """The finishedSuccessful a job reports, given whether it computed its result."""
        return successful or "failed-job-successful" in self

    def jobs_finish(self) -> bool:
        return "job-never-finishes" not in self

    def jobs_succeed(self) -> bool:
        """False (jobs-always-fail): every job ends unsuccessfully without computing."""
        return "jobs-always-fail" not in self

    def reports_finish_at_start(self) -> bool:
        return "finished-too-early" in self

    def job_seconds(self, seconds: float) -> float:
        """How long the real task runs before the result is cached."""
        if "finished-too-early" in self:
            return max(EARLY_FINISH_FACTOR * seconds, EARLY_FINISH_FLOOR_S)
        return seconds

    def serves_cached_results(self) -> bool:
        """False: a cached result is never answered; a re-call starts a new job instead."""
        return "rejob-forever" not in self

    def job_status(self, doc: JSON, finished: datetime | None, iso: Callable[[datetime], str]
                   ) -> None:
        if "status-wrong-id" in self:
            doc["id"] += 1
        if "job-status-no-uids" in self:
            doc.pop("jobNotificationUids", None)
        if "status-time-backwards" in self and finished is not None:
            doc["started"] = iso(finished + timedelta(seconds=1))

    def unknown_job(self, job_id: int, now: str) -> JSON | None:
        if "unknown-job-success" not in self:
            return None
        return {"id": job_id, "key": "made-up-job", "category": "Classify sample",
                "categoryKey": "classify", "created": now, "started": now, "finished": now,
                "finishedSuccessful": True, "jobNotificationUids": []}


def _segment_start_labels(entries: Sequence[JSON], segments: Sequence[tuple[int, int, str]],
                          labels: Sequence[str]) -> list[JSON]:
    """expectedLabels where each window whose middle value is a segment's first takes the first
    of `labels` it does not overlap (entries copied, never changed)."""
    starts = {start for start, _, _ in segments}
    out = []
    for entry in entries:
        first, last = entry["startIndex"], entry["endIndex"]
        overlapped = {name for s, e, name in segments if s <= last and e >= first}
        wrong = next((name for name in labels if name not in overlapped), None)
        at_start = (first + last) // 2 in starts
        out.append({**entry, "label": wrong} if at_start and wrong is not None else entry)
    return out
