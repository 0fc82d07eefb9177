"""Legal variants: behaviours a server that KEEPS the contract may have; the gate must pass them.

Each one is a choice the documents leave open (an order, a bound's reading, extra fields, ...).
The catalogue (LEGAL_VARIANTS) is data; the behaviour lives in the small VariantSet hook
methods below, like the faults' FaultSet, called from the seams (attached.Switched; SQL
readings: store_seams.py; the wire: variant_wire.py). Variants act first, faults after them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from eicontract.server.dataset import Dataset, SampleRecord
from eicontract.server.switches import Switches, validate_names

if TYPE_CHECKING:  # type-only, as in faults.py: config -> variants stays free of the store
    from eicontract.server.dataset import LearnBlock
    from eicontract.server.store import PageFilters, PagePlan

JSON = dict[str, Any]

SLOW_JOB_FACTOR = 5
LIMIT_CAP = 50  # limit-cap: at most this many results a page, whatever limit asks
LIMIT_MAX = 10  # limit-max-10: a larger limit is refused (400); the page without a limit holds this many
# window-cap: a page whose offset + limit passes the listing's length (the testing samples, the
# listing without a category) + this many is refused
# (400), as a search engine's result window (Elasticsearch's max_result_window). Just past the
# end: the last sample and the end itself are read at small pages (the gate's end probes: limit 1;
# its last-page boundary: limit 5 at the end), while a page of 100 near the end, and any page well
# past it, is refused although a page of 100 at offset 0 is answered.
WINDOW_SLACK = 10
THROTTLE_EVERY = 40  # throttle-429: every 40th request (counted from 1) is answered 429
RETRY_AFTER_S = 0
TRACE_FIELD = "xTrace"
# big-ids: sample, learn block (and DSP block) and job ids are shifted by 2**40. Above 2**32,
# so a client that keeps ids in 32 bits breaks; far below 2**53, so they stay exact where JSON
# numbers are doubles (JavaScript, or any parser that reads numbers as floats): a correct
# server may hand out such ids, and a gate in any language can still compare them.
BIG_ID_BASE = 2**40
# truncate-slice-5: truncateStructuredLabels=true keeps this many leading labels (the data's
# multi-label samples have 3 to 5, so none is cut: the reading "a slice of at least K labels").
TRUNCATE_SLICE = 5
# resampled-partial: classify's classifications index values at this multiple of the sample's
# interval (not a divisor of most lengths), counting the final partial value.
RESAMPLE_FACTOR = 1.5
# limit-zero-unset: the server's default page size (params.DEFAULT_LIMIT; variants cannot import
# params: params -> errors -> config -> variants).
UNSET_LIMIT = 100
# probs-precise: probabilities past the reference's 4 decimals (argmax and the sum unchanged).
PRECISE_STEP = 3.7e-7
# other-4xx: failures with another client-error status than the reference's.
OTHER_4XX = {400: 422, 401: 403, 404: 410}
# offset-dates: the server's own rendering (iso() in render.py) rewritten as +00:00, no fraction.
_RENDERED_DATE = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d{3}Z", re.ASCII)
# quantised-each: each class value of a quantised variant rounded to its own grid (no class
# absorbs the rounding), so a window's values sum to 1 within classes x half a step.
OWN_STEP = {"int8": 1 / 255, "akida": 1 / 15}
# float32-2dp: float32 class values each rounded to this many decimals (no class absorbs the
# rounding: three classes at 1/3 read 0.33 each, summing to 0.99).
FLOAT32_DECIMALS = 2
# page-default-int8: the page's model variant when the request names none.
PAGE_DEFAULT_VARIANT = "int8"
# datatype-kind: dataType names the kind of data a sample's sensors record, which no reply field
# shows (its chartType is the display); a value naming no kind is refused.
DATA_KINDS = {"chart": "time-series", "image": "image", "video": "video", "table": "tabular"}


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
    LegalVariant("labels-listed-empty", "a sample without multiple labels lists structuredLabels: [] "
                                        "and structuredLabelsList: [] (the reference leaves them out)"),
    LegalVariant("slow-jobs", f"jobs take {SLOW_JOB_FACTOR}x job_seconds"),
    # issue 10's variants: the gate passes them since its oracles tell data from extras
    LegalVariant("trace-id", f"every JSON object of every reply, failure envelopes included, "
                             f"carries a per-reply {TRACE_FIELD!r} string (maps excepted: "
                             f"metadata, classifier result entries)"),
    LegalVariant("limit-cap", f"pages hold at most {LIMIT_CAP} results whatever the limit; "
                              f"totalCount and offset paging stay right"),
    LegalVariant("gzip", "replies are gzip-encoded when the request accepts gzip"),
    LegalVariant("throttle-429", f"every {THROTTLE_EVERY}th request is answered 429 with "
                                 f"Retry-After: {RETRY_AFTER_S}, without doing the work"),
    LegalVariant("offset-dates", "date-times as +00:00 without milliseconds (the data has "
                                 "whole seconds)"),
    LegalVariant("big-ids", "sample, learn block and job ids above 2**32 (2**40 + n)"),
    LegalVariant("unknown-400", "unknown ids (project, block, sample, impulse, job) are 400, "
                                "not 404, with the failure envelope"),
    LegalVariant("connection-close", "every response says Connection: close (and the server "
                                     "closes the connection)"),
    # issue 18: one server per reading the reference does not take (docs/CLAIMS.md, Readings)
    LegalVariant("metadata-bare-strict", "samples without metadata match no metadata key item "
                                         "(not even a neq one): only {\"no_metadata\": true} "
                                         "lists them"),
    LegalVariant("truncate-slice-5", f"truncateStructuredLabels=true keeps the first "
                                     f"{TRUNCATE_SLICE} labels (the data has 3 to 5: none cut)"),
    LegalVariant("endindex-exclusive", "classify's expectedLabels endIndex is one past the "
                                       "window's last value"),
    LegalVariant("resampled-partial", f"classify's classifications say intervalMs "
                                      f"{RESAMPLE_FACTOR}x the sample's; expectedLabels index those "
                                      f"values, the final partial value counted"),
    LegalVariant("case-sensitive", "the filename filter and search match case-sensitively"),
    LegalVariant("other-4xx", "failures with another 4xx: 400 as 422, 401 as 403, 404 as 410"),
    LegalVariant("labels-case-insensitive", "the labels filter compares labels case-insensitively"),
    LegalVariant("neq-loose", "a metadata neq item with values also matches samples without "
                              "the key"),
    LegalVariant("no-prediction-correct", "page predictions leave out the optional "
                                          "predictionCorrect"),
    LegalVariant("akida-refused", "variant=akida is refused with the failure envelope (400): a "
                                  "project without an Akida model"),
    LegalVariant("limit-zero-unset", f"limit=0 reads as unset: the default page of {UNSET_LIMIT}"),
    LegalVariant("limit-zero-rejected", "limit=0 is refused with the failure envelope (400)"),
    LegalVariant("limit-max-10", f"a limit above {LIMIT_MAX} is refused with the failure envelope "
                                 f"(400); the page without a limit holds {LIMIT_MAX}"),
    LegalVariant("window-cap", f"a page whose offset + limit passes the testing samples' count + "
                               f"{WINDOW_SLACK} is refused with the failure envelope (400): a "
                               f"result window, not a maximum limit (a page without a limit is "
                               f"the rest of the window)"),
    LegalVariant("search-whole", "search matches the whole query (the id, or a substring of the "
                                 "filename), not each token"),
    LegalVariant("metadata-or-extra", "metadata with filters_combinator or also lists samples "
                                      "with a metadata key no item names"),
    LegalVariant("nometa-ored", "metadata with filters_combinator and: no_metadata is ORed with "
                                "the ANDed items"),
    LegalVariant("resampled-floor", f"like resampled-partial ({RESAMPLE_FACTOR}x interval), "
                                    f"whole values only: the final partial value is not counted"),
    LegalVariant("labels-multi", "the labels filter also lists a multi-label sample whose "
                                 "structured labels include a listed label"),
    LegalVariant("big-numbers-rejected", "limit or offset of 2**31 or more, and numeric filters "
                                         "of magnitude 2**63 or more, are refused (400)"),
    LegalVariant("jobs-fail-first", "the first job of each (sample, block, variant, truncate) "
                                    "finishes unsuccessfully; the next one succeeds"),
    LegalVariant("processing-error-classifies", "samples whose listing entry says "
                                                "processingError: true classify like any other "
                                                "(a job only when long or resampled; it succeeds)"),
    LegalVariant("short-no-window", "a sample shorter than one window has no window (classify "
                                    "and page), not one zero-padded window"),
    LegalVariant("probs-precise", f"class probabilities carry more digits than the reference "
                                  f"rounds to ({PRECISE_STEP} moved from each window's least to "
                                  f"its most likely class)"),
    LegalVariant("tail-window", "a sample whose length leaves a tail no full window reaches gets "
                                "one more, zero-padded window over it (classify and page)"),
    LegalVariant("label-first-value", "classify's expectedLabels: a window's label is that of its "
                                      "first value (the reference: its middle value)"),
    LegalVariant("quantised-each", "int8 and akida class values each rounded to their own step "
                                   "(1/255, 1/15): a window's values sum to 1 within classes x "
                                   "half a step"),
    LegalVariant("float32-2dp", f"float32 class values each rounded to {FLOAT32_DECIMALS} decimals "
                                f"(int8 and akida unchanged): a window's values sum to 1 within "
                                f"classes x 0.005"),
    LegalVariant("page-default-int8", f"a page requested without variant is classified with "
                                      f"{PAGE_DEFAULT_VARIANT} (classify keeps float32)"),
    LegalVariant("page-blocks-partial", "page results of samples with an odd id hold the "
                                        "classifier (keras) block only: the anomaly block is "
                                        "left off (classify answers every block)"),
    LegalVariant("datatype-kind", f"dataType is the kind of data the sensors record "
                                  f"({', '.join(sorted(set(DATA_KINDS.values())))}), not the "
                                  f"chartType; another value is refused (400)"),
    LegalVariant("running-another-job", "a classify while its request's job runs starts another "
                                        "job (the running one goes on)"),
    LegalVariant("running-result", "a classify while its request's job runs answers the result "
                                   "at once (the job goes on)"),
    LegalVariant("running-refused", "a classify while its request's job runs is refused with the "
                                    "failure envelope (400)"),
    LegalVariant("leap-second-refused", "a date filter with a leap second (hh:mm:60) is refused "
                                        "with the failure envelope (400): RFC 3339 allows :60, the "
                                        "documents say nothing"),
    LegalVariant("failure-told", "like jobs-fail-first, and the next classify of that (sample, "
                                 "block, variant, truncate) answers the job's failure with the "
                                 "failure envelope (400); the one after starts a job that succeeds"),
    LegalVariant("failure-kept", "a sample whose processing failed (processingError: true): its "
                                 "job for a (sample, block, variant, truncate) finishes "
                                 "unsuccessfully, as in the reference, and the failure is kept: "
                                 "every later classify of that key answers it with the failure "
                                 "envelope (400), and no job starts again"),
)

LEGAL_VARIANTS: dict[str, LegalVariant] = {v.name: v for v in _CATALOGUE}

# Legal variants waiting for the gate to pass them: a server can be started with them
# (`--variant`, `--server-variant`), but they are not in LEGAL_VARIANTS, which the kill matrix
# iterates. To enable one: move its line to _CATALOGUE. (Issue 10's eight are all enabled.)
PENDING_VARIANTS: tuple[LegalVariant, ...] = ()
# Every variant a server accepts: the catalogue and the pending ones.
ACCEPTED_VARIANTS: dict[str, LegalVariant] = {**LEGAL_VARIANTS,
                                              **{v.name: v for v in PENDING_VARIANTS}}
_WIRE = ("trace-id", "throttle-429", "offset-dates", "connection-close",
         "other-4xx")  # act on the wire


def validate_variant_names(names: Iterable[str]) -> frozenset[str]:
    return validate_names(names, ACCEPTED_VARIANTS, "variant")


def _with_big_ids(data: Dataset) -> Dataset:
    def big(ids: Iterable[int]) -> tuple[int, ...]:
        return tuple(i + BIG_ID_BASE for i in ids)
    impulse = data.impulse
    blocks = tuple(replace(b, id=b.id + BIG_ID_BASE, dsp=big(b.dsp)) for b in impulse.learn_blocks)
    return Dataset(data.seed, replace(impulse, dsp_block_id=impulse.dsp_block_id + BIG_ID_BASE,
                                      learn_blocks=blocks),
                   tuple(replace(s, id=s.id + BIG_ID_BASE) for s in data.samples))


def _in_whole_seconds(data: Dataset) -> Dataset:
    """The same data, its instants cut to the second: a server that keeps no milliseconds.
    (Instants a minute or more apart stay apart; ties stay ties.)"""
    return Dataset(data.seed, data.impulse, tuple(
        replace(s, added=s.added.replace(microsecond=0), created=s.created.replace(microsecond=0))
        for s in data.samples))


def _traced(value: Any, trace: str) -> None:
    """TRACE_FIELD on every object in value, in place; maps, whose keys are data, are left."""
    if isinstance(value, list):
        for item in value:
            _traced(item, trace)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "metadata" or (key == "result" and "learnBlock" in value):
                continue  # a metadata key, or a class label of a classification's result
            _traced(item, trace)
        value[TRACE_FIELD] = trace


def _offset_dates(value: Any) -> Any:
    if isinstance(value, str):
        rendered = _RENDERED_DATE.fullmatch(value)
        return f"{rendered[1]}+00:00" if rendered else value
    if isinstance(value, list):
        return [_offset_dates(v) for v in value]
    if isinstance(value, dict):
        return {k: _offset_dates(v) for k, v in value.items()}
    return value


def _tail_start(total: float, window: float, increase: float) -> float | None:
    """tail-window: where the zero-padded window over the tail starts, or None (no tail)."""
    if total < window:
        return None
    full = math.floor((total - window) / increase + 1e-9) + 1
    return full * increase if (full - 1) * increase + window < total - 1e-6 else None


def _tail_label(last: JSON, sample: SampleRecord, start: int) -> JSON:
    """The padded window's expectedLabels entry: from its first value to the sample's last."""
    label = next((s.label for s in sample.segments if s.start_index <= start <= s.end_index),
                 last["label"])
    return {**last, "startIndex": start, "endIndex": sample.values_count - 1, "label": label}


def _precise(window: dict[str, float]) -> dict[str, float]:
    top, low = max(window, key=window.__getitem__), min(window, key=window.__getitem__)
    if window[top] == window[low] or window[low] < PRECISE_STEP or window[top] > 1 - PRECISE_STEP:
        return window
    return {**window, top: window[top] + PRECISE_STEP, low: window[low] - PRECISE_STEP}


def _own_step(window: dict[str, float], step: float) -> dict[str, float]:
    return {k: round(round(v / step) * step, 6) for k, v in window.items()}


def _first_value_labels(body: JSON) -> None:
    """label-first-value: each expectedLabels entry takes the label of its first value."""
    listed = body["sample"]["sample"].get("structuredLabels") or []
    for doc in body["classifications"]:
        doc["expectedLabels"] = [
            {**e, "label": next((x["label"] for x in listed
                                 if x["startIndex"] <= e["startIndex"] <= x["endIndex"]), e["label"])}
            for e in doc["expectedLabels"]]


def _resampled(body: JSON, partial_counts: bool = True) -> None:
    """resampled-partial: each classification at RESAMPLE_FACTOR x the sample's interval, its
    expectedLabels in those values; the last window ends at the final (partial) value
    (resampled-floor: at the last whole value)."""
    sample = body["sample"]["sample"]
    total, window, step = sample["totalLengthMs"], body["windowSizeMs"], body["windowIncreaseMs"]
    interval = sample["intervalMs"] * RESAMPLE_FACTOR
    values = (math.ceil if partial_counts else math.floor)(total / interval)
    for doc in body["classifications"]:
        doc["intervalMs"], doc["frequencyHz"] = interval, 1000.0 / interval
        doc["expectedLabels"] = [
            {**e, "startIndex": min(values - 1, math.floor(k * step / interval)),
             "endIndex": min(values, math.ceil((k * step + window) / interval)) - 1}
            for k, e in enumerate(doc["expectedLabels"])]


class VariantSet(Switches):
    """The active legal variants and their hook methods (the seams call them: attached.py)."""

    CATALOGUE, KIND = ACCEPTED_VARIANTS, "variant"

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__(names)
        self._replies = itertools.count(1)
        self._by_segment_label: dict[str, tuple[int, ...]] = {}  # labels-multi
        self._window: int | None = None  # window-cap: the largest offset + limit answered

    def page_plan(self, plan: PagePlan) -> PagePlan:
        """The page as asked (slice, order); the SQL variants are store_seams.py's."""
        limit = UNSET_LIMIT if plan.limit == 0 and "limit-zero-unset" in self else plan.limit
        limit = min(limit, LIMIT_CAP) if "limit-cap" in self else limit
        limit = min(limit, LIMIT_MAX) if "limit-max-10" in self else limit  # larger ones refused
        return replace(plan, descending=plan.descending or "order-desc" in self, limit=limit)

    def labels_also_ids(self, labels: tuple[str, ...]) -> tuple[int, ...]:
        """labels-multi: the ids of samples a structured label of which is listed."""
        if "labels-multi" not in self or not labels:
            return ()
        return tuple(sorted({i for label in labels for i in self._by_segment_label.get(label, ())}))

    def truncated_labels(self, sample_doc: JSON, full: list[JSON]) -> None:
        """truncateStructuredLabels=true on a multi-label sample: truncate-slice-5's slice."""
        if "truncate-slice-5" in self:
            kept = full[:TRUNCATE_SLICE]
            sample_doc["structuredLabels"] = kept
            sample_doc["structuredLabelsList"] = [s["label"] for s in kept]

    def classify_result(self, body: JSON) -> None:
        """A classify result (a private copy), in place: endindex-exclusive, resampled-partial."""
        if "resampled-partial" in self or "resampled-floor" in self:
            _resampled(body, partial_counts="resampled-partial" in self)
        if "label-first-value" in self:
            _first_value_labels(body)
        if "endindex-exclusive" in self:
            for doc in body["classifications"]:
                doc["expectedLabels"] = [{**e, "endIndex": e["endIndex"] + 1}
                                         for e in doc["expectedLabels"]]

    def prediction(self, doc: JSON) -> JSON:
        """A page prediction (a private copy), in place: no-prediction-correct."""
        if "no-prediction-correct" in self:
            doc.pop("predictionCorrect", None)
        return doc

    def refused_number(self, f: PageFilters, limit: int | None, offset: int | None) -> str | None:
        """big-numbers-rejected, limit-zero-rejected, limit-max-10, window-cap: why the request is refused,
        or None (limit and offset as sent, before the server clamps them)."""
        if limit == 0 and "limit-zero-rejected" in self:
            return "limit must be at least 1"
        if limit is not None and limit > LIMIT_MAX and "limit-max-10" in self:
            return f"limit must be at most {LIMIT_MAX}"
        window = self._window if "window-cap" in self else None  # set from the data (dataset())
        # a page without a limit is the rest of the window (at most the default page): refused only
        # past it (its results end at the listing's end, before the window: as the reference's)
        if window is not None and (offset or 0) + (1 if limit is None else limit) > window:
            return f"offset + limit must be at most {window}"
        if "big-numbers-rejected" not in self:
            return None
        if (limit or 0) >= 2**31 or (offset or 0) >= 2**31:
            return "limit and offset must be below 2**31"
        numbers = (f.min_length, f.max_length, f.min_frequency, f.max_frequency, f.min_label,
                   f.max_label, f.min_id, f.max_id)
        if any(n is not None and abs(n) >= 2**63 for n in numbers):
            return "numeric filters must be within 64 bits"
        return None

    def refuses_leap_second(self) -> bool:
        """leap-second-refused: a date filter's :60 is refused (the reference reads :59 plus 1 s)."""
        return "leap-second-refused" in self

    def refuses_variant(self, variant: str) -> bool:
        """akida-refused: this project has no Akida model."""
        return variant == "akida" and "akida-refused" in self

    def failure_status(self, status: int) -> int:
        """The status a response goes out with (on the wire): other-4xx's client errors."""
        return OTHER_4XX.get(status, status) if "other-4xx" in self else status

    def dataset(self, data: Dataset) -> Dataset:
        """The data this server holds (big-ids, offset-dates), from the generated data."""
        if "big-ids" in self:
            data = _with_big_ids(data)
        if "window-cap" in self:  # past the end of the default listing (the testing samples)
            self._window = sum(s.category == "testing" for s in data.samples) + WINDOW_SLACK
        if "labels-multi" in self:
            found: dict[str, list[int]] = {}
            for sample in data.samples:
                for label in {s.label for s in sample.segments}:
                    found.setdefault(label, []).append(sample.id)
            self._by_segment_label = {k: tuple(v) for k, v in found.items()}
        if "offset-dates" in self:
            data = _in_whole_seconds(data)
        return data

    def first_job_id(self, first: int) -> int:
        return first + BIG_ID_BASE if "big-ids" in self else first

    def unknown_id_status(self, status: int) -> int:
        """The status of a failure (http error style): unknown-400 turns 404s for ids into 400."""
        return 400 if status == 404 and "unknown-400" in self else status

    # -- on the wire (variant_wire.py): every response, failures and 401s included ------------

    def on_the_wire(self) -> bool:
        return any(name in self for name in _WIRE)

    def gzip(self) -> bool:
        return "gzip" in self

    def throttled(self, request_number: int) -> int | None:
        """Retry-After seconds when this request (counted from 1) is answered 429, else None."""
        if "throttle-429" in self and request_number % THROTTLE_EVERY == 0:
            return RETRY_AFTER_S
        return None

    def closes_connections(self) -> bool:
        return "connection-close" in self

    def rewrites_bodies(self) -> bool:
        return "trace-id" in self or "offset-dates" in self

    def rewrite_body(self, body: bytes, request_number: int) -> bytes:
        """A JSON reply as these variants send it (anything that is not JSON is left as it is)."""
        try:
            doc = json.loads(body)
        except ValueError:
            return body
        if "offset-dates" in self:
            doc = _offset_dates(doc)
        if "trace-id" in self:
            _traced(doc, hashlib.blake2b(f"trace:{request_number}".encode(),
                                         digest_size=16).hexdigest())
        return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

    def windows_of(self, doc: JSON, sample: SampleRecord, window_ms: float,
                   increase_ms: float) -> JSON:
        """A classification (shared: copied when changed): short-no-window empties it,
        tail-window adds a zero-padded window over the tail."""
        total = sample.total_length_ms
        if "short-no-window" in self and total < window_ms:
            doc = {**doc, "result": [], "expectedLabels": [], "resultCount": 0}
            if "anomalyResult" in doc:
                doc["anomalyResult"] = []
        tail = _tail_start(total, window_ms, increase_ms) if "tail-window" in self else None
        if tail is not None and doc["result"]:
            doc = {**doc, "result": [*doc["result"], dict(doc["result"][-1])],
                   "resultCount": doc.get("resultCount", len(doc["result"])) + 1,
                   "expectedLabels": [*doc["expectedLabels"], _tail_label(
                       doc["expectedLabels"][-1], sample, round(tail / sample.interval_ms))]}
            if doc.get("anomalyResult"):
                doc["anomalyResult"] = [*doc["anomalyResult"], dict(doc["anomalyResult"][-1])]
        return doc

    def predictions_of(self, predictions: list[JSON], sample: SampleRecord, window_ms: float,
                       increase_ms: float) -> list[JSON]:
        """A sample's page predictions: none under short-no-window for a short sample; one
        more under tail-window."""
        total = sample.total_length_ms
        if "short-no-window" in self and total < window_ms:
            return []
        tail = _tail_start(total, window_ms, increase_ms) if "tail-window" in self else None
        if tail is None or not predictions:
            return predictions
        return [*predictions, {**predictions[-1], "startMs": tail, "endMs": total}]

    def precise(self, doc: JSON) -> JSON:
        """A classification (a private shallow copy), in place: probs-precise."""
        if "probs-precise" in self and doc["learnBlock"]["type"] == "keras":
            doc["result"] = [_precise(window) for window in doc["result"]]
        return doc

    def jobs_fail_first(self) -> bool:
        return "jobs-fail-first" in self or "failure-told" in self

    def tells_failure(self) -> bool:
        """failure-told: a failed job's failure is answered to the next classify of its key."""
        return "failure-told" in self

    def keeps_failure(self) -> bool:
        """failure-kept: a failed job of a sample that cannot be classified is told to every later
        classify of its key."""
        return "failure-kept" in self

    def joins_running_job(self) -> bool:
        return "running-another-job" not in self

    def result_while_running(self) -> bool:
        return "running-result" in self

    def running_refusal(self, job_id: int) -> str | None:
        if "running-refused" in self:
            return f"job {job_id} for this classification is still running: wait for it to finish"
        return None

    def classifies_failed_processing(self) -> bool:
        return "processing-error-classifies" in self

    def always_job(self) -> bool:
        return "always-job" in self

    def job_seconds(self, seconds: float) -> float:
        return seconds * SLOW_JOB_FACTOR if "slow-jobs" in self else seconds

    def has_total_count(self) -> bool:
        return "no-total-count" not in self

    def empty_label_lists(self, doc: JSON) -> JSON:
        """A Sample object, in place: labels-listed-empty lists empty label lists where the
        reference leaves them out (a sample without multiple labels)."""
        if "labels-listed-empty" in self:
            doc.setdefault("structuredLabels", [])
            doc.setdefault("structuredLabelsList", [])
        return doc

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

    def model_values(self, doc: JSON, variant: str) -> JSON:
        """A classification of this model variant (shared: copied when changed): quantised-each,
        float32-2dp."""
        step = OWN_STEP.get(variant)
        if doc["learnBlock"]["type"] != "keras":
            return doc
        if "quantised-each" in self and step:
            doc = {**doc, "result": [_own_step(window, step) for window in doc["result"]]}
        if "float32-2dp" in self and variant == "float32":
            doc = {**doc, "result": [{k: round(v, FLOAT32_DECIMALS) for k, v in window.items()}
                                     for window in doc["result"]]}
        return doc

    def page_default_variant(self, documented: str) -> str:
        """The page's model variant when the request names none: page-default-int8."""
        return PAGE_DEFAULT_VARIANT if "page-default-int8" in self else documented

    def page_blocks(self, blocks: tuple[LearnBlock, ...], sample: SampleRecord) -> tuple[LearnBlock, ...]:
        """The learn blocks a sample's page result holds: page-blocks-partial."""
        if "page-blocks-partial" in self and sample.id % 2:
            return tuple(b for b in blocks if b.type == "keras")
        return blocks

    def refused_filter(self, f: PageFilters) -> str | None:
        """datatype-kind: a dataType naming no kind of data is refused."""
        if "datatype-kind" in self and f.data_type is not None \
                and f.data_type not in DATA_KINDS.values():
            return f"dataType must be one of {', '.join(sorted(set(DATA_KINDS.values())))}"
        return None

    def data_type_charts(self, data_type: str) -> tuple[str, ...]:
        """datatype-kind: the chart types whose samples are of this kind of data."""
        return tuple(sorted(chart for chart, kind in DATA_KINDS.items() if kind == data_type))
