"""Small aggregate reads over the sessions in a person's reach, for pages that show a summary of
them (issue 17): the answer comes from the database, never from every recording loaded."""

from __future__ import annotations

from sqlalchemy import select

from session_rater.db import models as m
from session_rater.db.recordings import Reach
from session_rater.db.rows import StoreBase


class ReachQueries(StoreBase):
    def recording_areas(self, within: Reach | None = None) -> list[str]:
        """The areas (named, sorted) of the recorded sessions ``within`` reaches (all: None)."""
        query = select(m.Recording.area).where(m.Recording.area.is_not(None), m.Recording.area != "").distinct()
        if within is not None:
            query = query.where(within.condition())
        with self._sessions() as s:
            return sorted(s.scalars(query))
