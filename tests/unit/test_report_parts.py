"""The pure parts of issue 12's reports: strengths and development points of supervision
feedback, reporting periods, the calibration seam, the data dictionary and the commands
(``session-rater audit-score`` and ``session-rater export --dictionary`` through the real CLI)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from session_rater import cli
from session_rater.domain.report_periods import describe_period, period_bounds, period_of, periods
from session_rater.domain.rubric import Item, RatedUnit, Rubric, ScalePoint, Section
from session_rater.domain.supervision import development_points, item_feedback, mean_score, strengths
from session_rater.usecases.calibration_status import NOT_ATTEMPTED, calibration_status, status_label
from session_rater.usecases.data_dictionary import TABLES, dictionary_frame
from session_rater.usecases.services import EXPORT_COLUMNS

REPO = Path(__file__).resolve().parents[2]
RUBRIC = Rubric(
    id="r", version="1", title="R", description="", rated_unit=RatedUnit.TUTOR,
    scale=tuple(ScalePoint(v, f"label {v}", f"anchor {v}") for v in range(4)), allow_not_applicable=True,
    sections=(Section("s", "Section", "", tuple(Item(i, f"Item {i}") for i in ("a", "b", "c", "d", "e"))),),
)  # fmt: skip


def test_strengths_are_items_at_the_top_of_the_scale() -> None:
    rows = item_feedback(RUBRIC, {"a": 3, "b": 2, "c": None}, {}, {})
    assert [r.item_id for r in strengths(rows, RUBRIC)] == ["a"]
    assert rows[2].manager_label == "Not applicable / not observed" and rows[3].manager_label == "not scored"
    assert rows[0].descriptor == "anchor 3"


def test_development_points_are_low_items_and_self_assessments_a_point_above() -> None:
    manager = {"a": 3, "b": 1, "c": 2, "d": 2, "e": None}
    self_scores = {"a": 3, "b": 1, "c": 3, "d": 2, "e": 3}  # c: one above; e: N/A by the manager
    points = {p.item.item_id: p.reasons for p in development_points(item_feedback(RUBRIC, manager, self_scores, {}), RUBRIC)}
    assert set(points) == {"b", "c"}
    assert points["b"] == ("scored 1 (label 1), below the middle of the scale",)
    assert points["c"] == ("self-assessed 3, 1 point above the treatment manager's score",)


def test_a_mean_leaves_not_applicable_out() -> None:
    assert mean_score({"a": 3, "b": None, "c": 1}) == 2
    assert mean_score({"a": None}) is None


@pytest.mark.parametrize(("label", "start", "end"), [
    ("2026-02", dt.date(2026, 2, 1), dt.date(2026, 2, 28)), ("2026-12", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    ("2026Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)), ("2026Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
])  # fmt: skip
def test_a_period_runs_from_its_first_to_its_last_day(label: str, start: dt.date, end: dt.date) -> None:
    assert period_bounds(label) == (start, end)
    kind = "month" if "-" in label else "quarter"
    assert period_of(start, kind) == period_of(end, kind) == label


def test_periods_are_listed_newest_first_and_described_in_words() -> None:
    days = [dt.date(2026, 2, 10), dt.date(2026, 5, 7), dt.date(2026, 5, 21)]
    assert periods(days, "quarter") == ["2026Q2", "2026Q1"]
    assert describe_period("2026-05") == "May 2026"
    assert describe_period("2026Q2") == "Q2 2026 (01/04/2026 to 30/06/2026)"
    with pytest.raises(ValueError, match="write a month as 2026-05 or a quarter as 2026Q2"):
        period_bounds("May 2026")


def test_until_calibration_lands_everyone_has_not_attempted_it() -> None:
    assert calibration_status([3, 1]) == {3: NOT_ATTEMPTED, 1: NOT_ATTEMPTED}
    assert status_label(NOT_ATTEMPTED) == "Not attempted"


def test_the_dictionary_describes_every_export_column_and_every_column_once() -> None:
    frame = dictionary_frame()
    assert list(frame.loc[frame["table"] == "Scores export", "key"]) == EXPORT_COLUMNS
    assert not frame.duplicated(["table", "key"]).any()
    assert frame["meaning"].str.len().min() > 10
    assert set(frame["table"]) == set(TABLES)


def test_export_dictionary_writes_the_data_dictionary(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", "--dictionary"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0].keys() == {"table", "column", "key", "meaning"}
    assert len(rows) == len(dictionary_frame())
    assert {"table": "Scores export", "key": "score"}.items() <= next(r for r in rows if r["key"] == "score").items()


def test_audit_score_is_a_command_of_session_rater(capsys: pytest.CaptureFixture[str]) -> None:
    marks = REPO / "tests" / "data" / "audit" / "cumbria-2002-follow-up-marks.csv"
    assert cli.main(["audit-score", str(marks), "--format", "json"]) == 0
    assert round(json.loads(capsys.readouterr().out)["iqr"], 2) == 63.48
    assert cli.main(["audit-score", str(marks), "--mandatory", "Z9.9"]) == 2
    assert "--mandatory: unknown criterion 'Z9.9'" in capsys.readouterr().err
