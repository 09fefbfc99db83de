"""The storage layer: every read and write of the rating data goes through :class:`Store`.

It returns plain frozen views (:mod:`session_rater.domain.records`), never ORM objects, so
pages and the CLI cannot lazy-load by accident. It enforces the rules that protect saved data
whoever calls it: scores must be on the rubric's scale, a submitted rating is read-only, and a
rubric version's definition is frozen once recorded. Its parts, one concept each, are the
modules beside this one.
"""

from __future__ import annotations

from session_rater.db.benchmarks import BenchmarkStore
from session_rater.db.housekeeping import Housekeeping
from session_rater.db.people import PeopleStore
from session_rater.db.ratings import ItemEntry, RatingSpec, RatingStore
from session_rater.db.recordings import Reach, RecordingStore
from session_rater.db.session_list import SessionListStore
from session_rater.domain.records import PersonView, RatingView, RecordingSpec, RecordingView


class Store(PeopleStore, RecordingStore, SessionListStore, RatingStore, Housekeeping, BenchmarkStore):
    """The rating data: people, recorded sessions, rubric versions, ratings; and the benchmark
    (master scores, calibration, validity sessions, exemplars: db/benchmarks.py)."""


__all__ = ["ItemEntry", "PersonView", "RatingSpec", "RatingView", "Reach", "RecordingSpec", "RecordingView", "Store"]
