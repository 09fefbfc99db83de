"""Who may do what: the authorisation rules, pure, checked by the services and the recording
route (never only by hiding controls).

Scope: a recording belongs to an area, a site and a team. A treatment manager monitors the
teams they manage, and any session a sample draw assigned them; an external assessor sees only the sessions assigned to them; a tutor sees
only sessions they delivered and self-assesses only their own delivery; a programme manager
sees their area's reports; an administrator manages people, rubrics and assignments.

Blind rating: nobody sees another rating of a (session, tutor) until they have submitted their
own. Programme managers and administrators may look without rating, and are then recorded as
not blind for that (session, tutor); a rating they make of it later is marked so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from session_rater.domain.model import Capacity, Role


class Action(StrEnum):
    VIEW_SESSION = "view_session"  # see the session in lists and open it (and its recording)
    PLAY_RECORDING = "play_recording"
    RATE = "rate"  # start or edit one's own rating of a (session, tutor)
    SEE_OTHERS_RATINGS = "see_others_ratings"  # compare: other people's scores of a (session, tutor)
    VIEW_REPORTS = "view_reports"  # agreement and over-scoring across sessions
    VIEW_COVERAGE = "view_coverage"  # monitoring coverage against the targets, and the sampling draws
    MANAGE_RECORDINGS = "manage_recordings"  # ingest, conversions, the recording access log
    MANAGE_PEOPLE = "manage_people"
    MANAGE_RUBRICS = "manage_rubrics"
    MANAGE_ASSIGNMENTS = "manage_assignments"
    MANAGE_SAMPLING = "manage_sampling"  # save a draw, add a sampling policy version
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_SUPERVISION = "view_supervision"  # one tutor's supervision feedback on one monitored session
    RECORD_SUPERVISION = "record_supervision"  # "discussed in supervision on DATE", with an agreed action
    VIEW_MONITORING_REPORT = "view_monitoring_report"  # one treatment manager's monitoring report
    VIEW_AREA_REPORT = "view_area_report"  # the programme manager's area report
    MANAGE_AUDIT = "manage_audit"  # enter or import the audit's marks, see its scoring summary
    # The benchmark (issue 10)
    CLEAR_FOR_TRAINING = "clear_for_training"  # mark a recording as cleared for training use
    DESIGNATE_BENCHMARK = "designate_benchmark"  # make a cleared session (and tutor) a benchmark
    MANAGE_CALIBRATION = "manage_calibration"  # calibration rounds; every rater's calibration status
    SEE_MASTER_SCORES = "see_master_scores"  # a benchmark's master scores, rationales, panel ratings
    PLAY_EXEMPLAR = "play_exemplar"  # an exemplar clip (only the clip) of a benchmark cleared for training use


@dataclass(frozen=True)
class Actor:
    """A signed-in person and what their roles reach."""

    id: int
    roles: frozenset[str]
    managed_teams: frozenset[tuple[str, str]] = frozenset()  # (area, team) a treatment manager manages
    areas: frozenset[str] = frozenset()  # a programme manager's areas
    assigned_recordings: frozenset[int] = frozenset()  # an external assessor's assignments
    monitoring_assignments: frozenset[int] = frozenset()  # sessions a sample draw gave a treatment manager
    benchmark_assignments: frozenset[int] = frozenset()  # benchmarks to rate: on its panel or in a calibration round

    def has(self, role: Role) -> bool:
        return role.value in self.roles


@dataclass(frozen=True)
class SessionScope:
    """What the rules need to know about one recorded session."""

    recording_id: int
    area: str | None
    team: str | None
    tutor_ids: frozenset[int]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    not_blind: bool = field(default=False)  # allowed, but looking makes the actor not blind

    def __bool__(self) -> bool:
        return self.allowed


def _yes(reason: str, *, not_blind: bool = False) -> Decision:
    return Decision(True, reason, not_blind)


def _no(reason: str) -> Decision:
    return Decision(False, reason)


def reaches(actor: Actor, session: SessionScope) -> str | None:
    """Why ``actor`` may see ``session`` at all (None: not in their scope)."""
    if actor.has(Role.ADMINISTRATOR):
        return "administrators see every session"
    if actor.has(Role.PROGRAMME_MANAGER) and session.area in actor.areas:
        return f"programme manager for {session.area}"
    if actor.has(Role.TREATMENT_MANAGER) and (session.area, session.team) in actor.managed_teams:
        return f"treatment manager of team {session.team}"
    if actor.has(Role.TREATMENT_MANAGER) and session.recording_id in actor.monitoring_assignments:
        return "drawn for this treatment manager to monitor"
    if actor.has(Role.EXTERNAL_ASSESSOR) and session.recording_id in actor.assigned_recordings:
        return "assigned to this external assessor"
    if actor.has(Role.TUTOR) and actor.id in session.tutor_ids:
        return "delivered this session"
    if session.recording_id in actor.benchmark_assignments and actor.id not in session.tutor_ids:
        return "a benchmark session you are to rate"
    return None


def capacities_in_scope(actor: Actor, session: SessionScope, tutor_id: int | None) -> list[Capacity]:
    """The capacities in which ``actor`` may rate ``tutor_id`` in ``session``."""
    if actor.id in session.tutor_ids:
        own = tutor_id == actor.id or tutor_id is None
        return [Capacity.SELF_ASSESSMENT] if own and actor.has(Role.TUTOR) else []
    capacities = []
    if actor.has(Role.TREATMENT_MANAGER) and (
        (session.area, session.team) in actor.managed_teams or session.recording_id in actor.monitoring_assignments
    ):
        capacities.append(Capacity.MONITORING)
    if actor.has(Role.EXTERNAL_ASSESSOR) and session.recording_id in actor.assigned_recordings:
        capacities.append(Capacity.EXTERNAL)
    if (actor.has(Role.PROGRAMME_MANAGER) and session.area in actor.areas or actor.has(Role.ADMINISTRATOR)
            or session.recording_id in actor.benchmark_assignments):  # fmt: skip
        capacities.append(Capacity.BENCHMARK)
    return capacities


def decide(
    actor: Actor,
    action: Action,
    session: SessionScope | None = None,
    *,
    tutor_id: int | None = None,
    own_rating_submitted: bool = False,
    capacity: Capacity | None = None,
    area: str | None = None,
    manager_id: int | None = None,
    manager_areas: Collection[str] = (),
    cleared_for_training: bool = False,
) -> Decision:
    """Whether ``actor`` may do ``action`` (on ``session`` / ``tutor_id`` where it applies).

    ``manager_id`` and ``manager_areas``: whose monitoring report (VIEW_MONITORING_REPORT), and
    the areas of the teams that treatment manager manages. ``cleared_for_training``: whether the
    recording an exemplar clip is cut from is cleared for training use (PLAY_EXEMPLAR)."""
    if action in (Action.MANAGE_PEOPLE, Action.MANAGE_RUBRICS, Action.MANAGE_ASSIGNMENTS, Action.VIEW_AUDIT_LOG,
                  Action.MANAGE_RECORDINGS, Action.MANAGE_SAMPLING):
        return _yes("administrator") if actor.has(Role.ADMINISTRATOR) else _no("only administrators may do this")
    if action is Action.VIEW_COVERAGE:
        if any(actor.has(r) for r in (Role.ADMINISTRATOR, Role.PROGRAMME_MANAGER, Role.TREATMENT_MANAGER)):
            return _yes("monitoring is overseen by treatment managers, programme managers and administrators")
        return _no("coverage and sampling are for treatment managers, programme managers and administrators")
    if action is Action.VIEW_REPORTS:
        if actor.has(Role.ADMINISTRATOR):
            return _yes("administrators see every report")
        if actor.has(Role.PROGRAMME_MANAGER) and (area is None or area in actor.areas):
            return _yes("programme manager's area")
        return _no("reports across sessions are for programme managers and administrators")
    if action is Action.VIEW_AREA_REPORT:
        if actor.has(Role.ADMINISTRATOR):
            return _yes("administrators see every area's report")
        if actor.has(Role.PROGRAMME_MANAGER) and (area is None or area in actor.areas):
            return _yes("programme manager's area")
        return _no("the area report is for the area's programme manager and administrators")
    if action is Action.VIEW_MONITORING_REPORT:
        return _monitoring_report(actor, manager_id, manager_areas)
    if action is Action.MANAGE_AUDIT:
        if actor.has(Role.ADMINISTRATOR) or actor.has(Role.EXTERNAL_ASSESSOR):
            return _yes("audit teams (external assessors) and administrators keep the audit's marks")
        return _no("the audit's marks are kept by the audit team (external assessors) and administrators")
    if action is Action.CLEAR_FOR_TRAINING:
        return _yes("administrator") if actor.has(Role.ADMINISTRATOR) else _no(
            "only administrators clear a recording for training use")
    if action is Action.MANAGE_CALIBRATION:
        if actor.has(Role.ADMINISTRATOR) or actor.has(Role.PROGRAMME_MANAGER):
            return _yes("programme managers and administrators run calibration")
        return _no("calibration rounds and raters' calibration status are for programme managers and administrators")
    if action is Action.PLAY_EXEMPLAR:
        if not cleared_for_training:
            return _no("an exemplar clip is played only from a recording an administrator cleared for training use")
        if any(actor.has(r) for r in RUBRIC_RATERS):
            return _yes("an exemplar of a recording cleared for training, for anyone who rates with its rubric")
        return _no("exemplar clips are for the people who rate with the rubric")
    if session is None:
        raise ValueError(f"{action} needs the session it applies to")
    if action is Action.DESIGNATE_BENCHMARK:
        if actor.has(Role.ADMINISTRATOR) or actor.has(Role.PROGRAMME_MANAGER) and session.area in actor.areas:
            return _yes("programme manager of this session's area")
        return _no("a benchmark is designated by the programme manager of the session's area")
    if action in (Action.VIEW_SUPERVISION, Action.RECORD_SUPERVISION):
        return _supervision(actor, action, session, tutor_id)
    why = reaches(actor, session)
    if action in (Action.VIEW_SESSION, Action.PLAY_RECORDING):
        return _yes(why) if why else _no("this session is outside your teams, area or assignments")
    if action is Action.RATE:
        allowed = capacities_in_scope(actor, session, tutor_id)
        if capacity is None:
            return _yes("may rate") if allowed else _no("you may not rate this tutor's delivery of this session")
        if capacity in allowed:
            return _yes(f"may rate as {capacity.label.lower()}")
        return _no(f"you may not rate this session as {capacity.label.lower()}")
    if action in (Action.SEE_OTHERS_RATINGS, Action.SEE_MASTER_SCORES):
        if why is None:
            return _no("this session is outside your teams, area or assignments")
        if own_rating_submitted:
            return _yes("your own rating is submitted")
        if actor.has(Role.ADMINISTRATOR) or actor.has(Role.PROGRAMME_MANAGER):
            return _yes("overseeing: you are recorded as not blind for this session", not_blind=True)
        return _no("submit your own rating first: ratings stay blind until then")
    raise ValueError(f"unknown action {action!r}")  # pragma: no cover


RUBRIC_RATERS = (Role.TUTOR, Role.TREATMENT_MANAGER, Role.EXTERNAL_ASSESSOR, Role.PROGRAMME_MANAGER,
                 Role.ADMINISTRATOR)  # fmt: skip
"""The roles that rate with a rubric (self-assessment, monitoring, external, benchmark)."""


def _manages(actor: Actor, session: SessionScope) -> bool:
    return actor.has(Role.TREATMENT_MANAGER) and (
        (session.area, session.team) in actor.managed_teams or session.recording_id in actor.monitoring_assignments
    )


def _supervision(actor: Actor, action: Action, session: SessionScope, tutor_id: int | None) -> Decision:
    """Supervision feedback is the tutor's, their treatment manager's (who gives it), the area's
    programme manager's and administrators'; only the tutor and the treatment manager record
    that it was discussed."""
    if tutor_id is None or tutor_id not in session.tutor_ids:
        return _no("supervision feedback is about one tutor who delivered this session")
    own = actor.has(Role.TUTOR) and actor.id == tutor_id
    manager = _manages(actor, session) and actor.id not in session.tutor_ids
    if action is Action.RECORD_SUPERVISION:
        if own:
            return _yes("the tutor records their own supervision")
        if manager:
            return _yes(f"treatment manager of team {session.team}")
        return _no("only the tutor and their treatment manager record a supervision discussion")
    if actor.has(Role.ADMINISTRATOR):
        return _yes("administrators see every report")
    if actor.has(Role.PROGRAMME_MANAGER) and session.area in actor.areas:
        return _yes(f"programme manager for {session.area}")
    if own:
        return _yes("the tutor's own feedback")
    if manager:
        return _yes(f"treatment manager of team {session.team}")
    return _no("supervision feedback is for the tutor, their treatment manager, the area's programme "
               "manager and administrators")


def _monitoring_report(actor: Actor, manager_id: int | None, manager_areas: Collection[str]) -> Decision:
    """A treatment manager's monitoring report: theirs, their area's programme manager's (a
    manager of teams in that area), administrators'."""
    if actor.has(Role.ADMINISTRATOR):
        return _yes("administrators see every report")
    if manager_id is None:  # may this person see monitoring reports at all (the menu)
        if actor.has(Role.PROGRAMME_MANAGER) or actor.has(Role.TREATMENT_MANAGER):
            return _yes("treatment managers see their own; programme managers their area's")
        return _no("monitoring reports are for treatment managers, programme managers and administrators")
    if actor.has(Role.TREATMENT_MANAGER) and actor.id == manager_id:
        return _yes("your own monitoring report")
    if actor.has(Role.PROGRAMME_MANAGER) and actor.areas & set(manager_areas):
        return _yes("programme manager of the area this treatment manager works in")
    return _no("a monitoring report is for that treatment manager, their area's programme manager and "
               "administrators")


def visible_recordings(actor: Actor, sessions: Collection[SessionScope]) -> list[int]:
    return [s.recording_id for s in sessions if reaches(actor, s) is not None]
