"""Who rates each pick: the least-loaded eligible rater (active, with the rule's role, covering
the session's area, never one of its tutors).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from session_rater.domain.model import Role
from session_rater.domain.sampling.policy import (
    PersonFacts,
)


class RaterPool:
    """Raters of one role, least loaded first; ties broken by a random order fixed per draw."""

    def __init__(self, people: Sequence[PersonFacts], role: Role, load: Counter[int], rng: np.random.Generator) -> None:
        raters = sorted((p for p in people if p.active and role.value in p.roles), key=lambda p: p.id)
        tiebreak = dict(zip([p.id for p in raters], rng.permutation(len(raters)).tolist(), strict=True))
        self._load = load
        self._tiebreak = tiebreak
        self._any_area = [p.id for p in raters if p.areas is None]
        self._by_area: dict[str, list[int]] = defaultdict(list)
        for p in raters:
            for area in p.areas or ():
                self._by_area[area].append(p.id)
        self._heaps: dict[str, list[tuple[int, int, int]]] = {}
        self._covering: dict[str, frozenset[int]] = {}

    def covering(self, area: str) -> frozenset[int]:
        if area not in self._covering:
            self._covering[area] = frozenset(self._any_area) | frozenset(self._by_area.get(area, ()))
        return self._covering[area]

    def _heap(self, area: str) -> list[tuple[int, int, int]]:
        if area not in self._heaps:
            self._heaps[area] = [(self._load[i], self._tiebreak[i], i) for i in self.covering(area)]
            heapq.heapify(self._heaps[area])
        return self._heaps[area]

    def eligible(self, area: str, excluded: Iterable[int]) -> int:
        """How many raters could take a session in ``area`` that ``excluded`` delivered."""
        covering = self.covering(area)
        return len(covering) - len(covering.intersection(excluded))

    def take(self, area: str, excluded: Iterable[int]) -> int | None:
        """The least-loaded rater covering ``area`` who is not in ``excluded``; load + 1."""
        heap = self._heap(area)
        excluded = set(excluded)
        set_aside = []
        found = None
        while heap:
            load, tie, rater = heapq.heappop(heap)
            if load != self._load[rater]:  # stale entry: the rater got work from another heap
                heapq.heappush(heap, (self._load[rater], tie, rater))
                continue
            if rater in excluded:
                set_aside.append((load, tie, rater))
                continue
            found = rater
            break
        for entry in set_aside:
            heapq.heappush(heap, entry)
        if found is not None:
            self._load[found] += 1
            heapq.heappush(heap, (self._load[found], self._tiebreak[found], found))
        return found


# --------------------------------------------------------------------------------------------
# The draw
# --------------------------------------------------------------------------------------------


