"""``session-rater ingest`` and ``session-rater jobs``: bring recordings in, watch conversions.

session-rater ingest PATH... [--manifest CSV] [--no-wait]
    Probe, hash and register each file (folders: every video file in them), one line per
    file; then run the queued conversions here with a progress bar (Ctrl-C cancels the
    running one cleanly) unless --no-wait, which leaves them to the app's worker.
session-rater jobs [--cancel ID] [--run]
    List the conversion jobs, newest first; cancel one; or run the queued ones here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from session_rater.domain.media import ConversionProgress, JobView

EXIT_INTERRUPTED = 130
_WAIT_POLL_SECONDS = 1.0


def register(subparsers: Any) -> None:
    """Add the ``ingest`` and ``jobs`` commands to the CLI's subparsers."""
    ingest = subparsers.add_parser(
        "ingest",
        help="register recordings (probe, hash, make browser-safe)",
        description="Probe, hash and register recordings, then convert the ones a browser cannot play.",
    )
    ingest.add_argument(
        "paths", nargs="+", metavar="PATH", help="video files, or folders to take every video file from"
    )
    ingest.add_argument(
        "--manifest", type=Path, metavar="CSV",
        help="the recordings manifest (default: manifest.csv next to each file, then in the recordings folder)",
    )  # fmt: skip
    ingest.add_argument(
        "--no-wait", action="store_true", help="queue conversions and return; the app's worker runs them"
    )
    ingest.set_defaults(func=_cmd_ingest)

    jobs = subparsers.add_parser("jobs", help="list, cancel or run conversion jobs")
    jobs.add_argument("--cancel", type=int, metavar="ID", help="cancel job ID (queued or running)")
    jobs.add_argument("--run", action="store_true", help="run the queued jobs here, in the foreground")
    jobs.add_argument("--limit", type=int, default=30, help="how many jobs to list (default: %(default)s)")
    jobs.set_defaults(func=_cmd_jobs)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from session_rater.usecases.services import open_services

    services = open_services(load_demo=False)
    try:
        return _ingest(args, services)
    finally:
        services.close()


def _ingest(args: argparse.Namespace, services: Any) -> int:
    from session_rater.usecases.conversion_worker import Conversions

    status = _StatusLine(sys.stderr, on_pipe=False)
    try:
        report = services.ingest(
            args.paths,
            manifest=args.manifest,
            on_progress=lambda path, stage, fraction: status.show(f"{stage:<10} {path.name}", fraction=fraction),
        )
    except KeyboardInterrupt:
        status.clear()
        print("Interrupted; the files ingested before stay ingested (see `session-rater jobs`).", file=sys.stderr)
        return EXIT_INTERRUPTED
    status.clear()
    for outcome in report.outcomes:
        print(outcome.line, flush=True)
    print(report.summary, flush=True)
    code = 0 if report.ok else 1
    if report.job_ids and not args.no_wait:
        jobs_code = _run_queue(Conversions(services), wait_for=set(report.job_ids))
        code = jobs_code if jobs_code == EXIT_INTERRUPTED else max(code, jobs_code)
    elif report.job_ids:
        print("The app's worker runs the conversions; follow them with `session-rater jobs`.")
    return code


def _cmd_jobs(args: argparse.Namespace) -> int:
    from session_rater.usecases.services import open_services

    services = open_services(load_demo=False)
    try:
        return _jobs(args, services)
    finally:
        services.close()


