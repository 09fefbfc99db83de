"""Recording files and their conversion, as plain values: a probed file, a conversion job and
its progress, one access to a recording, and whether a recording can be played now."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

ACTIVE_STATUSES = ("queued", "running")


@dataclass(frozen=True)
class MediaFileView:
    id: int
    recording_id: int | None
    kind: str  # "original" | "playable"
    path: str
    content_hash: str
    size_bytes: int
    container: str | None
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    frame_rate: float | None
    duration_seconds: float | None
    interlaced: bool
    has_audio: bool
    browser_playable: bool
    probed_at: dt.datetime


@dataclass(frozen=True)
class JobView:
    id: int
    recording_id: int
    source_path: str
    output_path: str
    action: str  # "remux" | "transcode"
    status: str  # "queued" | "running" | "done" | "failed" | "cancelled"
    progress: float  # 0..1
    message: str
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    worker_pid: int | None
    worker_host: str | None
    worker_id: str | None = None  # the worker holding the job's lease
    lease_expires_at: dt.datetime | None = None
    attempts: int = 0  # how many times a worker has taken it

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class AccessView:
    id: int
    recording_id: int
    person_id: int | None
    accessed_at: dt.datetime
    method: str
    range_header: str | None
    status_code: int


@dataclass(frozen=True)
class PlaybackView:
    """Whether a recording can be played now, and from which file.

    ``status``: ``ready`` (serve ``path``), ``queued`` / ``converting`` (a job is making the
    browser-safe copy; ``progress`` 0..1), ``failed`` / ``cancelled`` (``message`` says why;
    ingest the file again to retry), ``unchecked`` (never ingested, e.g. demo clips: serve
    ``path`` as it is).
    """

    recording_id: int
    status: str
    path: str
    content_hash: str | None
    progress: float = 0.0
    message: str = ""
    job_id: int | None = None

    @property
    def playable(self) -> bool:
        return self.status in {"ready", "unchecked"}

    @property
    def file_present(self) -> bool:
        return Path(self.path).is_file()


@dataclass(frozen=True)
class RelinkResult:
    recording_id: int
    old_path: str | None
    new_path: str
    served_path: str  # Recording.file_path afterwards


@dataclass(frozen=True)
class ConversionProgress:
    fraction: float  # 0..1 of the source's duration written so far
    processed_seconds: float
    total_seconds: float
    speed: float | None  # x realtime, as ffmpeg reports it
