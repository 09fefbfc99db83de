"""Find the bundled ffmpeg and probe a recording with it.

There is no ``ffprobe`` in imageio-ffmpeg, so :func:`probe` runs ``ffmpeg -hide_banner -i FILE``
(with no output, which ffmpeg answers with exit code 1) and parses the stream summary it
prints on stderr. This is deliberately small; richer probing (frame rate, field order, packet
counts) will replace it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from session_rater.errors import RecordingError

PROBE_TIMEOUT_SECONDS = 60

_DURATION_RE = re.compile(r"^\s*Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", re.MULTILINE)
_STREAM_RE = re.compile(r"^\s*Stream #\d+:\d+\S*:\s*(Video|Audio):\s*(.*)$", re.MULTILINE)
# "..., yuv420p(progressive), 640x360 [SAR 1:1 DAR 16:9], ..." - the size follows ", ".
_SIZE_RE = re.compile(r",\s(\d{1,5})x(\d{1,5})(?=[\s,]|$)")


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found out about a recording."""

    duration_seconds: float
    width: int
    height: int
    video_codec: str  # ffmpeg's codec name, e.g. "h264", "hevc", "mpeg2video"
    audio_codec: str | None  # e.g. "aac"; None when there is no audio stream
    has_audio: bool


@cache
def ffmpeg_exe() -> str:
    """Return the path of the ffmpeg binary bundled with imageio-ffmpeg.

    Raises :class:`RecordingError` when imageio-ffmpeg is not installed or has no binary
    for this platform.
    """
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise RecordingError(
            "ffmpeg is not available: the Python package imageio-ffmpeg is not installed. "
            "Install it with `pip install imageio-ffmpeg` (it is a dependency of session-rater)."
        ) from exc
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise RecordingError(
            f"ffmpeg is not available: imageio-ffmpeg found no ffmpeg binary ({exc}). "
            "Reinstall imageio-ffmpeg from a wheel for this platform, or set IMAGEIO_FFMPEG_EXE "
            "to the path of an ffmpeg that has libx264 and aac."
        ) from exc
    if not Path(exe).is_file():
        raise RecordingError(
            f"ffmpeg is not available: {exe} does not exist. Reinstall imageio-ffmpeg, or set "
            "IMAGEIO_FFMPEG_EXE to the path of an ffmpeg that has libx264 and aac."
        )
    return exe


def probe(path: Path | str) -> VideoInfo:
    """Return the duration, picture size and codecs of the recording at ``path``.

    Raises :class:`RecordingError` naming the file when it does not exist, is empty, cannot
    be read by ffmpeg, has no video stream or no known duration.
    """
    file = Path(path)
    if not file.exists():
        raise RecordingError(f"Recording {file} does not exist. Check the path and the manifest.")
    if not file.is_file():
        raise RecordingError(f"Recording {file} is not a regular file (is it a folder?).")
    if file.stat().st_size == 0:
        raise RecordingError(
            f"Recording {file} is empty (0 bytes). The copy or upload probably failed; copy it again."
        )
    # "file:" stops ffmpeg from reading a leading "-" as an option or "x:" as a protocol.
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", f"file:{file.resolve()}"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RecordingError(
            f"Recording {file}: ffmpeg took more than {PROBE_TIMEOUT_SECONDS} s to read it; "
            "is it on a slow or disconnected network drive?"
        ) from exc
    return _parse_probe(file, done.stderr.decode("utf-8", errors="replace"))


def _parse_probe(file: Path, stderr: str) -> VideoInfo:
    if "Input #0" not in stderr:
        reason = _last_error_line(stderr)
        raise RecordingError(
            f"Recording {file} cannot be read by ffmpeg ({reason}). It is not a video file "
            "or it is damaged (an interrupted copy?); export or copy it again."
        )
    video: tuple[str, str] | None = None
    audio_codec: str | None = None
    for kind, desc in _STREAM_RE.findall(stderr):
        codec = desc.split(None, 1)[0].rstrip(",") if desc.strip() else "unknown"
        if kind == "Video" and video is None and "(attached pic)" not in desc:
            video = (codec, desc)
        elif kind == "Audio" and audio_codec is None:
            audio_codec = codec
    if video is None:
        raise RecordingError(
            f"Recording {file} has no video stream (audio only?). Use the video recording of the session."
        )
    size = _SIZE_RE.search(video[1])
    if size is None:
        raise RecordingError(f"Recording {file}: ffmpeg reports no picture size for its video stream.")
    duration = _DURATION_RE.search(stderr)
    if duration is None:
        raise RecordingError(
            f"Recording {file} has no known duration (a raw stream?). Remux it into MP4 with "
            "`ffmpeg -i IN -c copy -movflags +faststart OUT.mp4`."
        )
    hours, minutes, seconds = duration.groups()
    return VideoInfo(
        duration_seconds=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        width=int(size.group(1)),
        height=int(size.group(2)),
        video_codec=video[0],
        audio_codec=audio_codec,
        has_audio=audio_codec is not None,
    )


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error opening input:" in line:
            return line.split("Error opening input:", 1)[1].strip()
    return lines[-1] if lines else "no output from ffmpeg"
