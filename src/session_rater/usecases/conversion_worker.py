"""Run the conversion queue: one job at a time, outside the Streamlit script.

* :func:`run_next_job` claims the oldest queued job (if no job runs anywhere) and runs it in
  the calling thread: the CLI uses it in the foreground, where Ctrl-C cancels the job cleanly.
* :class:`JobWorker` is a background thread that does the same in a loop; the app starts one
  per server process with :func:`start_worker` (idempotent). A page reload does not touch it;
  stopping the server re-queues the running job (ffmpeg is killed, nothing half-written stays).

While a job runs its progress and a heartbeat are written to the database about once a second,
and ``cancel_requested`` is read back at the same time; a cancel stops ffmpeg within a second.
On success the recording is pointed at the browser-safe file and its thumbnails are made.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from session_rater.db.media_store import MediaStore
from session_rater.domain.media import JobView
from session_rater.errors import RecordingError
from session_rater.media.ffmpeg import probe
from session_rater.media.hashing import content_hash
from session_rater.media.thumbnails import thumbnail_strip
from session_rater.media.transcode import (
    pid_alive,
    Action,
    ConversionCancelled,
    ConversionProgress,
    convert,
    plan_for,
    remove_orphaned_partials,
)
from session_rater.usecases.services import Services
from session_rater.settings import Settings

log = logging.getLogger("session_rater.usecases.conversion_worker")

PROGRESS_WRITE_SECONDS = 1.0
POLL_SECONDS = 2.0
JobProgress = Callable[[JobView, ConversionProgress], None]


def run_next_job(
    media_store: MediaStore,
    settings: Settings,
    *,
    on_progress: JobProgress | None = None,
    stop: threading.Event | None = None,
    max_running: int = 1,
) -> JobView | None:
    """Claim the next queued job and run it to its end; returns the finished job, or None when
    there is nothing to run (an empty queue, or ``max_running`` jobs running elsewhere)."""
    job = media_store.claim_next(max_running=max_running)
    if job is None:
        return None
    return run_job(job, media_store, settings, on_progress=on_progress, stop=stop)


def run_job(
    job: JobView,
    media_store: MediaStore,
    settings: Settings,
    *,
    on_progress: JobProgress | None = None,
    stop: threading.Event | None = None,
) -> JobView:
    """Run a job already claimed by this process. ``stop`` (the worker shutting down) kills
    ffmpeg and puts the job back in the queue; a cancel request ends it as cancelled; Ctrl-C
    (KeyboardInterrupt) cancels it and is raised again."""
    watch = _Watch(job, media_store, stop, on_progress)
    try:
        message = _convert(job, media_store, settings, watch)
    except ConversionCancelled:
        if watch.cancel_requested or stop is None or not stop.is_set():
            return media_store.finish(job.id, "cancelled", "Cancelled; the original is untouched.")
        return media_store.requeue(job.id, "Re-queued: the worker was stopped.")
    except RecordingError as exc:
        return media_store.finish(job.id, "failed", str(exc))
    except KeyboardInterrupt:
        media_store.finish(job.id, "cancelled", "Cancelled with Ctrl-C; the original is untouched.")
        raise
    except Exception as exc:
        media_store.finish(job.id, "failed", f"Unexpected error (a bug; please report it): {exc!r}")
        raise
    return media_store.finish(job.id, "done", message)


def _convert(job: JobView, media_store: MediaStore, settings: Settings, watch: _Watch) -> str:
    source = _source_of(job, media_store)
    info = probe(source)
    plan = plan_for(info)
    original = next((f for f in media_store.files_of(job.recording_id) if f.kind == "original"), None)
    recording_hash = original.content_hash if original is not None else content_hash(source)
    if plan.action is Action.AS_IS:  # the file was replaced by a browser-safe export since it was queued
        media_store.record_file(
            recording_id=job.recording_id, kind="playable", path=source, content_hash=content_hash(source), info=info
        )
        media_store.set_served_file(job.recording_id, source, duration_seconds=info.duration_seconds)
        return "The original plays in the browser as it is; nothing to convert." + _thumbnails(
            source, recording_hash, info.duration_seconds, settings
        )
    output = Path(job.output_path)
    result = convert(
        source, output, info=info, plan=plan, on_progress=watch.progress, should_cancel=watch.should_cancel
    )
    media_store.record_file(
        recording_id=job.recording_id, kind="playable", path=output, content_hash=content_hash(output), info=result.info
    )
    media_store.set_served_file(job.recording_id, output, duration_seconds=result.info.duration_seconds)
    took = f"{plan.action.value} took {result.elapsed_seconds:.1f} s ({result.speed:.1f}x realtime)"
    return took + _thumbnails(output, recording_hash, result.info.duration_seconds, settings)


def _source_of(job: JobView, media_store: MediaStore) -> Path:
    """The original's current path (it may have been re-linked since the job was queued)."""
    for media in media_store.files_of(job.recording_id):
        if media.kind == "original":
            return Path(media.path)
    return Path(job.source_path)


