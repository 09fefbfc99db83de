"""Storage of recording media: files, the conversion queue, the access log.

Like :class:`~session_rater.db.store.Store` it works over an Engine, returns frozen views
(never ORM objects) and keeps every rule in one place:

* a file is known by its content hash; when a known original turns up at a new path it is
  *re-linked* (paths updated, the recording and its ratings untouched);
* the queue hands out one job at a time across every process (by default): claiming is one
  atomic ``UPDATE`` (on PostgreSQL behind a transaction-scoped advisory lock), so two workers
  never run the same job nor two jobs at once;
* a running job whose worker died is put back in the queue (:meth:`MediaStore.recover_stale_jobs`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Iterable
from typing import Protocol

from session_rater.domain.media import ACTIVE_STATUSES, AccessView, JobView, MediaFileView, PlaybackView, RelinkResult
from pathlib import Path

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from session_rater.db import models as m
from session_rater.db.engine import make_sessionmaker
from session_rater.db.media_models import JOB_ACTIONS, MediaFile, RecordingAccess, TranscodeJob
from session_rater.errors import NotFoundError

_PG_QUEUE_LOCK = 7_215_003  # pg_advisory_xact_lock key: one claimer at a time
DEFAULT_STALE_AFTER = dt.timedelta(minutes=10)


def _file_view(f: MediaFile) -> MediaFileView:
    return MediaFileView(
        f.id, f.recording_id, f.kind, f.path, f.content_hash, f.size_bytes, f.container, f.video_codec,
        f.audio_codec, f.width, f.height, f.frame_rate, f.duration_seconds, f.interlaced, f.has_audio,
        f.browser_playable, f.probed_at,
    )  # fmt: skip


def _job_view(j: TranscodeJob) -> JobView:
    return JobView(
        j.id, j.recording_id, j.source_path, j.output_path, j.action, j.status, j.progress, j.message,
        j.cancel_requested, j.created_at, j.started_at, j.finished_at, j.worker_pid, j.worker_host,
    )  # fmt: skip


def _access_view(a: RecordingAccess) -> AccessView:
    return AccessView(a.id, a.recording_id, a.person_id, a.accessed_at, a.method, a.range_header, a.status_code)


def _get_job(session: Session, job_id: int) -> TranscodeJob:
    job = session.get(TranscodeJob, job_id)
    if job is None:
        raise NotFoundError(f"There is no conversion job with id {job_id}.")
    return job


class ProbedFile(Protocol):
    """What storage keeps of a probe of a file (media.ffmpeg.VideoInfo has it)."""

    size_bytes: int
    container: str
    video_codec: str
    audio_codec: str | None
    width: int
    height: int
    frame_rate: float | None
    duration_seconds: float
    interlaced: bool
    has_audio: bool

    @property
    def browser_playable(self) -> bool: ...


class MediaStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = make_sessionmaker(engine)

    # -- media files ------------------------------------------------------------------------
    def record_file(
        self, *, recording_id: int | None, kind: str, path: Path | str, content_hash: str, info: ProbedFile
    ) -> MediaFileView:
        """Add or update the ``kind`` file with ``content_hash`` (its path, probe, owner)."""
        with self._sessions.begin() as s:
            row = s.scalars(
                select(MediaFile).where(MediaFile.kind == kind, MediaFile.content_hash == content_hash)
            ).first()
            if row is None:
                row = MediaFile(kind=kind, content_hash=content_hash)
                s.add(row)
            row.recording_id = recording_id
            row.path = str(path)
            row.size_bytes = info.size_bytes
            row.container = info.container
            row.video_codec = info.video_codec
            row.audio_codec = info.audio_codec
            row.width = info.width
            row.height = info.height
            row.frame_rate = info.frame_rate
            row.duration_seconds = info.duration_seconds
            row.interlaced = info.interlaced
            row.has_audio = info.has_audio
            row.browser_playable = info.browser_playable and not info.interlaced
            row.probed_at = m.utcnow()
            s.flush()
            return _file_view(row)

    def find_file(self, kind: str, content_hash: str) -> MediaFileView | None:
        with self._sessions() as s:
            row = s.scalars(
                select(MediaFile).where(MediaFile.kind == kind, MediaFile.content_hash == content_hash)
            ).first()
            return None if row is None else _file_view(row)

    def files_of(self, recording_id: int) -> list[MediaFileView]:
        with self._sessions() as s:
            rows = s.scalars(select(MediaFile).where(MediaFile.recording_id == recording_id).order_by(MediaFile.id))
            return [_file_view(r) for r in rows]

    def all_files(self) -> list[MediaFileView]:
        with self._sessions() as s:
            return [_file_view(r) for r in s.scalars(select(MediaFile).order_by(MediaFile.id))]

    def recording_for_hash(self, content_hash: str) -> int | None:
        """The recording whose original has this content hash, if any."""
        with self._sessions() as s:
            found = s.scalar(
                select(MediaFile.recording_id).where(
                    MediaFile.kind == "original",
                    MediaFile.content_hash == content_hash,
                    MediaFile.recording_id.is_not(None),
                )
            )
            if found is None:
                found = s.scalar(
                    select(m.Recording.id).where(m.Recording.content_hash == content_hash).order_by(m.Recording.id)
                )
            return found

    def relink(self, recording_id: int, content_hash: str, new_path: Path | str) -> RelinkResult:
        """The original with ``content_hash`` now lives at ``new_path``: update its path, and the
        served path where the recording was served from its original. Ratings are untouched."""
        new = str(new_path)
        with self._sessions.begin() as s:
            recording = s.get(m.Recording, recording_id)
            if recording is None:
                raise NotFoundError(f"There is no recorded session with id {recording_id}.")
            original = s.scalars(
                select(MediaFile).where(MediaFile.kind == "original", MediaFile.content_hash == content_hash)
            ).first()
            old = original.path if original is not None else None
            if original is not None:
                original.path = new
                original.recording_id = recording_id
            playable = s.scalars(
                select(MediaFile).where(MediaFile.kind == "playable", MediaFile.content_hash == content_hash)
            ).first()
            if playable is not None and playable.path == old:
                playable.path = new
            if recording.file_path == old or (old is None and not Path(recording.file_path).is_file()):
                recording.file_path = new
            if recording.content_hash is None:
                recording.content_hash = content_hash
            s.flush()
            return RelinkResult(recording_id, old, new, recording.file_path)

    def set_served_file(self, recording_id: int, path: Path | str, *, duration_seconds: float | None = None) -> None:
        """Point the recording at the file the app should serve."""
        with self._sessions.begin() as s:
            recording = s.get(m.Recording, recording_id)
            if recording is None:
                raise NotFoundError(f"There is no recorded session with id {recording_id}.")
            recording.file_path = str(path)
            if duration_seconds is not None:
                recording.duration_seconds = duration_seconds

    # -- playback state ---------------------------------------------------------------------
    def playback(self, recording_id: int) -> PlaybackView:
        views = self.playback_of([recording_id])
        if recording_id not in views:
            raise NotFoundError(f"There is no recorded session with id {recording_id}.")
        return views[recording_id]

    def playback_of(self, recording_ids: Iterable[int] | None = None) -> dict[int, PlaybackView]:
        """recording id -> :class:`PlaybackView` (every recording when ``recording_ids`` is None),
        in three queries whatever the number of recordings."""
        with self._sessions() as s:
            recordings = select(m.Recording.id, m.Recording.file_path, m.Recording.content_hash)
            files = select(MediaFile).where(MediaFile.recording_id.is_not(None))
            latest = select(func.max(TranscodeJob.id)).group_by(TranscodeJob.recording_id)
            jobs = select(TranscodeJob).where(TranscodeJob.id.in_(latest))
            if recording_ids is not None:
                ids = list(recording_ids)
                recordings = recordings.where(m.Recording.id.in_(ids))
                files = files.where(MediaFile.recording_id.in_(ids))
                jobs = jobs.where(TranscodeJob.recording_id.in_(ids))
            by_recording: dict[int, list[MediaFile]] = {}
            for f in s.scalars(files):
                by_recording.setdefault(f.recording_id or 0, []).append(f)
            last_job = {j.recording_id: j for j in s.scalars(jobs)}
            views = {}
            for rid, file_path, recording_hash in s.execute(recordings):
                media = by_recording.get(rid, [])
                original = next((f for f in media if f.kind == "original"), None)
                playable = next((f for f in media if f.kind == "playable"), None)
                content_hash = recording_hash or (original.content_hash if original else None)
                views[rid] = _playback(rid, file_path, content_hash, media, playable, last_job.get(rid))
            return views

    # -- the job queue ----------------------------------------------------------------------
    def enqueue(self, recording_id: int, source_path: Path | str, output_path: Path | str, action: str) -> JobView:
        """Queue a conversion; returns the recording's queued or running job instead if it has one."""
        if action not in JOB_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(JOB_ACTIONS)}, not {action!r}")
        with self._sessions.begin() as s:
            active = s.scalars(
                select(TranscodeJob).where(
                    TranscodeJob.recording_id == recording_id, TranscodeJob.status.in_(ACTIVE_STATUSES)
                )
            ).first()
            if active is not None:
                return _job_view(active)
            job = TranscodeJob(
                recording_id=recording_id,
                source_path=str(source_path),
                output_path=str(output_path),
                action=action,
                status="queued",
                progress=0.0,
                message="",
                cancel_requested=False,
            )
            s.add(job)
            s.flush()
            return _job_view(job)

    def claim_next(self, *, max_running: int = 1) -> JobView | None:
        """Mark the oldest queued job as running by this process and return it; None when the
        queue is empty or ``max_running`` jobs already run (in any process)."""
        now = m.utcnow()
        queued_first = (
            select(TranscodeJob.id)
            .where(TranscodeJob.status == "queued")
            .order_by(TranscodeJob.id)
            .limit(1)
            .scalar_subquery()
        )
        running = select(func.count()).select_from(TranscodeJob).where(TranscodeJob.status == "running")
        claim = (
            update(TranscodeJob)
            .where(TranscodeJob.id == queued_first, TranscodeJob.status == "queued")
            .where(running.scalar_subquery() < max_running)
            .values(
                status="running",
                started_at=now,
                heartbeat_at=now,
                progress=0.0,
                message="",
                worker_pid=os.getpid(),
                worker_host=socket.gethostname()[:255],
            )
            .returning(TranscodeJob.id)
            .execution_options(synchronize_session=False)
        )
        with self._sessions.begin() as s:
            if self.engine.dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_QUEUE_LOCK})
            claimed = s.scalar(claim)
            if claimed is None:
                return None
            return _job_view(_get_job(s, claimed))

    def has_queued(self) -> bool:
        """Whether any job waits (a cheap read, for polling)."""
        with self._sessions() as s:
            return s.scalar(select(TranscodeJob.id).where(TranscodeJob.status == "queued").limit(1)) is not None

    def update_progress(self, job_id: int, progress: float, message: str | None = None) -> bool:
        """Record a running job's progress (0..1) and heartbeat; returns whether a cancel was
        requested, which the worker must honour."""
        with self._sessions.begin() as s:
            job = _get_job(s, job_id)
            if job.status == "running":
                job.progress = min(1.0, max(0.0, float(progress)))
                job.heartbeat_at = m.utcnow()
                if message is not None:
                    job.message = message
            return bool(job.cancel_requested)

    def cancel_requested(self, job_id: int) -> bool:
        with self._sessions() as s:
            return bool(s.scalar(select(TranscodeJob.cancel_requested).where(TranscodeJob.id == job_id)))

    def request_cancel(self, job_id: int) -> JobView:
        """Cancel a job: a queued one at once, a running one as soon as its worker notices
        (within a second or so). Finished jobs are left as they are."""
        with self._sessions.begin() as s:
            job = _get_job(s, job_id)
            if job.status == "queued":
                job.status = "cancelled"
                job.cancel_requested = True
                job.finished_at = m.utcnow()
                job.message = "Cancelled before it started."
            elif job.status == "running":
                job.cancel_requested = True
            s.flush()
            return _job_view(job)

    def finish(self, job_id: int, status: str, message: str = "") -> JobView:
        """End a running job as ``done``, ``failed`` or ``cancelled``."""
        if status not in {"done", "failed", "cancelled"}:
            raise ValueError(f"a job finishes as done, failed or cancelled, not {status!r}")
        with self._sessions.begin() as s:
            job = _get_job(s, job_id)
            job.status = status
            job.message = message
            job.finished_at = m.utcnow()
            if status == "done":
                job.progress = 1.0
            s.flush()
            return _job_view(job)

    def requeue(self, job_id: int, message: str = "") -> JobView:
        """Put a running job back in the queue (its worker is stopping, not cancelling)."""
        with self._sessions.begin() as s:
            job = _get_job(s, job_id)
            if job.status == "running":
                _requeue(job, message)
            s.flush()
            return _job_view(job)

    def recover_stale_jobs(
        self, *, pid_alive: Callable[[int], bool], stale_after: dt.timedelta = DEFAULT_STALE_AFTER
    ) -> list[JobView]:
        """Re-queue running jobs whose worker is gone: a dead process on this host (by
        ``pid_alive``), or no heartbeat for ``stale_after`` (any host). A job whose cancel was
        asked is cancelled."""
        host = socket.gethostname()[:255]
        cutoff = m.utcnow() - stale_after
        recovered = []
        with self._sessions.begin() as s:
            for job in s.scalars(select(TranscodeJob).where(TranscodeJob.status == "running")):
                heartbeat = job.heartbeat_at or job.started_at
                if heartbeat is not None and heartbeat.tzinfo is None:
                    heartbeat = heartbeat.replace(tzinfo=dt.UTC)
                dead_here = job.worker_host == host and job.worker_pid is not None and not pid_alive(job.worker_pid)
                silent = heartbeat is not None and heartbeat < cutoff
                if not (dead_here or silent):
                    continue
                if job.cancel_requested:
                    job.status = "cancelled"
                    job.finished_at = m.utcnow()
                    job.message = "Cancelled (its worker had stopped)."
                else:
                    _requeue(job, "Re-queued: the process running it stopped.")
                recovered.append(job)
            s.flush()
            return [_job_view(j) for j in recovered]

    def get_job(self, job_id: int) -> JobView:
        with self._sessions() as s:
            return _job_view(_get_job(s, job_id))

    def jobs(
        self, *, status: str | Iterable[str] | None = None, recording_id: int | None = None, limit: int = 100
    ) -> list[JobView]:
        """Newest first."""
        with self._sessions() as s:
            query = select(TranscodeJob).order_by(TranscodeJob.id.desc()).limit(limit)
            if status is not None:
                statuses = [status] if isinstance(status, str) else list(status)
                query = query.where(TranscodeJob.status.in_(statuses))
            if recording_id is not None:
                query = query.where(TranscodeJob.recording_id == recording_id)
            return [_job_view(j) for j in s.scalars(query)]

    def active_job(self, recording_id: int) -> JobView | None:
        found = self.jobs(status=ACTIVE_STATUSES, recording_id=recording_id, limit=1)
        return found[0] if found else None

    # -- access log -------------------------------------------------------------------------
    def log_access(
        self,
        recording_id: int,
        person_id: int | None,
        method: str,
        range_header: str | None,
        status_code: int,
    ) -> AccessView | None:
        """Record one request for a recording. Requests for a recording that does not exist are
        not recorded (returns None); an unknown person is recorded as None."""
        with self._sessions.begin() as s:
            if s.get(m.Recording, recording_id) is None:
                return None
            if person_id is not None and s.get(m.Person, person_id) is None:
                person_id = None
            row = RecordingAccess(
                recording_id=recording_id,
                person_id=person_id,
                accessed_at=m.utcnow(),
                method=method.upper()[:10],
                range_header=range_header[:200] if range_header else None,
                status_code=int(status_code),
            )
            s.add(row)
            s.flush()
            return _access_view(row)

    def access_log(
        self, recording_id: int | None = None, *, person_id: int | None = None, limit: int = 200
    ) -> list[AccessView]:
        """Newest first."""
        with self._sessions() as s:
            query = select(RecordingAccess).order_by(RecordingAccess.id.desc()).limit(limit)
            if recording_id is not None:
                query = query.where(RecordingAccess.recording_id == recording_id)
            if person_id is not None:
                query = query.where(RecordingAccess.person_id == person_id)
            return [_access_view(a) for a in s.scalars(query)]


def _playback(
    recording_id: int,
    file_path: str,
    content_hash: str | None,
    media: list[MediaFile],
    playable: MediaFile | None,
    job: TranscodeJob | None,
) -> PlaybackView:
    if playable is not None and playable.path == file_path:
        return PlaybackView(recording_id, "ready", file_path, content_hash, 1.0, "", job.id if job else None)
    if job is not None:
        status = {"queued": "queued", "running": "converting", "done": "ready"}.get(job.status, job.status)
        return PlaybackView(recording_id, status, file_path, content_hash, job.progress, job.message, job.id)
    if media:
        return PlaybackView(recording_id, "failed", file_path, content_hash, 0.0,
                            "No browser-safe copy has been made; ingest the file again.")  # fmt: skip
    return PlaybackView(recording_id, "unchecked", file_path, content_hash)


def _requeue(job: TranscodeJob, message: str) -> None:
    job.status = "queued"
    job.progress = 0.0
    job.started_at = None
    job.heartbeat_at = None
    job.worker_pid = None
    job.worker_host = None
    job.message = message
