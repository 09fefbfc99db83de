"""Storage of retention: holds on recordings, the facts the policy is applied to, and the
record of a retention deletion (the recording marked, the audit log told). Every change here is
written to the audit log in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from typing import Any

from sqlalchemy import Engine, case, false, func, or_, select

from session_rater.db import models as m
from session_rater.db.engine import make_sessionmaker
from session_rater.db.retention_models import RecordingHold
from session_rater.db.sampling_store import open_assignments
from session_rater.db.rows import audit
from session_rater.domain.retention import HOLD_KINDS, Hold, RecordingFacts, open_audit_words
from session_rater.errors import NotFoundError, SessionRaterError

_CHUNK = 500  # ids per IN list


def _hold(h: RecordingHold) -> Hold:
    return Hold(h.id, h.recording_id, h.kind, h.reason, h.placed_by, h.placed_at, h.released_at, h.released_by,
                h.release_note)  # fmt: skip


class RetentionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)

    # -- holds ------------------------------------------------------------------------------
    def place_hold(self, recording_id: int, kind: str, reason: str, *, by: int | None) -> Hold:
        if kind not in HOLD_KINDS:
            raise SessionRaterError(f"A hold is one of {', '.join(HOLD_KINDS)}, not {kind!r}.")
        if not reason.strip():
            raise SessionRaterError("Say why the recording is on hold (the reason is kept with the hold).")
        with self._sessions.begin() as s:
            if s.get(m.Recording, recording_id) is None:
                raise NotFoundError(f"There is no recorded session with id {recording_id}.")
            row = RecordingHold(recording_id=recording_id, kind=kind, reason=reason.strip(), placed_by=by,
                                placed_at=m.utcnow())  # fmt: skip
            s.add(row)
            s.flush()
            audit(s, by, "recording_hold", row.id, None, "place", None,  # type: ignore[arg-type]
                  {"recording_id": recording_id, "kind": kind, "reason": row.reason})  # fmt: skip
            return _hold(row)

    def release_hold(self, hold_id: int, *, by: int | None, note: str = "") -> Hold:
        with self._sessions.begin() as s:
            row = s.get(RecordingHold, hold_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"There is no hold with id {hold_id}.")
            if row.released_at is not None:
                raise SessionRaterError(f"Hold #{hold_id} was already released on {row.released_at:%d/%m/%Y}.")
            row.released_at, row.released_by, row.release_note = m.utcnow(), by, note.strip() or None
            audit(s, by, "recording_hold", row.id, None, "release",  # type: ignore[arg-type]
                  {"recording_id": row.recording_id, "kind": row.kind, "reason": row.reason},
                  {"released": True, "note": row.release_note})  # fmt: skip
            return _hold(row)

    def holds(self, *, active_only: bool = True, recording_id: int | None = None) -> list[Hold]:
        """Newest first."""
        with self._sessions() as s:
            query = select(RecordingHold).order_by(RecordingHold.id.desc())
            if active_only:
                query = query.where(RecordingHold.released_at.is_(None))
            if recording_id is not None:
                query = query.where(RecordingHold.recording_id == recording_id)
            return [_hold(h) for h in s.scalars(query)]

    # -- the facts the policy is applied to --------------------------------------------------
    def recording_facts(self, open_audits: dict[int, list[str]], *, recorded_before: dt.date | None = None,
                        with_demo: bool = True) -> list[RecordingFacts]:  # fmt: skip
        """Every recording with its active holds (and the open audits given, by recording); only
        those recorded before ``recorded_before`` when given, and no demo recording unless
        ``with_demo`` (selected in SQL)."""
        held: dict[int, list[Hold]] = defaultdict(list)
        for hold in self.holds():
            held[hold.recording_id].append(hold)
        query = select(m.Recording.id, m.Recording.group_name, m.Recording.session_number, m.Recording.session_title,
                       m.Recording.recorded_on, m.Recording.files_deleted_at).order_by(m.Recording.recorded_on,
                                                                                       m.Recording.id)  # fmt: skip
        if recorded_before is not None:
            query = query.where(m.Recording.recorded_on < recorded_before)
        if not with_demo:
            query = query.where(m.Recording.is_demo.is_(False))
        with self._sessions() as s:
            rows = s.execute(query)
            return [
                RecordingFacts(rid, f"{group} · session {number}: {title}", recorded_on, deleted,
                               tuple(held.get(rid, ())), tuple(open_audits.get(rid, ())))
                for rid, group, number, title, recorded_on, deleted in rows
            ]  # fmt: skip

    # -- the recordings past their period, counted and paged in SQL ------------------------
    def _past(self, recorded_before: dt.date, keep_while_audit_open: bool) -> tuple[list[Any], Any]:
        """The recordings past their period whose files are kept (demo ones aside), and the
        condition that keeps one of them on purpose: an active hold or, when the policy says
        so, a sample assignment awaiting its rating (:func:`open_assignments`)."""
        r = m.Recording
        past = [r.recorded_on < recorded_before, r.files_deleted_at.is_(None), r.is_demo.is_(False)]
        held = select(RecordingHold.recording_id).where(RecordingHold.released_at.is_(None))
        audited = select(open_assignments(recorded_before).subquery().c.recording_id)
        kept = or_(r.id.in_(held), r.id.in_(audited) if keep_while_audit_open else false())
        return past, kept

    def count_past(self, recorded_before: dt.date, *, keep_while_audit_open: bool) -> tuple[int, int]:
        """How many recordings before ``recorded_before`` whose files are kept are due for
        deletion, and how many are kept on purpose (on hold, or in an open audit): one query."""
        past, kept = self._past(recorded_before, keep_while_audit_open)
        query = select(func.count(), func.coalesce(func.sum(case((kept, 1), else_=0)), 0)).select_from(m.Recording)
        with self._sessions() as s:
            every, on_purpose = s.execute(query.where(*past)).one()
        return int(every) - int(on_purpose), int(on_purpose)

    def past_facts(self, recorded_before: dt.date, *, kept: bool, keep_while_audit_open: bool, offset: int = 0,
                   limit: int | None = None) -> list[RecordingFacts]:  # fmt: skip
        """The facts of the recordings before ``recorded_before`` whose files are kept that are
        kept on purpose (``kept``) or due for deletion (not ``kept``), oldest first, ``limit``
        of them from ``offset`` (all: None), selected in SQL with their active holds and open
        audits (each sample assignment awaiting a rating, in words)."""
        past, on_purpose = self._past(recorded_before, keep_while_audit_open)
        r = m.Recording
        query = (select(r.id, r.group_name, r.session_number, r.session_title, r.recorded_on, r.files_deleted_at)
                 .where(*past, on_purpose if kept else ~on_purpose).order_by(r.recorded_on, r.id).offset(offset))  # fmt: skip
        if limit is not None:
            query = query.limit(limit)
        with self._sessions() as s:
            rows = s.execute(query).all()
            ids = [row[0] for row in rows]
            held: dict[int, list[Hold]] = defaultdict(list)
            audits: dict[int, list[str]] = defaultdict(list)
            if kept and ids:  # due ones have neither; a page's by id, a whole review's in one go
                for chunk in [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)] if limit is not None else [None]:
                    holds = select(RecordingHold).where(RecordingHold.released_at.is_(None)).order_by(RecordingHold.id.desc())
                    waiting = open_assignments(recorded_before).subquery()
                    open_ = select(waiting.c.recording_id, waiting.c.rule, waiting.c.due_on).order_by(waiting.c.id)
                    if chunk is not None:
                        holds = holds.where(RecordingHold.recording_id.in_(chunk))
                        open_ = open_.where(waiting.c.recording_id.in_(chunk))
                    for hold in s.scalars(holds):
                        held[hold.recording_id].append(_hold(hold))
                    for rid, rule, due_on in s.execute(open_) if keep_while_audit_open else ():
                        audits[rid].append(open_audit_words(rule, due_on))
        return [
            RecordingFacts(rid, f"{group} · session {number}: {title}", recorded_on, deleted, tuple(held.get(rid, ())),
                           tuple(audits.get(rid, ())))
            for rid, group, number, title, recorded_on, deleted in rows
        ]  # fmt: skip

    # -- a deletion --------------------------------------------------------------------------
    def record_deletion(self, recording_id: int, *, files: list[str], note: str, policy: dict[str, str],
                        reason: str, by: int | None) -> dt.datetime:  # fmt: skip
        """Mark the recording's files as deleted under the policy and log it (who, which
        policy version, which files, why)."""
        with self._sessions.begin() as s:
            recording = s.get(m.Recording, recording_id, with_for_update=True)
            if recording is None:
                raise NotFoundError(f"There is no recorded session with id {recording_id}.")
            now = m.utcnow()
            recording.files_deleted_at, recording.files_deleted_note = now, note
            audit(s, by, "recording", recording_id, None, "retention_delete",  # type: ignore[arg-type]
                  {"files": files, "recorded_on": recording.recorded_on.isoformat()},
                  {**policy, "reason": reason, "by": "session-rater retention" if by is None else by})  # fmt: skip
            return now
