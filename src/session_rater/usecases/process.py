"""What the app process shares between the Streamlit script and its own HTTP routes: one
Services, opened once, and the use cases of the recording route (find the file, check who may
play it, log the access)."""

from __future__ import annotations

import threading
from pathlib import Path

from session_rater.domain.access import Action
from session_rater.errors import NotFoundError
from session_rater.usecases.captions import captions_path
from session_rater.usecases.conversion_worker import start_worker
from session_rater.usecases.instance import hold_embedded_database
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services, open_services
from session_rater.settings import load_settings

_lock = threading.Lock()
_services: Services | None = None


def shared_services() -> Services:
    """One Services per process: migrated, rubrics read, demo loaded on an empty database, and
    the conversion worker running in the background unless SESSION_RATER_IN_APP_WORKER=0
    (outside any script run, so a page reload never stops a transcode). On the embedded SQLite
    database the process first claims it: a second app process on the same file is refused."""
    global _services
    with _lock:
        if _services is None:
            settings = load_settings()
            hold_embedded_database(settings)  # a second app process on one SQLite file is refused
            _services = open_services(settings)
            if _services.settings.in_app_worker:
                start_worker(_services.media, _services.settings)
        return _services


def reset_shared_services() -> None:
    """Forget the process's Services (after a demo reset or a rubric edit)."""
    global _services
    with _lock:
        _services = None


def recording_file(recording_id: int) -> Path | None:
    """Where the recording's file should be (None: no such recording)."""
    services = shared_services()
    stored = services.store.recording_file_path(recording_id)
    if stored is None:
        return None
    path = Path(stored)
    return path if path.is_absolute() else services.settings.recordings_dir / path


def captions_file(recording_id: int) -> Path | None:
    """Where the recording's captions are (None: no such recording, or it has none)."""
    services = shared_services()
    try:
        return captions_path(services, services.recording(recording_id))
    except NotFoundError:
        return None


def log_recording_access(recording_id: int, person_id: int | None, method: str, range_header: str | None,
                         status: int) -> None:  # fmt: skip
    shared_services().media.log_access(recording_id, person_id, method, range_header, status)


def may_play(recording_id: int, person_id: int, session_id: int) -> bool:
    """Whether the person a recording URL names may still play it now: the sign-in session the
    viewer token was issued in still live (not signed out, not idle, the account open) and the
    session in their scope (checked on every request, not only when the URL was made)."""
    services = shared_services()
    try:
        if not services.accounts.session_is_live(session_id, person_id):
            return False
        person = services.accounts_store.active_person(person_id)
        if person is None:  # unknown, or the account was closed
            return False
        return bool(Permitted(services, person).decide(Action.PLAY_RECORDING, services.recording(recording_id)))
    except NotFoundError:
        return False


def signing_key() -> bytes:
    return shared_services().secret


def accel_redirect_prefix() -> str | None:
    """SESSION_RATER_ACCEL_REDIRECT: the reverse proxy's internal location that sends recording
    files itself (None: the app streams them)."""
    return shared_services().settings.accel_redirect or None
