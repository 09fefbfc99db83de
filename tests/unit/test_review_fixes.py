"""Edge cases found in review, each pinned by a test."""

from __future__ import annotations

import argparse

import pytest

from session_rater import krippendorff_alpha
from session_rater.cli.analyse import register
from session_rater.domain.readings import koo_li
from session_rater.usecases.recording_links import verify, viewer_of


def test_koo_and_li_read_exactly_090_as_good_not_excellent() -> None:
    # Koo & Li (2016): "between 0.75 and 0.9 ... good; greater than 0.90 ... excellent".
    assert koo_li(0.90).text == "good"
    assert koo_li(0.85, (0.80, 0.90)).text == "good"
    assert koo_li(0.901).text == "excellent"


def test_alpha_gives_no_interval_when_resampling_cannot_vary() -> None:
    result = krippendorff_alpha([[1, 2], [1, 2]], level="interval", n_boot=100)
    assert result.ci is None and "cannot vary" in result.method


def test_analyse_refuses_zero_resamples_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="session-rater")
    register(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["analyse", "x.csv", "--resamples", "0"])
    assert "at least 1 resample" in capsys.readouterr().err


def test_a_non_ascii_signature_or_viewer_token_is_refused_not_a_crash() -> None:
    assert not verify(b"k" * 32, 1, "7", "9999999999", "é")
    assert viewer_of(b"k" * 32, "7.9999999999.é") is None
