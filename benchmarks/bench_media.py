"""Media pipeline: probe + thumbnail strip on a 2-hour file, hashing, transcoding a tape.

    .venv/bin/python benchmarks/bench_media.py [--hours 2] [--tape-minutes 10] [--grain 6] [--runs 3] [--dir DIR]

Makes (in a temporary folder, deleted at the end; nothing is committed):

* a 2-hour H.264/AAC MP4 of about 1 GB: a 60 s segment (testsrc2 + noise, 640x360, ~1.1 Mbit/s
  video, 128 kbit/s AAC) looped with ``-stream_loop N -c copy -movflags +faststart``;
* a 10-minute interlaced PAL MPEG-2 tape (720x576i25, top field first, ~6 Mbit/s, MP2 sound) in
  MPEG-PS: a 60 s segment (testsrc2 with ``--grain`` film grain) looped the same way. The grain
  decides the transcode speed: x264 spends its time on noise (measured on 2 cores: grain 0
  ~8.7x, 6 ~6.4x, 20 ~3.8x realtime in CPU terms).

Then reports: probe, 24-thumbnail strip and their sum for the 2-hour file (each over ``--runs``
runs, files in the page cache as they are right after a copy); SHA-256 content hash; and the
transcode of the tape to browser-safe H.264/AAC (x realtime). Targets (issue 3): probe + 24
thumbnails under 3 s; SD transcoding at 5x realtime or faster on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from session_rater.media.ffmpeg import ffmpeg_exe, probe  # noqa: E402
from session_rater.media.hashing import content_hash  # noqa: E402
from session_rater.media.thumbnails import make_thumbnails  # noqa: E402
from session_rater.media.transcode import convert  # noqa: E402


def ffmpeg(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)
    return time.perf_counter() - started


def looped(segment: Path, out: Path, loops: int, *extra: str) -> float:
    return ffmpeg("-stream_loop", str(loops - 1), "-i", str(segment), "-map", "0", "-c", "copy", *extra, str(out))


def make_long_recording(folder: Path, hours: float) -> tuple[Path, float]:
    segment = folder / "seg60.mp4"
    took = ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25,noise=alls=40:allf=t",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "60",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1000k", "-maxrate", "1000k", "-bufsize", "2000k",
        "-g", "50", "-c:a", "aac", "-b:a", "128k", str(segment),
    )  # fmt: skip
    out = folder / "two-hours.mp4"
    took += looped(segment, out, round(hours * 60), "-movflags", "+faststart")
    segment.unlink()
    return out, took


def make_tape(folder: Path, minutes: float, grain: int) -> tuple[Path, float]:
    picture = "testsrc2=size=720x576:rate=25" + (f",noise=alls={grain}:allf=t" if grain else "") + ",setfield=tff"
    segment = folder / "seg60.mpg"
    took = ffmpeg(
        "-f", "lavfi", "-i", picture,
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", "60",
        "-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-b:v", "6M", "-maxrate", "8M", "-bufsize", "1835k",
        "-g", "12", "-c:a", "mp2", "-b:a", "192k", "-f", "mpeg", str(segment),
    )  # fmt: skip
    out = folder / "tape.mpg"
    took += looped(segment, out, round(minutes), "-f", "mpeg")
    segment.unlink()
    return out, took


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn, runs: int) -> tuple[list[float], object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def fmt(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=2.0, help="length of the long recording (default 2)")
    parser.add_argument("--tape-minutes", type=float, default=10.0, help="length of the MPEG-2 tape (default 10)")
    parser.add_argument(
        "--grain",
        type=int,
        default=6,
        help="film grain (ffmpeg noise strength) on the tape: 0 clean, 6 (default) a tape-like grain giving "
        "about 2 Mbit/s H.264, 20 a worst case that x264 cannot compress",
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions of probe/thumbnails/hash (default 3)")
    parser.add_argument("--dir", type=Path, default=None, help="where to make the media (default: system temp)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-media-", dir=args.dir))
    try:
        print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}; ffmpeg {ffmpeg_exe()}")
        long_file, made = make_long_recording(folder, args.hours)
        size = long_file.stat().st_size
        print(f"made {long_file.name}: {size / 1e9:.3f} GB, {args.hours:g} h, in {made:.1f} s")

        probe_times, info = timed(lambda: probe(long_file), args.runs)
        duration = info.duration_seconds  # type: ignore[attr-defined]

        def strip() -> int:
            out = Path(tempfile.mkdtemp(dir=folder))
            frames = make_thumbnails(long_file, out, count=24, duration_seconds=duration)
            shutil.rmtree(out)
            return len(frames)

        thumb_times, frames = timed(strip, args.runs)

        def probe_and_strip() -> None:
            out = Path(tempfile.mkdtemp(dir=folder))
            make_thumbnails(long_file, out, count=24, duration_seconds=probe(long_file).duration_seconds)
            shutil.rmtree(out)

        both_times, _ = timed(probe_and_strip, args.runs)
        hash_times, _ = timed(lambda: content_hash(long_file), args.runs)
        print()
        print(f"2-hour file ({size / 1e9:.2f} GB, {duration:.0f} s):")
        print(f"  probe                        {fmt(probe_times)}")
        print(f"  24-thumbnail strip           {fmt(thumb_times)}  ({frames} frames)")
        print(f"  probe + 24 thumbnails        {fmt(both_times)}   target < 3 s")
        print(
            f"  sha256 content hash          {fmt(hash_times)}  = {size / 1e6 / statistics.median(hash_times):.0f} MB/s"
        )

        tape, made = make_tape(folder, args.tape_minutes, args.grain)
        tape_info = probe(tape)
        print()
        print(f"made {tape.name}: {tape.stat().st_size / 1e6:.0f} MB, {tape_info.duration_seconds:.0f} s, "
              f"{tape_info.video_codec} {tape_info.width}x{tape_info.height} {tape_info.field_order} "
              f"+ {tape_info.audio_codec}, in {made:.1f} s")  # fmt: skip
        last = [0.0]

        def progress(p) -> None:  # type: ignore[no-untyped-def]
            if p.fraction - last[0] >= 0.1 or p.fraction == 1.0:
                last[0] = p.fraction
                print(f"    {p.fraction:4.0%}  {p.speed or 0:.1f}x", flush=True)

        cpu_before = _children_cpu()
        result = convert(tape, folder / "tape.mp4", info=tape_info, on_progress=progress)
        cpu = _children_cpu() - cpu_before
        out = result.info
        cores = os.cpu_count() or 1
        print(f"  transcode (yadif + libx264 veryfast CRF 23 + AAC): {result.elapsed_seconds:.1f} s "
              f"= {tape_info.duration_seconds / result.elapsed_seconds:.1f}x realtime   target >= 5x")  # fmt: skip
        print(f"  ffmpeg CPU time {cpu:.0f} s: {tape_info.duration_seconds / cpu:.1f}x realtime per core, so about "
              f"{cores * tape_info.duration_seconds / cpu:.1f}x on {cores} idle cores (independent of other load)")  # fmt: skip
        print(f"  output: {result.output.stat().st_size / 1e6:.0f} MB, {out.video_codec} {out.video_profile} "
              f"{out.pixel_format} {out.field_order} + {out.audio_codec}, faststart={out.faststart}, "
              f"{out.duration_seconds:.2f} s (source {tape_info.duration_seconds:.2f} s), "
              f"browser_playable={out.browser_playable}")  # fmt: skip
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
