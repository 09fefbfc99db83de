"""Generate the synthetic demo recordings in ``sample_sessions/``.

Each clip is a coloured test card (a different colour and pattern per clip) with the programme,
session and group written on it, a large running clock ``HH:MM:SS.ss`` and frame counter that
change on every frame, a progress bar, and a beep at the start of every second (a different
pitch per clip; an on-screen "BEEP" lamp lights with it, so sync can be checked by eye).
No people, voices or real sessions are in them.

Frames are drawn with OpenCV's built-in Hershey fonts (no system fonts involved) and piped as
raw BGR into the bundled ffmpeg, which encodes H.264 High (yuv420p) + AAC-LC mono into MP4 with
``+faststart``: what the browser needs. The output is deterministic: generating a clip twice on
the same machine gives the same bytes (single-threaded encode, bit-exact flags, no metadata).

Regenerate the committed clips from the repository root with::

    PYTHONPATH=src .venv/bin/python -m session_rater.media.samples

``python -m session_rater.media.samples OUT_DIR [--manifest CSV]`` writes them elsewhere.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
from numpy.typing import NDArray

from session_rater.errors import RecordingError, SessionRaterError
from session_rater.io.manifest import ManifestEntry, load_manifest
from session_rater.media.ffmpeg import ffmpeg_exe

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "sample_sessions"
WIDTH = 640
HEIGHT = 360
FPS = 25
AUDIO_RATE = 48_000
MAX_DURATION_SECONDS = 600.0

PATTERNS: tuple[str, ...] = ("stripes", "checker", "dots", "bands", "grid", "diagonal")
# Background colours (R, G, B), chosen to be told apart at a glance.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),  # blue
    (44, 160, 44),  # green
    (148, 103, 189),  # purple
    (214, 110, 30),  # orange
    (23, 150, 160),  # teal
    (200, 55, 60),  # red
)
TONES_HZ: tuple[float, ...] = (440.0, 523.25, 659.25, 392.0, 587.33, 493.88)
DEFAULT_DURATIONS: tuple[float, ...] = (32.0, 36.0, 28.0, 38.0, 26.0, 34.0)

Frame = NDArray[np.uint8]


@dataclass(frozen=True)
class SampleSpec:
    """One clip to generate."""

    file: str  # relative path under the output folder, ending in .mp4
    title: str  # first line on the card, e.g. "Think First - session 3"
    subtitle: str  # second line, e.g. the session title
    details: str  # third line, e.g. "Carlisle TF-01 | Carlisle | 2026-02-10"
    colour: tuple[int, int, int] = PALETTE[0]  # background (R, G, B)
    pattern: str = PATTERNS[0]
    tone_hz: float = TONES_HZ[0]
    duration_seconds: float = 30.0

    def __post_init__(self) -> None:
        pure = PurePosixPath(self.file)
        if not self.file or pure.is_absolute() or ".." in pure.parts or pure.suffix != ".mp4":
            raise ValueError(
                f"SampleSpec.file {self.file!r} must be a relative path ending in .mp4 without '..'"
            )
        if self.pattern not in PATTERNS:
            raise ValueError(f"SampleSpec.pattern {self.pattern!r} is not one of {', '.join(PATTERNS)}")
        if len(self.colour) != 3 or any(not 0 <= c <= 255 for c in self.colour):
            raise ValueError(f"SampleSpec.colour {self.colour!r} must be three numbers 0-255 (R, G, B)")
        if not 0 < self.duration_seconds <= MAX_DURATION_SECONDS:
            raise ValueError(
                f"SampleSpec.duration_seconds {self.duration_seconds!r} must be above 0 "
                f"and at most {MAX_DURATION_SECONDS:g}"
            )
        if not 50 <= self.tone_hz <= 4000:
            raise ValueError(f"SampleSpec.tone_hz {self.tone_hz!r} must be between 50 and 4000")

    @property
    def frame_count(self) -> int:
        return max(1, round(self.duration_seconds * FPS))


def specs_from_manifest(
    entries: Sequence[ManifestEntry], durations: Sequence[float] = DEFAULT_DURATIONS
) -> list[SampleSpec]:
    """One :class:`SampleSpec` per manifest entry; colour, pattern, pitch and duration
    follow the entry's position in the manifest."""
    if not durations:
        raise ValueError("durations must not be empty")
    specs = []
    for i, entry in enumerate(entries):
        catch_up = " (catch-up)" if entry.catch_up else ""
        specs.append(
            SampleSpec(
                file=entry.file,
                title=f"{entry.programme} - session {entry.session_number}{catch_up}",
                subtitle=entry.session_title,
                details=f"{entry.group} | {entry.site} | {entry.date.isoformat()}",
                colour=PALETTE[i % len(PALETTE)],
                pattern=PATTERNS[i % len(PATTERNS)],
                tone_hz=TONES_HZ[i % len(TONES_HZ)],
                duration_seconds=float(durations[i % len(durations)]),
            )
        )
    return specs


