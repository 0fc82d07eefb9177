"""The Starlette app: three routes under /v1, wired to the store, the classifier and the jobs.

This is the contract: whatever a server may do otherwise goes through `ctx.seams` (seams.py),
whose defaults are the contract; faults and legal variants attach there (attached.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from eicontract.server import params
from eicontract.server.classify import ClassificationMemo, needs_job, result_body
from eicontract.server.config import ServerConfig
from eicontract.server.dataset import PROJECT_ID, Dataset, LearnBlock, SampleRecord, generate
from eicontract.server.errors import (
    ApiError,
    GuardMiddleware,
    api_error_handler,
    bad_request,
    http_error_handler,
    not_found,
)
from eicontract.server.fragments import (
    FragmentCache,
    JSONBytes,
    dumps,
    encode_object,
    json_array,
    json_reply,
)
from eicontract.server.jobs import FIRST_JOB_ID, CacheKey, Job, JobFailed, JobRegistry
from eicontract.server.params import QueryReader, path_int
from eicontract.server.render import (
    JSON,
    PROCESSING_ERROR_TEXT,
    iso,
    raw_sample_json,
    sample_json,
    segments_json,
)
from eicontract.server.seams import Seams
from eicontract.server.store import PagePlan, Store

API_ROOT = "/v1"
# The memo only feeds the page fragments (each rendered once), so it need not hold much.
PAGE_MEMO_SAMPLES = 256


@dataclass(frozen=True, slots=True)
class AppContext:
    config: ServerConfig
    dataset: Dataset
    store: Store
    jobs: JobRegistry
    seams: Seams
    memo: ClassificationMemo
    fragments: FragmentCache


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _require_project(project_id: int) -> None:
    if project_id != PROJECT_ID:
        raise not_found(f"project {project_id} not found (this server has only project "
                        f"{PROJECT_ID})")


def _learn_block(ctx: AppContext, block_id: int) -> LearnBlock:
    block = ctx.dataset.impulse.learn_block(block_id)
    if block is None:
        known = ", ".join(str(b.id) for b in ctx.dataset.impulse.learn_blocks)
        raise not_found(f"learn block {block_id} not found (learn blocks: {known})")
    return block


def _sample(ctx: AppContext, sample_id: int) -> SampleRecord:
    sample = ctx.dataset.sample(sample_id) or ctx.seams.unknown_sample(sample_id, ctx.dataset)
    if sample is None:
        raise not_found(f"sample {sample_id} not found in project {PROJECT_ID}")
    return sample


def _refuse_model(ctx: AppContext, variant: str) -> None:
    if ctx.seams.lacks_model(variant):
        raise bad_request(f"variant {variant}: this project has no such model")


# -- reply objects: every object goes out through its reply seam ---------------------------

def _ok(ctx: AppContext, body: JSON, kind: str) -> Response:
    return json_reply(ctx.seams.reply(body, kind))


def _sample_hooks(ctx: AppContext, doc: JSON, sample: SampleRecord, truncate: bool,
                  on_page: bool) -> JSON:
    if truncate and sample.is_multi_label:
        ctx.seams.truncated_labels(doc, segments_json(sample, truncate=False))
    return ctx.seams.sample(doc, on_page)


def _classification(ctx: AppContext, doc: JSON, sample: SampleRecord, variant: str,
                    stable: bool) -> JSON:
    """A (shared, clean) classification of a model variant as it goes out."""
    impulse = ctx.dataset.impulse
    return ctx.seams.classification(ctx.seams.model_values(ctx.seams.windows(
        doc, sample, impulse.window_size_ms, impulse.window_increase_ms), variant), stable)


# -- classify -----------------------------------------------------------------------------

async def classify_endpoint(request: Request) -> Response:
    ctx = _ctx(request)
    project_id, block_id, sample_id = (path_int(request, name)
                                       for name in ("projectId", "blockId", "sampleId"))
    q = QueryReader(request.query_params)
    variant, truncate = params.variant(q, ctx.seams), params.truncate(q, ctx.seams)
    _refuse_model(ctx, variant)
    _require_project(project_id)
    block, sample = _learn_block(ctx, block_id), _sample(ctx, sample_id)
    key = CacheKey(sample.id, block.id, variant, truncate)
    failure = ctx.seams.told_failure(key)
    if failure is not None:
        raise bad_request(failure)
    body = ctx.jobs.cached(key) if ctx.seams.serves_cached_results() else None
    if body is None:
        # a sample it cannot classify is tried again in a job (that fails), however short
        classifies = ctx.seams.classifies(sample)
        if ctx.seams.needs_job(not classifies or needs_job(sample, ctx.dataset.impulse,
                                                           ctx.config.job_threshold_ms)):
            job = _job_for(ctx, key, has_result=classifies)
            if job is not None:
                return _ok(ctx, {"success": True, "id": job.id}, "job-started")
        body = _compute(ctx, key)
    return _ok(ctx, _classify_reply(ctx, key, body), "classify-result")


def _job_for(ctx: AppContext, key: CacheKey, has_result: bool = True) -> Job | None:
    """The job a classify that needs one answers: its request's running job, else a new one;
    None: the result at once (the running-job seams), never for a sample without a result
    (`has_result` False: its processing failed, so only a job can answer it)."""
    running = ctx.jobs.running(key)
    if running is None:
        return ctx.jobs.start(key, partial(_compute, ctx, key))
    ctx.seams.on_running_job(running.id)
    refusal = ctx.seams.running_refusal(running.id)
    if refusal is not None:
        raise bad_request(refusal)
    if ctx.seams.result_while_running() and has_result:
        return None
    return running if ctx.seams.joins_running_job() else ctx.jobs.start(key, partial(_compute, ctx, key))


def _compute(ctx: AppContext, key: CacheKey) -> JSON:
    sample, block = _sample(ctx, key.sample_id), _learn_block(ctx, key.block_id)
    if not ctx.seams.classifies(sample):  # only ever in a job: the job fails
        raise JobFailed(f"sample {sample.id}: {PROCESSING_ERROR_TEXT}")
    return result_body(sample, block, ctx.dataset.impulse, key.variant, key.truncate)


def _classify_reply(ctx: AppContext, key: CacheKey, clean: JSON) -> JSON:
    """The reply seams act on a copy: the cache always holds the clean result."""
    body = copy.deepcopy(clean)
    subject = _sample(ctx, ctx.seams.result_subject(key.sample_id, ctx.dataset.ids))
    if subject.id != key.sample_id:
        body["sample"] = raw_sample_json(subject, key.truncate)
    _sample_hooks(ctx, body["sample"]["sample"], subject, key.truncate, on_page=False)
    ctx.seams.reply_object(body["sample"], "raw-sample-data")
    truncated = key.truncate and subject.is_multi_label
    body["classifications"] = [ctx.seams.classify_classification(
        _classification(ctx, c, subject, key.variant, stable=False), subject, ctx.dataset.impulse,
        key.variant, truncated) for c in body["classifications"]]
    ctx.seams.classify_result(body, ctx.jobs, key)
    return body


# -- job status ---------------------------------------------------------------------------

async def job_status_endpoint(request: Request) -> Response:
    ctx = _ctx(request)
    project_id, job_id = path_int(request, "projectId"), path_int(request, "jobId")
    job = ctx.jobs.get(job_id)
    if ctx.seams.job_status_checks_project() or job is None:
        _require_project(project_id)
    if job is None:
        doc = ctx.seams.unknown_job(job_id, iso(datetime.now(UTC)))
        if doc is None:
            raise not_found(f"job {job_id} not found in project {PROJECT_ID}")
    else:
        doc = ctx.seams.job_status(job.to_json(), job.finished)
    return _ok(ctx, {"success": True, "job": doc}, "job-status")


# -- the classify result page -------------------------------------------------------------

async def page_endpoint(request: Request) -> Response:
    ctx = _ctx(request)
    project_id = path_int(request, "projectId")
    q = QueryReader(request.query_params)
    limit, offset = params.paging(q, ctx.seams)
    variant = params.variant(q, ctx.seams, on_page=True)
    truncate = params.truncate(q, ctx.seams)
    _refuse_model(ctx, variant)
    impulse_id = q.integer("impulseId")
    filters = params.page_filters(q, ctx.seams)
    _require_project(project_id)
    if impulse_id is not None and impulse_id != ctx.dataset.impulse.id:
        raise not_found(f"impulse {impulse_id} not found (this project has impulse "
                        f"{ctx.dataset.impulse.id})")
    plan = ctx.seams.page_plan(PagePlan(filters, limit, offset), ctx.dataset.ids)
    refused = (ctx.seams.refused_numbers(filters, q.integer("limit"), q.integer("offset"))
               or ctx.seams.refused_filter(filters))
    if refused is not None:
        raise bad_request(refused)
    total = ctx.store.count(plan)
    samples = ctx.store.samples(ctx.store.page_ids(ctx.seams.sliced_plan(plan, total)))
    results, predictions = _page_items(ctx, samples, variant, truncate)
    # placeholders: the reply seam below only adds keys; the items are spliced in as bytes
    body: JSON = {"success": True, "result": [], "predictions": []}
    spliced = {id(body["result"]): results, id(body["predictions"]): predictions}
    answered = ctx.seams.total_count(total, filters.category, ctx.dataset, offset)
    if answered is not None:
        body["totalCount"] = answered
    return JSONBytes(encode_object(ctx.seams.reply(body, "page"), spliced))


def _page_items(ctx: AppContext, samples: list[SampleRecord], variant: str,
                truncate: bool) -> tuple[list[bytes], list[bytes]]:
    """ModelResults and ModelPredictions as two encoded JSON arrays (in pieces), from each
    sample's fragment (rendered once per sample, variant and truncate)."""
    keys = [(s.id, variant, truncate and s.is_multi_label) for s in samples]
    fragments = ctx.fragments.get_many(
        keys, lambda i: _render_item(ctx, samples[i], variant, truncate))
    predictions = [p for _, p in fragments]
    extra = ctx.seams.extra_prediction([s.id for s in samples], ctx.dataset, ctx.memo, variant)
    if extra is not None:
        predictions.append(dumps(extra))
    return json_array(r for r, _ in fragments), json_array(predictions)


