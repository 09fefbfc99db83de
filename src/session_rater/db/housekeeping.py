"""Whether the database is empty, and the demo rows: found and removed (only those)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from session_rater.db import models as m
from session_rater.db.audit_models import AuditEntry
from session_rater.db.benchmarks import delete_demo_benchmarks
from session_rater.db.rows import (
    StoreBase,
)
from session_rater.db.sampling_models import SampleAssignment, SampleDraw
from session_rater.errors import (
    RatingError,
)


class Housekeeping(StoreBase):
    # -- housekeeping ---------------------------------------------------------------------
    def is_empty(self) -> bool:
        with self._sessions() as s:
            return s.scalar(select(func.count()).select_from(m.Recording)) == 0 and (
                s.scalar(select(func.count()).select_from(m.Person)) == 0
            )

    def has_demo_data(self) -> bool:
        with self._sessions() as s:
            return bool(s.scalar(select(func.count()).select_from(m.Recording).where(m.Recording.is_demo.is_(True))))

    def delete_demo_data(self) -> None:
        """Remove the demo rows (and only those). Refuses if real ratings point at demo rows."""
        with self._sessions.begin() as s:
            demo_people = select(m.Person.id).where(m.Person.is_demo.is_(True))
            demo_recordings = select(m.Recording.id).where(m.Recording.is_demo.is_(True))
            real_on_demo = s.scalar(
                select(func.count())
                .select_from(m.Rating)
                .where(m.Rating.is_demo.is_(False))
                .where(
                    m.Rating.recording_id.in_(demo_recordings)
                    | m.Rating.rater_id.in_(demo_people)
                    | m.Rating.tutor_id.in_(demo_people)
                )
            )
            if real_on_demo:
                raise RatingError(
                    f"{real_on_demo} rating(s) not marked as demo refer to demo sessions or people, "
                    "so the demo data was left in place. Export them first (session-rater export)."
                )
            demo_ratings = select(m.Rating.id).where(m.Rating.is_demo.is_(True))
            s.execute(delete(AuditEntry).where(AuditEntry.rating_id.in_(demo_ratings)))
            s.execute(delete(AuditEntry).where(AuditEntry.entity == "blindness",
                                               AuditEntry.entity_id.in_(demo_recordings)))
            s.execute(delete(AuditEntry).where(AuditEntry.entity.in_(("person", "scope")),
                                               AuditEntry.entity_id.in_(demo_people)))
            s.execute(delete(AuditEntry).where(AuditEntry.entity == "assignment",
                                               AuditEntry.entity_id.in_(demo_recordings)))
            delete_demo_benchmarks(s, demo_recordings)  # the benchmark of demo sessions goes with them
            s.execute(delete(m.ItemScore).where(m.ItemScore.rating_id.in_(demo_ratings)))
            s.execute(update(m.Rating).where(m.Rating.is_demo.is_(True)).values(supersedes_id=None, version=1))
            s.execute(delete(m.Rating).where(m.Rating.is_demo.is_(True)))
            real_work_for_demo_people = s.scalar(
                select(func.count())
                .select_from(SampleAssignment)
                .where(SampleAssignment.recording_id.not_in(demo_recordings))
                .where(SampleAssignment.rater_id.in_(demo_people) | SampleAssignment.second_rater_id.in_(demo_people))
            )
            if real_work_for_demo_people:
                raise RatingError(
                    f"{real_work_for_demo_people} sample assignment(s) of real sessions are assigned to demo people, "
                    "so the demo data was left in place. Draw those samples once real raters exist."
                )
            # Sample assignments of demo sessions go with them (a draw keeps its record of the seed).
            s.execute(delete(SampleAssignment).where(SampleAssignment.recording_id.in_(demo_recordings)))
            s.execute(update(SampleDraw).where(SampleDraw.drawn_by.in_(demo_people)).values(drawn_by=None))
            s.execute(delete(m.RecordingTutor).where(m.RecordingTutor.recording_id.in_(demo_recordings)))
            s.execute(delete(m.Recording).where(m.Recording.is_demo.is_(True)))
            s.execute(delete(m.PersonRole).where(m.PersonRole.person_id.in_(demo_people)))
            s.execute(delete(m.Person).where(m.Person.is_demo.is_(True)))
