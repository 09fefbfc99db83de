"""The Assignments page's reads at any scale (issue 17): the sessions its assignments name,
read by id in SQL, instead of every one of an administrator's 20,000 sessions to label a few."""

from __future__ import annotations

from collections.abc import Iterable

from session_rater.domain.access import Action
from session_rater.domain.records import AssignmentView, RecordingView
from session_rater.usecases.permitted import Permitted


def assigned_sessions(me: Permitted, assignments: Iterable[AssignmentView]) -> dict[int, RecordingView]:
    """The sessions ``assignments`` name that ``me`` may see, by id (one query per thousand)."""
    me.require(Action.MANAGE_ASSIGNMENTS)
    return me.svc.store.recordings_by_id((a.recording_id for a in assignments), within=me.reach())
