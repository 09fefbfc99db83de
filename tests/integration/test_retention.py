"""Retention: recordings past the policy's period are listed with why, then their files (never
their scores) deleted, each deletion in the audit log with the policy version; recordings on
hold or in an open audit are kept, with the reason. The policy is retention/default.yaml
(two years after the session; kept while an audit is open)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_rater.cli.main import main as cli
from session_rater.db.models import utcnow
from session_rater.db.sampling_models import SampleAssignment, SampleDraw
from session_rater.db.engine import make_sessionmaker
from session_rater.domain.model import Capacity, Role
from session_rater.domain.records import RecordingSpec
from session_rater.domain.retention import Period
from session_rater.errors import RecordingMissingError
from session_rater.settings import load_settings
from session_rater.usecases import retention
from session_rater.usecases.services import Services, open_services

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "sample_sessions" / "tf01-s03-problem-solving.mp4"
OLD = dt.date(2023, 1, 10)  # more than two years before TODAY
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "SESSION_RATER_RECORDINGS_DIR": str(tmp_path / "rec"),
            "SESSION_RATER_RUBRICS_DIR": str(REPO / "rubrics"), "SESSION_RATER_DEMO": "0"}  # fmt: skip


@pytest.fixture
def svc(env: dict[str, str]) -> Iterator[Services]:
    services = open_services(load_settings(env), load_demo=False)
    yield services
    services.close()


def _recording(svc: Services, name: str, on: dt.date, tutor: int) -> int:
    folder = svc.settings.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CLIP, folder / name)
    spec = RecordingSpec(file_path=str(folder / name), programme="Think First", group_name="Kendal TF-09",
                         session_number=len(list(folder.iterdir())), session_title=name, recorded_on=on,
                         site="Kendal", area="Cumbria", team="Kendal team")  # fmt: skip
    return svc.store.add_recording(spec, [tutor]).id


def _open_audit(svc: Services, recording_id: int, rater: int) -> None:
    with make_sessionmaker(svc.store.engine).begin() as s:
        draw = SampleDraw(policy_name="default", policy_version="1", seed=1, drawn_on=OLD, policy={}, shortfalls=[])
        s.add(draw)
        s.flush()
        s.add(SampleAssignment(draw_id=draw.id, policy_name="default", recording_id=recording_id,
                               rule="external_audit", reason="10 per area", rater_id=rater, created_at=utcnow()))  # fmt: skip


@pytest.fixture
def sessions(svc: Services) -> dict[str, int]:
    """Four sessions: old and free, old and on hold, old and in an open audit, recent."""
    tutor = svc.store.add_person("Ann Archer", [Role.TUTOR]).id
    assessor = svc.store.add_person("Ruth Okafor", [Role.EXTERNAL_ASSESSOR]).id
    made = {
        "expired": _recording(svc, "expired.mp4", OLD, tutor),
        "held": _recording(svc, "held.mp4", OLD, tutor),
        "audited": _recording(svc, "audited.mp4", OLD, tutor),
        "recent": _recording(svc, "recent.mp4", TODAY - dt.timedelta(days=30), tutor),
    }
    retention.place_hold(svc, made["held"], "complaint", "Complaint 2026/114 about session 3: keep until resolved")
    _open_audit(svc, made["audited"], assessor)
    rubric = svc.rubrics()[0]
    rating = svc.store.start_rating(made["expired"], tutor, assessor, Capacity.EXTERNAL, rubric)
    for item in rubric.items:
        svc.store.save_item(rating.id, item.id, score=2, evidence="seen")
    svc.store.submit_rating(rating.id, confirm_uniform=True)
    return made


def test_a_recording_is_due_two_years_after_its_session_and_calendar_arithmetic_holds() -> None:
    assert Period(years=2).after(dt.date(2024, 2, 29)) == dt.date(2026, 2, 28)
    assert Period(months=18, days=1).after(dt.date(2025, 1, 31)) == dt.date(2026, 8, 1)


@pytest.mark.parametrize("period", [Period(years=2), Period(months=18, days=1), Period(days=30), Period(years=1, months=1)])
def test_the_sessions_a_review_reads_are_exactly_those_past_their_period(period: Period) -> None:
    rules = retention.RetentionPolicy("p", "1", "t", period, True, "0" * 64)
    for today in (dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2024, 2, 29), dt.date(2026, 12, 31)):
        cutoff = retention.kept_from(rules, today)
        for day in (cutoff + dt.timedelta(days=n) for n in range(-40, 40)):
            assert (period.after(day) >= today) == (day >= cutoff), (period, today, day)


def test_the_review_decides_as_the_policy_does_over_every_recording(svc: Services, sessions: dict[str, int]) -> None:
    rules = retention.policy(svc)
    facts = retention._store(svc).recording_facts(retention.open_audits(svc, TODAY))
    every = [d for d in (retention.decide(rules, f, TODAY) for f in facts) if d is not None]
    review = retention.review(svc, today=TODAY)
    assert review.due == [d for d in every if d.due] and review.kept == [d for d in every if d.kept_on_purpose]
    assert sessions["recent"] not in {d.recording_id for d in review.decisions}, "within its period: not read"


def test_the_review_lists_what_goes_and_what_is_kept_with_the_reason(svc: Services, sessions: dict[str, int]) -> None:
    review = retention.review(svc, today=TODAY)
    assert [d.recording_id for d in review.due] == [sessions["expired"]]
    assert "past its retention period (ended 10/01/2025)" in review.due[0].reason
    kept = {d.recording_id: d.reason for d in review.kept}
    assert "complaint hold" in kept[sessions["held"]] and "Complaint 2026/114" in kept[sessions["held"]]
    assert "audit that sampled it is open" in kept[sessions["audited"]]
    assert sessions["recent"] not in kept and sessions["recent"] not in [d.recording_id for d in review.due]


def test_dry_run_deletes_nothing_and_the_run_deletes_only_the_files_and_logs_the_policy_version(
    svc: Services, sessions: dict[str, int], env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    files = {name: svc.recording_path(svc.recording(rid)) for name, rid in sessions.items()}
    before = svc.export_csv_text()

    assert cli(["retention", "--dry-run", "--as-of", "2026-06-01"]) == 0
    out = capsys.readouterr().out
    assert "recordings-retention v1" in out and "expired.mp4" in out and "nothing deleted" in out
    assert "kept" in out and "Complaint 2026/114" in out
    assert all(path.is_file() for path in files.values())
    assert cli(["retention", "--as-of", "2026-06-01"]) == 1  # --as-of never deletes

    deletions = retention.apply(svc, today=TODAY)

    assert [d.recording_id for d in deletions] == [sessions["expired"]]
    assert not files["expired"].exists()
    assert all(files[name].is_file() for name in ("held", "audited", "recent"))
    assert svc.export_csv_text() == before  # every score kept
    entry = next(e for e in svc.store.audit_entries() if e.action == "retention_delete")
    assert entry.entity_id == sessions["expired"] and entry.after["policy_version"] == "1"
    assert entry.after["policy"] == "recordings-retention" and len(entry.after["policy_sha256"]) == 64
    assert str(files["expired"]) in entry.before["files"]
    with pytest.raises(RecordingMissingError, match="deleted on .* under the retention policy"):
        svc.require_recording_file(svc.recording(sessions["expired"]))
    assert retention.review(svc, today=TODAY).due == []  # deleted once

    hold = retention.holds(svc)[0]
    retention.release_hold(svc, hold.id, note="Complaint resolved")
    assert [d.recording_id for d in retention.review(svc, today=TODAY).due] == [sessions["held"]]
    actions = [(e.entity, e.action) for e in svc.store.audit_entries()]
    assert ("recording_hold", "place") in actions and ("recording_hold", "release") in actions


def test_a_file_another_recording_still_uses_is_left_in_place(svc: Services, sessions: dict[str, int]) -> None:
    shared = svc.recording_path(svc.recording(sessions["expired"]))
    svc.media.set_served_file(sessions["recent"], shared)  # the recent session plays the same file
    deletion = retention.apply(svc, today=TODAY)[0]
    assert shared.is_file() and any("another recording uses it" in why for why in deletion.left)
