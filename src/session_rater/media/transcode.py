"""Make a browser-safe copy of a recording: decide, then remux or transcode with ffmpeg.

The target is what every browser plays: H.264 (8-bit yuv420p) + AAC in MP4 with the index
at the front (``+faststart``); see shared/design/recordings-notes.md, section 4.

* **as is**: H.264 yuv420p + AAC (or silent) in MP4 with faststart, progressive. The original
  is served; nothing is written.
* **remux** (``-c copy -movflags +faststart``, seconds even for hours of video): H.264 yuv420p +
  AAC in MKV, MOV, MPEG-TS, or an MP4 whose index is at the end.
* **transcode, video copied**: browser-safe H.264 with other sound (MP3, AC-3, PCM): only the
  sound is encoded to AAC.
* **transcode** (libx264 ``veryfast`` CRF 23 yuv420p, a key frame every 2 s, AAC 128 kbit/s
  stereo): everything else: MPEG-2, WMV, DV, MPEG-4 Part 2, HEVC, 10-bit, and anything
  interlaced (browsers would show the combing).

Interlaced sources are deinterlaced with ``yadif``: ``deint=interlaced`` when the stream flags
its frames (MPEG-2, DV), ``deint=all`` with the measured field order when only ``idet`` found
it (the frames are not flagged, so ``deint=interlaced`` would do nothing).

Safety: the original is only ever read. ffmpeg writes to a hidden temporary file in the same
folder as the output; it becomes the output (an atomic rename) only when ffmpeg exited 0, the
data is flushed to disk, and the file probes as browser-playable with the source's duration.
Anything else (a full disk, a cancel, a crash, Ctrl-C) deletes the temporary file, so a
half-written file is never used.
"""

from __future__ import annotations

import errno
import os
import secrets
import selectors
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from session_rater.domain.media import ConversionProgress
from session_rater.errors import ConversionCancelled, RecordingError
from session_rater.media.ffmpeg import (
    VideoInfo,
    ffmpeg_exe,
    ffmpeg_input,
    neutral_input,
    probe,
)

CRF = 23
PRESET = "veryfast"
AUDIO_BITRATE = "128k"
PARTIAL_MARK = ".partial"
KILL_GRACE_SECONDS = 3.0
_POLL_SECONDS = 0.2


class Action(StrEnum):
    AS_IS = "as_is"
    REMUX = "remux"
    TRANSCODE = "transcode"


@dataclass(frozen=True)
class Plan:
    """What to do with one recording, and why."""

    action: Action
    copy_video: bool = False
    deinterlace: str | None = None  # the yadif filter, when the source is interlaced
    reasons: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        why = "; ".join(self.reasons)
        return f"{self.action.value}" + (f" ({why})" if why else "")


@dataclass(frozen=True)
class ConversionResult:
    output: Path
    info: VideoInfo  # the output, probed
    plan: Plan
    elapsed_seconds: float

    @property
    def speed(self) -> float:
        """x realtime over the whole run."""
        return self.info.duration_seconds / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


ProgressCallback = Callable[[ConversionProgress], None]
CancelCheck = Callable[[], bool] | threading.Event


def plan_for(info: VideoInfo) -> Plan:
    """Decide how to make ``info``'s recording browser-safe (see the module's table)."""
    if info.interlaced:
        reasons = (f"interlaced ({info.field_order}, from {info.interlace_source})", *info.browser_problems)
        return Plan(Action.TRANSCODE, copy_video=False, deinterlace=_yadif(info), reasons=reasons)
    if info.browser_playable:
        return Plan(Action.AS_IS)
    if info.video_is_browser_safe and info.audio_is_browser_safe:
        return Plan(Action.REMUX, copy_video=True, reasons=info.browser_problems)
    return Plan(Action.TRANSCODE, copy_video=info.video_is_browser_safe, reasons=info.browser_problems)


