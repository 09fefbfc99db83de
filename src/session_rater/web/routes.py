"""Every route the app adds beside Streamlit's, for ``st.App(routes=...)``."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import Route

from session_rater.usecases import exemplar_clips, process
from session_rater.web.exemplars import make_exemplar_routes
from session_rater.web.exports import make_export_routes
from session_rater.web.recordings import make_routes
from session_rater.web.signin import make_auth_routes


def routes(organisation_configured: Callable[[], bool] = lambda: False) -> list[Route]:
    """The recording stream, exemplar clips, sign-in and sign-out, the keepalive and the
    downloads. Nothing touches the database until a request comes."""
    return make_routes(
        process.signing_key, process.recording_file, process.log_recording_access, process.may_play,
        process.accel_redirect_prefix, process.captions_file,
    ) + make_exemplar_routes(
        process.signing_key,
        lambda clip_id: exemplar_clips.clip_recording(process.shared_services(), clip_id),
        lambda clip_id: exemplar_clips.clip_file(process.shared_services(), clip_id),
        process.log_recording_access,
        lambda clip_id, person_id, session_id: exemplar_clips.may_play_exemplar(
            process.shared_services(), clip_id, person_id, session_id),
    ) + make_auth_routes(
        lambda: process.shared_services().accounts,
        organisation_configured,
        lambda: process.shared_services().settings.trusted_proxies,
    ) + make_export_routes(process.shared_services)
