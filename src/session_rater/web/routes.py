"""Every route the app adds beside Streamlit's, for ``st.App(routes=...)``."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import Route

from session_rater.usecases import process
from session_rater.web.exports import make_export_routes
from session_rater.web.recordings import make_routes
from session_rater.web.signin import make_auth_routes


def routes(organisation_configured: Callable[[], bool] = lambda: False) -> list[Route]:
    """The recording stream, sign-in and sign-out, the keepalive and the downloads. Nothing
    touches the database until a request comes."""
    return make_routes(
        process.signing_key, process.recording_file, process.log_recording_access, process.may_play,
        process.accel_redirect_prefix, process.captions_file,
    ) + make_auth_routes(
        lambda: process.shared_services().accounts,
        organisation_configured,
        lambda: process.shared_services().settings.trusted_proxies,
    ) + make_export_routes(process.shared_services)
