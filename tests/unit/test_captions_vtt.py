"""The WebVTT reader behind captions: a good file gives its cues; a bad one says what is wrong
and where (line numbers), so whoever made it can fix it in one pass."""

from __future__ import annotations

import pytest

from session_rater.domain.captions import MAX_CAPTIONS_BYTES, CaptionsError, Cue, decode_captions, parse_vtt

GOOD = """WEBVTT - Think First session 3

NOTE made by the transcription service

1
00:00:01.000 --> 00:00:04.500 align:start
<v Tutor>Welcome back, everyone.</v>

00:05.250 --> 00:08.000
Last week we looked at
problem solving &amp; goals.

01:00:00.000 --> 01:00:02.000
The end.
"""


def test_a_good_file_gives_its_cues_in_order_as_plain_text() -> None:
    assert parse_vtt(GOOD) == [
        Cue(1.0, 4.5, "Welcome back, everyone."),
        Cue(5.25, 8.0, "Last week we looked at problem solving & goals."),
        Cue(3600.0, 3602.0, "The end."),
    ]


def test_a_byte_order_mark_and_windows_line_ends_are_accepted() -> None:
    data = ("\ufeff" + GOOD.replace("\n", "\r\n")).encode()
    assert len(parse_vtt(decode_captions(data, "x.vtt"), "x.vtt")) == 3


def _problems(text: str) -> list[str]:
    with pytest.raises(CaptionsError) as caught:
        parse_vtt(text, "s3.vtt")
    return caught.value.errors


def test_a_file_without_the_webvtt_signature_is_refused_and_an_srt_file_is_named() -> None:
    [problem] = _problems("1\n00:00:01,000 --> 00:00:02,000\nHello\n")
    assert problem.startswith("s3.vtt: line 1: a WebVTT file starts with the line WEBVTT") and ".srt" in problem


def test_every_bad_timing_is_reported_with_its_line() -> None:
    problems = _problems("WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nA\n\n00:03.000 --> 00:02.000\nB\n\n"
                         "00:01:5.000 --> 00:01:06.000\nC\n")
    assert len(problems) == 3
    assert problems[0].startswith("s3.vtt: line 3: '00:00:01,000 --> 00:00:02.000' is not a valid timing")
    assert "mm:ss.ttt" in problems[0]
    assert problems[1].startswith("s3.vtt: line 6: the cue ends (00:02.000) before it starts (00:03.000)")
    assert problems[2].startswith("s3.vtt: line 9:")


def test_cues_out_of_order_and_a_missing_blank_line_are_explained() -> None:
    [problem] = _problems("WEBVTT\n\n00:05.000 --> 00:06.000\nA\n\n00:01.000 --> 00:02.000\nB\n")
    assert problem.startswith("s3.vtt: line 6: this cue starts before the one above it")
    [problem] = _problems("WEBVTT\n\n00:01.000 --> 00:02.000\nB\n00:03.000 --> 00:04.000\nC\n")
    assert problem.startswith("s3.vtt: line 5: a cue's text cannot contain '-->'") and "blank line" in problem


def test_a_block_that_is_no_cue_and_a_file_with_no_cues_are_refused() -> None:
    assert "is neither a cue" in _problems("WEBVTT\n\nhello\nthere\n")[0]
    assert "has no cues" in _problems("WEBVTT\n\nNOTE only a note\n")[0]


def test_a_file_too_large_or_not_utf8_is_refused_before_it_is_read() -> None:
    with pytest.raises(CaptionsError, match="too large"):
        decode_captions(b"WEBVTT\n\n" + b"x" * MAX_CAPTIONS_BYTES, "big.vtt")
    with pytest.raises(CaptionsError, match="not UTF-8"):
        decode_captions("WEBVTT\n\n00:01.000 --> 00:02.000\ncaf\u00e9\n".encode("latin-1"), "latin.vtt")


def test_the_player_finds_an_items_box_by_the_class_streamlit_gives_its_key() -> None:
    from session_rater.ui.player import Item

    # Streamlit's frontend: "st-key-" + key.trim() with every character outside [a-zA-Z0-9_-] as "-".
    item = Item("manual.pacing", "Pacing", "rate:14:6:3:monitoring:manual.pacing:box")
    assert item.css_class == "st-key-rate-14-6-3-monitoring-manual-pacing-box"
