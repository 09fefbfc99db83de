"""Captions: served under the recording's own signed URL and viewer checks (never to someone
without a viewer token, with a forged signature or for another recording), and added on the
Recordings page only when the file is valid WebVTT and not too large."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from session_rater.domain.captions import MAX_CAPTIONS_BYTES, CaptionsError
from session_rater.domain.model import Role
from session_rater.domain.records import RecordingSpec
from session_rater.errors import AccessDeniedError
from session_rater.settings import load_settings
from session_rater.usecases.captions import captions_path, captions_url
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.recording_links import VIEWER_COOKIE, signed_recording_path, viewer_token
from session_rater.usecases.recordings_admin import RecordingsAdmin
from session_rater.usecases.services import Services, open_services
from session_rater.web.recordings import make_routes

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "sample_sessions" / "tf01-s03-problem-solving.mp4"
SECRET = b"k" * 32
VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nWelcome back.\n\n00:00:04.000 --> 00:00:06.000\nLast week...\n"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    """Person 7's browser; recording 1 has captions, recording 2 has none."""
    vtt = tmp_path / "clip.vtt"
    vtt.write_bytes(VTT)
    app = Starlette(routes=make_routes(lambda: SECRET, {1: CLIP, 2: CLIP}.get, None,
                                       lambda recording_id, person_id, session_id: person_id == 7,
                                       None, {1: vtt}.get))  # fmt: skip
    client = TestClient(app)
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 7))
    return client


def _captions(recording_id: int, person_id: int) -> str:
    path, _, query = signed_recording_path(SECRET, recording_id, person_id).partition("?")
    return f"{path}/captions?{query}"


def test_captions_are_served_as_webvtt_under_the_recordings_signed_url(client: TestClient) -> None:
    response = client.get(_captions(1, 7))
    assert response.status_code == 200 and response.content == VTT
    assert response.headers["content-type"].startswith("text/vtt")
    assert response.headers["cache-control"] == "private, no-store"
    assert client.get(_captions(2, 7)).status_code == 404  # a recording without captions


def test_captions_are_refused_to_anonymous_forged_and_other_peoples_requests(client: TestClient) -> None:
    url = _captions(1, 7)
    assert client.get(url.replace("p=7", "p=8")).status_code == 403  # forged person
    assert client.get(url[:-3] + "abc").status_code == 403  # forged signature
    assert client.get("/recordings/1/captions").status_code == 403  # unsigned
    assert client.get(url.replace("/recordings/1/", "/recordings/2/")).status_code == 403  # another recording's signature
    assert client.get(f"/recordings/{2**70}/captions?p=7").status_code == 404  # an id no recording can have
    client.cookies.set(VIEWER_COOKIE, viewer_token(SECRET, 8))
    assert client.get(url).status_code == 403  # presented by another person
    assert client.get(_captions(1, 8)).status_code == 403  # whom the access rules refuse
    client.cookies.clear()
    anonymous = client.get(url)
    assert anonymous.status_code == 403 and "WEBVTT" not in anonymous.text


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    env = {"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "SESSION_RATER_RECORDINGS_DIR": str(tmp_path / "rec"),
           "SESSION_RATER_RUBRICS_DIR": str(REPO / "rubrics"), "SESSION_RATER_DEMO": "0"}  # fmt: skip
    services = open_services(load_settings(env), load_demo=False)
    yield services
    services.close()


def _recording(svc: Services) -> int:
    folder = svc.settings.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CLIP, folder / "s3.mp4")
    tutor = svc.store.add_person("Ann Archer", [Role.TUTOR]).id
    spec = RecordingSpec(file_path=str(folder / "s3.mp4"), programme="Think First", group_name="Kendal TF-09",
                         session_number=3, session_title="Problem solving", recorded_on=dt.date(2026, 1, 5),
                         site="Kendal", area="Cumbria", team="Kendal team")  # fmt: skip
    return svc.store.add_recording(spec, [tutor]).id


def test_an_administrator_adds_valid_captions_and_the_player_gets_their_url(svc: Services) -> None:
    recording_id = _recording(svc)
    admin = Permitted(svc, svc.store.add_person("Dev Sharma", [Role.ADMINISTRATOR]))
    recording = svc.recording(recording_id)
    assert captions_path(svc, recording) is None and captions_url(admin, recording) is None
    cues = RecordingsAdmin(admin).add_captions(recording_id, VTT, "s3.vtt")
    assert [c.text for c in cues] == ["Welcome back.", "Last week..."]
    assert captions_path(svc, recording) == svc.settings.data_dir / "captions" / f"{recording_id}.vtt"
    url = captions_url(admin, recording) or ""
    assert url.startswith(f"/recordings/{recording_id}/captions?p={admin.person.id}&exp=")
    logged = [e for e in svc.accounts_store.audit_log() if e.entity == "recording" and e.action == "captions"]
    assert [(e.entity_id, e.actor_id, e.after) for e in logged] == [(recording_id, admin.person.id,
                                                                    {"file": "s3.vtt", "cues": 2})]  # fmt: skip


def test_captions_beside_the_recording_file_are_found(svc: Services) -> None:
    recording = svc.recording(_recording(svc))
    beside = svc.settings.recordings_dir / "s3.vtt"
    beside.write_bytes(VTT)
    assert captions_path(svc, recording) == beside


def test_a_malformed_or_too_large_file_is_refused_with_what_is_wrong_and_nothing_kept(svc: Services) -> None:
    recording_id = _recording(svc)
    admin = RecordingsAdmin(Permitted(svc, svc.store.add_person("Dev Sharma", [Role.ADMINISTRATOR])))
    with pytest.raises(CaptionsError) as bad:
        admin.add_captions(recording_id, b"WEBVTT\n\n00:01,000 --> 00:02.000\nHi\n", "s3.vtt")
    assert bad.value.errors == [("s3.vtt: line 3: '00:01,000 --> 00:02.000' is not a valid timing: times are written "
                                "mm:ss.ttt or hh:mm:ss.ttt, e.g. 00:01.500 --> 00:04.000")]  # fmt: skip
    with pytest.raises(CaptionsError, match="too large"):
        admin.add_captions(recording_id, VTT + b"\n" * MAX_CAPTIONS_BYTES, "big.vtt")
    assert captions_path(svc, svc.recording(recording_id)) is None


def test_only_administrators_add_captions(svc: Services) -> None:
    recording_id = _recording(svc)
    tutor = Permitted(svc, svc.store.add_person("Ben Tutor", [Role.TUTOR]))
    with pytest.raises(AccessDeniedError):
        RecordingsAdmin(tutor).add_captions(recording_id, VTT, "s3.vtt")


def test_retention_deletes_the_captions_with_the_recording(svc: Services) -> None:
    from session_rater.usecases import retention

    recording_id = _recording(svc)
    admin = RecordingsAdmin(Permitted(svc, svc.store.add_person("Dev Sharma", [Role.ADMINISTRATOR])))
    admin.add_captions(recording_id, VTT, "s3.vtt")
    beside = svc.settings.recordings_dir / "s3.vtt"
    beside.write_bytes(VTT)
    added = svc.settings.data_dir / "captions" / f"{recording_id}.vtt"
    assert [d.recording_id for d in retention.apply(svc, today=dt.date(2028, 6, 1))] == [recording_id]
    assert not added.exists() and not beside.exists()
    assert captions_path(svc, svc.recording(recording_id)) is None
