"""Supervision feedback for one tutor and one monitored session, as the page shows it and as a
PDF; and the record that it was discussed in supervision, with the action agreed.

Who may see it is domain.access's rule (VIEW_SUPERVISION: the tutor, their treatment manager,
the area's programme manager, administrators); who may record a discussion, RECORD_SUPERVISION
(the tutor and their treatment manager). Ratings stay blind: someone with a draft rating of the
same session and tutor sees the feedback only once that rating is submitted, and someone who
has not rated it is recorded as not blind for it when they look (as on Compare).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from session_rater.db.reports_store import ReportsStore
from session_rater.domain.access import Action
from session_rater.domain.model import Capacity, format_moment
from session_rater.domain.records import RatingView, RecordingView
from session_rater.domain.report_records import MAX_AGREED_ACTION, SupervisionDiscussion
from session_rater.domain.rubric import Rubric
from session_rater.domain.supervision import (
    DevelopmentPoint,
    EvidenceNote,
    ItemFeedback,
    TrendPoint,
    development_points,
    item_feedback,
    mean_score,
    strengths,
)
from session_rater.errors import AccessDeniedError, SessionRaterError
from session_rater.io.pdf_report import Link, PdfReport
from session_rater.usecases.permitted import Permitted

NO_NAMES_REMINDER = (
    "Evidence notes are shown as their raters wrote them. Raters must never write an offender's name "
    "(or anything that identifies a group member) in a note."
)
PAGE_PATH = "supervision"


@dataclass(frozen=True)
class Blindness:
    """Whether the viewer may see the feedback now: ``allowed``; ``unblinds`` when looking
    records them as not blind for this session and tutor; ``reason`` says why (or why not)."""

    allowed: bool
    unblinds: bool
    reason: str


@dataclass(frozen=True)
class SupervisionFeedback:
    recording: RecordingView
    tutor_id: int
    tutor_name: str
    rubric: Rubric
    manager_rating: RatingView
    manager_name: str
    reference_source: str | None  # "Benchmark" / "External assessment" / None
    reference_raters: tuple[str, ...]
    self_submitted: bool
    items: tuple[ItemFeedback, ...]
    strengths: tuple[ItemFeedback, ...]
    development: tuple[DevelopmentPoint, ...]
    notes: tuple[EvidenceNote, ...]
    trend: tuple[TrendPoint, ...]
    discussions: tuple[SupervisionDiscussion, ...]
    discussed_by: dict[int, str]
    date_from: dt.date | None
    date_to: dt.date | None
    may_play: bool
    may_record: bool
    session_labels: dict[int, str]  # the sessions in the viewer's reach, by id (earlier discussions)

    def period_text(self) -> str:
        if self.date_from is None and self.date_to is None:
            return "all the tutor's rated sessions"
        start = f"{self.date_from:%d/%m/%Y}" if self.date_from else "the first session"
        end = f"{self.date_to:%d/%m/%Y}" if self.date_to else "the last"
        return f"sessions recorded {start} to {end}"


def _reference(ratings: list[RatingView]) -> tuple[Capacity | None, list[RatingView]]:
    """Master (benchmark) scores where they exist, else the external assessors' (domain.bias)."""
    for capacity in (Capacity.BENCHMARK, Capacity.EXTERNAL):
        chosen = [r for r in ratings if r.capacity is capacity]
        if chosen:
            return capacity, chosen
    return None, []


def _scores(rating: RatingView | None) -> dict[str, int | None]:
    if rating is None:
        return {}
    return {item_id: s.score for item_id, s in rating.scores.items() if s.is_answered}


def _mean_of(ratings: list[RatingView]) -> dict[str, float]:
    sums: dict[str, list[int]] = {}
    for rating in ratings:
        for item_id, score in _scores(rating).items():
            if score is not None:
                sums.setdefault(item_id, []).append(score)
    return {item_id: sum(v) / len(v) for item_id, v in sums.items()}


