"""Long pure computations in a process of their own, so that they do not slow the pages.

The app serves every visitor from one Python process. A computation of many seconds in a thread
of it (the G study and Rasch model of 300 thousand scores: about 17 s; minutes at 3 million)
holds the interpreter's lock most of that time, and every page run of every visitor beside it
took about twice as long (measured: Over-scoring's run 0.75-1.1 s alone, 1.4-2.3 s beside a
Rasch fit). :func:`run_apart` runs such a computation in a worker process instead: the thread
that asked waits without holding the lock, the pages keep their core, and the worker's memory
goes back to the system when it ends (one task per worker process).

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

__all__ = ["NICENESS", "QUEUES", "run_apart", "shutdown"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

QUEUES = ("quick", "long")
"""One worker process per queue: "quick" for figures of seconds, "long" for those of minutes
(the Rasch model at 3 million scores), so that a long one never holds up a quick one."""
_POOLS: dict[str, ProcessPoolExecutor] = {}
_LOCK = threading.Lock()


def _pool(queue: str) -> ProcessPoolExecutor:
    with _LOCK:
        if queue not in _POOLS:
            # spawn, not fork: the app process has threads (Streamlit's, the database pool's), and a
            # forked child of a threaded process may inherit a lock some other thread held.
            # One worker per queue: computations wait their turn instead of taking the pages' core.
            # One task per worker process: its memory goes back to the system after each figure.
            _POOLS[queue] = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                max_tasks_per_child=1, initializer=_start_worker, initargs=(os.getpid(),))  # fmt: skip
        return _POOLS[queue]


NICENESS = 10
"""The workers' scheduling priority below the app's: a page run (and anything else on the
machine) gets the CPU first; the figures use what is left. Without it a worker took a core
the pages needed: Over-scoring's run beside a Rasch fit in a worker took 2.2 s against 1.2 s
beside the same fit in a thread of the app, on the 2-core machine with another job running
(benchmarks/bench_page_beside_fit.py)."""


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


def run_apart(fn: Callable[P, T], *args: P.args, queue: str = "quick", **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in the worker process of ``queue`` (see :data:`QUEUES`); its
    exceptions are raised here as they were raised there. Blocks the calling thread, without
    holding the interpreter's lock."""
    if queue not in QUEUES:
        raise ValueError(f"no such queue {queue!r}: one of {', '.join(QUEUES)}")
    try:
        future = _pool(queue).submit(fn, *args, **kwargs)
        return future.result()
    except (BrokenProcessPool, OSError, RuntimeError) as exc:  # RuntimeError: the pool was shut down (exit)
        log.warning("A worker process could not compute %s (%s); computing it in this process", fn.__name__, exc)
        shutdown(queue)
        return fn(*args, **kwargs)


def shutdown(queue: str | None = None) -> None:
    """Stop the worker process of ``queue`` (of every queue: None); the next :func:`run_apart`
    starts another."""
    with _LOCK:
        pools = [_POOLS.pop(q) for q in (QUEUES if queue is None else (queue,)) if q in _POOLS]
    for pool in pools:
        pool.shutdown(wait=False, cancel_futures=True)
