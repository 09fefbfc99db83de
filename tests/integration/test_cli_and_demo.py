"""The command line and the demo data, against a real SQLite file in a temporary data folder."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from session_rater import cli
from session_rater.usecases.demo import STRAIGHT_LINER
from session_rater.domain.compare import ALL_ITEMS
from session_rater.domain.model import Capacity
from session_rater.usecases.services import EXPORT_COLUMNS, Services, open_services
from session_rater.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


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
    table = demo.sessions_table()
    assert len(table) == 6 and table["demo"].all() and table["file_present"].all()


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
    assert "Demo data loaded: 6 sessions" in capsys.readouterr().out
    assert len(demo.store.list_recordings()) == 6
    assert len(demo.store.submitted_ratings()) == before


def test_export_writes_long_format_csv_of_submitted_scores(demo: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == EXPORT_COLUMNS
    assert {r["rater_role"] for r in rows} == {"tutor", "treatment_manager", "external_assessor"}
    submitted = demo.store.submitted_ratings()
    assert len(rows) == sum(len(r.scores) for r in submitted)
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
    assert len(demo.store.list_recordings()) == 6


def test_a_demo_reset_forgets_who_looked_at_demo_sessions(demo: Services) -> None:
    overseer = next(p for p in demo.store.list_people() if p.display_name == "Dev Sharma")
    recording = demo.store.list_recordings()[0]
    demo.store.record_unblinding(overseer.id, recording.id, recording.tutors[0].id)
    assert cli.main(["demo"]) == 0
    assert not any(e.entity == "blindness" for e in demo.store.audit_entries())
