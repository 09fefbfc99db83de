"""Demo recordings: deterministic generation, browser-ready format, probing with ffmpeg."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from session_rater.errors import RecordingError
from session_rater.io.manifest import load_manifest, missing_files
from session_rater.media.ffmpeg import VideoInfo, ffmpeg_exe, probe
from session_rater.media.samples import (
    HEIGHT,
    WIDTH,
    SampleSpec,
    generate_samples,
    render_background,
    render_frame,
)

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_sessions"
SHORT = SampleSpec(
    file="short/tf09-s01-test.mp4",
    title="Think First - session 1",
    subtitle="Test clip",
    details="Test TF-09 | Nowhere | 2026-01-05",
    pattern="checker",
    duration_seconds=3.6,
)


def top_level_boxes(path: Path) -> list[str]:
    """Types of the top-level MP4 boxes, in file order."""
    types = []
    with path.open("rb") as f:
        end = path.stat().st_size
        offset = 0
        while offset < end:
            f.seek(offset)
            header = f.read(8)
            if len(header) < 8:
                raise ValueError(f"{path}: truncated box header at {offset}")
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
            elif size == 0:
                size = end - offset
            if size < 8:
                raise ValueError(f"{path}: bad box size {size} at {offset}")
            types.append(kind.decode("latin-1"))
            offset += size
    return types


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def short_clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first = generate_samples(tmp_path_factory.mktemp("run1"), [SHORT])
    second = generate_samples(tmp_path_factory.mktemp("run2"), [SHORT])
    return first[0], second[0]


def test_generation_is_deterministic(short_clips: tuple[Path, Path]) -> None:
    first, second = short_clips
    assert first.name == "tf09-s01-test.mp4" and first.parent.name == "short"
    assert first.stat().st_size > 10_000
    assert sha256(first) == sha256(second)
    assert not list(first.parent.glob(".*partial"))


def test_short_clip_is_h264_aac_of_the_asked_length(short_clips: tuple[Path, Path]) -> None:
    info = probe(short_clips[0])
    assert info.video_codec == "h264"
    assert info.audio_codec == "aac"
    assert info.has_audio
    assert (info.width, info.height) == (WIDTH, HEIGHT)
    assert abs(info.duration_seconds - SHORT.duration_seconds) <= 0.2


def test_short_clip_is_faststart(short_clips: tuple[Path, Path]) -> None:
    boxes = top_level_boxes(short_clips[0])
    assert "moov" in boxes and "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat"), boxes


def test_every_frame_shows_a_different_clock() -> None:
    background = render_background(SHORT)
    frames = [render_frame(background, SHORT, i) for i in range(3)]
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    assert not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[1], frames[2])


@pytest.mark.parametrize(
    "changes",
    [{"file": "clip.avi"}, {"file": "../clip.mp4"}, {"pattern": "plaid"}, {"duration_seconds": 0},
     {"colour": (0, 0, 300)}, {"tone_hz": 5}],
)
def test_bad_sample_spec_is_refused(changes: dict[str, object]) -> None:
    fields = {"file": "a.mp4", "title": "t", "subtitle": "s", "details": "d", **changes}
    with pytest.raises(ValueError):
        SampleSpec(**fields)  # type: ignore[arg-type]


def test_committed_samples_match_the_manifest() -> None:
    entries = load_manifest(SAMPLE_DIR / "manifest.csv")
    assert missing_files(entries) == []
    on_disk = sorted(p.name for p in SAMPLE_DIR.glob("*.mp4"))
    assert on_disk == sorted(e.file for e in entries)
    total = sum(e.path.stat().st_size for e in entries)
    assert total < 20 * 1024 * 1024
    for entry in entries:
        info = probe(entry.path)
        assert (info.video_codec, info.audio_codec, info.has_audio) == ("h264", "aac", True), entry.file
        assert (info.width, info.height) == (WIDTH, HEIGHT), entry.file
        assert 25 <= info.duration_seconds <= 40, entry.file
        boxes = top_level_boxes(entry.path)
        assert boxes.index("moov") < boxes.index("mdat"), entry.file


def test_ffmpeg_exe_exists() -> None:
    assert Path(ffmpeg_exe()).is_file()


def test_probe_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match=r"empty\.mp4 is empty \(0 bytes\)"):
        probe(empty)


def test_probe_refuses_a_text_file_named_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("Session notes, not a video.\n", encoding="utf-8")
    with pytest.raises(RecordingError, match=r"notes\.mp4 cannot be read by ffmpeg"):
        probe(fake)


def test_probe_refuses_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"nowhere\.mp4 does not exist"):
        probe(tmp_path / "nowhere.mp4")


def test_probe_returns_video_info(short_clips: tuple[Path, Path]) -> None:
    info = probe(str(short_clips[0]))  # a str path works too
    assert isinstance(info, VideoInfo)
    with pytest.raises(AttributeError):
        info.width = 1  # type: ignore[misc]
