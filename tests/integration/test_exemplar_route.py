"""The exemplar route serves one exemplar clip (never its whole recording) behind a URL signed
for that clip and person, checked against the access rule on every request and logged in the
recording access log as plays of recordings are; the clip is cut once with ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from session_rater.errors import RecordingError
from session_rater.media.clips import cut_clip
from session_rater.media.ffmpeg import probe
from session_rater.usecases.exemplar_clips import signed_exemplar_path, verify_exemplar
from session_rater.usecases.recording_links import VIEWER_COOKIE, signed_recording_path, viewer_token
from session_rater.web.exemplars import make_exemplar_routes
from session_rater.web.recordings import make_routes

SECRET = b"e" * 32
CLIP, RECORDING, PERSON = 5, 40, 7
SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    clip, whole = tmp_path / "clip.mp4", tmp_path / "whole.mp4"
    clip.write_bytes(b"clip" * 100)
    whole.write_bytes(b"whole recording" * 1000)
    return {"clip": clip, "whole": whole}


@pytest.fixture
def access() -> list[tuple[object, ...]]:
    return []


@pytest.fixture
def allowed() -> set[tuple[int, int]]:
    return {(CLIP, PERSON)}


@pytest.fixture
def client(files: dict[str, Path], access: list[tuple[object, ...]], allowed: set[tuple[int, int]]) -> TestClient:
    """Person 7's browser, with the exemplar route and the recording route side by side."""
    recordings = {CLIP: RECORDING}
    routes = make_exemplar_routes(lambda: SECRET, recordings.get, {CLIP: files["clip"]}.get,
                                  lambda *entry: access.append(entry),
                                  lambda clip_id, person_id, session_id: (clip_id, person_id) in allowed)  # fmt: skip
    routes += make_routes(lambda: SECRET, {RECORDING: files["whole"]}.get, lambda *entry: access.append(entry),
                          lambda recording_id, person_id, session_id: False)  # the whole recording: not theirs
    client = TestClient(Starlette(routes=routes))
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, PERSON))
    return client


def test_a_signed_clip_url_streams_only_the_clip_and_is_logged_against_its_recording(
        client: TestClient, files: dict[str, Path], access: list[tuple[object, ...]]) -> None:  # fmt: skip
    url = signed_exemplar_path(SECRET, CLIP, PERSON)
    assert url.startswith(f"/recordings/exemplars/{CLIP}?p={PERSON}&")
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == files["clip"].read_bytes()
    assert whole.headers["content-type"] == "video/mp4" and whole.headers["cache-control"] == "private, no-store"
    part = client.get(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == files["clip"].read_bytes()[:10]
    assert access == [(RECORDING, PERSON, "GET", f"exemplar clip {CLIP}", 200),
                      (RECORDING, PERSON, "GET", f"exemplar clip {CLIP}; bytes=0-9", 206)]
    # the same person may not play the whole recording: the clip URL opens only the clip
    assert client.get(signed_recording_path(SECRET, RECORDING, PERSON)).status_code == 403


def test_forged_clip_urls_are_refused_and_logged(client: TestClient, access: list[tuple[object, ...]]) -> None:
    url = signed_exemplar_path(SECRET, CLIP, PERSON)
    recording_url = signed_recording_path(SECRET, CLIP, PERSON)  # a recording URL's signature for the same number
    forged = [
        url.replace(f"p={PERSON}", "p=8"),  # another person's
        url[:-3] + "abc",  # a changed signature
        f"/recordings/exemplars/{CLIP}",  # unsigned
        f"/recordings/exemplars/{CLIP}?" + recording_url.split("?")[1],  # signed as a recording, not a clip
        url.replace(f"/exemplars/{CLIP}?", "/exemplars/6?"),  # signed for another clip
    ]
    for bad in forged:
        assert client.get(bad).status_code == 403, bad
    assert [entry[-1] for entry in access] == [403] * 4, "every refusal of a known viewer is logged (clip 6: none)"
    # a clip URL is no recording URL either
    assert client.get(f"/recordings/{RECORDING}?" + url.split("?")[1]).status_code == 403


def test_a_clip_url_plays_only_for_its_person_and_while_the_rule_allows(
        client: TestClient, allowed: set[tuple[int, int]], access: list[tuple[object, ...]]) -> None:  # fmt: skip
    url = signed_exemplar_path(SECRET, CLIP, PERSON)
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 8))
    assert client.get(url).status_code == 403, "presented by someone else"
    client.cookies.clear()
    assert client.get(url).status_code == 403, "by nobody"
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, PERSON))
    allowed.clear()  # e.g. signed out, or the recording no longer cleared for training
    refused = client.get(url)
    assert refused.status_code == 403 and "no longer" in refused.text
    assert access[-1] == (RECORDING, PERSON, "GET", f"exemplar clip {CLIP}", 403)


def test_clip_urls_expire_and_are_stable_within_the_hour() -> None:
    url = signed_exemplar_path(SECRET, CLIP, PERSON, now=0, ttl=60)
    query = dict(part.split("=") for part in url.split("?")[1].split("&"))
    assert not verify_exemplar(SECRET, CLIP, query["p"], query["exp"], query["sig"])
    assert verify_exemplar(SECRET, CLIP, query["p"], query["exp"], query["sig"], now=60)
    assert signed_exemplar_path(SECRET, CLIP, PERSON, now=36005) == signed_exemplar_path(SECRET, CLIP, PERSON, now=37000)


def test_a_clip_is_cut_once_from_its_start_to_its_end(tmp_path: Path) -> None:
    source = sorted(SAMPLES.glob("*.mp4"))[0]
    output = tmp_path / "clips" / "1.mp4"
    assert cut_clip(source, output, 2.0, 5.0) == output
    info = probe(output, detect_interlace=False)
    assert abs(info.duration_seconds - 3.0) < 0.25 and info.browser_playable, info
    made = output.stat().st_mtime_ns
    cut_clip(source, output, 2.0, 5.0)
    assert output.stat().st_mtime_ns == made, "cut once, then served as it is"
    assert [p.name for p in output.parent.iterdir()] == ["1.mp4"], "no partial file left behind"
    with pytest.raises(RecordingError, match="ends after it starts"):
        cut_clip(source, tmp_path / "bad.mp4", 5.0, 5.0)
