"""Find the bundled ffmpeg and probe a recording with it.

There is no ``ffprobe`` in imageio-ffmpeg, so :func:`probe` runs ``ffmpeg -hide_banner -i FILE``
(with no output, which ffmpeg answers with exit code 1) and parses the summary it prints on
stderr::

    Input #0, mpeg, from 'tape.mpg':
      Duration: 00:00:03.01, start: 0.529978, bitrate: 4681 kb/s
      Stream #0:0[0x1e0]: Video: mpeg2video (Main), yuv420p(tv, top first), 720x576 [SAR 1:1 DAR 5:4], 25 fps, 25 tbr, 90k tbn
      Stream #0:1[0x1c0]: Audio: mp2, 48000 Hz, mono, s16p, 384 kb/s

Durations come from the container's timestamps (the ``Duration:`` line), never from a frame
count divided by a frame rate, which is wrong for variable frame rates and for containers
without an index (shared/design/recordings-notes.md, section 5).

When the stream summary gives no field order (WMV, AVI, ...), ffmpeg's ``idet`` filter looks
at up to :data:`IDET_FRAMES` frames to decide whether the picture is interlaced.

For MP4/MOV files the top-level boxes are read directly: whether ``moov`` comes before
``mdat`` (``+faststart``, so a browser can start playing before it has the whole file), and
whether a box runs past the end of the file (a truncated copy, which ffmpeg happily opens).

**ffmpeg never sees the recording's own name.** ffmpeg prints the input's name in its summary
(``from 'NAME':``), and a name may hold line breaks: a file called
``x.mp4<newline>Stream #0:0: Video: h264 ...`` would add a stream line of its choosing to the
text parsed here. So every ffmpeg run whose output is read opens the recording through
:func:`neutral_input`: a symbolic link with a fixed name (``input`` plus a short plain
extension) in a private temporary folder, removed afterwards. Messages still name the real file.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from session_rater.errors import RecordingError

PROBE_TIMEOUT_SECONDS = 60
IDET_FRAMES = 200

_INPUT_RE = re.compile(r"^Input #0, (.+?), from '", re.MULTILINE)
_DURATION_RE = re.compile(r"^\s*Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", re.MULTILINE)
_START_RE = re.compile(r"^\s*Duration:.*?\bstart:\s*(-?\d+(?:\.\d+)?)", re.MULTILINE)
_BRAND_RE = re.compile(r"^\s*major_brand\s*:\s?(.*)$", re.MULTILINE)
_STREAM_RE = re.compile(r"^\s*Stream #0:\d+\S*:\s*(Video|Audio|Subtitle|Data|Attachment):\s*(.*)$", re.MULTILINE)
_SIZE_RE = re.compile(r"^(\d{1,5})x(\d{1,5})\b")
_RATE_RE = re.compile(r"^(\d+(?:\.\d+)?)(k?)\s+(fps|tbr)$")
_PLAIN_SUFFIX_RE = re.compile(r"\.[A-Za-z0-9]{1,5}")
_PLAIN_PATH_RE = re.compile(r"[A-Za-z0-9_./+-]+")  # nothing ffmpeg's output could be confused by
_NEUTRAL_PREFIX = "session-rater-ffmpeg-"
_IDET_RE = re.compile(
    r"Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)\s*Undetermined:\s*(\d+)"
)

# Field orders as ffmpeg's avcodec_string() prints them inside the pixel format's brackets.
_FIELD_ORDERS = {
    "progressive": "progressive",
    "top first": "tff",
    "bottom first": "bff",
    "top coded first (swapped)": "tff",
    "bottom coded first (swapped)": "bff",
}
# ffmpeg demuxer name -> short container name (MOV/MP4 is told apart by its brand below).
_CONTAINERS = {
    "matroska,webm": "matroska",
    "mpeg": "mpeg-ps",
    "mpegts": "mpeg-ts",
    "asf": "asf",
    "avi": "avi",
    "flv": "flv",
    "ogg": "ogg",
    "dv": "dv",
}
_MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
# MP4 brands a browser treats as MP4 (QuickTime "qt  ", 3GPP and Motion JPEG 2000 are not).
_MP4_BRANDS = frozenset(
    {"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9", "mp41", "mp42",
     "avc1", "M4V", "M4VP", "M4VH", "dash", "MSNV", "XAVC", "mp71", "f4v"}
)  # fmt: skip
_PLAYABLE_VIDEO_CODECS = frozenset({"h264"})
_PLAYABLE_PIXEL_FORMATS = frozenset({"yuv420p"})
_PLAYABLE_AUDIO_CODECS = frozenset({"aac"})


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found out about a recording."""

    duration_seconds: float  # from the container's timestamps
    width: int
    height: int
    video_codec: str  # ffmpeg's codec name, e.g. "h264", "hevc", "mpeg2video"
    audio_codec: str | None  # e.g. "aac"; None when there is no audio stream
    has_audio: bool
    container: str = "unknown"  # "mp4", "mov", "matroska", "mpeg-ps", "mpeg-ts", "asf", "avi", ...
    format_name: str = ""  # ffmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    major_brand: str | None = None  # MP4/MOV only, e.g. "isom", "qt"
    start_seconds: float = 0.0
    frame_rate: float | None = None  # the stream's "fps" (else "tbr")
    pixel_format: str | None = None  # e.g. "yuv420p", "yuv420p10le"
    video_profile: str | None = None  # e.g. "High", "Main", "High 10"
    audio_profile: str | None = None  # e.g. "LC"
    field_order: str = "unknown"  # "progressive", "tff", "bff" or "unknown"
    interlaced: bool = False
    interlace_source: str = "stream"  # "stream" (the stream says so) or "idet" (measured)
    faststart: bool | None = None  # MP4/MOV: moov before mdat; None for other containers
    size_bytes: int = 0

    @property
    def video_is_browser_safe(self) -> bool:
        """H.264, 8-bit 4:2:0 (the profiles every browser decodes)."""
        profile = (self.video_profile or "").lower()
        return (
            self.video_codec in _PLAYABLE_VIDEO_CODECS
            and self.pixel_format in _PLAYABLE_PIXEL_FORMATS
            and not any(word in profile for word in ("10", "4:2:2", "4:4:4"))
        )

    @property
    def audio_is_browser_safe(self) -> bool:
        """AAC, or no audio at all."""
        return self.audio_codec is None or self.audio_codec in _PLAYABLE_AUDIO_CODECS

    @property
    def is_mp4(self) -> bool:
        return self.container == "mp4"

    @property
    def browser_problems(self) -> tuple[str, ...]:
        """Why a browser cannot play the file as it is (empty when it can)."""
        problems = []
        if not self.video_is_browser_safe:
            described = " ".join(p for p in (self.video_codec, self.video_profile, self.pixel_format) if p)
            problems.append(f"video is {described} (needs H.264 yuv420p)")
        if not self.audio_is_browser_safe:
            problems.append(f"audio is {self.audio_codec} (needs AAC)")
        if not self.is_mp4:
            problems.append(f"container is {self.container} (needs MP4)")
        elif not self.faststart:
            problems.append("the MP4 index (moov) is at the end (needs +faststart)")
        return tuple(problems)

    @property
    def browser_playable(self) -> bool:
        """A browser can play the file as it is: H.264 yuv420p 8-bit + AAC (or no audio) in
        MP4 with faststart."""
        return not self.browser_problems


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