class Supervision:
    """Supervision feedback as one signed-in person may use it."""

    def __init__(self, me: Permitted) -> None:
        self.me = me
        self.svc = me.svc
        self.store = ReportsStore(me.svc.store.engine)
        self._validity: set[tuple[int, int, int | None]] | None = None

    # -- what may be chosen -------------------------------------------------------------------
    def _monitoring(self, ratings: list[RatingView]) -> list[RatingView]:
        """The treatment managers' monitoring ratings among ``ratings``, less validity ratings
        (a rater's rating of the benchmark of their validity session measures the rater, issue 10)."""
        if self._validity is None:
            self._validity = {(v.rater_id, v.recording_id, v.tutor_id) for v in self.svc.store.validity_assignments()}
        return [r for r in ratings if r.capacity is Capacity.MONITORING
                and (r.rater_id, r.recording_id, r.tutor_id) not in self._validity]  # fmt: skip

    def choices(self) -> list[tuple[RecordingView, int]]:
        """The (session, tutor) pairs with a submitted treatment manager's rating whose feedback
        this person may see, newest session first."""
        # The monitored (session, tutor) pairs in reach in one aggregate query, then only those
        # sessions read: one query per session in reach took 90 s for an administrator's 20,006.
        reach = self.me.reach()
        monitored = {m.recording_id: m.rated_tutor_ids for m in self.svc.sampling.monitored_sessions(reach)}
        recordings = self.svc.store.recordings_by_id(monitored, within=reach).values()
        out = []
        for recording in sorted(recordings, key=lambda r: (r.recorded_on, r.id), reverse=True):
            if not self.me.decide(Action.VIEW_SESSION, recording):
                continue
            for tutor in recording.tutors:
                if tutor.id in monitored[recording.id] and self.me.decide(Action.VIEW_SUPERVISION, recording,
                                                                          tutor_id=tutor.id):  # fmt: skip
                    out.append((recording, tutor.id))
        return out

    def may_see_any(self) -> bool:
        return bool(self.choices())

    # -- blindness ----------------------------------------------------------------------------
    def blindness(self, recording: RecordingView, tutor_id: int) -> Blindness:
        self.me.require(Action.VIEW_SUPERVISION, recording, tutor_id=tutor_id)
        me, store = self.me.person.id, self.svc.store
        if store.has_submitted(me, recording.id, tutor_id):
            return Blindness(True, False, "your own rating of this session is submitted")
        drafts = [r for r in store.ratings_of_recording(recording.id, submitted_only=False)
                  if r.rater_id == me and r.tutor_id == tutor_id and not r.is_submitted]  # fmt: skip
        if drafts:
            return Blindness(False, False, "You have a rating of this tutor in this session that is not submitted yet. "
                                           "Submit it first: ratings stay blind until then.")  # fmt: skip
        if store.is_unblinded(me, recording.id, tutor_id):
            return Blindness(True, False, "you are already recorded as not blind for this session and tutor")
        return Blindness(True, True, "You have not rated this tutor in this session. If you look at the feedback "
                                     "now, you are recorded as not blind for it, and a rating you make of it later "
                                     "is marked so.")  # fmt: skip

    # -- the feedback -------------------------------------------------------------------------
    def feedback(self, recording_id: int, tutor_id: int, *, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, look: bool = False) -> SupervisionFeedback:  # fmt: skip
        """The feedback; AccessDeniedError if this person may not see it (or not yet: blind).
        ``look``: accept being recorded as not blind, where looking does that."""
        recording = self.me.recording(recording_id)
        blind = self.blindness(recording, tutor_id)
        if not blind.allowed:
            raise AccessDeniedError(blind.reason)
        if blind.unblinds:
            if not look:
                raise AccessDeniedError(blind.reason + " Confirm that you want to look first.")
            self.svc.store.record_unblinding(self.me.person.id, recording.id, tutor_id)
        ratings = [r for r in self.svc.store.ratings_of_recording(recording.id) if r.tutor_id == tutor_id]
        monitoring = self._monitoring(ratings)
        if not monitoring:
            raise SessionRaterError("This tutor's delivery of this session has no submitted treatment manager's "
                                    "rating yet: supervision feedback starts from one.")  # fmt: skip
        own = [r for r in monitoring if r.rater_id == self.me.person.id]
        manager = (own or sorted(monitoring, key=lambda r: r.submitted_at or r.updated_at))[-1]
        rubric = self.svc.rubric_of(manager)
        self_rating = next((r for r in ratings if r.capacity is Capacity.SELF_ASSESSMENT), None)
        ref_capacity, ref_ratings = _reference(ratings)
        names = self.me.people_names()
        rows = item_feedback(rubric, _scores(manager), _scores(self_rating), _mean_of(ref_ratings))
        titles = {item.id: item.title for item in rubric.items}
        notes = []
        for rating in [manager, *ref_ratings, *([self_rating] if self_rating else [])]:
            who = f"{names.get(rating.rater_id, f'rater {rating.rater_id}')} ({rating.capacity.label.lower()})"
            for item_id, s in rating.scores.items():
                if s.evidence.strip() or s.moment_seconds is not None:
                    notes.append(EvidenceNote(item_id, titles.get(item_id, item_id), who, s.moment_seconds,
                                              s.evidence.strip()))  # fmt: skip
        order = {item.id: k for k, item in enumerate(rubric.items)}
        notes.sort(key=lambda n: (n.moment_seconds is None, n.moment_seconds or 0, order.get(n.item_id, 999)))
        return SupervisionFeedback(
            recording=recording, tutor_id=tutor_id, tutor_name=names.get(tutor_id, f"tutor {tutor_id}"),
            rubric=rubric, manager_rating=manager, manager_name=names.get(manager.rater_id, f"rater {manager.rater_id}"),
            reference_source=ref_capacity.label if ref_capacity else None,
            reference_raters=tuple(names.get(r.rater_id, f"rater {r.rater_id}") for r in ref_ratings),
            self_submitted=self_rating is not None, items=tuple(rows), strengths=tuple(strengths(rows, rubric)),
            development=tuple(development_points(rows, rubric)), notes=tuple(notes),
            trend=tuple(self._trend(recording.id, tutor_id, date_from, date_to)),
            discussions=tuple(self.store.discussions(tutor_id, [recording.id])),
            discussed_by=names, date_from=date_from, date_to=date_to,
            may_play=bool(self.me.decide(Action.PLAY_RECORDING, recording)),
            may_record=bool(self.me.decide(Action.RECORD_SUPERVISION, recording, tutor_id=tutor_id)),
            session_labels={x.id: f"{x.recorded_on:%d/%m/%Y} {x.label}" for x in self.me.recordings()},
        )  # fmt: skip

    def _trend(self, this_id: int, tutor_id: int, date_from: dt.date | None, date_to: dt.date | None) -> list[TrendPoint]:
        """The tutor's sessions with a submitted treatment manager's rating, in this person's reach
        and within the period (this session always), oldest first."""
        points = []
        for recording in sorted(self.me.recordings(), key=lambda r: (r.recorded_on, r.id)):
            if tutor_id not in {t.id for t in recording.tutors}:
                continue
            if recording.id != this_id and ((date_from and recording.recorded_on < date_from)
                                            or (date_to and recording.recorded_on > date_to)):  # fmt: skip
                continue
            ratings = [r for r in self.svc.store.ratings_of_recording(recording.id) if r.tutor_id == tutor_id]
            monitoring = self._monitoring(ratings)
            if not monitoring:
                continue
            self_rating = next((r for r in ratings if r.capacity is Capacity.SELF_ASSESSMENT), None)
            _, ref = _reference(ratings)
            points.append(TrendPoint(
                recording.id, recording.recorded_on, recording.label,
                mean_score(_mean_of(monitoring)), mean_score(_scores(self_rating)), mean_score(_mean_of(ref)),
                recording.id == this_id,
            ))  # fmt: skip
        return points

    # -- supervision discussions --------------------------------------------------------------
    def record_discussion(self, recording_id: int, tutor_id: int, discussed_on: dt.date,
                          agreed_action: str) -> SupervisionDiscussion:  # fmt: skip
        """"Discussed in supervision on ``discussed_on``", with the action agreed (the tutor or
        their treatment manager)."""
        recording = self.me.recording(recording_id)
        self.me.require(Action.RECORD_SUPERVISION, recording, tutor_id=tutor_id)
        action = " ".join(agreed_action.split())
        if not action:
            raise SessionRaterError("Write the action agreed in supervision (a sentence or two); nothing was saved.")
        if len(action) > MAX_AGREED_ACTION:
            raise SessionRaterError(f"The agreed action is {len(action)} characters; keep it to {MAX_AGREED_ACTION} "
                                    "(a sentence or two). Nothing was saved.")  # fmt: skip
        if discussed_on > dt.date.today():
            raise SessionRaterError(f"{discussed_on:%d/%m/%Y} is in the future: record a discussion once it has "
                                    "taken place. Nothing was saved.")  # fmt: skip
        if discussed_on < recording.recorded_on:
            raise SessionRaterError(f"{discussed_on:%d/%m/%Y} is before the session was recorded "
                                    f"({recording.recorded_on:%d/%m/%Y}). Nothing was saved.")  # fmt: skip
        return self.store.record_discussion(recording_id, tutor_id, discussed_on, action, by=self.me.person.id)

    def earlier_actions(self, tutor_id: int, before: dt.date) -> list[SupervisionDiscussion]:
        """The actions agreed in this tutor's earlier supervisions (of sessions in this person's
        reach), to be shown "next time"."""
        reach = {r.id: r for r in self.me.recordings()}
        allowed = [rid for rid, r in reach.items() if self.me.decide(Action.VIEW_SUPERVISION, r, tutor_id=tutor_id)]
        return [d for d in self.store.discussions(tutor_id, allowed) if d.discussed_on <= before]

    # -- the PDF -----------------------------------------------------------------------------
    def pdf(self, fb: SupervisionFeedback, *, origin: str = "", created: dt.date | None = None) -> bytes:
        """The feedback as a PDF; each evidence moment links to the Supervision page at that
        moment when ``origin`` (the app's address, ``https://host``) is known."""
        return render_supervision_pdf(fb, self.earlier_actions(fb.tutor_id, dt.date.today()), origin=origin,
                                      created=created)  # fmt: skip


