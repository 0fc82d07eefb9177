"""Faults and legal variants at the seams: the server a ServerConfig asks for.

The clean server (app.make_app) takes a Seams; this module builds the one whose hooks apply the
chosen faults (faults.FaultSet) and legal variants (variants.VariantSet), variants first and
faults after them, and says, for every name in both catalogues, at which seams it acts
(SEAM_OF, checked by tests/server/test_seams.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from eicontract.server.app import make_app
from eicontract.server.classify import ClassificationMemo
from eicontract.server.config import ServerConfig
from eicontract.server.dataset import CLASS_LABELS, Dataset, Impulse, LearnBlock, SampleRecord
from eicontract.server.errors import bad_request
from eicontract.server.faults import FaultSet
from eicontract.server.jobs import CacheKey, Job, JobRegistry
from eicontract.server.render import iso
from eicontract.server.seams import JSON, Seams
from eicontract.server.store import PageFilters, PagePlan, Reading
from eicontract.server.store_seams import switched_reading
from eicontract.server.variant_wire import wire_middleware
from eicontract.server.variants import VariantSet

# Where each fault and legal variant acts (the seams of seams.py, by concern: request, plan,
# store, reply, jobs, data, wire). Faults and variants are catalogue entries whose behaviour is
# a line or two in one hook of faults.FaultSet / variants.VariantSet (store: store_seams.py,
# wire: variant_wire.py); this map says which seams those hooks plug into.
SEAMS = ("request", "plan", "store", "reply", "jobs", "data", "wire")
SEAM_OF: dict[str, tuple[str, ...]] = {
    "schema-drop-required": ("reply",),
    "negative-500": ("request",),
    "error-empty": ("request",),
    "auth-ignored": ("request",),
    "key-echoed": ("request",),
    "job-and-result": ("reply",),
    "result-wrong-sample": ("reply",),
    "status-wrong-id": ("reply",),
    "status-time-backwards": ("reply",),
    "job-never-finishes": ("jobs",),
    "results-nondeterministic": ("reply",),
    "unknown-job-success": ("reply",),
    "window-off-by-one": ("reply",),
    "labels-short": ("reply",),
    "probs-unnormalised": ("reply",),
    "probs-coarse-window": ("reply",),
    "anomaly-missing": ("reply",),
    "limit-plus-one": ("plan",),
    "page-duplicate": ("plan",),
    "page-skip": ("plan",),
    "order-unstable": ("plan",),
    "past-end-last-page": ("plan",),
    "total-wrong": ("plan",),
    "foreign-predictions": ("reply",),
    "negative-limit-accepted": ("request",),
    "maxid-inclusive": ("store",),
    "minlabel-strict": ("store",),
    "filters-ored": ("store",),
    "filter-after-paging": ("store",),
    "malformed-metadata-ignored": ("request",),
    "truncate-wrong": ("reply",),
    "variant-int8-rejected": ("request",),
    "success-with-error": ("reply",),
    "wrong-type": ("reply",),
    "enum-new-value": ("plan", "reply"),
    "finished-too-early": ("jobs",),
    "rejob-forever": ("jobs",),
    "jobs-always-fail": ("jobs",),
    "limit-ignored": ("request",),
    "minid-ignored": ("plan",),
    "maxid-ignored": ("plan",),
    "minlabel-ignored": ("plan",),
    "maxlabel-ignored": ("plan",),
    "signature-ignored": ("plan",),
    "datatype-ignored": ("plan",),
    "metadata-anded": ("plan",),
    "no-metadata-ignored": ("store",),
    "neq-as-eq": ("plan",),
    "labels-first-only": ("plan",),
    "date-bounds-swapped": ("plan",),
    "window-past-end": ("reply",),
    "classify-unknown-sample": ("reply",),
    "limit-zero-all": ("plan",),
    "default-offset-one": ("request",),
    "limit-refused-midsize": ("request",),
    "truncate-ignored": ("reply",),
    "filtered-total-unfiltered": ("plan",),
    "filter-pair-ignored": ("plan",),
    "metadata-keyonly-inverted": ("plan",),
    "metadata-wrong-type-accepted": ("request",),
    "leap-second-500": ("request",),
    "leap-second-as-zero": ("request",),
    "expected-label-segment-start": ("reply",),
    "page-label-segment-start": ("reply",),
    "default-variant-int8": ("request",),
    "sample-foreign-project": ("reply",),
    "job-status-no-uids": ("reply",),
    "page-stale-windows": ("reply",),
    "variant-drops-window": ("reply",),
    "truncate-drops-window": ("reply",),
    "running-job-500": ("jobs",),
    "labels-prefix": ("store",),
    "window-count-rounded": ("reply",),
    "job-status-any-project": ("reply",),
    "metadata-first-value-only": ("plan",),
    "variant-end-500": ("reply",),
    "auth-near-miss": ("request",),
    "failed-job-successful": ("jobs",),
    "deep-skip": ("plan",),
    "deep-filter-ignored": ("store",),
    "deep-total-wrong": ("plan",),
    "order-desc": ("plan",),
    "always-job": ("jobs",),
    "inclusive-bounds": ("store",),
    "extra-fields": ("reply",),
    "no-total-count": ("plan",),
    "slow-jobs": ("jobs",),
    "labels-listed-empty": ("reply",),
    "trace-id": ("wire",),
    "limit-cap": ("plan",),
    "gzip": ("wire",),
    "throttle-429": ("wire",),
    "offset-dates": ("data", "wire"),
    "big-ids": ("data", "jobs"),
    "unknown-400": ("request",),
    "connection-close": ("wire",),
    "metadata-bare-strict": ("store",),
    "truncate-slice-5": ("reply",),
    "endindex-exclusive": ("reply",),
    "resampled-partial": ("reply",),
    "case-sensitive": ("store",),
    "other-4xx": ("wire",),
    "labels-case-insensitive": ("store",),
    "neq-loose": ("store",),
    "no-prediction-correct": ("reply",),
    "akida-refused": ("request",),
    "limit-zero-unset": ("plan",),
    "limit-zero-rejected": ("request",),
    "limit-max-10": ("plan", "request"),
    "window-cap": ("data", "request"),
    "search-whole": ("store",),
    "metadata-or-extra": ("store",),
    "nometa-ored": ("store",),
    "resampled-floor": ("reply",),
    "labels-multi": ("data", "store"),
    "big-numbers-rejected": ("request",),
    "leap-second-refused": ("request",),
    "jobs-fail-first": ("jobs",),
    "processing-error-classifies": ("jobs",),
    "short-no-window": ("reply",),
    "probs-precise": ("reply",),
    "tail-window": ("reply",),
    "label-first-value": ("reply",),
    "quantised-each": ("reply",),
    "float32-2dp": ("reply",),
    "page-default-int8": ("request",),
    "page-blocks-partial": ("reply",),
    "datatype-kind": ("request", "store"),
    "running-another-job": ("jobs",),
    "running-result": ("jobs",),
    "running-refused": ("jobs",),
    "failure-told": ("jobs",),
    "failure-kept": ("jobs",),
}


def build_app(config: ServerConfig) -> Starlette:
    """The reference server of this configuration: the contract, plus its faults and variants.
    With none chosen, the seams are the contract's own (no hook asks a catalogue)."""
    if not config.faults and not config.variants:
        return make_app(config, Seams())
    return make_app(config, Switched(FaultSet(config.faults), VariantSet(config.variants)))