def ffmpeg_input(path: Path) -> str:
    """``path`` as an ffmpeg input/output name: ``file:`` stops ffmpeg from reading a leading
    ``-`` as an option or ``x:`` as a protocol."""
    return f"file:{Path(path).resolve()}"


@dataclass(frozen=True)
class NeutralInput:
    """A recording as ffmpeg is given it: ``url`` names a link that says nothing about the file."""

    url: str  # "file:/tmp/session-rater-ffmpeg-XXXX/input.mp4"
    file: Path  # the recording itself

    def explain(self, text: str) -> str:
        """``text`` (ffmpeg's words) with the link's name replaced by the recording's."""
        return text.replace(self.url, str(self.file)).replace(self.url.removeprefix("file:"), str(self.file))


@contextmanager
def neutral_input(path: Path | str) -> Iterator[NeutralInput]:
    """Give ffmpeg the recording at ``path`` under a name it cannot mistake for its own output.

    A symbolic link named ``input`` plus the file's extension (when it is 1 to 5 letters or
    digits; ffmpeg uses it as a hint for a few raw formats) in a new private temporary folder,
    removed when the block ends. See the module docstring for why.
    """
    file = Path(path)
    suffix = file.suffix if _PLAIN_SUFFIX_RE.fullmatch(file.suffix) else ""
    try:
        folder = tempfile.mkdtemp(prefix=_NEUTRAL_PREFIX)
    except OSError as exc:
        raise RecordingError(
            f"Recording {file} cannot be given to ffmpeg: no temporary folder can be made in "
            f"{tempfile.gettempdir()} ({exc.strerror or exc}). Free some space there or set TMPDIR."
        ) from None
    try:
        link = os.path.join(folder, "input" + suffix)
        if not _PLAIN_PATH_RE.fullmatch(link):
            raise RecordingError(
                f"Recording {file} cannot be given to ffmpeg safely: the temporary folder {folder!r} has characters "
                "in its path that ffmpeg's output could be confused by. Set TMPDIR to a plain path such as /tmp."
            )
        try:
            os.symlink(file.resolve(), link)
        except OSError as exc:
            raise RecordingError(
                f"Recording {file} cannot be given to ffmpeg: no link to it can be made in the temporary folder "
                f"{folder} ({exc.strerror or exc}). Set TMPDIR to a folder on a file system with symbolic links."
            ) from None
        yield NeutralInput(f"file:{link}", file)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def probe(path: Path | str, *, detect_interlace: bool = True) -> VideoInfo:
    """Return what the recording at ``path`` is: container, codecs, duration, frame rate,
    picture size, interlacing, faststart.

    Raises :class:`RecordingError` naming the file when it does not exist, is empty, cannot
    be read by ffmpeg, is truncated, has no (decodable) video stream or no known duration.
    With ``detect_interlace`` (the default) a stream that does not state its field order is
    measured with ffmpeg's ``idet`` filter; otherwise it is taken as progressive.
    """
    file = Path(path)
    if not file.exists():
        raise RecordingError(f"Recording {file} does not exist. Check the path and the manifest.")
    if not file.is_file():
        raise RecordingError(f"Recording {file} is not a regular file (is it a folder?).")
    size = file.stat().st_size
    if size == 0:
        raise RecordingError(f"Recording {file} is empty (0 bytes). The copy or upload probably failed; copy it again.")
    with neutral_input(file) as source:
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", source.url]
        stderr = _run_for_stderr(cmd, source, "read it")
        info = _parse_probe(file, stderr, size, explain=source.explain)
        if info.format_name == _MOV_FAMILY:
            boxes = _top_level_boxes(file)
            if boxes.truncated:
                raise RecordingError(
                    f"Recording {file} is truncated: it ends {boxes.missing_bytes:,d} bytes before "
                    "the end of its last part (an interrupted copy or download?). Copy it again."
                )
            info = replace(info, faststart=boxes.faststart)
    if info.field_order == "unknown" and detect_interlace:
        info = replace(info, **_detect_interlace(file, info))  # type: ignore[arg-type]
    return info


