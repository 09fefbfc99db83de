"""Storage of recording media: files, the conversion queue, the access log.

Like :class:`~session_rater.db.store.Store` it works over an Engine, returns frozen views
(never ORM objects) and keeps every rule in one place:

* a file is known by its content hash; when a known original turns up at a new path it is
  *re-linked* (paths updated, the recording and its ratings untouched);
* the queue hands each job to one worker under a *lease* that the worker renews while it works
  (:meth:`MediaStore.claim_next`, :meth:`MediaStore.renew`): on PostgreSQL the job is picked
  with ``SELECT ... FOR UPDATE SKIP LOCKED``, so workers on any number of machines never get
  the same job nor wait for each other; a job whose lease lapsed (its worker was killed or cut
  off) is taken up again by the next claim, and the worker that lost it can no longer finish it;
* ``max_running`` caps the jobs running at once across every process (1 by default, for one
  machine on SQLite; None for a fleet of workers, one job each);
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

from sqlalchemy import DateTime, Engine, Text, and_, func, insert, literal, null, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from session_rater.db import models as m
from session_rater.db.engine import make_sessionmaker
from session_rater.db.media_models import JOB_ACTIONS, MediaFile, RecordingAccess, TranscodeJob
from session_rater.errors import NotFoundError

_PG_QUEUE_LOCK = 7_215_003  # pg_advisory_xact_lock key: one claimer at a time
DEFAULT_STALE_AFTER = dt.timedelta(minutes=10)
DEFAULT_LEASE = dt.timedelta(seconds=60)
DEFAULT_MAX_ATTEMPTS = 3


def _file_view(f: MediaFile) -> MediaFileView:
    return MediaFileView(
        f.id, f.recording_id, f.kind, f.path, f.content_hash, f.size_bytes, f.container, f.video_codec,
        f.audio_codec, f.width, f.height, f.frame_rate, f.duration_seconds, f.interlaced, f.has_audio,
        f.browser_playable, f.probed_at,
    )  # fmt: skip


def _job_view(j: TranscodeJob) -> JobView:
    return JobView(
        j.id, j.recording_id, j.source_path, j.output_path, j.action, j.status, j.progress, j.message,
        j.cancel_requested, j.created_at, j.started_at, j.finished_at, j.worker_pid, j.worker_host, j.worker_id,
        j.lease_expires_at, j.attempts or 0,
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
            if old is not None:  # other sessions shown from the same file (the demo's reuse its clips) move too
                s.execute(
                    update(m.Recording)
                    .where(m.Recording.id != recording_id, m.Recording.content_hash == content_hash,
                           m.Recording.file_path == old)
                    .values(file_path=new)
                )  # fmt: skip
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

    def claim_next(
        self,
        *,
        max_running: int | None = 1,
        worker_id: str | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> JobView | None:
        """Take the oldest job that is queued, or running under a lease that has lapsed (its
        worker stopped renewing it: killed, or cut off), for ``worker_id`` until now + ``lease``;
        None when there is none or ``max_running`` jobs already run under live leases (None:
        no limit: as many jobs run at once as there are workers).

        On PostgreSQL the job is picked with ``SELECT ... FOR UPDATE SKIP LOCKED``: claimers
        never wait for one another and never get the same row. On SQLite the transaction takes
        the write lock at BEGIN (``BEGIN IMMEDIATE``), which serialises claimers. A job claimed
        ``max_attempts`` times already (it kills its worker every time) fails instead.
        """
        postgres = self.engine.dialect.name == "postgresql"
        worker_id = worker_id or default_worker_id()
        with self._sessions.begin() as s:
            if postgres and max_running is not None:  # the count below must not race
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_QUEUE_LOCK})
            now = _db_now(s)
            lapsed = and_(TranscodeJob.status == "running", TranscodeJob.lease_expires_at < now)
            if max_running is not None:
                held = s.scalar(
                    select(func.count()).select_from(TranscodeJob).where(
                        TranscodeJob.status == "running",
                        or_(TranscodeJob.lease_expires_at.is_(None), TranscodeJob.lease_expires_at >= now),
                    )
                )
                if (held or 0) >= max_running:
                    return None
            while True:
                job = s.scalars(
                    select(TranscodeJob)
                    .where(or_(TranscodeJob.status == "queued", lapsed))
                    .order_by(TranscodeJob.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if job is None:
                    return None
                taken_over = job.status == "running"
                if job.cancel_requested and taken_over:
                    job.status, job.finished_at = "cancelled", now
                    job.message = "Cancelled (its worker had stopped)."
                    continue
                if job.attempts >= max_attempts:
                    job.status, job.finished_at = "failed", now
                    job.message = (f"Given up after {job.attempts} attempts: every worker that took it stopped "
                                   "before the end (out of memory?). Ingest the file again to retry.")  # fmt: skip
                    continue
                previous = job.worker_id
                job.status = "running"
                job.started_at = job.heartbeat_at = now
                job.lease_expires_at = now + lease
                job.progress = 0.0
                job.message = (f"Taken up again: worker {previous} stopped renewing its lease." if taken_over
                               else "")  # fmt: skip
                job.worker_id = worker_id
                job.worker_pid = os.getpid()
                job.worker_host = socket.gethostname()[:255]
                job.attempts = job.attempts + 1
                s.flush()
                return _job_view(job)

    def renew(self, job_id: int, worker_id: str, *, lease: dt.timedelta = DEFAULT_LEASE,
              progress: float | None = None) -> tuple[bool, bool]:  # fmt: skip
        """Extend ``worker_id``'s lease on a running job (and record its progress); returns
        (whether the worker still holds the job, whether a cancel was asked). A worker that no
        longer holds its job (the lease lapsed and another worker took it) must stop at once."""
        with self._sessions.begin() as s:
            job = s.get(TranscodeJob, job_id, with_for_update=True)
            if job is None or job.status != "running" or job.worker_id != worker_id:
                return False, bool(job is not None and job.cancel_requested)
            now = _db_now(s)
            job.lease_expires_at = now + lease
            job.heartbeat_at = now
            if progress is not None:
                job.progress = min(1.0, max(0.0, float(progress)))
            return True, bool(job.cancel_requested)

    def holds(self, job_id: int, worker_id: str) -> bool:
        """Whether ``worker_id`` still holds the running job."""
        with self._sessions() as s:
            row = s.execute(
                select(TranscodeJob.status, TranscodeJob.worker_id).where(TranscodeJob.id == job_id)
            ).first()
            return row is not None and row[0] == "running" and row[1] == worker_id

    def running_outputs(self) -> set[str]:
        """The output paths of the jobs running now under a live lease (their temporary files
        must be left alone)."""
        with self._sessions() as s:
            now = _db_now(s)
            return set(
                s.scalars(
                    select(TranscodeJob.output_path).where(
                        TranscodeJob.status == "running",
                        or_(TranscodeJob.lease_expires_at.is_(None), TranscodeJob.lease_expires_at >= now),
                    )
                )
            )

    def has_work(self) -> bool:
        """Whether a job waits: queued, or running under a lapsed lease (a read, for polling)."""
        with self._sessions() as s:
            now = _db_now(s)
            lapsed = and_(TranscodeJob.status == "running", TranscodeJob.lease_expires_at < now)
            found = s.scalar(select(TranscodeJob.id).where(or_(TranscodeJob.status == "queued", lapsed)).limit(1))
            return found is not None

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
                now = _db_now(s)
                job.progress = min(1.0, max(0.0, float(progress)))
                job.heartbeat_at = now
                job.lease_expires_at = now + DEFAULT_LEASE
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

    def finish(self, job_id: int, status: str, message: str = "", *, worker_id: str | None = None) -> JobView | None:
        """End a running job as ``done``, ``failed`` or ``cancelled``. With ``worker_id``, only
        while that worker holds the job: None (and nothing changed) when it has lost it."""
        if status not in {"done", "failed", "cancelled"}:
            raise ValueError(f"a job finishes as done, failed or cancelled, not {status!r}")
        with self._sessions.begin() as s:
            job = s.get(TranscodeJob, job_id, with_for_update=True)
            if job is None:
                raise NotFoundError(f"There is no conversion job with id {job_id}.")
            if worker_id is not None and (job.status != "running" or job.worker_id != worker_id):
                return None
            job.lease_expires_at = None
            job.status = status
            job.message = message
            job.finished_at = m.utcnow()
            if status == "done":
                job.progress = 1.0
            s.flush()
            return _job_view(job)

    def requeue(self, job_id: int, message: str = "", *, worker_id: str | None = None) -> JobView:
        """Put a running job back in the queue (its worker is stopping, not cancelling); with
        ``worker_id``, only if that worker still holds it."""
        with self._sessions.begin() as s:
            job = _get_job(s, job_id)
            if job.status == "running" and worker_id in (None, job.worker_id):
                _requeue(job, message)
            s.flush()
            return _job_view(job)

    def recover_stale_jobs(
        self, *, pid_alive: Callable[[int], bool], stale_after: dt.timedelta = DEFAULT_STALE_AFTER
    ) -> list[JobView]:
        """Re-queue running jobs whose worker is gone: a dead process on this host (by
        ``pid_alive``), a lease that has lapsed, or no heartbeat for ``stale_after`` (any host).
        A job whose cancel was asked is cancelled. (A claim takes up a lapsed job by itself;
        this also frees the jobs list and the one-at-a-time slot.)"""
        host = socket.gethostname()[:255]
        cutoff = m.utcnow() - stale_after
        recovered = []
        with self._sessions.begin() as s:
            now = _aware(_db_now(s))
            for job in s.scalars(
                select(TranscodeJob).where(TranscodeJob.status == "running").with_for_update(skip_locked=True)
            ):
                heartbeat = _aware(job.heartbeat_at or job.started_at)
                lease = _aware(job.lease_expires_at)
                dead_here = job.worker_host == host and job.worker_pid is not None and not pid_alive(job.worker_pid)
                silent = heartbeat is not None and heartbeat < cutoff
                lapsed = lease is not None and now is not None and lease < now
                if not (dead_here or silent or lapsed):
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
        now = m.utcnow()
        known_person = select(m.Person.id).where(m.Person.id == person_id).scalar_subquery()
        row = (
            insert(RecordingAccess)
            .from_select(
                ["recording_id", "person_id", "accessed_at", "method", "range_header", "status_code"],
                select(
                    m.Recording.id,
                    known_person if person_id is not None else null(),
                    literal(now, DateTime(timezone=True)),
                    literal(method.upper()[:10]),
                    literal(range_header[:200] if range_header else None, Text()),
                    literal(int(status_code)),
                ).where(m.Recording.id == recording_id),
            )
            .returning(RecordingAccess.id, RecordingAccess.person_id)
        )  # one statement: the request is logged only for a recording that exists
        with self.engine.begin() as connection:
            logged = connection.execute(row).first()
        if logged is None:
            return None
        return AccessView(logged[0], recording_id, logged[1], now, method.upper()[:10],
                          range_header[:200] if range_header else None, int(status_code))  # fmt: skip

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


def default_worker_id() -> str:
    """This process's worker id (host and pid, unique across machines)."""
    return f"{socket.gethostname()[:200]}:{os.getpid()}"


def _db_now(session: Session) -> dt.datetime:
    """Now by the database's clock on PostgreSQL (workers on several machines agree on lease
    times even when their clocks drift); this machine's on SQLite, which has one machine."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.scalar(select(func.now()))
        if isinstance(value, dt.datetime):
            return value
    return m.utcnow()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _requeue(job: TranscodeJob, message: str) -> None:
    job.lease_expires_at = None
    job.worker_id = None
    job.status = "queued"
    job.progress = 0.0
    job.started_at = None
    job.heartbeat_at = None
    job.worker_pid = None
    job.worker_host = None
    job.message = message