def ffmpeg_command(
    source: Path, output: Path, info: VideoInfo, plan: Plan, *, input_url: str | None = None
) -> list[str]:
    """The ffmpeg command line that carries out ``plan`` (progress goes to stdout).

    ``input_url`` is what ffmpeg opens (:func:`convert` gives it a neutral link to ``source``,
    so that ffmpeg's messages never hold the recording's own name)."""
    if plan.action is Action.AS_IS:
        raise ValueError("a recording that plays as it is needs no conversion")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
        "-progress", "pipe:1",
        "-i", input_url or ffmpeg_input(source),
        "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn",
    ]  # fmt: skip
    if plan.copy_video:
        cmd += ["-c:v", "copy"]
    else:
        filters = [f for f in (plan.deinterlace, _even_size(info)) if f]
        if filters:
            cmd += ["-vf", ",".join(filters)]
        cmd += ["-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p"]
        if info.frame_rate and 1 <= info.frame_rate <= 120:
            cmd += ["-g", str(round(2 * info.frame_rate))]  # a key frame every 2 s: quick seeks
    if plan.action is Action.REMUX:
        cmd += ["-c:a", "copy"]
    else:
        cmd += ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "2"]
    cmd += ["-max_muxing_queue_size", "4096", "-movflags", "+faststart", "-f", "mp4", ffmpeg_input(output)]
    return cmd


def convert(
    source: Path | str,
    output: Path | str,
    *,
    info: VideoInfo | None = None,
    plan: Plan | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> ConversionResult:
    """Remux or transcode ``source`` into the browser-safe MP4 ``output``.

    ``on_progress`` gets a :class:`ConversionProgress` for every progress report of ffmpeg
    (about two a second). ``should_cancel`` (a callable or a :class:`threading.Event`) is
    checked at least five times a second; when it turns true ffmpeg is killed, the temporary
    file deleted and :class:`ConversionCancelled` raised. Raises :class:`RecordingError` with
    the reason when ffmpeg fails (a full disk is named as such) or the result does not pass
    its check. The original is never written to.
    """
    source, output = Path(source), Path(output)
    info = info or probe(source)
    plan = plan or plan_for(info)
    if plan.action is Action.AS_IS:
        raise ValueError(f"{source} plays in a browser as it is; there is nothing to convert")
    if output.resolve() == source.resolve():
        raise ValueError(f"the output {output} would overwrite the original; choose another path")
    output.parent.mkdir(parents=True, exist_ok=True)
    if plan.action is Action.REMUX:
        _check_free_space(output.parent, needed=int(info.size_bytes * 1.02) + 16 * 1024 * 1024)
    cancelled = _as_check(should_cancel)
    partial = _partial_path(output)
    started = time.monotonic()
    result_info: VideoInfo | None = None
    with (
        neutral_input(source) as neutral,
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            ffmpeg_command(source, partial, info, plan, input_url=neutral.url),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, start_new_session=True,
        ) as proc,
    ):
        try:
            _follow_progress(proc, info.duration_seconds, on_progress, cancelled)
            returncode = proc.wait()
            if cancelled():
                raise ConversionCancelled(f"Conversion of {source.name} was cancelled; the original is untouched.")
            errors.seek(0)
            message = neutral.explain(errors.read().decode("utf-8", errors="replace").strip())
            if returncode != 0:
                raise RecordingError(_failure_message(source, output, returncode, message))
            _flush_to_disk(partial, output)
            checked = _check_output(source, partial, info)
            os.replace(partial, output)
            result_info = checked
            _fsync_dir(output.parent)
        finally:
            if proc.poll() is None:
                _stop(proc)
            if result_info is None:
                partial.unlink(missing_ok=True)
    return ConversionResult(output, result_info, plan, time.monotonic() - started)


def remove_orphaned_partials(directory: Path | str) -> list[Path]:
    """Delete temporary files left in ``directory`` by conversions whose process has died
    (a killed server); returns what was deleted. Files of running processes are left alone."""
    removed: list[Path] = []
    folder = Path(directory)
    if not folder.is_dir():
        return removed
    for path in folder.glob(f".*{PARTIAL_MARK}*"):
        pid_text = path.name.rsplit(PARTIAL_MARK, 1)[0].rsplit(".", 1)[-1].split("-", 1)[0]
        if pid_text.isdigit() and pid_alive(int(pid_text)):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


# -- helpers ----------------------------------------------------------------------------------


def _yadif(info: VideoInfo) -> str:
    if info.interlace_source == "stream":
        return "yadif=deint=interlaced"  # frames carry their own interlaced flag and parity
    parity = "bff" if info.field_order == "bff" else "tff"
    return f"yadif=parity={parity}:deint=all"


