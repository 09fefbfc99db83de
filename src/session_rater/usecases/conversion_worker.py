"""Run the conversion queue, outside the Streamlit script: each worker one job at a time.

* :func:`run_next_job` claims the oldest queued job and runs it in the calling thread: the CLI
  uses it in the foreground, where Ctrl-C cancels the job cleanly.
* :class:`JobWorker` does the same in a loop: ``session-rater worker`` runs one in the
  foreground on any machine that reaches the database and the shared folders, and each app
  process starts one in the background with :func:`start_worker` (unless
  SESSION_RATER_IN_APP_WORKER=0). A page reload does not touch it; stopping it re-queues the
  running job (ffmpeg is killed, nothing half-written stays).

A claimed job is held under a *lease* (SESSION_RATER_JOB_LEASE_SECONDS). While it runs, a
keeper thread renews the lease and writes the progress about once a second, and reads back
``cancel_requested``; a cancel stops ffmpeg within a second. A worker that is killed stops
renewing: when its lease lapses the next claim takes the job up again and deletes the dead
worker's temporary file. A worker that finds it has lost its lease stops and records nothing.
On success the recording is pointed at the browser-safe file and its thumbnails are made.

On one machine on SQLite one job runs at a time across every process (``max_running=1``); on
PostgreSQL each worker runs one job and there is no limit across workers (add workers to
convert more at once).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from session_rater.db.media_store import MediaStore, default_worker_id
from session_rater.domain.media import JobView
from session_rater.errors import RecordingError
from session_rater.media.ffmpeg import probe
from session_rater.media.hashing import content_hash
from session_rater.media.thumbnails import thumbnail_strip
from session_rater.media.transcode import (
    PARTIAL_MARK,
    pid_alive,
    Action,
    ConversionCancelled,
    ConversionProgress,
    convert,
    plan_for,
)
from session_rater.usecases.services import Services
from session_rater.settings import Settings

log = logging.getLogger("session_rater.usecases.conversion_worker")

PROGRESS_WRITE_SECONDS = 1.0
POLL_SECONDS = 2.0
JobProgress = Callable[[JobView, ConversionProgress], None]


def new_worker_id() -> str:
    """A worker's id: its host and process, and a random part (two workers of one process
    differ)."""
    return f"{default_worker_id()}:{secrets.token_hex(3)}"


def max_running_for(settings: Settings) -> int | None:
    """One job at a time on the one machine of an SQLite install; one per worker on PostgreSQL."""
    return 1 if settings.is_sqlite else None


def run_next_job(
    media_store: MediaStore,
    settings: Settings,
    *,
    on_progress: JobProgress | None = None,
    stop: threading.Event | None = None,
    max_running: int | None | str = "default",
    worker_id: str | None = None,
) -> JobView | None:
    """Claim the next queued job (or one whose lease lapsed) and run it to its end; returns
    the finished job, or None when there is nothing to run (an empty queue, or ``max_running``
    jobs running elsewhere) or the job was lost to another worker."""
    worker_id = worker_id or new_worker_id()
    limit = max_running_for(settings) if max_running == "default" else max_running
    job = media_store.claim_next(max_running=limit, worker_id=worker_id,  # type: ignore[arg-type]
                                 lease=lease_of(settings))  # fmt: skip
    if job is None:
        return None
    return run_job(job, media_store, settings, on_progress=on_progress, stop=stop)


def lease_of(settings: Settings) -> dt.timedelta:
    return dt.timedelta(seconds=settings.job_lease_seconds)


def run_job(
    job: JobView,
    media_store: MediaStore,
    settings: Settings,
    *,
    on_progress: JobProgress | None = None,
    stop: threading.Event | None = None,
) -> JobView:
    """Run a job this worker has claimed. ``stop`` (the worker shutting down) kills ffmpeg and
    puts the job back in the queue; a cancel request ends it as cancelled; Ctrl-C
    (KeyboardInterrupt) cancels it and is raised again. If the lease is lost meanwhile (this
    worker was cut off long enough for another to take the job), ffmpeg is killed and nothing
    is recorded: the job as the database now has it is returned."""
    worker = job.worker_id or ""
    _remove_partials_of(job)  # a previous holder's, if it was killed mid-job
    watch = _Watch(job, media_store, stop, on_progress, lease_of(settings))
    watch.start()
    try:
        try:
            message = _convert(job, media_store, settings, watch)
        finally:
            watch.close()
    except ConversionCancelled:
        if watch.lost:
            return media_store.get_job(job.id)
        if watch.cancel_requested or stop is None or not stop.is_set():
            return _end(media_store, job, "cancelled", "Cancelled; the original is untouched.", worker)
        return media_store.requeue(job.id, "Re-queued: the worker was stopped.", worker_id=worker or None)
    except RecordingError as exc:
        return _end(media_store, job, "failed", str(exc), worker)
    except KeyboardInterrupt:
        _end(media_store, job, "cancelled", "Cancelled with Ctrl-C; the original is untouched.", worker)
        raise
    except Exception as exc:
        _end(media_store, job, "failed", f"Unexpected error (a bug; please report it): {exc!r}", worker)
        raise
    return _end(media_store, job, "done", message, worker)


def _end(media_store: MediaStore, job: JobView, status: str, message: str, worker: str) -> JobView:
    finished = media_store.finish(job.id, status, message, worker_id=worker or None)
    return finished if finished is not None else media_store.get_job(job.id)


def _remove_partials_of(job: JobView) -> list[Path]:
    """Delete the temporary files of this job's output (left by a worker that was killed
    mid-job: whoever holds the job now owns its output)."""
    output = Path(job.output_path)
    if not output.parent.is_dir():
        return []
    removed = []
    for path in output.parent.glob(f".{output.stem}.*{PARTIAL_MARK}{output.suffix}"):
        path.unlink(missing_ok=True)
        removed.append(path)
        log.warning("job %s: deleted %s, the temporary file of an earlier attempt", job.id, path.name)
    return removed


def remove_orphaned_partials(media_store: MediaStore, settings: Settings) -> list[Path]:
    """Delete the temporary files in the media folder that belong to no job running under a
    live lease (on any machine): what killed workers left behind."""
    folder = settings.data_dir / "media"
    if not folder.is_dir():
        return []
    live = {Path(p).stem for p in media_store.running_outputs()}
    removed = []
    for path in folder.glob(f".*{PARTIAL_MARK}*"):
        stem = path.name[1:].split(".", 1)[0]
        if stem in live:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


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
    if job.worker_id and not media_store.holds(job.id, job.worker_id):
        watch.lost = True  # another worker took the job meanwhile: it records the result
        raise ConversionCancelled("The lease on this job was lost; another worker has it.")
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
    """A running job's lease and progress: a keeper thread renews the lease and writes the
    progress about once a second and reads back whether a cancel was asked or the lease lost;
    ffmpeg's loop only reads the flags."""

    def __init__(
        self,
        job: JobView,
        media_store: MediaStore,
        stop: threading.Event | None,
        on_progress: JobProgress | None,
        lease: dt.timedelta,
    ) -> None:
        self.job = job
        self.media_store = media_store
        self.stop = stop
        self.on_progress = on_progress
        self.lease = lease
        self.cancel_requested = False
        self.lost = False
        self._fraction = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"session-rater-lease-{job.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._done.set()
        self._thread.join(10)

    def _keep(self) -> None:
        every = min(PROGRESS_WRITE_SECONDS, self.lease.total_seconds() / 3)
        while not self._done.wait(every):
            try:
                if self.job.worker_id:
                    held, cancel = self.media_store.renew(self.job.id, self.job.worker_id, lease=self.lease,
                                                          progress=self._fraction)  # fmt: skip
                    self.lost = self.lost or not held
                else:
                    cancel = self.media_store.update_progress(self.job.id, self._fraction)
                self.cancel_requested = self.cancel_requested or cancel
            except Exception:  # the database is out of reach for a moment: try again next time
                log.warning("job %s: could not renew the lease", self.job.id, exc_info=True)

    def progress(self, progress: ConversionProgress) -> None:
        self._fraction = progress.fraction
        if self.on_progress is not None:
            self.on_progress(self.job, progress)

    def should_cancel(self) -> bool:
        return self.lost or self.cancel_requested or (self.stop is not None and self.stop.is_set())


