"""Exemplar clips cut out of a recording, once, as small browser-safe MP4 files.

The exemplar route (:mod:`session_rater.web.exemplars`) serves only the clip, never the whole
recording it is cut from: a rater who may watch an exemplar need not be one who may watch that
session. The cut re-encodes (H.264 and AAC, a key frame at the clip's first frame), so the clip
starts exactly at its start rather than at the key frame before it, and is written beside its
final name first, so that a reader never sees half a clip.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from session_rater.errors import RecordingError
from session_rater.media.ffmpeg import ffmpeg_exe, ffmpeg_input, neutral_input

CUT_TIMEOUT_SECONDS = 300
MAX_CLIP_SECONDS = 600.0  # an exemplar shows one score level: a few seconds to a few minutes


def cut_command(source_url: str, output: Path, start: float, end: float) -> list[str]:
    """The ffmpeg command that cuts ``start``..``end`` seconds of ``source_url`` into ``output``."""
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
        "-ss", f"{start:.3f}", "-i", source_url, "-t", f"{end - start:.3f}",
        "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4", ffmpeg_input(output),
    ]  # fmt: skip


def cut_clip(source: Path | str, output: Path | str, start: float, end: float) -> Path:
    """Cut ``start``..``end`` seconds of the recording ``source`` into ``output`` (an MP4 that
    plays in a browser) unless ``output`` exists already. Raises :class:`RecordingError` with
    the reason when the times are not a clip or ffmpeg fails; nothing is left half-written."""
    source, output = Path(source), Path(output)
    if not (0 <= start < end and end - start <= MAX_CLIP_SECONDS):
        raise RecordingError(f"A clip runs from 0 s or later, ends after it starts and lasts at most "
                             f"{MAX_CLIP_SECONDS:g} s; got {start:g} s to {end:g} s.")  # fmt: skip
    if output.is_file():
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(prefix=".partial-", suffix=".mp4", dir=output.parent)
    os.close(handle)
    partial = Path(partial_name)
    try:
        with neutral_input(source) as neutral:
            done = subprocess.run(cut_command(neutral.url, partial, start, end), stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=CUT_TIMEOUT_SECONDS, check=False)  # fmt: skip
            message = neutral.explain(done.stderr.decode("utf-8", errors="replace").strip())
        if done.returncode != 0 or partial.stat().st_size == 0:
            last = message.splitlines()[-1] if message else f"ffmpeg exited with {done.returncode}"
            raise RecordingError(f"The clip {start:g}-{end:g} s of {source.name} could not be cut: {last}")
        os.replace(partial, output)
    except subprocess.TimeoutExpired:
        raise RecordingError(f"Cutting the clip {start:g}-{end:g} s of {source.name} took more than "
                             f"{CUT_TIMEOUT_SECONDS} s.") from None  # fmt: skip
    finally:
        partial.unlink(missing_ok=True)
    return output
