"""Choosing a recorded session on Rate and Compare at any scale: one list of every session in
reach when there are few (a tutor's, a team's), else a search (group, date, site, tutor) over
them in SQL with the newest 50 matches offered, so a page never reads and sends every one of
an administrator's 20,000 sessions to show one (issue 17)."""

from __future__ import annotations


from session_rater.domain.records import RecordingView
from session_rater.errors import SessionRaterError
from session_rater.ui.state import pick_by_id, query_int, recording_label, refuse_unreachable
from session_rater.usecases.permitted import Permitted

LIST_ALL_UP_TO = 500
"""Up to this many sessions in reach, the picker lists them all (as before); above, it searches."""
FOUND_LIMIT = 50


class NoSessions(Exception):
    """Nothing in this person's reach."""


def session_choices(me: Permitted, container: object, *, key: str) -> dict[int, RecordingView]:
    """The sessions to offer, by id: every one in reach, or (above LIST_ALL_UP_TO) those a
    search finds, with the session the URL names first. Raises NoSessions when none is in reach."""
    total = me.count_recordings()
    if total == 0:
        raise NoSessions
    if total <= LIST_ALL_UP_TO:
        return {r.id: r for r in me.recordings()}
    text = container.text_input(  # type: ignore[attr-defined]
        "Find a session", key=f"{key}:find", placeholder="Group, date (DD/MM/YYYY), site, area or tutor",
        help=f"You can see {total:,} sessions: type part of a group, date, site or tutor's name to find one. "
             f"The {FOUND_LIMIT} newest that match are offered.",
    )  # fmt: skip
    choices: dict[int, RecordingView] = {}
    wanted = query_int("recording")
    if wanted is not None:
        try:
            choices[wanted] = me.recording(wanted)
        except SessionRaterError:
            pass  # refuse_unreachable says so
    found = me.find_recordings(text or "", limit=FOUND_LIMIT)
    choices.update((r.id, r) for r in found)
    if not found and (text or "").strip():
        container.caption(f"No session you can see matches “{text.strip()}”.")  # type: ignore[attr-defined]
    return choices


def pick_session(me: Permitted, container: object, *, key: str, required: bool,
                 **kwargs: object) -> tuple[dict[int, RecordingView], int | None] | None:  # fmt: skip
    """(the sessions offered, the id chosen) from the URL's ``?recording=`` or a selectbox in
    ``container``; None when the URL names a session out of reach (said so on the page).
    Raises NoSessions when none is in reach."""
    by_id = session_choices(me, container, key=key)
    if refuse_unreachable(me, by_id):
        return None
    chosen = pick_by_id(container, "Session", by_id, recording_label, param="recording", required=required, **kwargs)
    return by_id, chosen