def _thumbnails(video: Path, recording_hash: str, duration: float, settings: Settings) -> str:
    try:
        strip = thumbnail_strip(video, recording_hash, data_dir=settings.data_dir, duration_seconds=duration)
    except (RecordingError, OSError) as exc:
        log.warning("no thumbnails for %s: %s", video, exc)
        return f"; no thumbnails ({exc})"
    return f"; {len(strip)} thumbnails"


class _Watch:
    """Progress and cancel checks of one running job, written/read at most once a second."""

    def __init__(
        self, job: JobView, media_store: MediaStore, stop: threading.Event | None, on_progress: JobProgress | None
    ) -> None:
        self.job = job
        self.media_store = media_store
        self.stop = stop
        self.on_progress = on_progress
        self.cancel_requested = False
        self._fraction = 0.0
        self._last_write = 0.0

    def progress(self, progress: ConversionProgress) -> None:
        self._fraction = progress.fraction
        if self.on_progress is not None:
            self.on_progress(self.job, progress)

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now - self._last_write >= PROGRESS_WRITE_SECONDS:
            self._last_write = now
            self.cancel_requested = self.media_store.update_progress(self.job.id, self._fraction)
        return self.cancel_requested or (self.stop is not None and self.stop.is_set())


class JobWorker:
    """A background thread that runs queued jobs one at a time until :meth:`stop`."""

    def __init__(
        self,
        media_store: MediaStore,
        settings: Settings,
        *,
        poll_seconds: float = POLL_SECONDS,
        max_running: int = 1,
    ) -> None:
        self.media_store = media_store
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.max_running = max_running
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.current_job_id: int | None = None

    def start(self) -> JobWorker:
        """Re-queue jobs left running by a dead process, delete their temporary files, and
        start the thread (once)."""
        if self._thread is not None:
            return self
        for job in recover_stale_jobs(self.media_store):
            log.warning("job %s: %s", job.id, job.message)
        remove_orphaned_partials(self.settings.data_dir / "media")
        self._thread = threading.Thread(target=self._run, name="session-rater-jobs", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the queue now (after enqueueing) instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop: a running job is interrupted and re-queued; waits up to ``timeout`` s."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self._run_one()
            except Exception:  # logged; the worker keeps serving the queue
                log.exception("the conversion worker hit an unexpected error")
                ran = False
            if not ran:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def _run_one(self) -> bool:
        if not self.media_store.has_queued():
            return False
        job = self.media_store.claim_next(max_running=self.max_running)
        if job is None:  # work is waiting but something holds the slot: is that job still alive?
            for stale in recover_stale_jobs(self.media_store):
                log.warning("job %s: %s", stale.id, stale.message)
            return False
        self.current_job_id = job.id
        try:
            finished = run_job(job, self.media_store, self.settings, stop=self._stop)
            log.info("job %s %s: %s", finished.id, finished.status, finished.message)
        finally:
            self.current_job_id = None
        return True


_worker_lock = threading.Lock()
_worker: JobWorker | None = None


def start_worker(media_store: MediaStore, settings: Settings) -> JobWorker:
    """The process's one :class:`JobWorker`, started on the first call (safe to call on every
    script run). It is stopped at interpreter exit, re-queueing a job it was running."""
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive:
            _worker = JobWorker(media_store, settings).start()
            atexit.register(_worker.stop)
        return _worker


def recover_stale_jobs(media_store: MediaStore) -> list[JobView]:
    """Put back in the queue the jobs left running by a process that died (on this machine) or
    went silent (on any)."""
    return media_store.recover_stale_jobs(pid_alive=pid_alive)


class Conversions:
    """The conversion jobs as the command line works them: list, cancel, recover, run here."""

    def __init__(self, svc: Services) -> None:
        self.media_store = svc.media
        self.settings = svc.settings

    def jobs(self, *, status: str | Iterable[str] | None = None, limit: int = 100) -> list[JobView]:
        """Newest first."""
        return self.media_store.jobs(status=status, limit=limit)

    def job(self, job_id: int) -> JobView:
        return self.media_store.get_job(job_id)

    def cancel(self, job_id: int) -> JobView:
        return self.media_store.request_cancel(job_id)

    def recover_stale(self) -> list[JobView]:
        return recover_stale_jobs(self.media_store)

    def run_next(self, on_progress: JobProgress | None = None) -> JobView | None:
        return run_next_job(self.media_store, self.settings, on_progress=on_progress)