def _jobs(args: argparse.Namespace, services: Any) -> int:
    from session_rater.usecases.conversion_worker import Conversions

    conversions = Conversions(services)
    if args.cancel is not None:
        job = conversions.cancel(args.cancel)
        if job.status == "running":
            print(f"Job {job.id}: cancel requested; its worker stops it within a few seconds.")
        else:
            print(f"Job {job.id} is {job.status}." + (f" {job.message}" if job.message else ""))
        return 0
    if args.run:
        return _run_queue(conversions, wait_for=None)
    jobs = conversions.jobs(limit=args.limit)
    if not jobs:
        print("No conversion jobs.")
        return 0
    print(f"{'id':>5}  {'status':<9} {'done':>5}  {'action':<9} {'rec':>5}  file / message")
    for job in jobs:
        print(
            f"{job.id:>5}  {job.status:<9} {job.progress:>5.0%}  {job.action:<9} {job.recording_id:>5}  "
            f"{Path(job.source_path).name}" + (f"  {job.message.splitlines()[0][:100]}" if job.message else "")
        )
    return 0


def _run_queue(conversions: Any, *, wait_for: set[int] | None) -> int:
    """Run queued jobs here until those in ``wait_for`` (or the whole queue) are finished.
    When another process is running a job, show its progress and wait."""
    bar = _StatusLine(sys.stderr)
    failed = 0
    for job in conversions.recover_stale():  # left "running" by a process that died
        print(f"job {job.id:>4} {job.status}: {job.message}", file=sys.stderr)
    try:
        while True:
            pending = [j for j in _jobs_of(conversions, wait_for) if j.is_active]
            if not pending:
                break
            ran = conversions.run_next(on_progress=lambda j, p: bar.show(*_describe(j, p), fraction=p.fraction))
            if ran is not None:
                bar.clear()
                failed += ran.status != "done"
                print(f"job {ran.id:>4} {ran.status:<9} {Path(ran.source_path).name}: {ran.message}", flush=True)
                continue
            running = conversions.jobs(status="running", limit=1)
            if running:
                other = running[0]
                label = f"job {other.id} {other.action} {Path(other.source_path).name} (in another process)"
                bar.show(label, fraction=other.progress)
            time.sleep(_WAIT_POLL_SECONDS)
    except KeyboardInterrupt:
        bar.clear()
        running = conversions.jobs(status="running", limit=1)
        if running:
            print(
                f"Stopped waiting; job {running[0].id} goes on in another process "
                f"(cancel it with `session-rater jobs --cancel {running[0].id}`).",
                file=sys.stderr,
            )
        else:
            print("Cancelled; the originals are untouched. Queued jobs stay queued (`session-rater jobs --run`).",
                  file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    bar.clear()
    return 1 if failed else 0


def _jobs_of(conversions: Any, ids: set[int] | None) -> list[JobView]:
    if ids is None:
        return conversions.jobs(status=("queued", "running"), limit=1000)
    return [conversions.job(i) for i in sorted(ids)]


def _describe(job: JobView, progress: ConversionProgress) -> tuple[str, str]:
    """(what, how fast and how long still)."""
    speed = f" {progress.speed:.1f}x" if progress.speed else ""
    eta = ""
    if progress.speed and progress.speed > 0:
        remaining = (progress.total_seconds - progress.processed_seconds) / progress.speed
        eta = f" ETA {int(remaining // 60)}:{int(remaining % 60):02d}"
    return f"job {job.id} {job.action} {Path(job.source_path).name}", f"{speed}{eta}"


class _StatusLine:
    """A one-line progress bar on a terminal; on a pipe (``on_pipe``), a line per 10 % step."""

    WIDTH = 24

    def __init__(self, stream: TextIO, *, on_pipe: bool = True) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.on_pipe = on_pipe
        self._shown = False
        self._last: tuple[str, int] | None = None

    def show(self, label: str, detail: str = "", *, fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if self.tty:
            filled = int(fraction * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {fraction:>4.0%} {label}{detail}"[:99].ljust(100))
            self.stream.flush()
            self._shown = True
            return
        step = (label, int(fraction * 10))
        if self.on_pipe and step != self._last:
            self._last = step
            self.stream.write(f"{fraction:>4.0%} {label}{detail}\n")
            self.stream.flush()

    def clear(self) -> None:
        if self.tty and self._shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
            self._shown = False
        self._last = None
