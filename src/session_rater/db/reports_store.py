"""Storage of what the reports keep: supervision discussions and audit marks. Every change is
written to the audit log in the same transaction; nothing is deleted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from session_rater.db import models as m
from session_rater.db.engine import make_sessionmaker
from session_rater.db.report_models import AuditMarkSet, SupervisionRecord
from session_rater.db.rows import audit
from session_rater.domain.report_records import AuditMarkSetView, SupervisionDiscussion
from session_rater.errors import NotFoundError


def _discussion(r: SupervisionRecord) -> SupervisionDiscussion:
    return SupervisionDiscussion(r.id, r.recording_id, r.tutor_id, r.discussed_on, r.agreed_action, r.recorded_by,
                                 r.recorded_at)  # fmt: skip


def _mark_set(r: AuditMarkSet) -> AuditMarkSetView:
    return AuditMarkSetView(r.id, r.title, r.area, r.instrument_id, r.instrument_version, tuple(r.mandatory or ()),
                            r.marks_csv, r.created_by, r.created_at, r.updated_by, r.updated_at)  # fmt: skip


class ReportsStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)

    # -- supervision ------------------------------------------------------------------------
    def record_discussion(self, recording_id: int, tutor_id: int, discussed_on: dt.date, agreed_action: str, *,
                          by: int | None) -> SupervisionDiscussion:  # fmt: skip
        with self._sessions.begin() as s:
            if s.get(m.Recording, recording_id) is None:
                raise NotFoundError(f"There is no recorded session with id {recording_id}.")
            row = SupervisionRecord(recording_id=recording_id, tutor_id=tutor_id, discussed_on=discussed_on,
                                    agreed_action=agreed_action, recorded_by=by, recorded_at=m.utcnow())  # fmt: skip
            s.add(row)
            s.flush()
            audit(s, by, "supervision", row.id, None, "record", None,  # type: ignore[arg-type]
                  {"recording_id": recording_id, "tutor_id": tutor_id, "discussed_on": discussed_on.isoformat(),
                   "agreed_action": agreed_action})  # fmt: skip
            return _discussion(row)

    def discussions(self, tutor_id: int, recording_ids: list[int] | None = None) -> list[SupervisionDiscussion]:
        """A tutor's supervision discussions (of these sessions), latest discussed first."""
        query = select(SupervisionRecord).where(SupervisionRecord.tutor_id == tutor_id)
        if recording_ids is not None:
            query = query.where(SupervisionRecord.recording_id.in_(recording_ids))
        with self._sessions() as s:
            rows = s.scalars(query.order_by(SupervisionRecord.discussed_on.desc(), SupervisionRecord.id.desc()))
            return [_discussion(r) for r in rows]

    # -- audit marks ------------------------------------------------------------------------
    def save_mark_set(self, *, title: str, area: str, instrument_id: str, instrument_version: str,
                      mandatory: list[str], marks_csv: str, by: int | None,
                      mark_set_id: int | None = None) -> AuditMarkSetView:  # fmt: skip
        """A new audit's marks, or new marks for an existing one (``mark_set_id``)."""
        state = {"title": title, "area": area, "instrument": f"{instrument_id} {instrument_version}",
                 "mandatory": list(mandatory), "marks_csv": marks_csv}  # fmt: skip
        with self._sessions.begin() as s:
            if mark_set_id is None:
                row = AuditMarkSet(title=title, area=area, instrument_id=instrument_id,
                                   instrument_version=instrument_version, mandatory=list(mandatory),
                                   marks_csv=marks_csv, created_by=by, created_at=m.utcnow(), updated_by=by,
                                   updated_at=m.utcnow())  # fmt: skip
                s.add(row)
                s.flush()
                audit(s, by, "audit_marks", row.id, None, "create", None, state)  # type: ignore[arg-type]
                return _mark_set(row)
            row = s.get(AuditMarkSet, mark_set_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"There are no audit marks with id {mark_set_id}.")
            before = {"title": row.title, "area": row.area,
                      "instrument": f"{row.instrument_id} {row.instrument_version}",
                      "mandatory": list(row.mandatory or ()), "marks_csv": row.marks_csv}  # fmt: skip
            row.title, row.area, row.instrument_id, row.instrument_version = title, area, instrument_id, instrument_version
            row.mandatory, row.marks_csv, row.updated_by, row.updated_at = list(mandatory), marks_csv, by, m.utcnow()
            audit(s, by, "audit_marks", row.id, None, "update", before, state)  # type: ignore[arg-type]
            return _mark_set(row)

    def mark_sets(self) -> list[AuditMarkSetView]:
        with self._sessions() as s:
            return [_mark_set(r) for r in s.scalars(select(AuditMarkSet).order_by(AuditMarkSet.updated_at.desc(),
                                                                                  AuditMarkSet.id.desc()))]  # fmt: skip

    def mark_set(self, mark_set_id: int) -> AuditMarkSetView:
        with self._sessions() as s:
            row = s.get(AuditMarkSet, mark_set_id)
            if row is None:
                raise NotFoundError(f"There are no audit marks with id {mark_set_id}.")
            return _mark_set(row)
