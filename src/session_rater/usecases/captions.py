"""Captions (WebVTT) of recordings: where they are, the signed URL the player loads them from,
and adding them.

A recording has captions when either
* an administrator added them on the Recordings page: kept in the data folder as
  ``<SESSION_RATER_DATA_DIR>/captions/<recording id>.vtt`` (checked first), or
* a WebVTT file lies beside the recording file with the same stem (``session.mp4`` and
  ``session.vtt``), copied there with the recording.

Added captions go to the data folder, not beside the recording: the recordings folder is the
operator's copy of the media (often a read-only share, and one file can be ingested as several
recordings), while the data folder is the app's own writable place, like its thumbnails and
converted copies, and is backed up with them. Retention deletes them with the recording.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from session_rater.domain.access import Action
from session_rater.domain.captions import Cue, decode_captions, parse_vtt
from session_rater.domain.records import RecordingView
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.recording_links import signed_recording_path
from session_rater.usecases.services import Services

CAPTIONS_SUFFIX = "/captions"
"""The captions route is the recording's route plus this: ``/recordings/<id>/captions?<same signature>``."""


def added_captions_path(svc: Services, recording_id: int) -> Path:
    return svc.settings.data_dir / "captions" / f"{int(recording_id)}.vtt"


def captions_path(svc: Services, recording: RecordingView) -> Path | None:
    """The recording's captions file, if it has one (added ones first, else beside the file)."""
    if recording.files_deleted_at is not None:  # deleted under the retention policy
        return None
    added = added_captions_path(svc, recording.id)
    if added.is_file():
        return added
    beside = svc.recording_path(recording).with_suffix(".vtt")
    return beside if beside.is_file() else None


def captions_url(me: Permitted, recording: RecordingView) -> str | None:
    """The signed relative URL of the recording's captions for this person (None: it has none)."""
    me.require(Action.PLAY_RECORDING, recording)
    if captions_path(me.svc, recording) is None:
        return None
    path, _, query = signed_recording_path(me.svc.secret, recording.id, me.person.id).partition("?")
    return f"{path}{CAPTIONS_SUFFIX}?{query}"


def read_captions(data: bytes, source: str) -> list[Cue]:
    """The cues of an uploaded file; CaptionsError saying what is wrong (too large, not UTF-8,
    not WebVTT, a bad timing on line n, ...)."""
    return parse_vtt(decode_captions(data, source), source)


def store_captions(svc: Services, recording_id: int, data: bytes, source: str) -> list[Cue]:
    """Check the file and keep it as the recording's captions (replacing added ones); the cues."""
    cues = read_captions(data, source)
    target = added_captions_path(svc, recording_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = decode_captions(data, source).replace("\r\n", "\n")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".vtt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)  # readers see the old file or the new one, never half of one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return cues
