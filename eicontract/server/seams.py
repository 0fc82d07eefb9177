"""The seams: the few named places where a server may differ from the contract.

The clean server (app, params, store, classify, jobs, errors) calls these hooks and nothing
else that could differ; every default below IS the contract (an identity, a True, a None).
Deliberate faults and legal variants attach here, and only here: `attached.py` builds a Seams
whose hooks apply the chosen ones, and `attached.SEAM_OF` says which seam each one uses. So
to read what the contract says the server does, read the clean modules with these defaults.

The seams, by concern:
- request: how query values are read and refused (params), auth and the failure envelope;
- plan: the page query as asked (the filters, limit, offset, order) before the store runs it;
- store: how SQL reads each filter (`store.Reading`; its other readings: store_seams.py);
- reply: every object of a successful reply (top level, samples, classifications, predictions,
  job status), after the clean renderer made it;
- jobs: how long a job runs, whether and how it ends, which ids it gets;
- data and wire: the data the server holds, and middleware around the whole app.

A hook that changes a shared object says so; the others get a private copy.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eicontract.server.store import Reading

if TYPE_CHECKING:
    from starlette.middleware import Middleware

    from eicontract.server.classify import ClassificationMemo
    from eicontract.server.dataset import Dataset, Impulse, LearnBlock, SampleRecord
    from eicontract.server.jobs import CacheKey, Job, JobRegistry
    from eicontract.server.store import PageFilters, PagePlan

JSON = dict[str, Any]


class Seams:
    """The contract at every seam. Subclasses (attached.py) override what they change."""

    # -- request: params, auth, the failure envelope ----------------------------------------

    def checks_auth(self) -> bool:
        return True

    def accepts_key(self, given: str, key: str) -> bool:
        """Whether the presented key is the project's: the whole key, in constant time."""
        return hmac.compare_digest(given.encode(), key.encode())

    def error_text(self, text: str, presented_key: str = "") -> str:
        return text

    def api_error_status(self, status: int) -> int:
        """The status an ApiError is answered with (http error style)."""
        return status

    def default_variant(self, documented: str) -> str:
        return documented

    def page_default_variant(self, documented: str) -> str:
        """The page's model variant when the request names none (after default_variant)."""
        return documented

    def rejects_variant(self, variant: str) -> bool:
        """True: `variant is not supported` (400), read with the other parameters."""
        return False

    def lacks_model(self, variant: str) -> bool:
        """True: the project has no model of this variant (400), after the parameters."""
        return False

    def truncate(self, asked: bool) -> bool:
        """truncateStructuredLabels as it takes effect (validated before)."""
        return asked

    def negative_paging_value(self) -> int | None:
        """What a negative limit/offset becomes; None = reject it (the contract)."""
        return None

    def ignores_limit(self) -> bool:
        return False

    def default_offset(self, documented: int) -> int:
        """The offset of a page that sends none (the contract: the listing's start)."""
        return documented

    def metadata_json(self, value: Any) -> Any:
        """The parsed metadata JSON as the parser sees it (before its shape is checked)."""
        return value

    def on_malformed_metadata(self, message: str) -> None:
        """Called for any malformed metadata (not JSON, or JSON of the wrong shape)."""

    def ignores_unparsable_metadata(self) -> bool:
        return False

    def leap_second(self, instant: datetime) -> datetime:
        """A date filter with a leap second, as read (the contract: hh:mm:59 plus one second)."""
        return instant

    def refused_numbers(self, filters: PageFilters, limit: int | None,
                        offset: int | None) -> str | None:
        """Why a page request is refused for its numbers (as sent), or None (the contract)."""
        return None

    def refused_filter(self, filters: PageFilters) -> str | None:
        """Why a page request is refused for a filter's value (as parsed), or None (the
        contract)."""
        return None

    # -- plan: the page query ---------------------------------------------------------------

    def page_plan(self, plan: PagePlan, ids: Sequence[int]) -> PagePlan:
        """The plan the store runs (ids: every sample id, ascending)."""
        return plan

    def sliced_plan(self, plan: PagePlan, total: int) -> PagePlan:
        """The plan the page is sliced with, given the listing's length."""
        return plan

    def total_count(self, filtered: int, category: str, dataset: Dataset,
                    offset: int) -> int | None:
        """totalCount as answered (category: the listing's; dataset: the data served); None
        leaves it out."""
        return filtered

    def store_reading(self, dataset: Dataset) -> Reading:
        """How the store reads the filters in SQL (the store seam)."""
        return Reading()

    # -- reply ------------------------------------------------------------------------------

    def reply(self, body: JSON, kind: str) -> JSON:
        """Every successful reply's top level, in place."""
        return body

    def reply_object(self, doc: JSON, kind: str) -> JSON:
        """Any other object of a reply (kind: model-result, raw-sample-data, prediction), in
        place."""
        return doc

    def sample(self, doc: JSON, on_page: bool) -> JSON:
        """A Sample object (classify's, or a page result's), in place."""
        return doc

    def truncated_labels(self, sample_doc: JSON, full: list[JSON]) -> None:
        """A multi-label Sample object under truncateStructuredLabels=true, in place."""

    def unknown_sample(self, sample_id: int, dataset: Dataset) -> SampleRecord | None:
        """A sample answered for an id the data lacks; None = 404 (the contract)."""
        return None

    def windows(self, doc: JSON, sample: SampleRecord, window_ms: float,
                increase_ms: float) -> JSON:
        """A classification's windows (shared: copy before changing)."""
        return doc

    def model_values(self, doc: JSON, variant: str) -> JSON:
        """A classification's values as this model variant gives them (shared: copy before
        changing)."""
        return doc

    def classification(self, doc: JSON, stable: bool = False) -> JSON:
        """A classification as it goes out (shared: copy before changing); stable: the page's."""
        return doc

    def classify_classification(self, doc: JSON, subject: SampleRecord, impulse: Impulse,
                                variant: str, truncated: bool) -> JSON:
        """One classification of the classify endpoint (a private copy)."""
        return doc

    def result_subject(self, sample_id: int, ids: Sequence[int]) -> int:
        """Which sample a classify result describes."""
        return sample_id

    def classify_result(self, body: JSON, jobs: JobRegistry, key: CacheKey) -> None:
        """A classify result (a private copy), in place (jobs: the server's; key: the
        result's)."""

    def page_blocks(self, blocks: tuple[LearnBlock, ...], sample: SampleRecord) -> tuple[LearnBlock, ...]:
        """The learn blocks a sample's page result holds (the impulse's, in order)."""
        return blocks

    def page_predictions(self, predictions: list[JSON], sample: SampleRecord,
                         impulse: Impulse) -> list[JSON]:
        """One page sample's predictions (shared objects: copy before changing one)."""
        return predictions

    def prediction(self, doc: JSON) -> JSON:
        """One page prediction (a private copy), in place."""
        return doc

    def extra_prediction(self, page_ids: Sequence[int], dataset: Dataset,
                         memo: ClassificationMemo, variant: str) -> JSON | None:
        """A prediction added to a page (of a sample not on it); None = none (the contract)."""
        return None

    def job_status(self, doc: JSON, finished: datetime | None) -> JSON:
        """A job status object, in place."""
        return doc

    def unknown_job(self, job_id: int, now: str) -> JSON | None:
        """A job answered for an unknown id; None = 404 (the contract)."""
        return None

    def job_status_checks_project(self) -> bool:
        return True

    # -- jobs -------------------------------------------------------------------------------

    def classifies(self, sample: SampleRecord) -> bool:
        """False: the sample cannot be classified; each classify of it starts a job that ends
        unsuccessfully (the reference's reading of a sample whose processing failed)."""
        return not sample.processing_error

    def needs_job(self, needed: bool) -> bool:
        """Whether an uncached classify answers a job (needed: the sample is long)."""
        return needed

    def serves_cached_results(self) -> bool:
        return True

    def on_running_job(self, job_id: int) -> None:
        """Called when a classify finds its request's job still running."""

    def joins_running_job(self) -> bool:
        """A classify finding its request's job running answers that job (the contract);
        False: it starts another."""
        return True

    def result_while_running(self) -> bool:
        """True: a classify finding its request's job running answers the result at once."""
        return False

    def running_refusal(self, job_id: int) -> str | None:
        """Why a classify finding its request's job running is refused (400), or None."""
        return None

    def told_failure(self, key: CacheKey) -> str | None:
        """The failure a classify of this key is answered with (400), or None (the contract: a
        job's failure is told by its status only)."""
        return None

    def job_seconds(self, seconds: float) -> float:
        return seconds

    def first_job_id(self, first: int) -> int:
        return first

    def job_started(self, job: Job) -> bool:
        """Called once a job has started (the job in place); False: it never ends."""
        return True

    def job_succeeds(self, key: CacheKey) -> bool:
        """False: the job of this key ends unsuccessfully without computing."""
        return True

    def job_outcome(self, successful: bool) -> bool:
        """The finishedSuccessful a job reports, given whether it computed its result."""
        return successful

    # -- data and wire ----------------------------------------------------------------------

    def dataset(self, data: Dataset) -> Dataset:
        """The data the server holds, from the generated data."""
        return data

    def middleware(self) -> list[Middleware]:
        """Middleware around the whole app, outermost first."""
        return []
