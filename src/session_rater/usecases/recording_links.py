"""Signed recording links: the key that signs them, a URL for one person and one recording that
expires, and the viewer token the player keeps in a cookie. The recording route
(:mod:`session_rater.web.recordings`) honours a URL only with the viewer token of the person
it was signed for, and only while the access rules still allow it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

from session_rater.errors import ConfigurationError

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


class Viewer(NamedTuple):
    """Who a viewer token names: the person, and the sign-in session it was issued in."""

    person_id: int
    session_id: int


def viewer_token(
    secret: bytes, person_id: int, session_id: int = 0, *, now: float | None = None, ttl: int = DEFAULT_TTL_SECONDS
) -> str:
    """A token naming the person using this browser and their sign-in session, kept in a
    cookie that the player sets.

    A recording URL is honoured only together with the token of the person it was signed
    for, so a URL copied from one person's page does not play for another; and only while
    that sign-in session lasts, so signing out, idle expiry or a closed account end it."""
    now = time.time() if now is None else now
    expires = int((now + ttl) // 3600 + 1) * 3600
    mac = hmac.new(secret, f"viewer\n{person_id}\n{session_id}\n{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{person_id}.{session_id}.{expires}.{mac}"


def viewer_of(secret: bytes, token: str | None, *, now: float | None = None) -> Viewer | None:
    """The person and sign-in session of a valid, unexpired viewer token; None otherwise."""
    try:
        person, session, expires, mac = (token or "").split(".")
        person_id, session_id, expires_at = int(person), int(session), int(expires)
    except ValueError:
        return None
    good = hmac.new(secret, f"viewer\n{person_id}\n{session_id}\n{expires_at}".encode(), hashlib.sha256).hexdigest()
    now = time.time() if now is None else now
    if expires_at >= now and hmac.compare_digest(good.encode(), mac.encode()):
        return Viewer(person_id, session_id)
    return None


def viewer_cookie(secret: bytes, person_id: int, session_id: int = 0) -> str:
    """The ``document.cookie`` assignment the player makes (sent only to recording URLs)."""
    token = viewer_token(secret, person_id, session_id)
    return f"{VIEWER_COOKIE}={token}; path=/recordings; SameSite=Strict; max-age={DEFAULT_TTL_SECONDS}"


def verify(secret: bytes, recording_id: int, person: str | None, expires: str | None, sig: str | None, *, now: float | None = None) -> bool:
    try:
        person_id, expires_at = int(person or ""), int(expires or "")
    except ValueError:
        return False
    now = time.time() if now is None else now
    if expires_at < now:
        return False
    return hmac.compare_digest(_mac(secret, recording_id, person_id, expires_at).encode(), (sig or "").encode())
