"""What one signed-in person may do: every use case a page offers, checked against the access
rules (domain.access) before it touches the store. Pages get one of these from ui.auth and
never call the store for anything a person could be refused; hiding a control is never the
only check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from session_rater.domain.records import AccountView, AssignmentView, LogEntry
from session_rater.db.store import Reach
from session_rater.domain.records import PersonView, RatingView, RecordingView
from session_rater.domain.access import Action, Actor, Decision, capacities_in_scope, decide, reaches
from session_rater.domain.model import Capacity, Role, check_moment_within
from session_rater.domain.rubric import Rubric
from session_rater.errors import AccessDeniedError, NotFoundError, ScoreError
from session_rater.usecases.services import Services
from session_rater.usecases.recording_links import signed_recording_path, viewer_cookie


@dataclass
class Permitted:
    svc: Services
    person: PersonView
    session_id: int = 0  # the sign-in session (recording URLs play only while it lasts); 0: none
    actor: Actor = field(init=False)
    _recordings: dict[int, RecordingView | None] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.actor = self.svc.actor(self.person)

    # -- checks ----------------------------------------------------------------------------
    def decide(self, action: Action, recording: RecordingView | None = None, **kwargs: object) -> Decision:
        scope = None if recording is None else self.svc.session_scope(recording)
        return decide(self.actor, action, scope, **kwargs)  # type: ignore[arg-type]

    def require(self, action: Action, recording: RecordingView | None = None, **kwargs: object) -> Decision:
        decision = self.decide(action, recording, **kwargs)
        if not decision:
            raise AccessDeniedError(f"{decision.reason.capitalize()}.")
        return decision

    def is_admin(self) -> bool:
        return self.actor.has(Role.ADMINISTRATOR)

    # -- sessions --------------------------------------------------------------------------
    def recordings(self) -> list[RecordingView]:
        """The recorded sessions this person may see (selected in SQL by their scope, then
        checked against the rule itself)."""
        a = self.actor
        within = self.reach()
        return [r for r in self.svc.store.list_recordings(within=within) if reaches(a, self.svc.session_scope(r))]

    def count_recordings(self) -> int:
        """How many recorded sessions this person may see, counted in SQL (by the rule of
        :meth:`reach`), so a page can decide how to offer them without reading them all."""
        return self.svc.store.count_recordings(self.reach())

    def find_recordings(self, text: str = "", limit: int = 50) -> list[RecordingView]:
        """At most ``limit`` of the sessions this person may see whose group, title, site, area,
        team, date or a tutor's name contains ``text``, newest first (selected in SQL, then
        checked against the rule itself): a session picker's choices at any scale."""
        a = self.actor
        found = self.svc.store.search_recordings(text, within=self.reach(), limit=limit)
        return [r for r in found if reaches(a, self.svc.session_scope(r))]

    def benchmarks_not_shown(self) -> set[int]:
        """Recordings whose benchmark ratings a list must not count for this person: a
        benchmark's panel ratings would tell a validity session from live work (issue 10).
        Overseers (administrators, programme managers) see them."""
        if self.actor.has(Role.ADMINISTRATOR) or self.actor.has(Role.PROGRAMME_MANAGER):
            return set()
        return {b.recording_id for b in self.svc.store.benchmarks()}

    def reach(self) -> Reach | None:
        """The sessions this person may see, as SQL (None: every session, an administrator):
        the rule of :meth:`recordings`, for queries that page and count in the database."""
        a = self.actor
        if a.has(Role.ADMINISTRATOR):
            return None
        return Reach(
            a.id,
            areas=a.areas if a.has(Role.PROGRAMME_MANAGER) else frozenset(),
            teams=a.managed_teams if a.has(Role.TREATMENT_MANAGER) else frozenset(),
            recordings=(a.assigned_recordings if a.has(Role.EXTERNAL_ASSESSOR) else frozenset())
            | (a.monitoring_assignments if a.has(Role.TREATMENT_MANAGER) else frozenset())
            | a.benchmark_assignments,  # a benchmark panel's or a calibration round's sessions (issue 10)
        )

    def recording(self, recording_id: int) -> RecordingView:
        """One session, if it is in this person's reach. A session outside it is reported as
        not found-or-not-yours alike, so ids cannot be probed."""
        if recording_id not in self._recordings:  # read once per run (a click starts, then saves)
            try:
                self._recordings[recording_id] = self.svc.recording(recording_id)
            except NotFoundError:
                self._recordings[recording_id] = None
        recording = self._recordings[recording_id]
        if recording is None or not self.decide(Action.VIEW_SESSION, recording):
            raise AccessDeniedError(
                f"Session {recording_id} does not exist or is not one you can open "
                "(tutors see the sessions they delivered; managers their teams'; assessors their assignments)."
            )
        return recording

    def recording_url(self, recording: RecordingView) -> tuple[str, str]:
        """(signed relative URL, viewer cookie) for playing this recording."""
        self.require(Action.PLAY_RECORDING, recording)
        return (signed_recording_path(self.svc.secret, recording.id, self.person.id),
                viewer_cookie(self.svc.secret, self.person.id, self.session_id))

    # -- rating ----------------------------------------------------------------------------
    def capacities(self, recording: RecordingView, tutor_id: int | None) -> list[Capacity]:
        return capacities_in_scope(self.actor, self.svc.session_scope(recording), tutor_id)

    def find_rating(self, recording_id: int, tutor_id: int | None, capacity: Capacity) -> RatingView | None:
        return self.svc.store.find_rating(recording_id, tutor_id, self.person.id, capacity)

    def start_rating(self, recording_id: int, tutor_id: int | None, capacity: Capacity, rubric: Rubric) -> RatingView:
        recording = self.recording(recording_id)
        self.require(Action.RATE, recording, tutor_id=tutor_id, capacity=capacity)
        return self.svc.store.start_rating(recording_id, tutor_id, self.person.id, capacity, rubric)

    def _own(self, rating_id: int) -> RatingView:
        """A rating this person made and may still change (the session still in their scope)."""
        rating = self.svc.store.get_rating(rating_id)
        if rating.rater_id != self.person.id:
            raise AccessDeniedError("This rating is someone else's: only its rater may change it. Nothing was changed.")
        self.require(Action.RATE, self.recording(rating.recording_id), tutor_id=rating.tutor_id,
                     capacity=rating.capacity)
        return rating

    def save_item(self, rating_id: int, item_id: str, **changes: object) -> object:
        rating = self._own(rating_id)
        moment = changes.get("moment_seconds")
        if isinstance(moment, (int, float)):
            try:
                check_moment_within(float(moment), self.recording(rating.recording_id).duration_seconds)
            except ValueError as exc:
                raise ScoreError(f"Not saved: {exc}.") from None
        return self.svc.store.save_item(rating_id, item_id, actor_id=self.person.id, **changes)  # type: ignore[arg-type]

    def submit(self, rating_id: int, *, confirm_uniform: bool = False) -> RatingView:
        self._own(rating_id)
        submitted = self.svc.store.submit_rating(rating_id, confirm_uniform=confirm_uniform, actor_id=self.person.id)
        from session_rater.usecases.calibration import record_submission  # (calibration imports this module)

        record_submission(self.svc, submitted)  # a validity session revealed, a completed round judged
        return submitted

    def correct(self, rating_id: int, reason: str) -> RatingView:
        self._own(rating_id)
        return self.svc.store.correct_rating(rating_id, reason, actor_id=self.person.id)

    def rating_history(self, rating_id: int) -> list[RatingView]:
        """Every version of a rating: its rater's own, or any for an administrator."""
        rating = self.svc.store.get_rating(rating_id)
        if rating.rater_id != self.person.id and not self.is_admin():
            raise AccessDeniedError("Earlier versions of someone else's rating are for administrators.")
        return self.svc.store.rating_history(rating_id)

    # -- blind comparison --------------------------------------------------------------------
    def may_see_ratings(self, recording: RecordingView, tutor_id: int | None) -> Decision:
        own = self.svc.store.has_submitted(self.person.id, recording.id, tutor_id)
        return self.decide(Action.SEE_OTHERS_RATINGS, recording, tutor_id=tutor_id, own_rating_submitted=own)

    def compare_session(self, recording_id: int, tutor_id: int | None) -> tuple[pd.DataFrame, list[RatingView]]:
        """Others' ratings of a (session, tutor) side by side. Refused until one's own rating
        is submitted; an overseer who looks first is recorded as not blind for it."""
        self.ratings_to_compare(recording_id, tutor_id)
        return self.svc.compare_session(recording_id, tutor_id)

    def ratings_to_compare(self, recording_id: int, tutor_id: int | None) -> tuple[RecordingView, list[RatingView]]:
        """The session and its submitted ratings of ``tutor_id`` (the version that counts of
        each, as :meth:`Services.compare_session` lists them), under the rule of :meth:`compare_session`:
        refused until one's own rating is submitted; an overseer who looks first is recorded as
        not blind for it. Reads that session's ratings only, and builds no table."""
        recording = self.recording(recording_id)
        decision = self.may_see_ratings(recording, tutor_id)
        if not decision:
            raise AccessDeniedError(f"{decision.reason.capitalize()}.")
        # Whoever looks is not blind for it from now on: an overseer's later rating, and a
        # rater's later correction of their own, are marked so.
        self.svc.store.record_unblinding(self.person.id, recording_id, tutor_id)
        return recording, [r for r in self.svc.store.ratings_of_recording(recording_id) if r.tutor_id == tutor_id]

    def is_unblinded(self, recording: RecordingView, tutor_id: int | None) -> bool:
        """Whether this person has already been recorded as not blind for this (session, tutor)."""
        return self.svc.store.is_unblinded(self.person.id, recording.id, tutor_id)

    def people_names(self) -> dict[int, str]:
        """The names of everyone active, by id (to say who rated what)."""
        return {p.id: p.display_name for p in self.svc.store.list_people()}

    # -- reports ---------------------------------------------------------------------------
    def may_see_reports(self) -> Decision:
        return self.decide(Action.VIEW_REPORTS)

    def report_areas(self) -> tuple[str, ...] | None:
        """The areas this person's reports cover: None (every area) for an administrator."""
        self.require(Action.VIEW_REPORTS)
        return None if self.is_admin() else tuple(sorted(self.actor.areas))

    def export_rows(self) -> list[dict[str, object]]:
        """The submitted scores a report may use: those of :meth:`report_areas` (the rule the
        report pages apply to their cached scores through analysis_data.filter_bar)."""
        areas = self.report_areas()
        rows = self.svc.export_rows()
        if areas is None:
            return rows
        visible = {r.id for r in self.svc.store.list_recordings(within=Reach(self.person.id, areas=frozenset(areas)))
                   if (r.area or "") in areas}
        return [row for row in rows if row["session_id"] in visible]

    # -- administration ----------------------------------------------------------------------
    def accounts(self, *, with_assignments: bool = True) -> list[AccountView]:
        """Everyone's account and scope (see AccountsStore.accounts for ``with_assignments``)."""
        self.require(Action.MANAGE_PEOPLE)
        return self.svc.accounts_store.accounts(with_assignments=with_assignments)

    def add_person(self, display_name: str, email: str, roles: list[Role], password: str | None) -> PersonView:
        self.require(Action.MANAGE_PEOPLE)
        return self.svc.accounts.add_person(display_name, email, roles, password or None, actor_id=self.person.id)

    def update_person(self, person_id: int, **changes: object) -> None:
        self.require(Action.MANAGE_PEOPLE)
        if person_id == self.person.id and (changes.get("active") is False or (
                changes.get("roles") is not None and Role.ADMINISTRATOR not in changes["roles"])):  # type: ignore[operator]
            raise AccessDeniedError("You cannot remove your own administrator role or close your own account; "
                                    "ask another administrator.")
        self.svc.accounts_store.update_person(person_id, actor_id=self.person.id, **changes)  # type: ignore[arg-type]

    def set_password(self, person_id: int, password: str) -> None:
        if person_id != self.person.id:
            self.require(Action.MANAGE_PEOPLE)
        self.svc.accounts.set_password(person_id, password, actor_id=self.person.id)

    def set_scope(self, person_id: int, **scope: object) -> None:
        self.require(Action.MANAGE_PEOPLE)
        self.svc.accounts_store.set_scope(person_id, actor_id=self.person.id, **scope)  # type: ignore[arg-type]

    def assignments(self) -> list[AssignmentView]:
        self.require(Action.MANAGE_ASSIGNMENTS)
        return self.svc.accounts_store.assignments()

    def assign(self, person_id: int, recording_id: int) -> None:
        self.require(Action.MANAGE_ASSIGNMENTS)
        if not self.svc.person(person_id).has_role(Role.EXTERNAL_ASSESSOR):
            raise AccessDeniedError("Sessions are assigned to external assessors; give the person that role first.")
        self.svc.accounts_store.assign(person_id, recording_id, actor_id=self.person.id)

    def withdraw(self, person_id: int, recording_id: int) -> None:
        self.require(Action.MANAGE_ASSIGNMENTS)
        self.svc.accounts_store.withdraw(person_id, recording_id, actor_id=self.person.id)

    def set_recording_place(self, recording_id: int, area: str | None, team: str | None) -> bool:
        self.require(Action.MANAGE_RECORDINGS)
        return self.svc.accounts_store.set_recording_place(recording_id, area=area, team=team, actor_id=self.person.id)

    def record_rubric_version(self, rubric_id: str, version: str, file_name: str) -> None:
        """Log a new rubric version file written by this administrator."""
        self.require(Action.MANAGE_RUBRICS)
        self.svc.accounts_store.record_event(self.person.id, "rubric", "add_version",
                                             {"rubric_id": rubric_id, "version": version, "file": file_name})

    def teams(self) -> list[tuple[str, str]]:
        """Every (area, team) known from recordings and scope (to choose from)."""
        self.require(Action.MANAGE_PEOPLE)
        return self.svc.accounts_store.teams()

    def areas(self) -> list[str]:
        self.require(Action.MANAGE_PEOPLE)
        return self.svc.accounts_store.areas()

    def rating_forms_of(self, recording_id: int) -> list[RatingView]:
        """Every version of every rating of a session, drafts included (the audit log's view)."""
        self.require(Action.VIEW_AUDIT_LOG)
        return self.svc.store.ratings_of_recording(recording_id, submitted_only=False)

    def audit_log(self, limit: int = 5000, **filters: object) -> list[LogEntry]:
        """The newest ``limit`` entries (from ``offset``), filtered in SQL by ``entities``,
        ``actor_ids``, ``since`` and ``until`` (see AccountsStore.audit_log)."""
        self.require(Action.VIEW_AUDIT_LOG)
        return self.svc.accounts_store.audit_log(limit=limit, **filters)  # type: ignore[arg-type]

    def audit_log_names(self) -> dict[int, str]:
        """Everyone's name by id, closed accounts included: who made each entry of the log."""
        self.require(Action.VIEW_AUDIT_LOG)
        return self.svc.accounts_store.names()

    def audit_log_first(self) -> dt.datetime | None:
        self.require(Action.VIEW_AUDIT_LOG)
        return self.svc.accounts_store.audit_log_first()
