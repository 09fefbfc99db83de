"""What the app process shares between the Streamlit script and its own HTTP routes."""

from __future__ import annotations

import threading
from pathlib import Path

from starlette.routing import Route

from session_rater.errors import NotFoundError
from session_rater.usecases.conversion_worker import start_worker
from session_rater.usecases.services import Services, open_services
from session_rater.web.recordings import make_routes
from session_rater.web.signin import make_auth_routes

_lock = threading.Lock()
_services: Services | None = None


def organisation_configured() -> bool:
    """Whether an OpenID Connect provider is set up (``[auth]`` in .streamlit/secrets.toml)."""
    try:
        import streamlit as st

        return "auth" in st.secrets
    except Exception:  # no secrets file at all  # noqa: BLE001
        return False


def shared_services() -> Services:
    """One Services per process: migrated, rubrics read, demo loaded on an empty database, and
    the conversion worker running in the background (outside any script run, so a page reload
    never stops a transcode)."""
    global _services
    with _lock:
        if _services is None:
            _services = open_services()
            start_worker(_services.media, _services.settings)
        return _services


def reset_shared_services() -> None:
    """Forget the process's Services (after a demo reset or a rubric edit)."""
    global _services
    with _lock:
        _services = None


def _resolve(recording_id: int) -> Path | None:
    services = shared_services()
    try:
        return services.recording_path(services.recording(recording_id))
    except NotFoundError:
        return None


def _log_access(recording_id: int, person_id: int | None, method: str, range_header: str | None, status: int) -> None:
    shared_services().media.log_access(recording_id, person_id, method, range_header, status)


def _authorise(recording_id: int, person_id: int) -> bool:
    from session_rater.domain.access import Action
    from session_rater.usecases.permitted import Permitted

    services = shared_services()
    try:
        person = services.accounts_store.active_person(person_id)
        if person is None:  # unknown, or the account was closed
            return False
        permitted = Permitted(services, person)
        return bool(permitted.decide(Action.PLAY_RECORDING, services.recording(recording_id)))
    except NotFoundError:
        return False


def routes() -> list[Route]:
    return make_routes(lambda: shared_services().secret, _resolve, _log_access, _authorise) + make_auth_routes(
        lambda: shared_services().accounts, organisation_configured
    )
