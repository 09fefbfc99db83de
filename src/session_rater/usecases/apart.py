"""A long computation in a process of its own, so that it does not swell the app process.

The G study and Rasch model of every score take 17 s at 300 thousand scores and about 15 minutes
at 3 million on the loaded 2-core machine, peaking at 1.2 GB (800 MB above what the worker
holds before it starts). In a thread of the app that memory would be the app's on top of
everything it holds. :func:`run_apart` runs such a computation in a worker process instead: the
thread that asked waits (without holding the interpreter's lock), and the worker's memory goes
back to the system when it ends (one task per worker process).

Not for every figure: a worker runs on the other core at full speed, and a page run beside it
was slower than beside the same computation in a thread of the app (Over-scoring's run at 300 k,
median of 7: 0.76 s alone, 1.05 s beside a Rasch fit in a thread, 1.38 s beside it in a worker
at lower priority; ``benchmarks/bench_page_beside_fit.py``): the two compete for the memory the
arithmetic streams through, and in a thread the fit waits while the page holds the lock. So the
quick figures (seconds) stay in threads; only what is long and large comes here.

Only pure functions of picklable arguments belong here (a data frame in, figures out): no
database connection, no Streamlit. If the worker cannot be started or dies (killed for memory,
say), the computation runs in the calling thread instead, as it did before, and the reason is
logged.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

__all__ = ["NICENESS", "run_apart", "shutdown"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

_POOL: ProcessPoolExecutor | None = None
_LOCK = threading.Lock()


def _pool() -> ProcessPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            # spawn, not fork: the app process has threads (Streamlit's, the database pool's), and a
            # forked child of a threaded process may inherit a lock some other thread held.
            # One worker: computations wait their turn instead of taking the pages' core.
            # One task per worker process: its memory goes back to the system after each figure.
            _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        max_tasks_per_child=1, initializer=_start_worker, initargs=(os.getpid(),))  # fmt: skip
        return _POOL


NICENESS = 10
"""The worker's scheduling priority below the app's: a page run (and anything else on the
machine) gets the CPU first. Beside another job on the 2-core machine, Over-scoring's run
took 2.2 s beside a fit in a worker at the app's priority, 1.6 s at this one."""


def _start_worker(app: int) -> None:
    """In the worker: lower its priority (:data:`NICENESS`), and end when the app process has
    ended (killed, say, with kill -9), rather than live on as an orphan holding its memory (one
    was found blocked for 45 minutes sending a result nobody would read). Polled: Linux's
    parent-death signal follows the thread that started the worker, and those threads end
    while the app runs."""
    os.nice(NICENESS)

    def watch() -> None:
        while os.getppid() == app:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="end-with-the-app").start()


def run_apart(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in the worker process; its exceptions are raised here as they were
    raised there. Blocks the calling thread, without holding the interpreter's lock."""
    try:
        future = _pool().submit(fn, *args, **kwargs)
        return future.result()
    except (BrokenProcessPool, OSError, RuntimeError) as exc:  # RuntimeError: the pool was shut down (exit)
        log.warning("A worker process could not compute %s (%s); computing it in this process", fn.__name__, exc)
        shutdown()
        return fn(*args, **kwargs)


def shutdown() -> None:
    """Stop the worker process (the next :func:`run_apart` starts another)."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