class Switched(Seams):
    """Every seam, through the chosen variants first, then the chosen faults."""

    def __init__(self, faults: FaultSet, variants: VariantSet) -> None:
        self.faults, self.variants = faults, variants
        self._failed: set[CacheKey] = set()  # jobs-fail-first: keys whose first job failed
        self._untold: set[CacheKey] = set()  # failure-told: failures not yet answered to a classify
        self._kept: set[CacheKey] = set()  # failure-kept: failures answered to every later classify
        self._unclassifiable: set[int] = set()  # samples seen that cannot be classified (processingError)

    # -- request ------------------------------------------------------------------------------

    def checks_auth(self) -> bool:
        return self.faults.checks_auth()

    def accepts_key(self, given: str, key: str) -> bool:
        return super().accepts_key(given, key) or self.faults.accepts_near_key(given, key)

    def error_text(self, text: str, presented_key: str = "") -> str:
        return self.faults.error_text(text, presented_key)

    def api_error_status(self, status: int) -> int:
        return self.variants.unknown_id_status(status)

    def default_variant(self, documented: str) -> str:
        return self.faults.default_variant(documented)

    def page_default_variant(self, documented: str) -> str:
        return self.variants.page_default_variant(documented)

    def rejects_variant(self, variant: str) -> bool:
        return self.faults.rejects_variant(variant)

    def lacks_model(self, variant: str) -> bool:
        return self.variants.refuses_variant(variant)

    def truncate(self, asked: bool) -> bool:
        return self.faults.truncate(asked)

    def negative_paging_value(self) -> int | None:
        return self.faults.negative_paging_value()

    def ignores_limit(self) -> bool:
        return self.faults.ignores_limit()

    def default_offset(self, documented: int) -> int:
        return self.faults.default_offset(documented)

    def metadata_json(self, value: Any) -> Any:
        return self.faults.metadata_json(value)

    def on_malformed_metadata(self, message: str) -> None:
        self.faults.on_malformed_metadata(message)

    def ignores_unparsable_metadata(self) -> bool:
        return self.faults.ignores_unparsable_metadata()

    def leap_second(self, instant: datetime) -> datetime:
        if self.variants.refuses_leap_second():
            raise bad_request("a leap second (:60) is not accepted in a date filter")
        return self.faults.leap_second(instant)

    def refused_numbers(self, filters: PageFilters, limit: int | None,
                        offset: int | None) -> str | None:
        return self.variants.refused_number(filters, limit, offset) or self.faults.refused_number(limit)

    def refused_filter(self, filters: PageFilters) -> str | None:
        return self.variants.refused_filter(filters)

    # -- plan ---------------------------------------------------------------------------------

    def page_plan(self, plan: PagePlan, ids: Sequence[int]) -> PagePlan:
        return self.faults.deep_page_plan(self.faults.page_plan(self.variants.page_plan(plan)),
                                          ids)

    def store_reading(self, dataset: Dataset) -> Reading:
        return switched_reading(self.faults, self.variants, dataset.ids)

    def sliced_plan(self, plan: PagePlan, total: int) -> PagePlan:
        return self.faults.past_end_plan(plan, total)

    def total_count(self, filtered: int, category: str, dataset: Dataset,
                    offset: int) -> int | None:
        if not self.variants.has_total_count():
            return None
        total = self.faults.total_count(filtered, category, dataset)
        return self.faults.deep_total_count(total, offset)

    # -- reply --------------------------------------------------------------------------------

    def reply(self, body: JSON, kind: str) -> JSON:
        return self.faults.success_reply(self.variants.extra_fields(body, kind, top_level=True))

    def reply_object(self, doc: JSON, kind: str) -> JSON:
        page_result = kind == "model-result"
        return self.variants.extra_fields(self.faults.page_expected_labels(doc, CLASS_LABELS) if page_result else doc,
                                          kind)

    def sample(self, doc: JSON, on_page: bool) -> JSON:
        return self.variants.extra_fields(self.variants.empty_label_lists(self.faults.sample(doc, on_page)), "sample")

    def truncated_labels(self, sample_doc: JSON, full: list[JSON]) -> None:
        self.variants.truncated_labels(sample_doc, full)
        self.faults.truncated_labels(sample_doc, full)

    def unknown_sample(self, sample_id: int, dataset: Dataset) -> SampleRecord | None:
        return self.faults.made_up_sample(sample_id, dataset)

    def windows(self, doc: JSON, sample: SampleRecord, window_ms: float,
                increase_ms: float) -> JSON:
        return self.variants.windows_of(doc, sample, window_ms, increase_ms)

    def model_values(self, doc: JSON, variant: str) -> JSON:
        return self.variants.model_values(doc, variant)

    def classification(self, doc: JSON, stable: bool = False) -> JSON:
        return self.variants.extra_fields(
            self.variants.precise(self.faults.classification(doc, stable)), "classification")

    def classify_classification(self, doc: JSON, subject: SampleRecord, impulse: Impulse,
                                variant: str, truncated: bool) -> JSON:
        segments = [(s.start_index, s.end_index, s.label) for s in subject.segments]
        wrong = (subject.label, *CLASS_LABELS)  # expected-label-segment-start's labels
        doc = self.faults.expected_labels(doc, segments, wrong)
        doc = self.faults.variant_classification(doc, variant, truncated)
        return self.faults.rounded_windows(doc, subject.total_length_ms, impulse.window_size_ms,
                                           impulse.window_increase_ms, subject.interval_ms,
                                           subject.values_count)

    def result_subject(self, sample_id: int, ids: Sequence[int]) -> int:
        return self.faults.result_subject(sample_id, ids)

    def classify_result(self, body: JSON, jobs: JobRegistry, key: CacheKey) -> None:
        self.variants.classify_result(body)
        self.faults.classify_reply(body, jobs, key)

    def page_blocks(self, blocks: tuple[LearnBlock, ...], sample: SampleRecord) -> tuple[LearnBlock, ...]:
        return self.variants.page_blocks(blocks, sample)

    def page_predictions(self, predictions: list[JSON], sample: SampleRecord,
                         impulse: Impulse) -> list[JSON]:
        return self.variants.predictions_of(
            self.faults.page_predictions(predictions, sample, impulse), sample,
            impulse.window_size_ms, impulse.window_increase_ms)

    def prediction(self, doc: JSON) -> JSON:
        return self.variants.extra_fields(self.variants.prediction(doc), "prediction")

    def extra_prediction(self, page_ids: Sequence[int], dataset: Dataset,
                         memo: ClassificationMemo, variant: str) -> JSON | None:
        extra = self.faults.foreign_prediction_sample(page_ids, dataset.ids)
        sample = None if extra is None else dataset.sample(extra)
        if sample is None:
            return None
        return self.reply_object(dict(memo.predictions(sample, variant)[0]), "prediction")

    def job_status(self, doc: JSON, finished: datetime | None) -> JSON:
        self.faults.job_status(doc, finished, iso)
        return self.variants.extra_fields(doc, "job")

    def unknown_job(self, job_id: int, now: str) -> JSON | None:
        return self.faults.unknown_job(job_id, now)

    def job_status_checks_project(self) -> bool:
        return self.faults.job_status_checks_project()

    # -- jobs ---------------------------------------------------------------------------------

    def classifies(self, sample: SampleRecord) -> bool:
        if super().classifies(sample) or self.variants.classifies_failed_processing():
            return True
        self._unclassifiable.add(sample.id)  # failure-kept: its job's failure will be kept
        return False

    def needs_job(self, needed: bool) -> bool:
        return self.variants.always_job() or needed

    def serves_cached_results(self) -> bool:
        return self.faults.serves_cached_results()

    def on_running_job(self, job_id: int) -> None:
        self.faults.on_running_job(job_id)

    def joins_running_job(self) -> bool:
        return self.variants.joins_running_job()

    def result_while_running(self) -> bool:
        return self.variants.result_while_running()

    def running_refusal(self, job_id: int) -> str | None:
        return self.variants.running_refusal(job_id)

    def told_failure(self, key: CacheKey) -> str | None:
        if key not in self._untold and key not in self._kept:
            return None
        self._untold.discard(key)  # told once: the next classify starts a job (a kept one stays)
        return f"classification of sample {key.sample_id} failed (learn block {key.block_id})"

    def job_seconds(self, seconds: float) -> float:
        return self.faults.job_seconds(self.variants.job_seconds(seconds))

    def first_job_id(self, first: int) -> int:
        return self.variants.first_job_id(first)

    def job_started(self, job: Job) -> bool:
        self.faults.job_started(job)
        if self.faults.reports_finish_at_start():  # the status runs ahead of the work
            job.finished, job.successful = job.started, True
        return self.faults.jobs_finish()

    def job_outcome(self, successful: bool) -> bool:
        return self.faults.job_outcome(successful)

    def job_succeeds(self, key: CacheKey) -> bool:
        if not self.faults.jobs_succeed():
            return False
        if self.variants.jobs_fail_first() and key not in self._failed:  # once per key
            self._failed.add(key)
            if self.variants.tells_failure():
                self._untold.add(key)
            return False
        if key.sample_id in self._unclassifiable and self.variants.keeps_failure():
            self._kept.add(key)  # it fails as in the reference; from now on it is told
            return False
        return True

    # -- data and wire ------------------------------------------------------------------------

    def dataset(self, data: Dataset) -> Dataset:
        return self.variants.dataset(data)

    def middleware(self) -> list[Middleware]:
        return wire_middleware(self.variants)