def moment_link(origin: str, recording_id: int, tutor_id: int, seconds: float) -> str:
    """The Supervision page at this moment of the session's recording."""
    query = urlencode({"recording": recording_id, "tutor": tutor_id, "at": f"{seconds:g}"})
    return f"{origin.rstrip('/')}/{PAGE_PATH}?{query}"


def _score(value: float | None, places: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{places}f}" if places else (f"{value:g}" if float(value).is_integer() else f"{value:.1f}")


def render_supervision_pdf(fb: SupervisionFeedback, earlier: list[SupervisionDiscussion], *, origin: str = "",
                           created: dt.date | None = None) -> bytes:  # fmt: skip
    r = fb.recording
    reference = f"{fb.reference_source} ({', '.join(fb.reference_raters)})" if fb.reference_source else "none yet"
    metadata = [
        f"Programme: {r.programme} · Group: {r.group_name} · Site: {r.site}",
        f"Session {r.session_number}: {r.session_title}, recorded {r.recorded_on:%d/%m/%Y}",
        f"Tutor: {fb.tutor_name} · Treatment manager (rater): {fb.manager_name}",
        f"Reference scores: {reference}",
        f"Checklist: {fb.rubric.title}, version {fb.rubric.version}",
        f"Trend: {fb.period_text()}",
    ]
    report = PdfReport(f"Supervision feedback: {fb.tutor_name}", metadata=metadata, subject="Supervision feedback",
                       created=created, footer=f"Supervision feedback: {fb.tutor_name}, {r.group_name} session "
                       f"{r.session_number} · no offender's name belongs in a note")  # fmt: skip
    report.heading("Strengths")
    if fb.strengths:
        report.paragraph(f"Items the treatment manager scored at the top of the scale ({fb.rubric.maximum}, "
                         f"{fb.rubric.point(fb.rubric.maximum).label}):")  # fmt: skip
        report.table(["Item", "Section"], [[i.title, i.section] for i in fb.strengths], widths=[70, 30])
    else:
        report.paragraph(f"No item was scored at the top of the scale ({fb.rubric.maximum}).")
    report.heading("Development points")
    if fb.development:
        report.table(["Item", "Why"], [[d.item.title, "; ".join(d.reasons)] for d in fb.development], widths=[50, 50])
    else:
        report.paragraph("None: no item below the middle of the scale, and no self-assessment a point or more above "
                         "the treatment manager's score.")  # fmt: skip
    report.heading("Item by item")
    report.paragraph(f"Scale: {fb.rubric.describe_scale()}. Reference: the mean of the reference raters' scores. "
                     "\"–\": not applicable, or not scored.", style="small")  # fmt: skip
    rows = [[i.title, f"{_score(i.manager)} {i.manager_label}".strip(), i.descriptor, _score(i.self_score),
             _score(i.reference)] for i in fb.items]  # fmt: skip
    report.table(["Item", "Treatment manager", "What the score means", "Self", "Reference"], rows,
                 widths=[26, 15, 38, 8, 13], align="lllrr")  # fmt: skip
    report.heading("Evidence notes")
    if fb.notes:
        rows = []
        for n in fb.notes:
            moment = format_moment(n.moment_seconds) if n.moment_seconds is not None else "–"
            cell: object = Link(moment, moment_link(origin, r.id, fb.tutor_id, n.moment_seconds)) if (
                origin and n.moment_seconds is not None) else moment  # fmt: skip
            rows.append([cell, n.item_title, n.text or "(a moment without a note)", n.who])
        report.table(["Moment", "Item", "Note", "Written by"], rows, widths=[10, 27, 43, 20])
        if origin:
            report.paragraph("Each moment links to the session's recording at that moment in Session Rater, for "
                             "those allowed to see it.", style="small")  # fmt: skip
    else:
        report.paragraph("No evidence notes.")
    report.heading("Trend over the tutor's rated sessions")
    if fb.trend:
        report.table(["Recorded", "Session", "Treatment manager", "Self", "Reference"],
                     [[f"{p.recorded_on:%d/%m/%Y}", p.label + (" (this session)" if p.is_this_session else ""),
                       _score(p.manager_mean, 2), _score(p.self_mean, 2), _score(p.reference_mean, 2)]
                      for p in fb.trend], widths=[13, 45, 16, 10, 16], align="llrrr")  # fmt: skip
        report.paragraph("Mean item score per session (N/A left out).", style="small")
    report.heading("Discussed in supervision")
    shown = list(fb.discussions) + [d for d in earlier if d.recording_id != r.id]
    if shown:
        report.table(["Discussed on", "Session", "Agreed action", "Recorded by"],
                     [[f"{d.discussed_on:%d/%m/%Y}", "this session" if d.recording_id == r.id
                       else fb.session_labels.get(d.recording_id, f"session #{d.recording_id}"),
                       d.agreed_action, fb.discussed_by.get(d.recorded_by or -1, "")] for d in shown],
                     widths=[14, 16, 50, 20])  # fmt: skip
    else:
        report.paragraph("Not yet discussed in supervision.")
    report.paragraph(NO_NAMES_REMINDER, style="small")
    return report.to_bytes()
