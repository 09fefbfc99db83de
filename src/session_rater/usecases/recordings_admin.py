"""Recordings as administrators manage them: ingesting the recordings folder, the conversion
jobs (follow, cancel), recordings whose file is missing, and the access log. Every use case
here is checked against :data:`Action.MANAGE_RECORDINGS`; the Recordings page is the interface.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from session_rater.domain.access import Action
from session_rater.domain.captions import Cue
from session_rater.domain.media import AccessView, JobView
from session_rater.io.spreadsheets import csv_bytes
from session_rater.usecases.captions import captions_path, store_captions
from session_rater.usecases.conversion_worker import start_worker
from session_rater.usecases.ingest import IngestReport, MissingCheck, expand_paths, forget_missing_check, ingest, missing_check
from session_rater.usecases.permitted import Permitted


ACCESS_RESULTS = {200: "played", 206: "played", 403: "refused: not allowed (or the link had expired)",
                  404: "refused: the file is missing"}  # fmt: skip


class RecordingsAdmin:
    def __init__(self, me: Permitted) -> None:
        me.require(Action.MANAGE_RECORDINGS)
        self.me = me
        self.svc = me.svc

    @property
    def folder(self) -> Path:
        return self.svc.settings.recordings_dir

    def files_in_folder(self) -> list[Path]:
        """The video files in the recordings folder (not the app's own data folder)."""
        folder = self.folder
        return expand_paths([folder], exclude=[self.svc.settings.data_dir]) if folder.is_dir() else []

    def ingest_folder(self, on_progress: Callable[[Path, str, float], None] | None = None) -> IngestReport:
        """Ingest every file of the recordings folder; the conversions it queues start at once
        in the process's background worker (or the next free ``session-rater worker``)."""
        self.me.require(Action.MANAGE_RECORDINGS)
        report = ingest([self.folder], store=self.svc.store, media_store=self.svc.media, settings=self.svc.settings,
                        on_progress=on_progress)  # fmt: skip
        forget_missing_check(self.svc.store, self.svc.settings)  # files re-linked or added: check afresh
        if self.svc.settings.in_app_worker:
            start_worker(self.svc.media, self.svc.settings).wake()
        return report

    # -- captions ---------------------------------------------------------------------------
    def captions_source(self, recording_id: int) -> Path | None:
        """Where the recording's captions come from now (None: it has none)."""
        return captions_path(self.svc, self.svc.recording(recording_id))

    def add_captions(self, recording_id: int, data: bytes, filename: str) -> list[Cue]:
        """Check a WebVTT file and keep it as the recording's captions; CaptionsError says what
        is wrong with a file that is refused (too large, not UTF-8, not WebVTT, a bad timing)."""
        self.me.require(Action.MANAGE_RECORDINGS)
        self.svc.recording(recording_id)  # NotFoundError for an id that names no recording
        cues = store_captions(self.svc, recording_id, data, filename)
        self.svc.store.log_recording_event(recording_id, "captions", {"file": filename, "cues": len(cues)},
                                           by=self.me.person.id)  # fmt: skip
        return cues

    def jobs(self, limit: int = 50) -> list[JobView]:
        return self.svc.media.jobs(limit=limit)

    def cancel_job(self, job_id: int) -> JobView:
        self.me.require(Action.MANAGE_RECORDINGS)
        return self.svc.media.request_cancel(job_id)

    def missing(self, *, again: bool = False) -> MissingCheck:
        """The recordings whose file is missing, as last checked (every few minutes, or now
        when ``again``): a page run does not stat every recording's file."""
        self.me.require(Action.MANAGE_RECORDINGS)
        return missing_check(self.svc.store, self.svc.settings, again=again)

    def access_log(self, limit: int = 500) -> list[AccessView]:
        return self.svc.media.access_log(limit=limit)

    def people_names(self) -> dict[int, str]:
        return {p.id: p.display_name for p in self.svc.store.list_people()}

    def access_log_table(self, limit: int = 500) -> pd.DataFrame:
        """Every request for a recording, newest first: when, who, which session, and whether
        it played or was refused (and why), in words."""
        log = self.access_log(limit=limit)
        people = self.people_names() if log else {}
        sessions = {i: r.label for i, r in self.svc.store.recordings_by_id({e.recording_id for e in log}).items()}
        rows = [
            {
                "when": e.accessed_at,
                "who": people.get(e.person_id, "unknown") if e.person_id else "unknown",
                "session": sessions.get(e.recording_id, f"session {e.recording_id}"),
                "result": ACCESS_RESULTS.get(e.status_code, f"answered {e.status_code}")
                + (" (a later part)" if e.status_code == 206 and not (e.range_header or "").startswith("bytes=0-") else ""),
            }
            for e in log
        ]
        return pd.DataFrame(rows, columns=["when", "who", "session", "result"])

    def access_log_csv(self, limit: int = 500) -> bytes:
        return csv_bytes(self.access_log_table(limit).rename(columns={"when": "when (UTC)"}))
