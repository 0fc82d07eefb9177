"""Background classify jobs and the result cache they fill.

Everything here runs on the server's event loop thread (handlers are async and never hand
work to a thread pool), so plain dicts need no locks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from eicontract.server.render import JSON, iso
from eicontract.server.seams import Seams

log = logging.getLogger("eicontract.server.jobs")

JOB_CATEGORY = "Classify sample"
JOB_CATEGORY_KEY = "classify"
FIRST_JOB_ID = 1


class JobFailed(Exception):
    """A job's computation failed for a reason of the data (a sample whose processing failed):
    the job's outcome, not a bug of the server, so it is not logged as one."""


@dataclass(frozen=True, slots=True)
class CacheKey:
    """What a cached classify result depends on."""

    sample_id: int
    block_id: int
    variant: str
    truncate: bool

    @property
    def job_key(self) -> str:
        suffix = "-truncated" if self.truncate else ""
        return f"classify-{self.sample_id}-{self.block_id}-{self.variant}{suffix}"


@dataclass(slots=True)
class Job:
    id: int
    key: str
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None
    successful: bool | None = None

    def to_json(self) -> JSON:
        doc: JSON = {
            "id": self.id,
            "key": self.key,
            "category": JOB_CATEGORY,
            "categoryKey": JOB_CATEGORY_KEY,
            "created": iso(self.created),
            "jobNotificationUids": [],
        }
        if self.started is not None:
            doc["started"] = iso(self.started)
        if self.finished is not None:
            doc["finished"] = iso(self.finished)
            doc["finishedSuccessful"] = bool(self.successful)
            if self.started is not None:
                doc["computeTime"] = round((self.finished - self.started).total_seconds(), 3)
        return doc


def _now(not_before: datetime) -> datetime:
    # Never earlier than the previous timestamp of the same job, whatever the wall clock does.
    return max(datetime.now(UTC), not_before)


class JobRegistry:
    def __init__(self, job_seconds: float, seams: Seams | None = None,
                 first_id: int = FIRST_JOB_ID) -> None:
        self._job_seconds = job_seconds
        self._seams = seams or Seams()  # the job seam: whether and how a started job ends
        self._jobs: dict[int, Job] = {}
        self._running: dict[CacheKey, Job] = {}
        self._results: dict[CacheKey, JSON] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong refs: the loop keeps only weak ones
        self._next_id = first_id

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def cached(self, key: CacheKey) -> JSON | None:
        return self._results.get(key)

    def running(self, key: CacheKey) -> Job | None:
        return self._running.get(key)

    def start(self, key: CacheKey, compute: Callable[[], JSON]) -> Job:
        """Create a job and its background task; call from the event loop."""
        job = self.new_job(key)
        self._running[key] = job
        task = asyncio.get_running_loop().create_task(self._run(job, key, compute))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def new_job(self, key: CacheKey) -> Job:
        job = Job(id=self._next_id, key=key.job_key, created=datetime.now(UTC))
        self._next_id += 1
        self._jobs[job.id] = job
        return job

    async def _run(self, job: Job, key: CacheKey, compute: Callable[[], JSON]) -> None:
        await asyncio.sleep(0)  # the reply with the job id goes out first
        job.started = _now(job.created)
        if not self._seams.job_started(job):
            return
        await asyncio.sleep(self._job_seconds)
        successful = (self._compute_into_cache(job, key, compute) if self._seams.job_succeeds(key)
                      else False)
        if job.finished is None:
            job.successful = self._seams.job_outcome(successful)
            job.finished = _now(job.started)
        if self._running.get(key) is job:  # a later job of the key may have taken its place
            del self._running[key]

    def _compute_into_cache(self, job: Job, key: CacheKey, compute: Callable[[], JSON]) -> bool:
        try:
            result = compute()
        except JobFailed as failure:
            log.info("classify job %s failed: %s", job.id, failure)
            return False
        except Exception:  # a failed job is reported, not raised into the loop
            log.exception("classify job %s failed", job.id)
            return False
        self._results[key] = result
        return True
