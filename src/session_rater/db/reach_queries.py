"""Small aggregate reads over the sessions in a person's reach, for pages that show a summary of
them (issue 17): the answer comes from the database, never from every recording loaded."""

from __future__ import annotations

from sqlalchemy import func, select

from session_rater.db import models as m
from session_rater.db.recordings import Reach, _recording_views
from session_rater.db.rows import StoreBase
from session_rater.domain.records import RecordingView


class ReachQueries(StoreBase):
    def recording_areas(self, within: Reach | None = None) -> list[str]:
        """The areas (named, sorted) of the recorded sessions ``within`` reaches (all: None)."""
        query = select(m.Recording.area).where(m.Recording.area.is_not(None), m.Recording.area != "").distinct()
        if within is not None:
            query = query.where(within.condition())
        with self._sessions() as s:
            return sorted(s.scalars(query))

    def recordings_in_area(self, area: str, within: Reach | None = None) -> list[RecordingView]:
        """The recorded sessions of ``area`` ("": those with none) ``within`` reaches, newest
        first, as ``list_recordings`` gives them: one area's, not the whole country's."""
        where = [func.coalesce(m.Recording.area, "") == area]
        if within is not None:
            where.append(within.condition())
        with self._sessions() as s:
            return _recording_views(s, where, [m.Recording.recorded_on.desc(), m.Recording.id])
