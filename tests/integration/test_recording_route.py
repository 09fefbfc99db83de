"""The recording route streams from disk with Range and HEAD behind a signed, expiring URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from session_rater.usecases.recording_links import (
    VIEWER_COOKIE,
    load_or_create_secret,
    signed_recording_path,
    verify,
    viewer_of,
    viewer_token,
)
from session_rater.web.recordings import make_routes

SECRET = b"k" * 32


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes; content does not matter to the route
    return path


ACCESS: list[tuple[int, int | None, str, str | None, int]] = []


@pytest.fixture
def client(clip: Path) -> TestClient:
    """A browser of person 7 (the player has set their viewer cookie)."""
    files = {1: clip, 2: clip.parent / "gone.mp4"}
    ACCESS.clear()
    app = Starlette(routes=make_routes(lambda: SECRET, files.get, lambda *entry: ACCESS.append(entry)))
    client = TestClient(app)
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 7))
    return client


def test_a_signed_url_streams_the_file_with_range_and_head(client: TestClient, clip: Path) -> None:
    url = signed_recording_path(SECRET, 1, person_id=7)
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == clip.read_bytes()
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["cache-control"] == "private, no-store"
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == clip.read_bytes()[100:200]
    assert part.headers["content-range"] == "bytes 100-199/10240"
    head = client.head(url)
    assert head.status_code == 200 and head.headers["accept-ranges"] == "bytes"


def test_a_tampered_or_unsigned_url_is_refused(client: TestClient) -> None:
    url = signed_recording_path(SECRET, 1, person_id=7)
    assert client.get(url.replace("p=7", "p=8")).status_code == 403
    assert client.get(url[:-3] + "abc").status_code == 403
    assert client.get("/recordings/1").status_code == 403
    assert client.get(url.replace("/recordings/1?", "/recordings/2?")).status_code == 403


def test_a_url_presented_by_another_person_or_without_a_viewer_is_refused(client: TestClient) -> None:
    url = signed_recording_path(SECRET, 1, person_id=7)
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 8))
    refused = client.get(url)
    assert refused.status_code == 403 and "someone else" in refused.text
    client.cookies.clear()
    assert client.get(url).status_code == 403
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 7)[:-2] + "00")
    assert client.get(url).status_code == 403


def test_every_access_is_logged_allowed_or_refused(client: TestClient) -> None:
    url = signed_recording_path(SECRET, 1, person_id=7)
    client.get(url, headers={"Range": "bytes=0-9"})
    client.get(url.replace("p=7", "p=8"))
    assert ACCESS == [(1, 7, "GET", "bytes=0-9", 206), (1, 7, "GET", None, 403)]


def test_viewer_tokens_expire_and_name_their_person_and_sign_in_session() -> None:
    token = viewer_token(SECRET, 7, 41, now=0, ttl=60)
    assert viewer_of(SECRET, token, now=10) == (7, 41)
    person, session, expires, mac = token.split(".")
    assert viewer_of(SECRET, ".".join([person, "42", expires, mac]), now=10) is None  # another session's
    assert viewer_of(SECRET, token, now=10_000) is None
    assert viewer_of(SECRET, "7.1.abc") is None and viewer_of(SECRET, None) is None


def test_an_expired_url_is_refused() -> None:
    url = signed_recording_path(SECRET, 1, person_id=7, now=0, ttl=60)
    query = dict(part.split("=") for part in url.split("?")[1].split("&"))
    assert not verify(SECRET, 1, query["p"], query["exp"], query["sig"])
    assert verify(SECRET, 1, query["p"], query["exp"], query["sig"], now=60)


def test_the_url_is_stable_within_the_hour_so_reruns_do_not_reload_the_video() -> None:
    assert signed_recording_path(SECRET, 1, 7, now=3600 * 10 + 5) == signed_recording_path(SECRET, 1, 7, now=3600 * 10 + 1800)


def test_a_missing_file_is_a_404_not_a_crash(client: TestClient) -> None:
    response = client.get(signed_recording_path(SECRET, 2, person_id=7))
    assert response.status_code == 404 and "missing" in response.text


def test_the_signing_key_is_created_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "data", None)
    assert load_or_create_secret(tmp_path / "data", None) == first
    assert load_or_create_secret(tmp_path / "data", "configured") == b"configured"


def test_behind_nginx_an_allowed_request_is_handed_to_the_proxy_and_a_refused_one_is_not(clip: Path) -> None:
    """SESSION_RATER_ACCEL_REDIRECT: the app checks and logs, nginx sends the bytes."""
    ACCESS.clear()
    app = Starlette(routes=make_routes(lambda: SECRET, {1: clip}.get, lambda *entry: ACCESS.append(entry),
                                       lambda recording_id, person_id, session_id: person_id == 7,
                                       lambda: "/_session_rater_files"))  # fmt: skip
    client = TestClient(app)
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 7))
    handed = client.get(signed_recording_path(SECRET, 1, person_id=7), headers={"Range": "bytes=0-99"})
    assert handed.status_code == 200 and handed.content == b""
    assert handed.headers["x-accel-redirect"] == "/_session_rater_files" + str(clip.resolve())
    assert handed.headers["cache-control"] == "private, no-store"
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 8))
    refused = client.get(signed_recording_path(SECRET, 1, person_id=8))
    assert refused.status_code == 403 and "x-accel-redirect" not in refused.headers
    assert [entry[-1] for entry in ACCESS] == [206, 403]
