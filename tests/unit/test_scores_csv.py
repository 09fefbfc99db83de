"""Reading a long-format scores CSV: good rows kept, bad rows reported with their line numbers.

Expected values are read off the small files written in each test (line 1 is the header).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from session_rater.errors import ScoreError
from session_rater.io.scores_csv import read_scores_csv
from session_rater.usecases.services import EXPORT_COLUMNS

HEADER = ",".join(EXPORT_COLUMNS)


def csv(*rows: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO("\n".join([header, *rows]) + "\n")


def row(
    session: object = 1, tutor: object = 10, rater: object = 10, role: str = "tutor", item: str = "a", score: object = 3
) -> str:
    return f"{session},{tutor},{rater},{role},think-first,1,{item},{score},2025-01-01T10:00:00"


def test_the_export_format_is_read_with_an_empty_score_as_not_applicable() -> None:
    result = read_scores_csv(csv(row(score=3), row(item="b", score="")))
    assert result.ok and result.n_rows == 2
    scores = result.scores
    assert scores["score"].iloc[0] == 3 and np.isnan(scores["score"].iloc[1])
    assert list(scores["line"]) == [2, 3]
    assert {"rubric_id", "rubric_version", "submitted_at"} <= set(scores.columns)


def test_bad_rows_are_collected_with_their_line_numbers_the_header_being_line_one() -> None:
    result = read_scores_csv(
        csv(
            row(item="a"),
            row(item="b", score="three"),
            row(item="c", role="supervisor"),
            row(item="", score=2),
            row(item="d"),
        )
    )
    assert [(b.line, b.problems) for b in result.bad_rows] == [
        (3, ("score 'three' is not a number",)),
        (
            4,
            (
                "unknown rater_role 'supervisor' (expected one of tutor, treatment_manager, external_assessor, benchmark)",
            ),
        ),
        (5, ("item_id is empty",)),
    ]
    assert list(result.scores["item_id"]) == ["a", "d"]
    assert str(result.bad_rows[0]) == "line 3: score 'three' is not a number"


def test_a_rater_scoring_one_item_of_one_session_and_tutor_twice_reports_both_lines() -> None:
    result = read_scores_csv(csv(row(score=3), row(item="b"), row(score=2)))
    lines = {b.line: b.problems[0] for b in result.bad_rows}
    assert set(lines) == {2, 4}
    assert lines[2].endswith("more than once: also on line 4")
    assert lines[4].endswith("more than once: also on line 2")
    assert list(result.scores["item_id"]) == ["b"]  # neither copy is trusted


def test_the_same_item_scored_by_another_rater_or_for_another_tutor_is_no_duplicate() -> None:
    result = read_scores_csv(csv(row(), row(rater=20, role="treatment_manager"), row(tutor=11)))
    assert result.ok and len(result.scores) == 3


def test_scores_off_a_given_scale_are_bad_rows() -> None:
    result = read_scores_csv(
        csv(row(item="a", score=3), row(item="b", score=4), row(item="c", score=-1)), categories=[0, 1, 2, 3]
    )
    assert [b.line for b in result.bad_rows] == [3, 4]
    assert result.bad_rows[0].problems == ("score 4 is off the scale: expected one of 0, 1, 2, 3",)


def test_without_a_scale_only_whole_numbers_are_checked() -> None:
    result = read_scores_csv(csv(row(item="a", score=7), row(item="b", score=2.5), row(item="c", score="3.0")))
    assert [b.line for b in result.bad_rows] == [3]
    assert "whole number" in result.bad_rows[0].problems[0]
    assert list(result.scores["score"]) == [7.0, 3.0]


def test_several_problems_on_one_row_are_all_reported() -> None:
    result = read_scores_csv(csv(row(session="", role="boss", score="x")))
    (bad,) = result.bad_rows
    assert len(bad.problems) == 3


def test_blank_lines_and_quoted_line_breaks_keep_line_numbers_true() -> None:
    text = io.StringIO(
        HEADER
        + "\n"
        + row(item="a")
        + "\n"
        + "\n"
        + '1,10,10,tutor,"think-\nfirst",1,b,3,\n'
        + row(item="c", score="x")
        + "\n"
    )
    result = read_scores_csv(text)
    assert [b.line for b in result.bad_rows] == [6]
    assert list(result.scores["line"]) == [2, 4]


def test_an_empty_tutor_id_is_a_session_rated_as_a_whole() -> None:
    result = read_scores_csv(csv(row(tutor="", item="a"), row(tutor="", item="b")))
    assert result.ok
    assert result.scores["tutor_id"].isna().all()


def test_identifiers_become_integers_only_when_written_as_whole_numbers() -> None:
    result = read_scores_csv(csv(row(session="007", rater=5), row(session="8", rater=6, item="b")))
    assert result.scores["rater_id"].dtype == np.int64
    assert list(result.scores["session_id"]) == ["007", "8"]  # a leading zero is text: kept as written


def test_a_file_without_a_required_column_is_refused_naming_the_column() -> None:
    with pytest.raises(ScoreError, match="missing column\\(s\\) rater_role"):
        read_scores_csv(csv("1,10,10,a,3", header="session_id,tutor_id,rater_id,item_id,score"))


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("")
    with pytest.raises(ScoreError, match="empty"):
        read_scores_csv(path)


def test_a_file_on_disk_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("\ufeff" + HEADER + "\n" + row() + "\n", encoding="utf-8")
    result = read_scores_csv(path)
    assert result.ok and result.source == str(path) and len(result.scores) == 1


def test_three_copies_of_one_score_each_name_the_other_two() -> None:
    result = read_scores_csv(csv(row(score=1), row(score=2), row(item="b"), row(score=3)))
    lines = {b.line: b.problems[0] for b in result.bad_rows}
    assert lines[2].endswith("also on line 3, 5") and lines[5].endswith("also on line 2, 3")