def _render_item(ctx: AppContext, sample: SampleRecord, variant: str,
                 truncate: bool) -> tuple[bytes, bytes]:
    """One sample's ModelResult and ModelPredictions (from the clean classifier output) through
    the reply seams, encoded: (result, predictions joined by commas). Every seam here must
    depend only on (sample, variant, truncate): the bytes are kept and served again."""
    impulse = ctx.dataset.impulse
    docs = [ctx.memo.classification(sample, b, variant)
            for b in ctx.seams.page_blocks(impulse.learn_blocks, sample)]
    result = ctx.seams.reply_object({
        "sampleId": sample.id,
        "sample": _sample_hooks(ctx, sample_json(sample, truncate), sample, truncate,
                                on_page=True),
        "classifications": [_classification(ctx, d, sample, variant, stable=True) for d in docs]},
        "model-result")
    shared = ctx.seams.page_predictions(ctx.memo.predictions(sample, variant), sample, impulse)
    # copies: the memo's prediction objects are shared
    predictions = [ctx.seams.prediction(dict(p)) for p in shared]
    return dumps(result), dumps(predictions)[1:-1]

ROUTES = [
    Route(API_ROOT + "/api/{projectId}/classify/anomaly-gmm/v2/{blockId}/{sampleId}",
          classify_endpoint, methods=["POST"]),
    Route(API_ROOT + "/api/{projectId}/jobs/{jobId}/status", job_status_endpoint,
          methods=["GET"]),
    Route(API_ROOT + "/api/{projectId}/classify/all/result/page", page_endpoint,
          methods=["GET"]),
]


def make_app(config: ServerConfig, seams: Seams) -> Starlette:
    """The server of this configuration with these seams (attached.build_app chooses them)."""
    dataset = seams.dataset(generate(config.seed, config.samples))
    app = Starlette(
        routes=ROUTES,
        middleware=[*seams.middleware(), Middleware(GuardMiddleware, config=config, seams=seams)],
        exception_handlers={ApiError: api_error_handler, HTTPException: http_error_handler},
    )
    jobs = JobRegistry(seams.job_seconds(config.job_seconds), seams,
                       first_id=seams.first_job_id(FIRST_JOB_ID))
    app.state.ctx = AppContext(config, dataset, Store(dataset, seams.store_reading(dataset)),
                               jobs, seams,
                               ClassificationMemo(dataset.impulse, PAGE_MEMO_SAMPLES),
                               FragmentCache())
    return app