def _even_size(info: VideoInfo) -> str | None:
    """libx264 with yuv420p needs an even width and height."""
    if info.width % 2 or info.height % 2:
        return "scale=trunc(iw/2)*2:trunc(ih/2)*2"
    return None


def _partial_path(output: Path) -> Path:
    """A hidden temporary name next to ``output`` naming this process (see
    :func:`remove_orphaned_partials`)."""
    return output.with_name(f".{output.stem}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL_MARK}{output.suffix}")


def _as_check(should_cancel: CancelCheck | None) -> Callable[[], bool]:
    if should_cancel is None:
        return lambda: False
    if isinstance(should_cancel, threading.Event):
        return should_cancel.is_set
    return should_cancel


def _follow_progress(
    proc: subprocess.Popen[bytes],
    total: float,
    on_progress: ProgressCallback | None,
    cancelled: Callable[[], bool],
) -> None:
    """Read ffmpeg's ``-progress`` key=value lines until it closes stdout; stop it on cancel."""
    stdout = proc.stdout
    if stdout is None:  # cannot happen with stdout=PIPE
        raise RecordingError("could not read ffmpeg's progress")
    fd = stdout.fileno()
    buffer = b""
    fields: dict[str, str] = {}
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            if cancelled():
                _stop(proc)
                return
            if not selector.select(timeout=_POLL_SECONDS):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                key, _, value = raw.decode("ascii", errors="replace").strip().partition("=")
                fields[key] = value
                if key == "progress" and on_progress is not None:
                    on_progress(_progress(fields, total))


def _progress(fields: dict[str, str], total: float) -> ConversionProgress:
    try:
        done = max(0.0, int(fields.get("out_time_us", "")) / 1e6)
    except ValueError:
        done = 0.0
    if fields.get("progress") == "end":
        done = total
    speed_text = fields.get("speed", "").strip().rstrip("x")
    try:
        speed: float | None = float(speed_text)
    except ValueError:
        speed = None
    fraction = min(1.0, done / total) if total > 0 else 0.0
    return ConversionProgress(fraction, min(done, total), total, speed)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Ask ffmpeg to quit, then kill it if it does not within a few seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _check_free_space(folder: Path, *, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise RecordingError(
            f"Not enough free space in {folder}: the copy needs about {needed / 1e6:,.0f} MB and "
            f"{free / 1e6:,.0f} MB are free. Free some space (or point SESSION_RATER_DATA_DIR at a "
            "bigger disk) and ingest the file again."
        )


def _failure_message(source: Path, output: Path, returncode: int, message: str) -> str:
    tail = " / ".join(message.splitlines()[-3:]) or "no message"
    if "No space left on device" in message or f"errno {errno.ENOSPC}" in message.lower():
        return (
            f"Converting {source.name} stopped because the disk holding {output.parent} is full "
            f"(ffmpeg: {tail}). Nothing was kept; free some space and ingest the file again."
        )
    return (
        f"ffmpeg could not convert {source.name} (exit code {returncode}): {tail}. The original "
        "is untouched; if it plays in a desktop player, export it again as MP4 (H.264) and ingest that."
    )


def _flush_to_disk(partial: Path, output: Path) -> None:
    """fsync, so a full disk that only shows when the data is written back fails here."""
    try:
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise RecordingError(
                f"The disk holding {output.parent} is full; the converted file could not be written. "
                "Free some space and ingest the file again."
            ) from None
        raise RecordingError(f"The converted file {partial} could not be written: {exc}") from None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_output(source: Path, partial: Path, source_info: VideoInfo) -> VideoInfo:
    """The converted file must play in a browser, have the source's length and keep its sound."""
    try:
        out = probe(partial, detect_interlace=False)
    except RecordingError as exc:
        raise RecordingError(f"The converted copy of {source.name} is unreadable ({exc}); nothing was kept.") from None
    problems = list(out.browser_problems)
    tolerance = max(1.0, 0.005 * source_info.duration_seconds)
    if abs(out.duration_seconds - source_info.duration_seconds) > tolerance:
        problems.append(
            f"it lasts {out.duration_seconds:.2f} s where the original lasts {source_info.duration_seconds:.2f} s"
        )
    if source_info.has_audio and not out.has_audio:
        problems.append("it has lost the sound")
    if problems:
        raise RecordingError(
            f"The converted copy of {source.name} failed its check ({'; '.join(problems)}); nothing was kept."
        )
    return out


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