def _run_for_stderr(cmd: list[str], source: NeutralInput, what: str) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RecordingError(
            f"Recording {source.file}: ffmpeg took more than {PROBE_TIMEOUT_SECONDS} s to {what}; "
            "is it on a slow or disconnected network drive?"
        ) from exc
    return done.stderr.decode("utf-8", errors="replace")


def _parse_probe(file: Path, stderr: str, size: int = 0, *, explain: Callable[[str], str] = str) -> VideoInfo:
    """``stderr`` of ``ffmpeg -i`` as a :class:`VideoInfo`; ``explain`` turns the input's name
    in ffmpeg's words back into the recording's, for messages."""
    header = _INPUT_RE.search(stderr)
    if header is None:
        reason = explain(_last_error_line(stderr))
        raise RecordingError(
            f"Recording {file} cannot be read by ffmpeg ({reason}). It is not a video file "
            "or it is damaged (an interrupted copy?); export or copy it again."
        )
    format_name = header.group(1)
    streams = _STREAM_RE.findall(stderr)
    video: list[str] | None = None
    audio: list[str] | None = None
    for kind, desc in streams:
        parts = _split_top_level(desc)
        if kind == "Video" and video is None and "(attached pic)" not in desc:
            video = parts
        elif kind == "Audio" and audio is None:
            audio = parts
    if video is None:
        found = sorted({kind.lower() for kind, desc in streams if "(attached pic)" not in desc})
        contents = f"it contains only {' and '.join(found)}" if found else "it contains no streams at all"
        raise RecordingError(
            f"Recording {file} has no video stream ({contents}). Use the video recording of the session."
        )
    video_codec, video_profile = _codec_and_profile(video[0])
    if video_codec in {"none", "unknown"}:
        raise RecordingError(
            f"Recording {file}: its video stream uses a codec ffmpeg cannot decode ({video[0]}). "
            "Export it again from the recording software as MP4 (H.264)."
        )
    width = height = 0
    frame_rate: float | None = None
    tbr: float | None = None
    pixel_format: str | None = None
    field_order = "unknown"
    for index, part in enumerate(video[1:], start=1):
        if index == 1 and not _SIZE_RE.match(part):
            pixel_format, field_order = _pixel_format_and_field_order(part)
            continue
        size_match = _SIZE_RE.match(part)
        if size_match and width == 0:
            width, height = int(size_match.group(1)), int(size_match.group(2))
            continue
        rate = _RATE_RE.match(part)
        if rate:
            value = float(rate.group(1)) * (1000 if rate.group(2) else 1)
            if rate.group(3) == "fps":
                frame_rate = value
            else:
                tbr = value
    if width == 0:
        raise RecordingError(f"Recording {file}: ffmpeg reports no picture size for its video stream.")
    duration = _DURATION_RE.search(stderr)
    if duration is None:
        raise RecordingError(
            f"Recording {file} has no known duration (a raw stream or a still image?). Remux it "
            "into MP4 with `ffmpeg -i IN -c copy -movflags +faststart OUT.mp4`."
        )
    hours, minutes, seconds = duration.groups()
    duration_seconds = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if duration_seconds <= 0:
        raise RecordingError(f"Recording {file} has a duration of 0 s: there is nothing to play.")
    start = _START_RE.search(stderr)
    brand = _BRAND_RE.search(stderr)
    major_brand = brand.group(1).strip() if brand else None
    audio_codec, audio_profile = _codec_and_profile(audio[0]) if audio else (None, None)
    return VideoInfo(
        duration_seconds=duration_seconds,
        width=width,
        height=height,
        video_codec=video_codec,
        audio_codec=audio_codec,
        has_audio=audio_codec is not None,
        container=_container_name(format_name, major_brand),
        format_name=format_name,
        major_brand=major_brand,
        start_seconds=float(start.group(1)) if start else 0.0,
        frame_rate=frame_rate if frame_rate is not None else tbr,
        pixel_format=pixel_format,
        video_profile=video_profile,
        audio_profile=audio_profile,
        field_order=field_order,
        interlaced=field_order in {"tff", "bff"},
        interlace_source="stream",
        size_bytes=size,
    )


