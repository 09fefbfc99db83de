"""A strip of evenly spaced thumbnails per recording, taken by seeking (never by decoding the
whole file), cached on disk.

Layout: ``<data_dir>/thumbnails/<content_hash>/00.jpg ... 23.jpg`` plus ``strip.json``, which
lists each frame's time in seconds. A strip is written into a hidden folder and renamed into
place when complete, so a reader never sees half a strip.

How: one ffmpeg process per CPU core, each with several ``-ss T -i FILE`` inputs and one JPEG
output per input (160 px wide, ``-pix_fmt yuvj420p``: ffmpeg 9's mjpeg encoder refuses plain
yuv420p). Opening the file dominates the cost on long recordings (the MP4 index of a 2-hour
file is several MB), so splitting the inputs over the cores halves the wall time.

Seeking: up to :data:`ACCURATE_SEEK_MAX_SECONDS` the frame at exactly T is decoded. Beyond
that only key frames are decoded (``-skip_frame nokey``), so the picture is the first key frame
at or after T: some recorders put key frames 10 s or more apart, and decoding up to the exact
frame 24 times would take long (``-noaccurate_seek`` does not help: ffmpeg 9 still decodes up to
T). Either way the time stored is the time of the frame actually shown (``showinfo`` at the end
of the filter chain), so a click on a thumbnail lands on that picture. Frames that land on the
same key frame are kept once; a time after the last key frame gives no frame.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from session_rater.errors import RecordingError
from session_rater.media.ffmpeg import ffmpeg_exe, ffmpeg_input, neutral_input, probe

DEFAULT_COUNT = 24
DEFAULT_WIDTH = 160
ACCURATE_SEEK_MAX_SECONDS = 600.0
MANIFEST = "strip.json"
TIMEOUT_SECONDS = 120
_FORMAT_VERSION = 1
_HASH_RE = re.compile(r"^[0-9a-f]{16,128}$")
_SHOWINFO_RE = re.compile(r"^\[showinfo@t(\d+) @ [^\]]+\] n:\s*0 .*?pts_time:(-?[\d.]+)", re.MULTILINE)


@dataclass(frozen=True)
class Thumbnail:
    seconds: float  # time of the frame in the recording
    path: Path


def strip_times(duration_seconds: float, count: int = DEFAULT_COUNT) -> list[float]:
    """``count`` evenly spaced times: the middle of each of ``count`` equal parts (so neither
    the often-black first frame nor the very end)."""
    if count < 1:
        raise ValueError(f"count must be 1 or more, not {count}")
    if not duration_seconds > 0:
        raise ValueError(f"duration_seconds must be above 0, not {duration_seconds}")
    return [duration_seconds * (i + 0.5) / count for i in range(count)]


def thumbnails_dir(data_dir: Path | str, content_hash: str) -> Path:
    if not _HASH_RE.match(content_hash):
        raise ValueError(f"content_hash {content_hash!r} is not a lowercase hex digest")
    return Path(data_dir) / "thumbnails" / content_hash


def cached_thumbnail_strip(
    content_hash: str, *, data_dir: Path | str, count: int | None = DEFAULT_COUNT, width: int | None = DEFAULT_WIDTH
) -> list[Thumbnail] | None:
    """The strip made earlier for ``content_hash`` (same count and width; None: any), or None.
    Never runs ffmpeg: safe to call from a page."""
    folder = thumbnails_dir(data_dir, content_hash)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("version") != _FORMAT_VERSION
        or (count is not None and manifest.get("requested") != count)
        or (width is not None and manifest.get("width") != width)
    ):
        return None
    try:
        strip = [Thumbnail(float(f["seconds"]), folder / str(f["file"])) for f in manifest["frames"]]
    except (KeyError, TypeError, ValueError):
        return None
    if not strip or not all(t.path.is_file() for t in strip):
        return None
    return strip


def thumbnail_strip(
    video: Path | str,
    content_hash: str,
    *,
    data_dir: Path | str,
    count: int = DEFAULT_COUNT,
    width: int = DEFAULT_WIDTH,
    duration_seconds: float | None = None,
) -> list[Thumbnail]:
    """The recording's strip: read from the cache, or made from ``video`` (the browser-safe
    file) once and cached. Raises :class:`RecordingError` if ffmpeg cannot make it."""
    cached = cached_thumbnail_strip(content_hash, data_dir=data_dir, count=count, width=width)
    if cached is not None:
        return cached
    final = thumbnails_dir(data_dir, content_hash)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{content_hash}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    staging.mkdir()
    try:
        frames = make_thumbnails(video, staging, count=count, width=width, duration_seconds=duration_seconds)
        manifest = {
            "version": _FORMAT_VERSION,
            "requested": count,
            "width": width,
            "source": str(Path(video).resolve()),
            "frames": [{"seconds": round(t.seconds, 3), "file": t.path.name} for t in frames],
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if final.exists():  # a stale or partial strip (a different count or width)
            shutil.rmtree(final, ignore_errors=True)
        try:
            staging.rename(final)
        except OSError:  # another process finished first: use theirs
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    strip = cached_thumbnail_strip(content_hash, data_dir=data_dir, count=count, width=width)
    if strip is None:
        raise RecordingError(f"The thumbnails of {video} could not be stored in {final}.")
    return strip


def make_thumbnails(
    video: Path | str,
    out_dir: Path | str,
    *,
    count: int = DEFAULT_COUNT,
    width: int = DEFAULT_WIDTH,
    duration_seconds: float | None = None,
    processes: int | None = None,
) -> list[Thumbnail]:
    """Write up to ``count`` JPEG frames of ``video``, evenly spaced, ``width`` px wide, into
    ``out_dir`` as ``00.jpg``, ``01.jpg``, ...; returns them in time order."""
    if width < 16 or width > 1920:
        raise ValueError(f"width must be 16 to 1920 pixels, not {width}")
    source = Path(video)
    duration = (
        duration_seconds if duration_seconds is not None else probe(source, detect_interlace=False).duration_seconds
    )
    times = strip_times(duration, count)
    accurate = duration <= ACCURATE_SEEK_MAX_SECONDS
    out = Path(out_dir)
    workers = max(1, min(processes or min(2, os.cpu_count() or 1), count))
    groups = [list(range(count))[g::workers] for g in range(workers)]
    actual: dict[int, float] = {}
    failures: list[str] = []
    with contextlib.ExitStack() as stack:
        neutral = stack.enter_context(neutral_input(source))  # showinfo lines are parsed: see ffmpeg.py
        running = []
        for group in groups:
            errors = stack.enter_context(tempfile.TemporaryFile())
            cmd = _command(neutral.url, out, times, group, width, accurate)
            proc = stack.enter_context(
                subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
            )
            stack.callback(_kill, proc)  # on any way out, no ffmpeg is left running
            running.append((proc, errors))
        for proc, errors in running:
            try:
                returncode = proc.wait(timeout=TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                returncode = -1
            errors.seek(0)
            log = errors.read().decode("utf-8", errors="replace")
            if returncode != 0:
                failures.append(neutral.explain((log.strip().splitlines() or ["no message"])[-1]))
            for index, pts_time in _SHOWINFO_RE.findall(log):
                actual[int(index)] = max(0.0, times[int(index)] + float(pts_time))
    if failures:
        raise RecordingError(f"ffmpeg could not take thumbnails from {source}: {failures[0]}")
    strip: list[Thumbnail] = []
    seen: set[float] = set()
    for index in range(count):
        path = out / f"{index:02d}.jpg"
        if not path.is_file() or path.stat().st_size == 0:
            continue  # past the last decodable frame
        seconds = round(actual.get(index, times[index]), 3)
        if seconds in seen:  # landed on the same key frame as the one before
            path.unlink()
            continue
        seen.add(seconds)
        strip.append(Thumbnail(seconds, path))
    if not strip:
        raise RecordingError(f"ffmpeg could not take any thumbnail from {source}; is the video damaged?")
    return strip


def _command(source_url: str, out: Path, times: list[float], group: list[int], width: int, accurate: bool) -> list[str]:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "info", "-y"]
    for index in group:
        if not accurate:
            cmd += ["-skip_frame", "nokey"]
        cmd += ["-ss", f"{times[index]:.3f}", "-i", source_url]
    scale = f"scale={width}:trunc(ow/dar/2)*2,setsar=1"
    for position, index in enumerate(group):
        cmd += [
            "-map", f"{position}:v:0", "-frames:v", "1", "-an", "-sn", "-dn",
            "-vf", f"{scale},showinfo@t{index:02d}",
            "-pix_fmt", "yuvj420p", "-q:v", "5", "-f", "image2", "-update", "1",
            ffmpeg_input(out / f"{index:02d}.jpg"),
        ]  # fmt: skip
    return cmd


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
