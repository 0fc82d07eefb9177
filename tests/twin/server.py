"""HTTP layer: routing, auth, failures, the classify job machinery and the result page."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import data
from .filters import VARIANTS, BadRequest, as_bool, as_enum, parse_page

REGRESSIONS: dict[str, str] = {
    "variant-ignored": "classify always uses the float32 model whatever 'variant' says",
    "job-never-finishes": "classify jobs never complete; status stays unfinished",
    "cache-wrong-sample": "classify result cache ignores the sample id",
    "drop-last-window": "classify/page skip the last full sliding window",
    "truncate-windows": "truncateStructuredLabels also slices the per-window results",
    "window-size-string": "windowSizeMs is sent as a string",
    "failed-job-successful": "a failed classify job reports finishedSuccessful=true",
    "unknown-job-success": "job status for an unknown job id answers success=true",
    "total-count-page": "page totalCount counts only the returned page",
    "offset-off-by-one": "page offset skips one extra sample",
    "maxid-inclusive": "page maxId keeps samples with id == maxId",
    "metadata-and": "page metadata items are combined with AND instead of OR",
    "date-local-tz": "page minDate/maxDate drop the offset and read the time as UTC+01:00",
    "label-string-compare": "page minLabel/maxLabel compare labels as strings",
    "metadata-malformed-unfiltered": "page ignores a malformed metadata filter and lists everything",
}


class Failure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Job:
    id: int
    key: str
    cache_key: tuple[Any, ...]
    created: datetime
    finished: datetime | None = None
    ok: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "key": self.key, "category": "Classify sample",
                               "created": data.iso(self.created), "started": data.iso(self.created),
                               "jobNotificationUids": []}
        if self.finished is not None:
            out["finished"] = data.iso(self.finished)
            out["finishedSuccessful"] = self.ok
            out["computeTime"] = round((self.finished - self.created).total_seconds(), 3)
        return out


@dataclass
class State:
    project: data.Project
    api_key: str
    error_style: str
    regressions: set[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[int, Job] = field(default_factory=dict)
    running: dict[tuple[Any, ...], int] = field(default_factory=dict)
    # value: (sample the result belongs to, classification or None when the job failed)
    cache: dict[tuple[Any, ...], tuple[data.Sample, dict[str, Any] | None]] = field(default_factory=dict)
    next_job: int = 12873488100
    timers: list[threading.Timer] = field(default_factory=list)

    # ------------------------------------------------------------ classify
    def classify(self, sample_id: int, block_id: int, query: dict[str, list[str]]) -> dict[str, Any]:
        variant = as_enum(query, "variant", VARIANTS, "float32")
        truncate = as_bool(query, "truncateStructuredLabels")
        sample = self.project.by_id.get(sample_id)
        if sample is None:
            raise Failure(404, f"Sample {sample_id} not found in project {self.project.id}")
        block = self.project.block(block_id)
        if block is None:
            raise Failure(404, f"Learn block {block_id} not found in any impulse")
        if "variant-ignored" in self.regressions:
            variant = "float32"
        key: tuple[Any, ...] = (block.id, variant)
        if "cache-wrong-sample" not in self.regressions:
            key = (sample.id, *key)
        with self.lock:
            if key in self.cache:
                owner, cls = self.cache[key]
                if cls is None:
                    raise Failure(400, f"Classification of sample {owner.id} failed: corrupt CBOR payload")
                return self._reply(owner, block, cls, truncate)
            if key in self.running:  # one job per (sample, block, variant): hand the same one back
                return {"success": True, "id": self.running[key]}
            needs_job = sample.values_count > data.JOB_VALUES_THRESHOLD or sample.resampled
            if needs_job:
                return {"success": True, "id": self._start_job(sample, block, variant, key)}
        if sample.processing_error:
            raise Failure(400, f"Classification of sample {sample.id} failed: corrupt CBOR payload")
        cls = data.classify(self.project, sample, block, variant, "drop-last-window" in self.regressions)
        with self.lock:
            self.cache[key] = (sample, cls)
        return self._reply(sample, block, cls, truncate)

    def _reply(self, sample: data.Sample, block: data.LearnBlock, cls: dict[str, Any],
               truncate: bool) -> dict[str, Any]:
        imp = self.project.impulses[block.impulse_id]
        cls = dict(cls)
        if truncate and "truncate-windows" in self.regressions:
            cls["result"] = cls["result"][:data.TRUNCATE_SLICE]
        body: dict[str, Any] = {
            "success": True, "classifications": [cls],
            "sample": {"sample": sample.to_json(truncate, self.project.id), "payload": sample.payload(),
                       "totalPayloadLength": sample.values_count},
            "windowSizeMs": imp.window_size_ms, "windowIncreaseMs": imp.window_increase_ms,
            "alreadyInDatabase": True}
        if "window-size-string" in self.regressions:
            body["windowSizeMs"] = str(imp.window_size_ms)
        if sample.length_ms < imp.window_size_ms:
            body["warning"] = "Sample is shorter than the window size; it was zero-padded to one window."
        return body

    def _start_job(self, sample: data.Sample, block: data.LearnBlock, variant: str,
                   key: tuple[Any, ...]) -> int:
        """Called with the lock held. A timer thread completes the job: no sleeps in handlers."""
        self.next_job += 1
        job = Job(self.next_job, f"classify-{sample.id}-{block.id}-{variant}", key, now())
        self.jobs[job.id] = job
        self.running[key] = job.id
        duration = 0.15 + 0.35 * min(1.0, sample.values_count / 200000)
        if "job-never-finishes" not in self.regressions:
            timer = threading.Timer(duration, self._finish_job, (job, sample, block, variant))
            timer.daemon = True
            self.timers.append(timer)
            timer.start()
        return job.id

    def _finish_job(self, job: Job, sample: data.Sample, block: data.LearnBlock, variant: str) -> None:
        cls = None
        if not sample.processing_error:
            cls = data.classify(self.project, sample, block, variant, "drop-last-window" in self.regressions)
        with self.lock:
            self.cache[job.cache_key] = (sample, cls)
            self.running.pop(job.cache_key, None)
            job.ok = cls is not None or "failed-job-successful" in self.regressions
            job.finished = now()

    # ------------------------------------------------------------ jobs
    def job_status(self, job_id: int) -> dict[str, Any]:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                if "unknown-job-success" in self.regressions:
                    return {"success": True, "job": Job(job_id, f"job-{job_id}", (), now()).to_json()}
                raise Failure(404, f"Job {job_id} not found")
            return {"success": True, "job": job.to_json()}

    # ------------------------------------------------------------ page
    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        pq = parse_page(query, self.regressions)
        imp_id = self.project.default_impulse if pq.impulse_id is None else pq.impulse_id
        imp = self.project.impulses.get(imp_id)
        if imp is None:
            raise Failure(404, f"Impulse {imp_id} not found")
        matched = [s for s in self.project.samples if pq.keep(s)]  # ordered by sample id, ascending
        start = pq.offset + (1 if "offset-off-by-one" in self.regressions else 0)
        page = matched[start:start + pq.limit]
        result, preds = [], []
        drop = "drop-last-window" in self.regressions
        for s in page:
            classes = [] if s.processing_error else [
                data.classify(self.project, s, b, pq.variant, drop) for b in imp.blocks]
            result.append({"sampleId": s.id, "sample": s.to_json(pq.truncate, self.project.id),
                           "classifications": classes})
            for cls in classes:
                if cls["learnBlock"]["type"] == "keras":
                    preds.extend(data.predictions(s, cls, imp))
        total = len(page) if "total-count-page" in self.regressions else len(matched)
        return {"success": True, "result": result, "predictions": preds, "totalCount": total}


def path_id(digits: str) -> int:
    # post-freeze fix 1 (PROVENANCE.md): int() refuses over 4300 digits (ValueError -> HTTP 500);
    # an id that long names nothing, so it becomes one that matches nothing (404)
    return int(digits) if len(digits) <= 40 else -1


ROUTES = [
    ("POST", re.compile(r"/v1/api/(\d+)/classify/anomaly-gmm/v2/(\d+)/(\d+)"), "classify"),
    ("GET", re.compile(r"/v1/api/(\d+)/jobs/(\d+)/status"), "job"),
    ("GET", re.compile(r"/v1/api/(\d+)/classify/all/result/page"), "page"),
]
# Query parameters each operation knows; anything else is refused rather than silently ignored.
KNOWN_PARAMS = {
    "classify": {"variant", "truncateStructuredLabels"},
    "job": set(),
    "page": {"limit", "offset", "variant", "impulseId", "truncateStructuredLabels", "labels",
             "filename", "maxLength", "minLength", "minFrequency", "maxFrequency",
             "signatureValidity", "minLabel", "maxLabel", "search", "dataType", "minId", "maxId",
             "metadata", "minDate", "maxDate", "category"},
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every reply carries Content-Length
    server_version = "ei-twin/1.0"
    state: State  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: stdout carries one line only
        pass

    def _send(self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _fail(self, status: int, message: str, extra: dict[str, str] | None = None) -> None:
        code = status if self.state.error_style == "http" else 200
        self._send(code, {"success": False, "error": message}, extra)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain the body so the connection stays usable
        url = urlsplit(self.path)
        st = self.state
        for method, pattern, name in ROUTES:
            m = pattern.fullmatch(url.path)
            if not m:
                continue
            if self.command != method:
                return self._fail(405, f"Method {self.command} not allowed here", {"Allow": method})
            if self.headers.get("x-api-key") != st.api_key:
                return self._fail(401, "Missing or invalid API key (x-api-key header)")
            try:
                query = parse_qs(url.query, keep_blank_values=True)
                unknown = sorted(set(query) - KNOWN_PARAMS[name])
                if unknown:
                    raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)}")
                if path_id(m.group(1)) != st.project.id:
                    raise Failure(404, f"Project {m.group(1)} not found")
                if name == "classify":
                    body = st.classify(path_id(m.group(3)), path_id(m.group(2)), query)
                elif name == "job":
                    body = st.job_status(path_id(m.group(2)))
                else:
                    body = st.page(query)
            except BadRequest as exc:
                return self._fail(400, str(exc))
            except Failure as exc:
                return self._fail(exc.status, exc.message)
            except Exception as exc:  # never a bare 500 without a body
                return self._send(500, {"success": False, "error": f"internal error: {exc!r}"})
            return self._send(200, body)
        self._fail(404, f"No route for {self.command} {url.path}")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


def make_server(host: str, port: int, state: State) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"state": state})
    srv = ThreadingHTTPServer((host, port), handler)
    srv.daemon_threads = True
    return srv


def wait_idle(state: State, timeout: float = 2.0) -> None:
    """For tests: wait until no job is running."""
    end = time.monotonic() + timeout
    while state.running and time.monotonic() < end:
        time.sleep(0.02)
