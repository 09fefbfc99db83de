"""``session-rater audit-score``: scores a marks CSV, or says what is wrong and scores nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from session_rater.cli.audit import DEFAULT_INSTRUMENT, audit_score_main

REPO = Path(__file__).resolve().parents[2]
CUMBRIA = REPO / "tests" / "data" / "audit" / "cumbria-2002-follow-up-marks.csv"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = audit_score_main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


def test_the_default_instrument_is_the_shipped_file() -> None:
    assert DEFAULT_INSTRUMENT == REPO / "audits" / "think-first-2002.yaml"


def test_text_output_shows_the_arithmetic_and_the_iqr() -> None:
    status, out, err = _run(str(CUMBRIA))
    assert (status, err) == (0, "")
    assert "A: 5 of 8 available = 62.5% x 20% = 12.5" in out
    assert "IQR = 12.5 + 23.5 + 17.5 + 10.0 = 63.5, rounded 63%" in out


def test_json_output_follows_the_contract() -> None:
    status, out, _ = _run(str(CUMBRIA), "--format", "json", "--mandatory", "A1.1, B2.4")
    assert status == 0
    data = json.loads(out)
    assert set(data) == {"iqr", "sections", "mandatory", "mandatory_not_fully_met"}
    assert data["sections"]["A"] == {"percent": 70.0, "marks": 7, "max": 10, "weight": 20}
    assert data["mandatory"] == ["A1.1", "B2.4"]
    assert data["mandatory_not_fully_met"] == ["B2.4"]


def test_an_empty_mandatory_list_marks_none() -> None:
    status, out, _ = _run(str(CUMBRIA), "--format", "json", "--mandatory", "")
    assert status == 0 and json.loads(out)["mandatory"] == []


def test_an_unknown_mandatory_criterion_is_refused_with_exit_2() -> None:
    status, out, err = _run(str(CUMBRIA), "--mandatory", "B2.4,b9.1")
    assert (status, out) == (2, "")
    assert "--mandatory: unknown criterion 'b9.1'" in err


def test_a_criterion_named_twice_in_mandatory_is_refused() -> None:
    status, _, err = _run(str(CUMBRIA), "--mandatory", "B2.4,B2.4")
    assert status == 2 and "B2.4 listed more than once" in err


def test_a_bad_marks_file_lists_every_problem_and_scores_nothing(tmp_path: Path) -> None:
    lines = CUMBRIA.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",1,", ",3,")  # A1.2: off the scale
    lines.append(lines[6])  # B1.2 (line 7) again
    bad = tmp_path / "marks.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, err = _run(str(bad))
    assert (status, out) == (2, "")
    assert "marks.csv: line 3: mark '3' is off the scale" in err
    assert "marks.csv: line 44: criterion B1.2 is listed twice (first on line 7)" in err
    assert "2 problem(s) in" in err and "nothing was scored" in err


def test_a_missing_marks_file_is_refused(tmp_path: Path) -> None:
    status, _, err = _run(str(tmp_path / "none.csv"))
    assert status == 2 and "does not exist; give the marks CSV" in err


def test_a_broken_instrument_is_refused_naming_the_field(tmp_path: Path) -> None:
    broken = tmp_path / "audit.yaml"
    broken.write_text(DEFAULT_INSTRUMENT.read_text(encoding="utf-8").replace("weight: 20", "weight: 25", 1), encoding="utf-8")
    status, _, err = _run(str(CUMBRIA), "--instrument", str(broken))
    assert status == 2
    assert "audit.yaml: sections: the section weights must sum to 100; 25 + 30 + 30 + 20 = 105" in err


@pytest.mark.parametrize("argv", [[], ["a.csv", "--format", "xml"], ["a.csv", "--colour"]])
def test_unusable_arguments_exit_2_with_the_usage(argv: list[str]) -> None:
    status, out, err = _run(*argv)
    assert (status, out) == (2, "")
    assert err.startswith("usage: session-rater audit-score")


def test_help_goes_to_standard_output_and_exits_0() -> None:
    status, out, err = _run("--help")
    assert (status, err) == (0, "")
    assert "--mandatory ID,..." in out
