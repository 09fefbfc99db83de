"""The Sessions page's list: the sessions a person may see, filtered, counted and paged in the
database, so that its cost grows with the page shown (fifty rows), not with the sessions
stored (twenty thousand nationally). Each row carries its ratings counted per capacity, whether
the video can be watched, a small frame of it, and for a tutor the state of their own
self-assessment."""

from __future__ import annotations

from pathlib import Path

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from session_rater.db.session_list import SessionFacets
from session_rater.domain.access import reaches
from session_rater.domain.model import Capacity, RatingStatus, Role
from session_rater.domain.records import RecordingView
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import _middle_frame, _video_state

PAGE_SIZE = 50

SELF_ASSESSMENT_STATE = {  # what a tutor reads in "Your self-assessment"
    None: "not started",
    "draft": "draft",
    "correction": "submitted, correction in draft",
    "submitted": "submitted",
}


@dataclass(frozen=True)
class SessionFilter:
    """The Sessions page's filters (empty: everything in reach)."""

    programmes: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    tutor_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    catch_up: bool | None = None


@dataclass(frozen=True)
class SessionsPage:
    rows: pd.DataFrame  # one row per session of this page, newest first
    matching: int  # sessions that pass the filters
    page: int  # 1-based, within 1..pages
    pages: int
    page_size: int
    recordings: dict[int, RecordingView] = field(default_factory=dict, repr=False)

    @property
    def first(self) -> int:
        """The position (1-based) of the page's first row among those matching (0: none)."""
        return 0 if self.rows.empty else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if not self.rows.empty else 0


def session_facets(me: Permitted) -> SessionFacets:
    """How many sessions this person may see, and what the filters can offer over them."""
    return me.svc.store.session_facets(me.reach())


def shows_self_assessment(me: Permitted) -> bool:
    """Whether the list has a "Your self-assessment" column: for people who deliver sessions."""
    return me.actor.has(Role.TUTOR)


def sessions_page(me: Permitted, filters: SessionFilter = SessionFilter(), page: int = 1,
                  page_size: int = PAGE_SIZE) -> SessionsPage:  # fmt: skip
    """One page of the sessions ``me`` may see that pass ``filters``. Two queries select the
    count and the page (a page past the end gives the last); the page's ratings, playback states and own self-assessments follow in
    one query each, for those rows only."""
    svc = me.svc
    page_size = max(1, page_size)
    criteria = dict(vars(filters))
    reach, page = me.reach(), max(1, page)
    matching, recordings = svc.store.session_page(reach, offset=(page - 1) * page_size, limit=page_size, **criteria)
    pages = max(1, math.ceil(matching / page_size))
    if page > pages:  # fewer sessions match than when the page was chosen: the last page
        page = pages
        matching, recordings = svc.store.session_page(reach, offset=(page - 1) * page_size, limit=page_size,
                                                      **criteria)  # fmt: skip
    # The SQL reach is the rule of domain.access.reaches; it is applied again to what is shown.
    recordings = [r for r in recordings if reaches(me.actor, svc.session_scope(r))]
    ids = [r.id for r in recordings]
    counts = svc.store.rating_counts(ids)
    playback = svc.media.playback_of(ids)
    own = svc.store.own_self_assessments(me.person.id, ids) if shows_self_assessment(me) else {}
    hidden = me.benchmarks_not_shown() & set(ids)
    rows = []
    for r in recordings:
        c = counts.get(r.id, {})
        state = playback.get(r.id)
        present = svc.recording_path(r).is_file()
        delivered = any(t.id == me.person.id for t in r.tutors)
        row: dict[str, object] = {
            "id": r.id,
            "date": r.recorded_on,
            "programme": r.programme,
            "group": r.group_name,
            "session": r.session_number,
            "title": r.session_title,
            "site": r.site,
            "catch_up": r.is_catch_up,
            "tutors": ", ".join(t.display_name for t in r.tutors),
            "demo": r.is_demo,
            "video": _video_state(state, present),
            "yours": SELF_ASSESSMENT_STATE[own.get(r.id)] if delivered else "",
        }
        if r.id in hidden:
            c = {k: n for k, n in c.items() if k[0] != Capacity.BENCHMARK.value}
        for capacity in Capacity:
            row[capacity.value] = c.get((capacity.value, RatingStatus.SUBMITTED.value), 0)
        row["drafts"] = sum(n for (_, status), n in c.items() if status == RatingStatus.DRAFT.value)
        rows.append(row)
    return SessionsPage(pd.DataFrame(rows), matching, page, pages, page_size, {r.id: r for r in recordings})


def session_frame(me: Permitted, recording: RecordingView) -> Path | None:
    """A frame from the middle of the session opened (only that one: the rows carry none)."""
    svc = me.svc
    if not svc.recording_path(recording).is_file():
        return None
    return _middle_frame(svc.thumbnails(recording, svc.media.playback_of([recording.id]).get(recording.id)))


@dataclass(frozen=True)
class TutorChoice:
    """What the Sessions page offers beside one tutor of the session opened."""

    tutor: object  # PersonView
    may_rate: bool
    rate_reason: str
    may_compare: bool
    compare_reason: str
    own: bool  # the tutor is the person signed in


def tutor_choices(me: Permitted, recording: RecordingView) -> list[TutorChoice]:
    """For each tutor of ``recording``: whether ``me`` may rate them (a tutor only themselves)
    and see the ratings side by side, and if not why, so nothing is offered and then refused."""
    choices = []
    delivered = me.person.id in {t.id for t in recording.tutors}
    for tutor in sorted(recording.tutors, key=lambda t: t.id != me.person.id):  # one's own first
        capacities = me.capacities(recording, tutor.id)
        compare = me.may_see_ratings(recording, tutor.id)
        own = tutor.id == me.person.id
        if capacities:
            rate_reason = ""
        elif delivered:
            rate_reason = "a tutor self-assesses their own delivery only, not a co-tutor's"
        else:
            rate_reason = "you may not rate this tutor's delivery of this session"
        compare_reason = "" if compare else compare.reason
        if not compare and delivered and not own:  # "submit your own first" would never come true
            compare_reason = "a co-tutor's ratings are theirs to compare, not yours"
        choices.append(TutorChoice(tutor, bool(capacities), rate_reason, bool(compare), compare_reason, own))
    return choices
