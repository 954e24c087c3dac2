"""Background jobs of the service: one worker thread runs them one at a time (a benchmark saturates the
few cores a DLOM host has); each job reports ``progress`` in [0, 1] and a message through a callback,
and finished jobs stay readable by id. Job bodies are library functions (e.g.
:func:`measure.build_new.measure_configuration`); this module only schedules them and keeps their state.
"""
from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kg.progress import PhaseReport
from measure.plan import NotRunnableHere

log = logging.getLogger("dlom.jobs")

JobState = Literal["queued", "running", "succeeded", "failed"]


@dataclass
class Job:
    """One background job. Read it through :meth:`JobRegistry.snapshot` (a consistent copy)."""

    id: str
    description: str
    status: JobState = "queued"
    progress: float = 0.0
    message: str = "queued"
    result: dict[str, Any] = field(default_factory=dict)
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    finished: dt.datetime | None = None


JobBody = Callable[[PhaseReport, dict[str, Any]], str]
"""A job's work: gets the progress callback and its (mutable) result dict; returns the final message.
Raising :class:`NotRunnableHere` or any exception fails the job with that message."""


class JobRegistry:
    """Runs submitted jobs one at a time on a daemon worker thread, keeping the last ``keep`` jobs."""

    def __init__(self, keep: int = 200) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Job, JobBody]] = queue.Queue()
        self._keep = keep
        self._worker: threading.Thread | None = None

    def submit(self, description: str, body: JobBody, result: Mapping[str, Any] | None = None) -> str:
        """Queue ``body``; returns the job id at once. ``result`` seeds the job's result (e.g. the
        predicted figures, shown while the job runs)."""
        job = Job(id=uuid.uuid4().hex, description=description, result=dict(result or {}))
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:  # forget the oldest finished job
                oldest = next((j for j in self._jobs.values() if j.finished is not None), None)
                if oldest is None:
                    break
                del self._jobs[oldest.id]
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, daemon=True, name="dlom-jobs")
                self._worker.start()
        self._queue.put((job, body))
        return job.id

    def snapshot(self, job_id: str) -> Job | None:
        """A copy of the job's current state (None for an unknown id)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            return Job(job.id, job.description, job.status, job.progress, job.message, dict(job.result),
                       job.created, job.finished)

    def _update(self, job: Job, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(job, k, v)

    def _run(self) -> None:
        while True:
            job, body = self._queue.get()
            self._update(job, status="running", message="started")

            def report(progress: float, message: str, job: Job = job) -> None:
                self._update(job, progress=min(1.0, max(0.0, float(progress))), message=message)

            result = dict(job.result)
            try:
                message = body(report, result)
            except NotRunnableHere as e:
                self._update(job, status="failed", message=str(e), result=result,
                             finished=dt.datetime.now(dt.timezone.utc))
            except Exception as e:  # noqa: BLE001 - a failed job is reported through its status, never lost
                log.exception("job %s (%s) failed", job.id, job.description)
                self._update(job, status="failed", message=f"{type(e).__name__}: {e}", result=result,
                             finished=dt.datetime.now(dt.timezone.utc))
            else:
                self._update(job, status="succeeded", progress=1.0, message=message, result=result,
                             finished=dt.datetime.now(dt.timezone.utc))
            finally:
                self._queue.task_done()
