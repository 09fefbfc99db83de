"""The command line and the demo data, against a real SQLite file in a temporary data folder."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from session_rater import cli
from session_rater.domain.compare import ALL_ITEMS
from session_rater.domain.model import Capacity
from session_rater.settings import load_settings
from session_rater.usecases import reports
from session_rater.usecases.demo import GROUPS, STRAIGHT_LINER
from session_rater.usecases.ingest import missing_recordings
from session_rater.usecases.services import EXPORT_COLUMNS, Services, open_services

REPO = Path(__file__).resolve().parents[2]
DEMO_SESSIONS = 47  # the six of sample_sessions/manifest.csv and 41 of the demo's other groups (GROUPS)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SESSION_RATER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path / "data"


@pytest.fixture
def demo(data_dir: Path) -> Services:
    return open_services(load_settings())


def test_first_start_on_an_empty_database_migrates_and_loads_the_demo(demo: Services, data_dir: Path) -> None:
    assert (data_dir / "session_rater.db").is_file()
    recordings = demo.store.list_recordings()
    assert len(recordings) == DEMO_SESSIONS and all(r.is_demo for r in recordings)
    assert all(demo.recording_path(r).is_file() for r in recordings)


def test_the_demo_spans_groups_and_quarters_with_enough_sessions_in_each_quarter_for_an_interval(demo: Services) -> None:
    recordings = demo.store.list_recordings()
    assert len({r.group_name for r in recordings}) == len(GROUPS) + 2 >= 10
    assert {r.site for r in recordings} == {"Carlisle", "Barrow"}, "the two teams the demo's managers monitor"
    by_quarter = reports.bias_by_period(reports.load_scores(demo), "quarter")
    assert by_quarter["period"].nunique() >= 5
    # External assessors are measured too where the demo's two benchmark sessions have master scores.
    assert set(by_quarter["rater_role"]) == {"tutor", "treatment_manager", "external_assessor"}
    by_quarter = by_quarter[by_quarter["rater_role"] != "external_assessor"]
    assert by_quarter["ci_low"].notna().all(), "five or more sessions paired in every quarter, for tutors and managers"


def test_the_managers_gap_narrows_quarter_by_quarter_while_the_tutors_stays(demo: Services) -> None:
    by_quarter = reports.bias_by_period(reports.load_scores(demo), "quarter").sort_values("period")
    managers = by_quarter[by_quarter["rater_role"] == "treatment_manager"]
    tutors = by_quarter[by_quarter["rater_role"] == "tutor"]
    first, last = managers.iloc[0], managers.iloc[-1]
    assert last["ci_high"] < first["ci_low"], "the managers calibrate: their last quarter's interval lies below the first's"
    assert tutors["mean_diff"].between(0.8, 1.3).all(), "tutors over-score by about a point throughout (C1.5)"


def test_sessions_that_share_a_demo_clip_all_play_it(demo: Services) -> None:
    recordings = demo.store.list_recordings()
    shared = Counter(Path(r.file_path).name for r in recordings)
    assert set(shared) == {e.name for e in (REPO / "sample_sessions").glob("*.mp4")}, "only the six clips"
    assert min(shared.values()) >= 2
    playback = demo.media.playback_of([r.id for r in recordings])
    assert all(p.playable and p.file_present for p in playback.values())
    by_file: dict[str, list[object]] = {}
    for r in recordings:  # newest first: the newest session of a clip is the manifest's own
        by_file.setdefault(Path(r.file_path).name, []).append(r.group_name)
    assert {groups[0] for groups in by_file.values()} == {"Carlisle TF-01", "Barrow TF-02"}


def test_a_moved_demo_clip_is_relinked_for_every_session_that_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "recordings"
    shutil.copytree(REPO / "sample_sessions", folder)
    monkeypatch.setenv("SESSION_RATER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SESSION_RATER_RECORDINGS_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    svc = open_services(load_settings())
    clip = folder / "tf01-s03-problem-solving.mp4"
    showing = [r.id for r in svc.store.list_recordings() if Path(r.file_path) == clip]
    assert len(showing) >= 2
    moved = tmp_path / "archive" / "problem-solving.mp4"
    moved.parent.mkdir()
    clip.rename(moved)
    assert {m.recording_id for m in missing_recordings(svc.store, svc.settings)} >= set(showing)

    [outcome] = svc.ingest([moved]).outcomes

    assert outcome.status == "relinked"
    assert {svc.store.get_recording(i).file_path for i in showing} == {str(moved)}
    assert len(svc.store.list_recordings()) == DEMO_SESSIONS, "nothing added"
    assert not missing_recordings(svc.store, svc.settings)


def test_demo_ratings_show_self_above_managers_above_external_assessors(demo: Services) -> None:
    table = demo.compare_overall("think-first-video-monitoring").set_index(["capacity", "item_id"])
    self_bias = table.loc[("self_assessment", ALL_ITEMS), "mean_difference"]
    manager_bias = table.loc[("monitoring", ALL_ITEMS), "mean_difference"]
    assert self_bias > manager_bias > 0
    items = [i for (c, i) in table.index if c == "monitoring" and i != ALL_ITEMS]
    ordered = [
        i for i in items
        if table.loc[("self_assessment", i), "mean_difference"] > table.loc[("monitoring", i), "mean_difference"] > 0
    ]
    assert len(ordered) >= 5, "several items show self > manager > external"


def test_one_demo_tutor_gives_every_item_the_same_score(demo: Services) -> None:
    tutor = next(p for p in demo.store.list_people() if p.display_name == STRAIGHT_LINER)
    selves = [
        r for r in demo.store.submitted_ratings()
        if r.capacity is Capacity.SELF_ASSESSMENT and r.rater_id == tutor.id
    ]
    assert selves
    for rating in selves:
        assert len({s.score for s in rating.scores.values() if s.score is not None}) == 1


def test_demo_command_resets_the_demo_without_duplicating_it(demo: Services, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(demo.store.submitted_ratings())
    assert cli.main(["demo"]) == 0
    assert f"Demo data loaded: {DEMO_SESSIONS} sessions" in capsys.readouterr().out
    assert len(demo.store.list_recordings()) == DEMO_SESSIONS
    assert len(demo.store.submitted_ratings()) == before


def test_export_writes_long_format_csv_of_submitted_scores(demo: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == EXPORT_COLUMNS
    assert {r["rater_role"] for r in rows} == {"tutor", "treatment_manager", "external_assessor", "benchmark"}
    submitted = demo.store.submitted_ratings()
    masters = demo.store.master_scores_in_force()
    assert len(masters) == 2, "the demo's two benchmark sessions"
    benchmarks = {(b.recording_id, b.tutor_id) for b in demo.store.benchmarks()}
    replaced = [r for r in submitted if r.capacity is Capacity.BENCHMARK and (r.recording_id, r.tutor_id) in benchmarks]
    assert len(replaced) == 7, "two panels of two, and the three raters of the calibration round"
    assert len(rows) == sum(len(r.scores) for r in submitted if r not in replaced) + sum(
        len(m.scores) for m in masters.values()), "master scores stand for the benchmark's ratings"
    assert any(r["score"] == "" for r in rows), "N/A is exported as an empty score"
    assert all(r["score"] == "" or 0 <= int(r["score"]) <= 3 for r in rows)


def test_export_to_a_file(demo: Services, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    assert cli.main(["export", "--output", str(out)]) == 0
    assert out.read_text().startswith(",".join(EXPORT_COLUMNS))


def test_check_rubrics_passes_on_the_shipped_rubrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-rubrics"]) == 0
    assert "think-first-video-monitoring v" in capsys.readouterr().out


def test_check_rubrics_fails_with_every_error_of_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: '1'\ncolour: blue\n")
    assert cli.main(["check-rubrics", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "colour" in err and "sections" in err


def test_an_unsupported_database_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    assert cli.main(["migrate"]) == 1
    assert "DATABASE_URL" in capsys.readouterr().err


def test_the_demo_can_be_reset_after_samples_were_drawn_from_it(demo: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sample", "--policy", "default", "--seed", "7"]) == 0
    assert "Saved draw" in capsys.readouterr().out
    assert cli.main(["demo"]) == 0
    assert len(demo.store.list_recordings()) == DEMO_SESSIONS


def test_a_demo_reset_forgets_who_looked_at_demo_sessions(demo: Services) -> None:
    overseer = next(p for p in demo.store.list_people() if p.display_name == "Dev Sharma")
    recording = demo.store.list_recordings()[0]
    demo.store.record_unblinding(overseer.id, recording.id, recording.tutors[0].id)
    assert cli.main(["demo"]) == 0
    assert not any(e.entity == "blindness" for e in demo.store.audit_entries())


def test_calibration_json_is_the_contract_and_tells_the_demos_story(demo: Services,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["calibration", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["rule", "raters"]
    assert report["rule"] == {"within_one_min": 0.8, "abs_bias_max": 0.5, "valid_months": 12}
    keys = ["rater_id", "name", "roles", "status", "within_one", "exact", "mean_bias", "n_items", "certified_until"]
    assert all(list(r) == keys for r in report["raters"])
    by_name = {r["name"]: r for r in report["raters"]}
    helen, mark, sam = by_name["Helen Price"], by_name["Mark Dixon"], by_name["Sam Rowe"]
    assert helen["status"] == "certified" and dt.date.fromisoformat(helen["certified_until"]) > dt.date.today()
    assert 0.8 <= helen["within_one"] <= 1 and 0 <= helen["exact"] <= 1 and abs(helen["mean_bias"]) <= 0.5
    assert mark["status"] == "not_certified" and 0.6 <= mark["mean_bias"] <= 0.8 and mark["certified_until"] is None
    assert sam["status"] == "not_certified" and sam["roles"] == ["tutor"] and sam["n_items"] > 0
    assert by_name["Tom Hughes"] == {"rater_id": by_name["Tom Hughes"]["rater_id"], "name": "Tom Hughes",
                                     "roles": ["tutor"], "status": "not_attempted", "within_one": None,
                                     "exact": None, "mean_bias": None, "n_items": 0, "certified_until": None}
    assert cli.main(["calibration"]) == 0
    assert "Mark Dixon" in capsys.readouterr().out


def test_the_demo_has_a_validity_session_waiting_in_a_managers_my_work(demo: Services) -> None:
    from session_rater.usecases.monitoring import Monitoring
    from session_rater.usecases.permitted import Permitted

    mark = next(p for p in demo.store.list_people() if p.display_name == "Mark Dixon")
    [validity] = demo.store.validity_assignments(mark.id)
    queue = Monitoring(Permitted(demo, mark)).work_queue(dt.date.today())
    assert [q.recording_id for q in queue] == [validity.recording_id] and validity.hidden
    assert len(demo.store.exemplars()) >= 3
