"""Figures kept per state of the scores, brought up to date beside the page (issue 17).

A report's figures (bootstrap intervals, trends) are computed from the submitted scores. They
are kept per *key* (what the figures are of: an area, a period, ...) with the *stamp* of the
scores they were computed on (:attr:`score_snapshot.Snapshot.stamp`). A page asking again:

* with the same stamp gets them at once;
* with a newer stamp (a submission, a correction), when their last computation was quick (at
  most ``inline_seconds`` of CPU: wall time would count the machine's load too), waits for them as before; when it was not, gets the figures it has
  at once, with when they were computed and how many ratings came since (:class:`Kept`), while
  the new ones are computed in a thread beside it (one per key at a time): no visitor waits
  for a slow recomputation. (A thread shares the interpreter with the pages: it saves the
  visitor the computation's time only where the computation is long, hence the rule by time.)
* with nothing kept for the key yet, waits (there is nothing to show).

It is the rule of ``ui/analysis_data.py``'s figures, without Streamlit, for the use cases'
reports. Nothing is shared between keys, and values must not be changed in place.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from session_rater.usecases.score_snapshot import Snapshot, submissions_since
from session_rater.usecases.services import Services

T = TypeVar("T")
log = logging.getLogger(__name__)

__all__ = ["Kept", "KeptFigures"]


@dataclass(frozen=True)
class Kept(Generic[T]):
    """Figures with how current they are: ``as_of`` when they were computed, ``since`` how many
    ratings were submitted or corrected after the scores they are of, ``computing`` whether newer
    ones are being computed now. ``current``: they are of the scores as they are."""

    value: T
    as_of: dt.datetime
    since: int = 0
    computing: bool = False
    seconds: float = 0.0  # the CPU time they took to compute

    @property
    def current(self) -> bool:
        return self.since == 0 and not self.computing


@dataclass(frozen=True)
class _Done:
    stamp: tuple[object, ...]
    newest: str  # the newest submission time the scores held (see score_snapshot.submissions_since)
    value: object
    at: dt.datetime
    seconds: float
    read_at: dt.datetime  # when the scores were read (the newer scores win, whichever finished first)


class KeptFigures:
    """One kind of figures (a report's), at most ``keep`` keys, the least recently computed
    dropped first. Thread-safe; :meth:`clear` forgets everything (tests, a restore)."""

    def __init__(self, name: str, *, keep: int = 16) -> None:
        self.name, self.keep = name, keep
        self._done: dict[Hashable, _Done] = {}
        self._running: set[Hashable] = set()
        self._lock = threading.Lock()

    def get(self, svc: Services, key: Hashable, snapshot: Snapshot, compute: Callable[[], T], *,
            inline_seconds: float, wait: bool = False) -> Kept[T]:  # fmt: skip
        """The figures of ``key`` for ``snapshot`` (``compute()`` computes them from it). When the
        scores changed, they are computed on this call if their last computation took at most
        ``inline_seconds`` (or ``wait``), else beside it (see the module)."""
        with self._lock:
            done = self._done.get(key)
        if done is not None and done.stamp == snapshot.stamp:
            return Kept(done.value, done.at, seconds=done.seconds)  # type: ignore[arg-type]
        if done is None or wait or done.seconds <= inline_seconds:
            done = self._compute(key, snapshot, compute)
            return Kept(done.value, done.at, seconds=done.seconds)  # type: ignore[arg-type]
        with self._lock:
            start = key not in self._running
            self._running.add(key)
        if start:
            threading.Thread(target=self._beside, args=(key, snapshot, compute), daemon=True,
                             name=f"kept-{self.name}").start()  # fmt: skip
        return Kept(done.value, done.at, submissions_since(svc, done.newest), True, done.seconds)  # type: ignore[arg-type]

    def running(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._running

    def wait(self, timeout: float = 60.0) -> None:
        """Until no figures are being computed beside a page (tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not self._running:
                    return
            time.sleep(0.02)
        raise TimeoutError(f"{self.name}: figures still being computed after {timeout} s")

    def clear(self) -> None:
        with self._lock:
            self._done.clear()

    def __len__(self) -> int:
        return len(self._done)

    def _compute(self, key: Hashable, snapshot: Snapshot, compute: Callable[[], object]) -> _Done:
        started = time.thread_time()  # the computation's own CPU: what it costs, however busy the machine
        value = compute()
        done = _Done(snapshot.stamp, snapshot.newest, value, dt.datetime.now(dt.UTC), time.thread_time() - started,
                     snapshot.read_at)  # fmt: skip
        log.debug("%s: %r computed in %.2f s of CPU", self.name, key, done.seconds)
        with self._lock:
            old = self._done.get(key)
            if old is None or old.read_at <= done.read_at:  # figures of older scores never replace newer ones
                self._done.pop(key, None)
                self._done[key] = done
            for stale in list(self._done)[: max(len(self._done) - self.keep, 0)]:
                del self._done[stale]
        return done

    def _beside(self, key: Hashable, snapshot: Snapshot, compute: Callable[[], object]) -> None:
        try:
            self._compute(key, snapshot, compute)
        except Exception:  # the page keeps showing the figures it has; the next visit tries again
            log.exception("%s: the figures of %r could not be brought up to date", self.name, key)
        finally:
            with self._lock:
                self._running.discard(key)
