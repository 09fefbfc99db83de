"""HTTP routes the app adds beside Streamlit's own (``st.App(routes=...)``).

Recordings are streamed by :func:`recording_endpoint` from disk with Starlette's FileResponse
(Range and HEAD supported, constant memory) behind an HMAC-signed URL that names the recording,
the person it was issued to and an expiry. Never ``st.video(path)``: that reads the whole file
into server memory on every rerun (shared/design/recordings-notes.md, section 1).

A request plays only if the signed URL, the viewer cookie and the access rules agree: both
tokens must name the same person, and ``authorise(recording_id, person_id)`` must still allow
that person to play that recording (their account open, the session in their scope) at the
moment of the request. Every request, allowed or refused, is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from session_rater.errors import ConfigurationError

log = logging.getLogger("session_rater.recordings")

RECORDING_PATH = "/recordings/{recording_id:int}"
DEFAULT_TTL_SECONDS = 4 * 3600


def load_or_create_secret(data_dir: Path, configured: str | None) -> bytes:
    """The URL-signing key: SESSION_RATER_SECRET if set, else one kept in the data folder."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    try:
        if path.exists():
            return path.read_text().strip().encode()
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key.encode()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read or create the signing key {path}: {exc}. Set SESSION_RATER_SECRET "
            "or make SESSION_RATER_DATA_DIR writable."
        ) from exc


def _mac(secret: bytes, recording_id: int, person_id: int, expires: int) -> str:
    message = f"{recording_id}\n{person_id}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_recording_path(
    secret: bytes, recording_id: int, person_id: int, *, now: float | None = None, ttl: int = DEFAULT_TTL_SECONDS
) -> str:
    """A relative URL for one person to stream one recording until it expires.

    The expiry is rounded up to the hour so that reruns within the hour produce the same URL
    (a new ``src`` would make the browser reload the video).
    """
    now = time.time() if now is None else now
    expires = int((now + ttl) // 3600 + 1) * 3600
    query = urlencode({"p": person_id, "exp": expires, "sig": _mac(secret, recording_id, person_id, expires)})
    return f"/recordings/{recording_id}?{query}"


VIEWER_COOKIE = "sr_viewer"


def viewer_token(secret: bytes, person_id: int, *, now: float | None = None, ttl: int = DEFAULT_TTL_SECONDS) -> str:
    """A token naming the person using this browser, kept in a cookie that the player sets.

    A recording URL is honoured only together with the token of the person it was signed
    for, so a URL copied from one person's page does not play for another."""
    now = time.time() if now is None else now
    expires = int((now + ttl) // 3600 + 1) * 3600
    mac = hmac.new(secret, f"viewer\n{person_id}\n{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{person_id}.{expires}.{mac}"


def viewer_of(secret: bytes, token: str | None, *, now: float | None = None) -> int | None:
    """The person id in a valid, unexpired viewer token; None otherwise."""
    try:
        person, expires, mac = (token or "").split(".")
        person_id, expires_at = int(person), int(expires)
    except ValueError:
        return None
    good = hmac.new(secret, f"viewer\n{person_id}\n{expires_at}".encode(), hashlib.sha256).hexdigest()
    now = time.time() if now is None else now
    return person_id if expires_at >= now and hmac.compare_digest(good.encode(), mac.encode()) else None


def viewer_cookie(secret: bytes, person_id: int) -> str:
    """The ``document.cookie`` assignment the player makes (sent only to recording URLs)."""
    return f"{VIEWER_COOKIE}={viewer_token(secret, person_id)}; path=/recordings; SameSite=Strict; max-age={DEFAULT_TTL_SECONDS}"


def verify(secret: bytes, recording_id: int, person: str | None, expires: str | None, sig: str | None, *, now: float | None = None) -> bool:
    try:
        person_id, expires_at = int(person or ""), int(expires or "")
    except ValueError:
        return False
    now = time.time() if now is None else now
    if expires_at < now:
        return False
    return hmac.compare_digest(_mac(secret, recording_id, person_id, expires_at).encode(), (sig or "").encode())


def make_routes(get_secret, resolve_path, log_access=None, authorise=None) -> list[Route]:  # type: ignore[no-untyped-def]
    """Routes for ``st.App``. Called per request, so nothing touches the database at import:
    ``get_secret() -> bytes`` gives the signing key; ``resolve_path(recording_id) -> Path | None``
    finds the file; ``log_access(recording_id, person_id, method, range_header, status_code)``
    records every access (allowed or refused); ``authorise(recording_id, person_id) -> bool``
    applies the access rules to the person the tokens name."""

    def _log(recording_id: int, person_id: int | None, request: Request, status: int) -> None:
        log.info("recording %s person %s %s %s -> %s", recording_id, person_id, request.method,
                 request.headers.get("range", "-"), status)
        if log_access is not None:
            log_access(recording_id, person_id, request.method, request.headers.get("range"), status)

    async def recording_endpoint(request: Request) -> Response:
        recording_id = request.path_params["recording_id"]
        q = request.query_params
        secret = await run_in_threadpool(get_secret)
        viewer = viewer_of(secret, request.cookies.get(VIEWER_COOKIE))
        signed = verify(secret, recording_id, q.get("p"), q.get("exp"), q.get("sig"))
        if not signed or viewer is None or str(viewer) != q.get("p"):
            await run_in_threadpool(_log, recording_id, viewer, request, 403)
            return PlainTextResponse(
                "This recording link is invalid, has expired or was issued to someone else. "
                "Open the session in Session Rater again.",
                status_code=403,
            )
        if authorise is not None and not await run_in_threadpool(authorise, recording_id, viewer):
            await run_in_threadpool(_log, recording_id, viewer, request, 403)
            return PlainTextResponse(
                "You may no longer watch this recording (your account or your access to this session "
                "has changed). Open Session Rater again.",
                status_code=403,
            )
        path = await run_in_threadpool(resolve_path, recording_id)
        if path is None or not Path(path).is_file():
            await run_in_threadpool(_log, recording_id, viewer, request, 404)
            return PlainTextResponse("The recording file is missing on the server.", status_code=404)
        await run_in_threadpool(_log, recording_id, viewer, request, 206 if "range" in request.headers else 200)
        return FileResponse(
            path,
            media_type="video/mp4",
            headers={
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": "inline",
                "Referrer-Policy": "no-referrer",
            },
        )

    return [Route(RECORDING_PATH, recording_endpoint, methods=["GET", "HEAD"])]