def _container_name(format_name: str, major_brand: str | None) -> str:
    if format_name == _MOV_FAMILY:
        brand = (major_brand or "").strip()
        if brand in _MP4_BRANDS:
            return "mp4"
        if brand.startswith("3g"):
            return "3gp"
        return "mov"
    return _CONTAINERS.get(format_name, format_name.split(",")[0])


def _split_top_level(text: str) -> list[str]:
    """Split a stream description at the commas that are not inside brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _codec_and_profile(part: str) -> tuple[str, str | None]:
    """``h264 (High) (avc1 / 0x31637661)`` -> ("h264", "High"); ``wmv2 (WMV2 / 0x...)`` -> ("wmv2", None)."""
    codec = part.split(None, 1)[0] if part.strip() else "unknown"
    for inner in re.findall(r"\(([^()]*)\)", part):
        if " / 0x" not in inner:
            return codec, inner.strip()
    return codec, None


def _pixel_format_and_field_order(part: str) -> tuple[str, str]:
    """``yuv420p(tv, top first)`` -> ("yuv420p", "tff"); ``yuv420p`` -> ("yuv420p", "unknown")."""
    name, _, details = part.partition("(")
    details = details.removesuffix(")")
    field_order = "unknown"
    for item in _split_top_level(details):
        if item in _FIELD_ORDERS:
            field_order = _FIELD_ORDERS[item]
    return name.strip(), field_order


def _detect_interlace(file: Path, info: VideoInfo) -> dict[str, object]:
    """Run ``idet`` over up to :data:`IDET_FRAMES` frames (from 10 % in, skipping titles).

    Interlaced when fields-out-of-step frames clearly outnumber progressive ones; frames idet
    cannot decide (still pictures) count for neither.
    """
    offset = min(60.0, info.duration_seconds * 0.1)
    with neutral_input(file) as source:
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-ss", f"{offset:.3f}", "-i", source.url,
            "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", "idet", "-frames:v", str(IDET_FRAMES), "-f", "null", "-",
        ]  # fmt: skip
        counts = _IDET_RE.findall(_run_for_stderr(cmd, source, "measure its interlacing"))
    if not counts:
        return {"field_order": "unknown", "interlaced": False, "interlace_source": "idet"}
    tff, bff, progressive, undetermined = (int(n) for n in counts[-1])
    total = tff + bff + progressive + undetermined
    interlaced = tff + bff > max(2 * progressive, 0.25 * total)
    if interlaced:
        order = "tff" if tff >= bff else "bff"
    else:
        order = "progressive"
    return {"field_order": order, "interlaced": interlaced, "interlace_source": "idet"}


@dataclass(frozen=True)
class _Boxes:
    types: tuple[str, ...]
    truncated: bool
    missing_bytes: int

    @property
    def faststart(self) -> bool:
        if "moov" not in self.types:
            return False
        if "mdat" not in self.types:
            return True
        return self.types.index("moov") < self.types.index("mdat")


def _top_level_boxes(path: Path) -> _Boxes:
    """The top-level MP4/MOV boxes in file order, and whether the last one is cut short."""
    types: list[str] = []
    end = path.stat().st_size
    offset = 0
    with path.open("rb") as f:
        while offset < end:
            f.seek(offset)
            header = f.read(8)
            if len(header) < 8:
                return _Boxes(tuple(types), True, 8 - len(header))
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                large = f.read(8)
                if len(large) < 8:
                    return _Boxes(tuple(types), True, 8 - len(large))
                size = struct.unpack(">Q", large)[0]
            elif size == 0:
                size = end - offset
            types.append(kind.decode("latin-1"))
            if size < 8:  # a broken header; ffmpeg opened the file, so do not refuse it here
                break
            if offset + size > end:
                return _Boxes(tuple(types), True, offset + size - end)
            offset += size
    return _Boxes(tuple(types), False, 0)


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error opening input:" in line:
            return line.split("Error opening input:", 1)[1].strip()
    return lines[-1] if lines else "no output from ffmpeg"
