"""``session-rater worker``: run conversion jobs on this machine until stopped.

session-rater worker [--poll SECONDS] [--once]
    Take conversion jobs from the queue, one at a time, and run them here. Run it on any
    machine that reaches the database (DATABASE_URL) and the shared folders (the recordings
    folder and SESSION_RATER_DATA_DIR, mounted at the same paths as on the app machines).
    SIGTERM or Ctrl-C stops it: the running job goes back to the queue for another worker.
    A worker that is killed outright (SIGKILL, a power cut) stops renewing its lease, and its
    job is taken up again when the lease lapses.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any


def register(subparsers: Any) -> None:
    worker = subparsers.add_parser(
        "worker",
        help="run conversion jobs on this machine until stopped",
        description="Run conversion jobs here, one at a time, until SIGTERM or Ctrl-C.",
    )
    worker.add_argument("--poll", type=float, default=2.0, metavar="SECONDS",
                        help="how often to look at an empty queue (default: %(default)s)")  # fmt: skip
    worker.add_argument("--once", action="store_true", help="run the queued jobs, then stop (no waiting)")
    worker.set_defaults(func=_cmd_worker)


def _cmd_worker(args: argparse.Namespace) -> int:
    from session_rater.usecases.conversion_worker import Conversions
    from session_rater.usecases.services import open_services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    services = open_services(load_demo=False)
    conversions = Conversions(services)
    worker = conversions.worker(poll_seconds=args.poll)
    stopped = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        print(f"Stopping ({signal.Signals(signum).name}): a running job goes back to the queue.", flush=True)
        stopped.set()
        worker.stop(timeout=0)  # kills ffmpeg; the job is re-queued

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"Worker {worker.worker_id} is running conversion jobs (database: "
          f"{services.settings.database_url.split('@')[-1]}); SIGTERM or Ctrl-C stops it.", flush=True)  # fmt: skip
    try:
        if args.once:
            while not stopped.is_set() and worker.run_one():
                pass
            return 0
        worker.start()
        while not stopped.wait(1.0):
            if not worker.is_alive:
                print("error: the worker thread stopped unexpectedly", file=sys.stderr)
                return 1
        return 0
    finally:
        worker.stop()
        services.close()
