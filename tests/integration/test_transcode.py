"""Converting recordings into the browser-safe format, and never leaving a half-written file.

The target (H.264 yuv420p + AAC in MP4 with faststart, progressive) is the format Chromium
plays, measured in shared/design/recordings-notes.md, section 4; each output is checked by
probing it, faststart also by reading its top-level boxes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_media_probe import make_clip  # shared clip recipes (tests/integration is on sys.path)

from session_rater.errors import RecordingError
from session_rater.media import transcode
from session_rater.media.ffmpeg import _top_level_boxes, ffmpeg_exe, probe
from session_rater.errors import ConversionCancelled
from session_rater.media.transcode import Action, convert, plan_for


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    names = ["h264_aac_faststart.mp4", "h264_aac_moov_at_end.mp4", "h264_aac.mkv", "h264_mp3.mkv",
             "interlaced_pal.mpg", "progressive.wmv", "woven_fields.wmv"]  # fmt: skip
    return {name: make_clip(name, folder) for name in names}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_browser_safe(output: Path, source: Path) -> None:
    out, src = probe(output), probe(source, detect_interlace=False)
    assert (out.container, out.video_codec, out.pixel_format, out.audio_codec) == ("mp4", "h264", "yuv420p", "aac")
    assert out.field_order == "progressive" and not out.interlaced
    assert out.faststart
    boxes = _top_level_boxes(output).types
    assert boxes.index("moov") < boxes.index("mdat")
    assert out.has_audio == src.has_audio
    assert abs(out.duration_seconds - src.duration_seconds) <= 0.2
    assert out.browser_playable


# -- the decision -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "action", "copy_video", "deinterlace"),
    [
        ("h264_aac_faststart.mp4", Action.AS_IS, False, None),
        ("h264_aac_moov_at_end.mp4", Action.REMUX, True, None),
        ("h264_aac.mkv", Action.REMUX, True, None),
        ("h264_mp3.mkv", Action.TRANSCODE, True, None),  # only the sound is re-encoded
        ("interlaced_pal.mpg", Action.TRANSCODE, False, "yadif=deint=interlaced"),
        ("progressive.wmv", Action.TRANSCODE, False, None),
        ("woven_fields.wmv", Action.TRANSCODE, False, "yadif=parity=tff:deint=all"),
    ],
)
def test_each_source_gets_the_cheapest_conversion_that_makes_it_browser_safe(
    clips: dict[str, Path], name: str, action: Action, copy_video: bool, deinterlace: str | None
) -> None:
    plan = plan_for(probe(clips[name]))
    assert (plan.action, plan.copy_video, plan.deinterlace) == (action, copy_video, deinterlace)
    assert bool(plan.reasons) == (action is not Action.AS_IS)


def test_an_interlaced_h264_mp4_is_transcoded_to_deinterlace_it(clips: dict[str, Path]) -> None:
    info = dataclasses.replace(probe(clips["h264_aac_faststart.mp4"]), field_order="tff", interlaced=True)
    plan = plan_for(info)
    assert plan.action is Action.TRANSCODE and not plan.copy_video
    assert plan.deinterlace == "yadif=deint=interlaced"
    command = transcode.ffmpeg_command(Path("in.mp4"), Path("out.mp4"), info, plan)
    assert command[command.index("-vf") + 1] == "yadif=deint=interlaced"
    assert command[command.index("-g") + 1] == "50"  # a key frame every 2 s


# -- converting ---------------------------------------------------------------------------


def test_an_interlaced_mpeg2_tape_becomes_progressive_h264_aac_with_its_sound_and_length(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    source = clips["interlaced_pal.mpg"]
    before = sha256(source)
    seen: list[float] = []
    result = convert(source, tmp_path / "out" / "tape.mp4", on_progress=lambda p: seen.append(p.fraction))
    assert result.output == tmp_path / "out" / "tape.mp4"
    assert_browser_safe(result.output, source)
    assert (result.info.width, result.info.height) == (720, 576)
    assert result.info.video_profile == "High"
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    assert sha256(source) == before  # the original is only read
    assert sorted(p.name for p in result.output.parent.iterdir()) == ["tape.mp4"]


def test_interlacing_found_only_by_idet_is_removed_too(clips: dict[str, Path], tmp_path: Path) -> None:
    result = convert(clips["woven_fields.wmv"], tmp_path / "woven.mp4")
    assert_browser_safe(result.output, clips["woven_fields.wmv"])
    # Measured again on the output: no longer interlaced.
    measured = probe(result.output)  # the stream says progressive; ask idet as well
    from session_rater.media.ffmpeg import _detect_interlace

    assert measured.field_order == "progressive"
    assert _detect_interlace(result.output, measured)["interlaced"] is False


@pytest.mark.parametrize("name", ["h264_aac.mkv", "h264_aac_moov_at_end.mp4"])
def test_a_remux_copies_the_streams_into_a_faststart_mp4(clips: dict[str, Path], tmp_path: Path, name: str) -> None:
    result = convert(clips[name], tmp_path / "remuxed.mp4")
    assert result.plan.action is Action.REMUX
    assert_browser_safe(result.output, clips[name])
    assert result.info.video_profile == "Constrained Baseline"  # the H.264 stream itself is untouched


def test_wmv_and_mp3_sound_are_converted_and_keep_their_sound(clips: dict[str, Path], tmp_path: Path) -> None:
    for name in ("progressive.wmv", "h264_mp3.mkv"):
        result = convert(clips[name], tmp_path / f"{name}.mp4")
        assert_browser_safe(result.output, clips[name])


def test_cancelling_kills_ffmpeg_and_leaves_nothing(tmp_path: Path) -> None:
    source = make_clip("interlaced_pal.mpg", tmp_path, seconds=12)
    out_dir = tmp_path / "out"
    cancel = threading.Event()

    def on_progress(progress: transcode.ConversionProgress) -> None:
        if progress.fraction > 0:
            cancel.set()

    with pytest.raises(ConversionCancelled, match="cancelled; the original is untouched"):
        convert(source, out_dir / "tape.mp4", on_progress=on_progress, should_cancel=cancel)
    assert cancel.is_set()
    assert list(out_dir.iterdir()) == []


def test_a_cancel_check_that_is_a_function_is_honoured_before_any_progress(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ConversionCancelled):
        convert(clips["interlaced_pal.mpg"], tmp_path / "x.mp4", should_cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []


# -- a full disk never leaves a half-written file in use ------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 KiB tmpfs (needs root and mount permission; skipped otherwise)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount_point)], check=False, capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_disk_that_fills_during_transcoding_leaves_no_output(clips: dict[str, Path], tiny_disk: Path) -> None:
    source = clips["interlaced_pal.mpg"]  # its transcode is about 90 KB: more than the disk holds
    with pytest.raises(RecordingError, match=r"disk holding .* is full"):
        convert(source, tiny_disk / "tape.mp4")
    assert list(tiny_disk.iterdir()) == []  # neither the output nor the temporary file


def test_a_write_error_on_the_temporary_file_leaves_no_output(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same without privileges: the temporary file is a link to /dev/full, where every
    write fails with ENOSPC ("No space left on device")."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    link = tmp_path / ".tape.partial.mp4"
    link.symlink_to("/dev/full")
    monkeypatch.setattr(transcode, "_partial_path", lambda output: link)
    with pytest.raises(RecordingError, match=r"is full"):
        convert(clips["interlaced_pal.mpg"], tmp_path / "tape.mp4")
    assert not (tmp_path / "tape.mp4").exists()
    assert not link.is_symlink()  # the link (never /dev/full itself) was removed
    assert Path("/dev/full").exists()


def test_a_remux_refuses_to_start_without_room_for_the_copy(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcode.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))  # type: ignore[attr-defined]
    with pytest.raises(RecordingError, match="Not enough free space"):
        convert(clips["h264_aac.mkv"], tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_fails_its_check_is_not_kept(clips: dict[str, Path], tmp_path: Path) -> None:
    source = clips["h264_aac.mkv"]
    claimed = dataclasses.replace(probe(source), duration_seconds=60.0)  # the copy will be 57 s short
    with pytest.raises(
        RecordingError, match=r"failed its check \(it lasts 3\.\d+ s where the original lasts 60\.00 s\)"
    ):
        convert(source, tmp_path / "x.mp4", info=claimed)
    assert list(tmp_path.iterdir()) == []


def test_a_conversion_never_overwrites_its_source(clips: dict[str, Path]) -> None:
    source = clips["h264_aac.mkv"]
    with pytest.raises(ValueError, match="would overwrite the original"):
        convert(source, source)
    with pytest.raises(ValueError, match="nothing to convert"):
        convert(clips["h264_aac_faststart.mp4"], source.with_name("x.mp4"))


def test_temporary_files_of_dead_processes_are_cleaned_up(tmp_path: Path) -> None:
    dead = tmp_path / ".abc.999999999-0badc0de.partial.mp4"
    mine = tmp_path / f".abc.{os.getpid()}-0badc0de.partial.mp4"
    keep = tmp_path / "abc.mp4"
    for path in (dead, mine, keep):
        path.write_bytes(b"x")
    assert transcode.remove_orphaned_partials(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, keep.name])


def test_the_bundled_ffmpeg_has_the_encoders_the_target_needs() -> None:
    encoders = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-encoders"], check=True, capture_output=True, text=True
    ).stdout
    assert " libx264 " in encoders and " aac " in encoders
