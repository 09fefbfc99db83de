"""Probing, hashing and thumbnails of recordings in every format the services meet.

Expected values are what the clips were made with (ffmpeg lavfi test sources, 3 s, 25 fps):
codecs, sizes and field orders are the encoder settings in CLIPS; SHA-256 is checked against
hashlib over the whole file. :func:`make_clip` is shared with test_transcode and test_ingest.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from session_rater.errors import RecordingError
from session_rater.media import thumbnails as thumbs
from session_rater.media.ffmpeg import ffmpeg_exe, probe
from session_rater.media.hashing import content_hash
from session_rater.media.transcode import Action, plan_for

TESTSRC = "testsrc=size=320x240:rate=25"
TONE = "sine=frequency=440:sample_rate=48000"
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
# name -> ffmpeg arguments between the inputs and the output (inputs: testsrc and a tone).
CLIPS: dict[str, list[str]] = {
    "h264_aac_faststart.mp4": [*H264, "-c:a", "aac", "-movflags", "+faststart"],
    "h264_aac_moov_at_end.mp4": [*H264, "-c:a", "aac"],
    "h264_silent.mp4": ["-map", "0:v", *H264, "-movflags", "+faststart"],
    "h264_aac.mkv": [*H264, "-c:a", "aac"],
    "h264_aac.mov": [*H264, "-c:a", "aac", "-f", "mov"],
    "h264_mp3.mkv": [*H264, "-c:a", "libmp3lame"],
    "hevc_aac.mp4": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-c:a", "aac"],
    # A PAL tape: 720x576 interlaced MPEG-2 (top field first) with MP2 sound in an MPEG-PS .mpg.
    # (ffmpeg 9 has no "-top 1"; setfield=tff plus +ilme+ildct gives the same flagged stream.)
    "interlaced_pal.mpg": [
        *("-vf", "scale=720:576,setfield=tff", "-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-b:v", "4M"),
        *("-c:a", "mp2", "-b:a", "192k", "-f", "mpeg"),
    ],
    "progressive.wmv": ["-c:v", "wmv2", "-c:a", "wmav2"],
    # Interlaced content that no flag announces: 50 fps woven into 25 fps fields, flagged progressive.
    "woven_fields.wmv": ["-vf", "tinterlace=interleave_top,setfield=prog", "-c:v", "wmv2", "-c:a", "wmav2"],
    "audio_only.m4a": ["-map", "1:a", "-c:a", "aac"],
    # MPEG-4 Part 2 (old cameras, DivX): no browser plays it, so it must be transcoded.
    "mpeg4_aac_faststart.mp4": ["-c:v", "mpeg4", "-q:v", "5", "-c:a", "aac", "-movflags", "+faststart"],
}
SOURCES = {"woven_fields.wmv": "testsrc=size=320x240:rate=50"}  # two moments per frame, one per field


# What ffmpeg prints for an H.264 stream: a file name holding it on its own line must not be read
# as a stream of the file (ffmpeg prints the input's name in "Input #0, ..., from 'NAME':").
FAKE_H264_STREAM = "Stream #0:0: Video: h264 (High), yuv420p(progressive), 320x240, 25 fps, 25 tbr"
DISGUISED_NAME = f"mpeg4.mp4\n  {FAKE_H264_STREAM}\n  Duration: 00:00:09.00, start: 0.000000\n.mp4"


def make_clip(name: str, folder: Path, seconds: float = 3.0, *, as_name: str | None = None) -> Path:
    """Encode the clip ``name`` of CLIPS (``seconds`` long) into ``folder``."""
    out = folder / (as_name or name)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", SOURCES.get(name, TESTSRC), "-f", "lavfi", "-i", TONE, "-t", f"{seconds:g}",
        *CLIPS[name], str(out),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    made = {name: make_clip(name, folder) for name in CLIPS if name != "hevc_aac.mp4"}
    try:
        made["hevc_aac.mp4"] = make_clip("hevc_aac.mp4", folder)
    except subprocess.CalledProcessError:  # an ffmpeg without libx265
        pass
    return made


# -- what probe reports -------------------------------------------------------------------


def test_an_h264_aac_faststart_mp4_plays_in_the_browser_as_it_is(clips: dict[str, Path]) -> None:
    info = probe(clips["h264_aac_faststart.mp4"])
    assert (info.container, info.video_codec, info.audio_codec) == ("mp4", "h264", "aac")
    assert (info.width, info.height, info.frame_rate, info.pixel_format) == (320, 240, 25.0, "yuv420p")
    assert info.video_profile == "Constrained Baseline" and info.audio_profile == "LC"
    assert (info.field_order, info.interlaced, info.interlace_source) == ("progressive", False, "stream")
    assert info.faststart is True
    assert info.browser_playable and info.browser_problems == ()
    assert abs(info.duration_seconds - 3.0) <= 0.05
    assert info.size_bytes == clips["h264_aac_faststart.mp4"].stat().st_size


def test_an_mp4_with_its_index_at_the_end_is_not_browser_ready(clips: dict[str, Path]) -> None:
    info = probe(clips["h264_aac_moov_at_end.mp4"])
    assert info.faststart is False
    assert info.video_is_browser_safe and info.audio_is_browser_safe
    assert not info.browser_playable
    assert any("faststart" in p for p in info.browser_problems)


def test_a_silent_h264_mp4_is_browser_playable(clips: dict[str, Path]) -> None:
    info = probe(clips["h264_silent.mp4"])
    assert info.audio_codec is None and not info.has_audio
    assert info.browser_playable


@pytest.mark.parametrize(("name", "container"), [("h264_aac.mkv", "matroska"), ("h264_aac.mov", "mov")])
def test_h264_aac_in_another_container_needs_only_a_new_container(
    clips: dict[str, Path], name: str, container: str
) -> None:
    info = probe(clips[name])
    assert info.container == container
    assert info.video_is_browser_safe and info.audio_is_browser_safe
    assert info.browser_problems == (f"container is {container} (needs MP4)",)


def test_an_interlaced_mpeg2_tape_is_reported_with_its_field_order(clips: dict[str, Path]) -> None:
    info = probe(clips["interlaced_pal.mpg"])
    assert (info.container, info.video_codec, info.audio_codec) == ("mpeg-ps", "mpeg2video", "mp2")
    assert (info.width, info.height, info.frame_rate) == (720, 576, 25.0)
    assert (info.field_order, info.interlaced, info.interlace_source) == ("tff", True, "stream")
    assert info.start_seconds > 0  # MPEG-PS timestamps do not start at 0 ...
    assert abs(info.duration_seconds - 3.0) <= 0.1  # ... the duration is still the span of the timestamps
    assert not info.browser_playable and len(info.browser_problems) == 3


def test_a_wmv_without_a_field_order_is_measured_with_idet(clips: dict[str, Path]) -> None:
    progressive = probe(clips["progressive.wmv"])
    woven = probe(clips["woven_fields.wmv"])
    assert progressive.container == "asf" and progressive.video_codec == "wmv2"
    assert (progressive.interlace_source, progressive.interlaced) == ("idet", False)
    assert (woven.interlace_source, woven.interlaced, woven.field_order) == ("idet", True, "tff")
    assert probe(clips["woven_fields.wmv"], detect_interlace=False).field_order == "unknown"


def test_a_file_name_that_reads_like_an_h264_stream_does_not_make_mpeg4_playable(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disguised = tmp_path / DISGUISED_NAME
    disguised.write_bytes(clips["mpeg4_aac_faststart.mp4"].read_bytes())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where probe makes its neutral link

    info = probe(disguised)

    assert (info.video_codec, info.width, info.height, info.container) == ("mpeg4", 320, 240, "mp4")
    assert abs(info.duration_seconds - 3.0) <= 0.05  # not the 9 s of the name
    assert not info.browser_playable and info.browser_problems[0].startswith("video is mpeg4")
    assert plan_for(info).action is Action.TRANSCODE
    assert list(scratch.iterdir()) == []  # the neutral link is gone


def test_errors_about_a_file_with_a_strange_name_still_name_that_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes\nStream #0:0: Video: h264.mp4"
    notes.write_text("Session notes, not a video.\n", encoding="utf-8")
    with pytest.raises(RecordingError, match="cannot be read by ffmpeg") as caught:
        probe(notes)
    assert str(notes) in str(caught.value) and "session-rater-ffmpeg" not in str(caught.value)


def test_hevc_is_not_browser_safe(clips: dict[str, Path]) -> None:
    if "hevc_aac.mp4" not in clips:
        pytest.skip("this ffmpeg has no libx265")
    info = probe(clips["hevc_aac.mp4"])
    assert info.video_codec == "hevc" and not info.video_is_browser_safe
    assert not info.browser_playable


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("h264 (High), yuv420p(tv, bt709, progressive), 1920x1080 [SAR 1:1 DAR 16:9], 29.97 fps, 29.97 tbr, 90k tbn",
         ("h264", "High", "yuv420p", "progressive", 29.97, 1920, 1080)),
        ("h264 (High 10), yuv420p10le(tv, bottom coded first (swapped)), 1440x1080, 25 tbr, 1k tbn",
         ("h264", "High 10", "yuv420p10le", "bff", 25.0, 1440, 1080)),
        ("dvvideo, yuv420p(bottom first), 720x576 [SAR 16:15 DAR 4:3], 28800 kb/s, 25 fps, 25 tbr, 25 tbn",
         ("dvvideo", None, "yuv420p", "bff", 25.0, 720, 576)),
        ("msmpeg4v3 (DIV3 / 0x33564944), yuv420p, 640x480, 1k tbr, 1k tbn",
         ("msmpeg4v3", None, "yuv420p", "unknown", 1000.0, 640, 480)),
    ],
)  # fmt: skip
def test_stream_summaries_of_other_recorders_are_parsed(summary: str, expected: tuple[object, ...]) -> None:
    from session_rater.media.ffmpeg import _parse_probe

    stderr = (
        "Input #0, avi, from 'x.avi':\n  Duration: 01:02:03.50, start: 0.000000, bitrate: 1 kb/s\n"
        f"  Stream #0:0: Video: {summary}\n"
    )
    info = _parse_probe(Path("x.avi"), stderr)
    got = (info.video_codec, info.video_profile, info.pixel_format, info.field_order, info.frame_rate,
           info.width, info.height)  # fmt: skip
    assert got == expected
    assert info.duration_seconds == 3723.5  # from the container, not frames / fps
    assert info.container == "avi" and not info.has_audio


# -- files that are not usable recordings -------------------------------------------------


def test_a_zero_byte_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match=r"empty\.mp4 is empty \(0 bytes\)"):
        probe(empty)


def test_a_truncated_mp4_is_refused_whether_its_index_is_first_or_last(clips: dict[str, Path], tmp_path: Path) -> None:
    for name, reason in [
        ("h264_aac_moov_at_end.mp4", r"cannot be read by ffmpeg"),
        ("h264_aac_faststart.mp4", r"is truncated"),
    ]:
        data = clips[name].read_bytes()
        cut = tmp_path / f"cut-{name}"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(RecordingError, match=reason):
            probe(cut)


def test_a_non_video_with_a_video_extension_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("Session notes, not a video.\n", encoding="utf-8")
    noise = tmp_path / "noise.avi"
    noise.write_bytes(bytes((i * 7919) % 251 for i in range(50_000)))
    for fake in (notes, noise):
        with pytest.raises(RecordingError, match=rf"{fake.name} cannot be read by ffmpeg"):
            probe(fake)


def test_an_audio_only_file_is_refused_saying_what_it_contains(clips: dict[str, Path]) -> None:
    with pytest.raises(RecordingError, match=r"has no video stream \(it contains only audio\)"):
        probe(clips["audio_only.m4a"])


def test_a_subtitle_file_named_like_a_video_is_refused(tmp_path: Path) -> None:
    subs = tmp_path / "subs.srt"
    subs.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n", encoding="utf-8")
    mkv = tmp_path / "subs.mkv"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(subs), str(mkv)], check=True, capture_output=True)
    with pytest.raises(RecordingError, match=r"has no video stream \(it contains only subtitle\)"):
        probe(mkv)


def test_a_missing_path_or_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"nowhere\.mp4 does not exist"):
        probe(tmp_path / "nowhere.mp4")
    with pytest.raises(RecordingError, match=r"is not a regular file"):
        probe(tmp_path)


# -- content hash -------------------------------------------------------------------------


def test_content_hash_is_the_sha256_of_the_whole_file_with_progress(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from session_rater.media import hashing

    monkeypatch.setattr(hashing, "CHUNK_BYTES", 64 * 1024)  # several chunks for a small clip
    path = clips["interlaced_pal.mpg"]
    seen: list[tuple[int, int]] = []
    digest = content_hash(path, on_progress=lambda done, total: seen.append((done, total)))
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    size = path.stat().st_size
    assert len(seen) == -(-size // (64 * 1024)) and seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_content_hash_of_an_empty_file_and_of_a_missing_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert content_hash(empty) == hashlib.sha256(b"").hexdigest()
    with pytest.raises(RecordingError, match="does not exist"):
        content_hash(tmp_path / "gone.mp4")


# -- thumbnails ---------------------------------------------------------------------------


def test_a_thumbnail_strip_has_evenly_spaced_small_jpegs_and_is_cached(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = clips["h264_aac_faststart.mp4"]
    key = "ab" * 32
    strip = thumbs.thumbnail_strip(video, key, data_dir=tmp_path, count=6)
    assert [t.seconds for t in strip] == pytest.approx([0.25, 0.75, 1.25, 1.75, 2.25, 2.75], abs=0.041)
    folder = tmp_path / "thumbnails" / key
    assert [t.path for t in strip] == [folder / f"{i:02d}.jpg" for i in range(6)]
    header = strip[0].path.read_bytes()[:3]
    assert header == b"\xff\xd8\xff"  # JPEG
    import cv2

    assert cv2.imread(str(strip[0].path)).shape == (120, 160, 3)
    manifest = json.loads((folder / "strip.json").read_text())
    assert [f["seconds"] for f in manifest["frames"]] == [t.seconds for t in strip]

    def no_ffmpeg(*args: object, **kwargs: object) -> None:
        raise AssertionError("ffmpeg ran although the strip was cached")

    monkeypatch.setattr(thumbs.subprocess, "Popen", no_ffmpeg)
    assert thumbs.thumbnail_strip(video, key, data_dir=tmp_path, count=6) == strip
    assert thumbs.cached_thumbnail_strip(key, data_dir=tmp_path, count=24) is None  # other count: not cached
    assert not list((tmp_path / "thumbnails").glob(".*"))  # no staging folder left


def test_thumbnails_of_a_long_recording_come_from_key_frames_at_their_true_times(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(thumbs, "ACCURATE_SEEK_MAX_SECONDS", 0.0)  # treat the 3 s clip as long
    strip = thumbs.make_thumbnails(clips["h264_aac_faststart.mp4"], tmp_path, count=6)
    # Key frames every 25 frames (1 s): each time is the first key frame at or after the target.
    assert [t.seconds for t in strip] == [1.0, 2.0]
    assert sorted(p.name for p in tmp_path.glob("*.jpg")) == [t.path.name for t in strip]


def test_strip_times_are_the_middles_of_equal_parts() -> None:
    assert thumbs.strip_times(7200, 24)[:2] == [150.0, 450.0]
    assert thumbs.strip_times(10, 4) == [1.25, 3.75, 6.25, 8.75]
    with pytest.raises(ValueError, match="count"):
        thumbs.strip_times(10, 0)