def generate_samples(out_dir: Path, manifest: list[SampleSpec]) -> list[Path]:
    """Write every clip of ``manifest`` into ``out_dir`` (replacing existing files) and
    return their paths, in order. Raises :class:`RecordingError` if ffmpeg fails."""
    files = [str(PurePosixPath(spec.file)) for spec in manifest]
    duplicates = sorted({f for f in files if files.count(f) > 1})
    if duplicates:
        raise ValueError(f"the same file is listed more than once: {', '.join(duplicates)}")
    out_dir = Path(out_dir)
    paths = []
    for spec in manifest:
        target = out_dir / spec.file
        target.parent.mkdir(parents=True, exist_ok=True)
        _encode(spec, target)
        paths.append(target)
    return paths


def render_frame(background: Frame, spec: SampleSpec, index: int) -> Frame:
    """Frame ``index`` (0-based) of the clip: the static ``background`` plus the clock."""
    frame = background.copy()
    total = spec.frame_count
    centis = index * 100 // FPS  # exact: 25 fps is 4 hundredths per frame
    seconds, hundredths = divmod(centis, 100)
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{hundredths:02d}"

    # Clock panel in the middle.
    cv2.rectangle(frame, (100, 128), (540, 252), (20, 20, 20), cv2.FILLED)
    cv2.rectangle(frame, (100, 128), (540, 252), (235, 235, 235), 2)
    _centred(frame, clock, 200, cv2.FONT_HERSHEY_DUPLEX, 2.0, (255, 255, 255), 3)
    _centred(
        frame,
        f"frame {index + 1} / {total}   {FPS} fps",
        236,
        cv2.FONT_HERSHEY_SIMPLEX,
        0.6,
        (200, 200, 200),
        1,
    )

    # Beep lamp: lit while the audio beeps (the first 0.2 s of every second).
    lit = index % FPS < FPS // 5
    lamp = (40, 40, 230) if lit else (60, 60, 60)
    cv2.circle(frame, (585, 190), 18, lamp, cv2.FILLED)
    cv2.circle(frame, (585, 190), 18, (235, 235, 235), 2)
    cv2.putText(frame, "BEEP", (566, 228), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)

    # Progress bar and a marker that moves one step per frame.
    x0, x1, y0, y1 = 20, WIDTH - 20, 300, 316
    cv2.rectangle(frame, (x0, y0), (x1, y1), (30, 30, 30), cv2.FILLED)
    filled = x0 + (x1 - x0) * (index + 1) // total
    cv2.rectangle(frame, (x0, y0), (filled, y1), (255, 255, 255), cv2.FILLED)
    marker = 20 + (index * 8) % (WIDTH - 60)
    cv2.rectangle(frame, (marker, 272), (marker + 20, 292), (255, 255, 255), cv2.FILLED)
    return frame