class JobWorker:
    """A background thread that runs queued jobs one at a time until :meth:`stop`."""

    def __init__(
        self,
        media_store: MediaStore,
        settings: Settings,
        *,
        poll_seconds: float = POLL_SECONDS,
        max_running: int | None | str = "default",
    ) -> None:
        self.media_store = media_store
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.max_running = max_running_for(settings) if max_running == "default" else max_running
        self.worker_id = new_worker_id()
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
        remove_orphaned_partials(self.media_store, self.settings)
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

    def run_one(self) -> bool:
        """Run one job in the calling thread (``session-rater worker --once``); False when
        there was none to run."""
        return self._run_one()

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
        if not self.media_store.has_work():
            return False
        job = self.media_store.claim_next(max_running=self.max_running, worker_id=self.worker_id,  # type: ignore[arg-type]
                                          lease=lease_of(self.settings))  # fmt: skip
        if job is None:  # work is waiting but something holds the slot: is that job still alive?
            for stale in recover_stale_jobs(self.media_store):
                log.warning("job %s: %s", stale.id, stale.message)
            return False
        self.current_job_id = job.id
        try:
            finished = run_job(job, self.media_store, self.settings, stop=self._stop)
            log.info("job %s %s (worker %s, attempt %s): %s", finished.id, finished.status, self.worker_id,
                     job.attempts, finished.message)  # fmt: skip
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

    def worker(self, *, poll_seconds: float = POLL_SECONDS) -> JobWorker:
        """A worker for ``session-rater worker`` (not started)."""
        return JobWorker(self.media_store, self.settings, poll_seconds=poll_seconds)
