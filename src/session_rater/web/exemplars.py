"""The exemplar route: one exemplar clip, never the recording it is cut from.

``/recordings/exemplars/<clip id>?p=<person>&exp=<expiry>&sig=<HMAC>`` plays only if the URL
was signed for that clip and person (signed apart from recording URLs, so that no recording URL
opens a clip nor a clip URL a recording), the viewer cookie names the same person, and
``authorise(clip_id, person_id, session_id)`` still allows it at the moment of the request (the
access rule PLAY_EXEMPLAR and blindness, usecases.exemplar_clips). Every request by a known
person, allowed or refused, is written to the recording access log against the clip's
recording, as plays of recordings are, its Range prefixed with ``exemplar clip <id>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from session_rater.errors import RecordingError
from session_rater.usecases.exemplar_clips import EXEMPLAR_PATH, verify_exemplar
from session_rater.usecases.recording_links import VIEWER_COOKIE, viewer_of

log = logging.getLogger("session_rater.recordings")

MAX_ID = 2**63 - 1
REFUSED = ("This exemplar clip link is invalid, has expired or was issued to someone else. "
           "Open the Rate page in Session Rater again.")  # fmt: skip
HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
           "Content-Disposition": "inline", "Referrer-Policy": "no-referrer"}  # fmt: skip


def make_exemplar_routes(get_secret: Callable[[], bytes], clip_recording: Callable[[int], int | None],
                         clip_file: Callable[[int], Path | None],
                         log_access: Callable[[int, int | None, str, str | None, int], None] | None = None,
                         authorise: Callable[[int, int, int], bool] | None = None) -> list[Route]:  # fmt: skip
    """``clip_recording(clip_id)``: the clip's recording (None: no such clip); ``clip_file(clip_id)``:
    the clip's own file, cut on first use; ``log_access(recording_id, person_id, method, range,
    status)``: the recording access log; ``authorise(clip_id, person_id, session_id)``: the rule."""

    def _log(clip_id: int, person_id: int, request: Request, status: int) -> None:
        recording_id = clip_recording(clip_id)
        log.info("exemplar clip %s (recording %s) person %s %s %s -> %s", clip_id, recording_id, person_id,
                 request.method, request.headers.get("range", "-"), status)  # fmt: skip
        if log_access is not None and recording_id is not None:
            where = f"exemplar clip {clip_id}" + (f"; {request.headers['range']}" if "range" in request.headers else "")
            log_access(recording_id, person_id, request.method, where, status)

    async def exemplar_endpoint(request: Request) -> Response:
        clip_id = request.path_params["clip_id"]
        if clip_id > MAX_ID:
            return PlainTextResponse("There is no such exemplar clip.", status_code=404)
        secret = await run_in_threadpool(get_secret)
        token = viewer_of(secret, request.cookies.get(VIEWER_COOKIE))
        if token is None:  # names nobody: the server log only (the recording route does the same)
            log.warning("refused anonymous request for exemplar clip %s", clip_id)
            return PlainTextResponse(REFUSED, status_code=403)
        viewer, q = token.person_id, request.query_params
        if not verify_exemplar(secret, clip_id, q.get("p"), q.get("exp"), q.get("sig")) or str(viewer) != q.get("p"):
            await run_in_threadpool(_log, clip_id, viewer, request, 403)
            return PlainTextResponse(REFUSED, status_code=403)
        if authorise is not None and not await run_in_threadpool(authorise, clip_id, viewer, token.session_id):
            await run_in_threadpool(_log, clip_id, viewer, request, 403)
            return PlainTextResponse("You may no longer watch this exemplar clip (you signed out, your sign-in "
                                     "ended, or your access has changed). Open Session Rater again.", status_code=403)
        try:
            path = await run_in_threadpool(clip_file, clip_id)
        except RecordingError as exc:
            log.error("exemplar clip %s could not be cut: %s", clip_id, exc)
            await run_in_threadpool(_log, clip_id, viewer, request, 503)
            return PlainTextResponse("This exemplar clip cannot be played now; tell your administrator.",
                                     status_code=503)  # fmt: skip
        if path is None or not Path(path).is_file():
            await run_in_threadpool(_log, clip_id, viewer, request, 404)
            return PlainTextResponse("The recording this exemplar clip is cut from is missing on the server.",
                                     status_code=404)  # fmt: skip
        await run_in_threadpool(_log, clip_id, viewer, request, 206 if "range" in request.headers else 200)
        return FileResponse(path, media_type="video/mp4", headers=HEADERS)

    return [Route(EXEMPLAR_PATH, exemplar_endpoint, methods=["GET", "HEAD"])]