def render_background(spec: SampleSpec) -> Frame:
    """The parts of every frame that do not change: colour, pattern and captions."""
    r, g, b = spec.colour
    base = np.array([b, g, r], dtype=np.int16)
    frame = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    frame[:] = base.astype(np.uint8)
    shade = tuple(int(v) for v in np.clip(base * 0.7, 0, 255))
    _draw_pattern(frame, spec.pattern, shade)

    cv2.rectangle(frame, (0, 0), (WIDTH, 104), (25, 25, 25), cv2.FILLED)
    _fit_text(frame, _ascii(spec.title), (16, 34), cv2.FONT_HERSHEY_DUPLEX, 0.85, (255, 255, 255), 2)
    _fit_text(frame, _ascii(spec.subtitle), (16, 66), cv2.FONT_HERSHEY_DUPLEX, 0.75, (255, 230, 170), 1)
    _fit_text(frame, _ascii(spec.details), (16, 94), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (210, 210, 210), 1)

    cv2.rectangle(frame, (0, HEIGHT - 36), (WIDTH, HEIGHT), (25, 25, 25), cv2.FILLED)
    cv2.putText(
        frame,
        "SYNTHETIC DEMO RECORDING - no people, no real session",
        (16, HEIGHT - 13),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.55,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    return frame


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m session_rater.media.samples [OUT_DIR] [--manifest CSV]``."""
    parser = argparse.ArgumentParser(
        prog="python -m session_rater.media.samples",
        description="(Re)generate the synthetic demo recordings listed in the manifest.",
    )
    parser.add_argument(
        "out_dir", nargs="?", type=Path, default=SAMPLE_DIR, help=f"output folder (default: {SAMPLE_DIR})"
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=SAMPLE_DIR / "manifest.csv",
        help="manifest listing the clips (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        specs = specs_from_manifest(load_manifest(args.manifest))
        paths = generate_samples(args.out_dir, specs)
    except SessionRaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = 0
    for path in paths:
        size = path.stat().st_size
        total += size
        print(f"{size:>10,d}  {path}")
    print(f"{total:>10,d}  total, {len(paths)} clip(s)")
    return 0


def _encode(spec: SampleSpec, target: Path) -> None:
    beep = (
        f"aevalsrc=exprs=0.35*sin(2*PI*{spec.tone_hz:g}*t)*lt(mod(t\\,1)\\,0.2)"
        f":s={AUDIO_RATE}:c=mono:d={spec.duration_seconds:g}"
    )
    partial = target.with_name(f".{target.name}.partial")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{WIDTH}x{HEIGHT}", "-framerate", str(FPS),
        "-i", "pipe:0",
        "-f", "lavfi", "-i", beep,
        "-map", "0:v:0", "-map", "1:a:0",
        "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
        "-c:v", "libx264", "-preset", "medium", "-profile:v", "high", "-crf", "26",
        "-g", str(2 * FPS), "-sc_threshold", "0",
        "-c:a", "aac", "-b:a", "64k", "-ar", str(AUDIO_RATE), "-ac", "1",
        "-t", f"{spec.duration_seconds:g}",
        "-threads", "1", "-filter_threads", "1",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+faststart",
        "-f", "mp4", str(partial),
    ]  # fmt: skip
    background = render_background(spec)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        stdin = proc.stdin
        if stdin is None:  # cannot happen with stdin=PIPE; keeps the type checker informed
            raise RecordingError("could not open a pipe to ffmpeg")
        try:
            for index in range(spec.frame_count):
                stdin.write(render_frame(background, spec, index).tobytes())
            stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early; its exit code and message say why
        finally:
            returncode = proc.wait()
        errors.seek(0)
        message = errors.read().decode("utf-8", errors="replace").strip()
    if returncode != 0:
        partial.unlink(missing_ok=True)
        raise RecordingError(
            f"ffmpeg could not write {target} (exit code {returncode}): {message or 'no message'}"
        )
    os.replace(partial, target)


def _draw_pattern(frame: Frame, pattern: str, shade: tuple[int, ...]) -> None:
    colour = (int(shade[0]), int(shade[1]), int(shade[2]))
    if pattern == "stripes":
        for x in range(0, WIDTH, 40):
            cv2.rectangle(frame, (x, 0), (x + 19, HEIGHT), colour, cv2.FILLED)
    elif pattern == "checker":
        for y in range(0, HEIGHT, 40):
            for x in range(0, WIDTH, 40):
                if (x // 40 + y // 40) % 2:
                    cv2.rectangle(frame, (x, y), (x + 39, y + 39), colour, cv2.FILLED)
    elif pattern == "dots":
        for y in range(20, HEIGHT, 40):
            for x in range(20, WIDTH, 40):
                cv2.circle(frame, (x, y), 10, colour, cv2.FILLED)
    elif pattern == "bands":
        for y in range(0, HEIGHT, 30):
            cv2.rectangle(frame, (0, y), (WIDTH, y + 14), colour, cv2.FILLED)
    elif pattern == "grid":
        for x in range(0, WIDTH, 32):
            cv2.line(frame, (x, 0), (x, HEIGHT), colour, 3)
        for y in range(0, HEIGHT, 32):
            cv2.line(frame, (0, y), (WIDTH, y), colour, 3)
    elif pattern == "diagonal":
        for x in range(-HEIGHT, WIDTH, 36):
            cv2.line(frame, (x, HEIGHT), (x + HEIGHT, 0), colour, 12)
    else:
        raise ValueError(f"unknown pattern {pattern!r}; use one of {', '.join(PATTERNS)}")


def _ascii(text: str) -> str:
    """Hershey fonts draw ASCII only: drop accents, replace what is left with '?'."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(
        c if c.isascii() else "?" for c in folded if not unicodedata.combining(c)
    )


def _fit_text(
    frame: Frame,
    text: str,
    origin: tuple[int, int],
    font: int,
    scale: float,
    colour: tuple[int, int, int],
    thickness: int,
) -> None:
    """Draw ``text`` at ``origin``, shrinking it to fit the frame's width."""
    max_width = WIDTH - 2 * origin[0]
    (width, _), _ = cv2.getTextSize(text, font, scale, thickness)
    if width > max_width:
        scale *= max_width / width
    cv2.putText(frame, text, origin, font, scale, colour, thickness, cv2.LINE_AA)


def _centred(
    frame: Frame,
    text: str,
    baseline_y: int,
    font: int,
    scale: float,
    colour: tuple[int, int, int],
    thickness: int,
) -> None:
    (width, _), _ = cv2.getTextSize(text, font, scale, thickness)
    cv2.putText(frame, text, ((WIDTH - width) // 2, baseline_y), font, scale, colour, thickness, cv2.LINE_AA)


if __name__ == "__main__":
    raise SystemExit(main())
