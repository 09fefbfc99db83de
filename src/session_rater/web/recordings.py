"""HTTP routes the app adds beside Streamlit's own (``st.App(routes=...)``).

Recordings are streamed by :func:`recording_endpoint` from disk with Starlette's FileResponse
(Range and HEAD supported, constant memory) behind an HMAC-signed URL that names the recording,
the person it was issued to and an expiry. Never ``st.video(path)``: that reads the whole file
into server memory on every rerun (shared/design/recordings-notes.md, section 1).

A request plays only if the signed URL, the viewer cookie and the access rules agree: both
tokens must name the same person, and ``authorise(recording_id, person_id)`` must still allow
that person to play that recording (their account open, the session in their scope) at the
moment of the request, and the sign-in session the viewer token was issued in must still be
live (signing out, idle expiry and a closed account end it). Every request by a known person,
allowed or refused, is in the access log; refusals of requests that name nobody (no valid
viewer token) go to the server log only, at most once a minute per address, so anonymous
traffic cannot grow the database.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from session_rater.usecases.recording_links import VIEWER_COOKIE, verify, viewer_of

log = logging.getLogger("session_rater.recordings")

RECORDING_PATH = "/recordings/{recording_id:int}"
CAPTIONS_PATH = RECORDING_PATH + "/captions"  # the same signed query as the recording's URL
MAX_ID = 2**63 - 1  # ids are signed 64-bit integers: a larger one names no recording
ANONYMOUS_LOG_EVERY = 60.0  # seconds between server-log lines about one address's anonymous refusals
REFUSED = ("This recording link is invalid, has expired or was issued to someone else. "
           "Open the session in Session Rater again.")  # fmt: skip


def make_routes(get_secret, resolve_path, log_access=None, authorise=None, accel_prefix=None,  # type: ignore[no-untyped-def]
                resolve_captions=None) -> list[Route]:
    """Routes for ``st.App``. Called per request, so nothing touches the database at import:
    ``get_secret() -> bytes`` gives the signing key; ``resolve_path(recording_id) -> Path | None``
    finds the file; ``log_access(recording_id, person_id, method, range_header, status_code)``
    records every access by a known person (allowed or refused); ``authorise(recording_id,
    person_id, session_id) -> bool`` applies the access rules to the person the tokens name,
    in the sign-in session the viewer token was issued in; ``accel_prefix() -> str | None``:
    when it gives a prefix (SESSION_RATER_ACCEL_REDIRECT), an allowed request is answered with
    ``X-Accel-Redirect: <prefix><file path>`` and no body, and the reverse proxy (nginx) sends
    the file itself, Range and all, from an ``internal`` location (deploy/nginx);
    ``resolve_captions(recording_id) -> Path | None`` finds the recording's captions (WebVTT),
    served at ``/recordings/<id>/captions`` under the recording's own signed query."""
    anonymous: dict[str, float] = {}  # address -> when its anonymous refusals were last written to the log

    def _anonymous(request: Request, recording_id: int, status: int) -> None:
        address = request.client.host if request.client else "-"
        now = time.monotonic()
        if now - anonymous.get(address, -ANONYMOUS_LOG_EVERY) >= ANONYMOUS_LOG_EVERY:
            anonymous[address] = now
            if len(anonymous) > 10_000:  # keep the memory bounded too
                anonymous.clear()
            log.warning("refused anonymous request for recording %s from %s -> %s (further ones from this "
                        "address are not logged for a minute)", recording_id, address, status)  # fmt: skip

    def _log(recording_id: int, person_id: int | None, request: Request, status: int) -> None:
        log.info("recording %s person %s %s %s -> %s", recording_id, person_id, request.method,
                 request.headers.get("range", "-"), status)
        if log_access is not None:
            log_access(recording_id, person_id, request.method, request.headers.get("range"), status)

    async def _refusal(request: Request, recording_id: int, log_refusal=True) -> tuple[Response | None, int | None]:  # type: ignore[no-untyped-def]
        """(a refusal, or None and the viewer's person id): the signed URL, the viewer cookie
        and the access rules must agree."""
        if recording_id > MAX_ID:
            _anonymous(request, recording_id, 404)
            return PlainTextResponse("There is no such recording.", status_code=404), None
        q = request.query_params
        secret = await run_in_threadpool(get_secret)
        token = viewer_of(secret, request.cookies.get(VIEWER_COOKIE))
        if token is None:
            _anonymous(request, recording_id, 403)
            return PlainTextResponse(REFUSED, status_code=403), None
        viewer = token.person_id
        signed = verify(secret, recording_id, q.get("p"), q.get("exp"), q.get("sig"))
        if not signed or str(viewer) != q.get("p"):
            if log_refusal:
                await run_in_threadpool(_log, recording_id, viewer, request, 403)
            return PlainTextResponse(REFUSED, status_code=403), viewer
        if authorise is not None and not await run_in_threadpool(authorise, recording_id, viewer, token.session_id):
            if log_refusal:
                await run_in_threadpool(_log, recording_id, viewer, request, 403)
            return PlainTextResponse(
                "You may no longer watch this recording (you signed out, your sign-in ended, or your access "
                "to this session has changed). Open Session Rater again.",
                status_code=403,
            ), viewer
        return None, viewer

    async def recording_endpoint(request: Request) -> Response:
        recording_id = request.path_params["recording_id"]
        refused, viewer = await _refusal(request, recording_id)
        if refused is not None:
            return refused
        path = await run_in_threadpool(resolve_path, recording_id)
        if path is None or not Path(path).is_file():
            await run_in_threadpool(_log, recording_id, viewer, request, 404)
            return PlainTextResponse("The recording file is missing on the server.", status_code=404)
        await run_in_threadpool(_log, recording_id, viewer, request, 206 if "range" in request.headers else 200)
        headers = {
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
            "Referrer-Policy": "no-referrer",
        }
        prefix = accel_prefix() if accel_prefix is not None else None
        if prefix:  # the proxy sends the file (sendfile, Range): no bytes through Python
            target = prefix.rstrip("/") + quote(str(Path(path).resolve()))
            return Response(status_code=200, media_type="video/mp4", headers={**headers, "X-Accel-Redirect": target})
        return FileResponse(path, media_type="video/mp4", headers=headers)

    async def captions_endpoint(request: Request) -> Response:
        """The recording's captions (WebVTT), under the same signed URL and checks as the
        recording itself. Requests go to the server log, not the access log (which lists
        plays of recordings)."""
        recording_id = request.path_params["recording_id"]
        refused, viewer = await _refusal(request, recording_id, log_refusal=False)
        status = refused.status_code if refused is not None else 200
        path = None
        if refused is None and resolve_captions is not None:
            path = await run_in_threadpool(resolve_captions, recording_id)
        if refused is None and (path is None or not Path(path).is_file()):
            refused, status = PlainTextResponse("This recording has no captions.", status_code=404), 404
        if viewer is not None:
            log.info("captions of recording %s person %s %s -> %s", recording_id, viewer, request.method, status)
        if refused is not None:
            return refused
        return FileResponse(path, media_type="text/vtt; charset=utf-8", headers={  # type: ignore[arg-type]
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline", "Referrer-Policy": "no-referrer"})  # fmt: skip

    return [Route(RECORDING_PATH, recording_endpoint, methods=["GET", "HEAD"]),
            Route(CAPTIONS_PATH, captions_endpoint, methods=["GET", "HEAD"])]
