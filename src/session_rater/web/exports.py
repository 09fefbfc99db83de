"""``GET /exports/<name>``: a download made for the person signed in by this browser's cookies
(see usecases/exports.py). Without a live sign-in it answers 401; a file they may not have,
403. Nothing is cached or kept: each request makes its file anew."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from session_rater.errors import AccessDeniedError, NotFoundError, SessionRaterError
from session_rater.usecases.exports import Export, export
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services
from session_rater.web.signin import ORGANISATION_COOKIE, SESSION_COOKIE

log = logging.getLogger("session_rater.exports")
EXPORT_PATH = "/exports/{name}"
ORIGIN_PARAM = "_origin"
"""The address of the app as the browser reached it (``https://host``), for links inside a
report (a PDF's evidence moments). Set by the route, never taken from the query."""


def page_origin(request: Request) -> str:
    """The origin of the page the download was asked from (its Referer), when that page is on
    this site (the same host the request came to); else empty."""
    referer = urlsplit(request.headers.get("referer") or "")
    host = (request.headers.get("host") or "").lower()
    if referer.scheme in ("http", "https") and referer.netloc and referer.netloc.lower() == host:
        return f"{referer.scheme}://{referer.netloc}"
    return ""


def make_export_routes(get_services: Callable[[], Services]) -> list[Route]:
    def _make(session_cookie: str | None, organisation_cookie: str | None, name: str,
              params: dict[str, str]) -> Export | Response:  # fmt: skip
        svc = get_services()
        signed = svc.accounts.signed_in(session_cookie, organisation_cookie)
        if signed is None:
            return PlainTextResponse("Sign in to Session Rater first, then download the file from its page.",
                                     status_code=401)  # fmt: skip
        return export(Permitted(svc, signed.person, signed.session.id), name, params)

    async def download(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            made = await run_in_threadpool(_make, request.cookies.get(SESSION_COOKIE),
                                           request.cookies.get(ORGANISATION_COOKIE), name,
                                           {**request.query_params, ORIGIN_PARAM: page_origin(request)})  # fmt: skip
        except AccessDeniedError as exc:
            return PlainTextResponse(str(exc), status_code=403)
        except NotFoundError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        except (SessionRaterError, ValueError) as exc:
            log.warning("export %s failed: %s", name, exc)
            return PlainTextResponse(f"The file could not be made: {exc}", status_code=400)
        if isinstance(made, Response):
            return made
        return Response(made.data, media_type=made.media_type, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(made.file_name)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        })  # fmt: skip

    return [Route(EXPORT_PATH, download, methods=["GET"])]
