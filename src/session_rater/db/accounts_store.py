"""Storage of accounts, scope and sign-in sessions. Every change an administrator makes to a
person, their scope or an assignment goes into the audit log (before and after); nothing here
deletes a person or an assignment: people are deactivated and assignments withdrawn."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from session_rater.db import models as m
from session_rater.db.accounts_models import (
    AssessorAssignment,
    ManagedTeam,
    PersonArea,
    SignInAttempt,
    SignInSession,
)
from session_rater.db.audit_models import AuditEntry
from session_rater.db.engine import make_sessionmaker
from session_rater.db.media_models import RecordingAccess
from session_rater.db.sampling_models import SampleAssignment
from session_rater.db.rows import person_view
from session_rater.domain.records import AccountView, AssignmentView, LogEntry, PersonView, Scope
from session_rater.domain.model import Role
from session_rater.errors import NotFoundError, SignInError


_FIRST_ADMIN_LOCK = 7_215_002  # pg_advisory_xact_lock key: one first-run administrator at a time


@dataclass(frozen=True)
class SignInSessionView:
    id: int
    person_id: int
    method: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every moment here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _in_period(query: Any, column: Any, since: dt.datetime | None, until: dt.datetime | None) -> Any:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query


def _session_view(row: SignInSession) -> SignInSessionView:
    return SignInSessionView(row.id, row.person_id, row.method, aware(row.created_at), aware(row.last_seen_at),
                             aware(row.ended_at) if row.ended_at else None, row.end_reason)


def _person_state(p: m.Person) -> dict[str, object]:
    return {"display_name": p.display_name, "email": p.email, "roles": sorted(p.role_names),
            "active": p.active, "has_password": p.password_hash is not None, "oidc_subject": p.oidc_subject}


def normalise_login(login: str) -> str:
    return login.strip().lower()


class AccountsStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)

    @staticmethod
    def _audit(s: Session, actor_id: int | None, entity: str, entity_id: int, action: str,
               before: dict | None, after: dict | None) -> None:  # type: ignore[type-arg]
        s.add(AuditEntry(actor_id=actor_id, entity=entity, entity_id=entity_id, rating_id=None,
                         action=action, before=before, after=after))

    @staticmethod
    def _person(s: Session, person_id: int, *, for_update: bool = False) -> m.Person:
        person = s.get(m.Person, person_id, with_for_update=for_update)
        if person is None:
            raise NotFoundError(f"There is no person with id {person_id}.")
        return person

    # -- people and credentials -----------------------------------------------------------
    def create_person(self, display_name: str, email: str | None, roles: Iterable[Role], *,
                      password_hash: str | None = None, actor_id: int | None = None,
                      is_demo: bool = False, only_if_no_administrator: bool = False) -> PersonView:
        """Add a person. ``only_if_no_administrator``: the first-run step; checked in the same
        transaction as the insert (SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock), so
        two people submitting the first-run form at once cannot both become administrator."""
        email = normalise_login(email) if email else None
        with self._sessions.begin() as s:
            if only_if_no_administrator:
                if s.get_bind().dialect.name == "postgresql":
                    s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FIRST_ADMIN_LOCK})
                if s.scalar(select(func.count()).select_from(m.Person).join(m.PersonRole).where(
                        m.PersonRole.role == Role.ADMINISTRATOR.value, m.Person.active.is_(True))):
                    raise SignInError("An administrator already exists; sign in, or ask them to add you.")
            if email and s.scalar(select(m.Person.id).where(func.lower(m.Person.email) == email)):
                raise SignInError(f"Someone already has the email {email}; each person needs their own.")
            person = m.Person(display_name=display_name.strip(), email=email, password_hash=password_hash,
                              is_demo=is_demo)
            person.roles = [m.PersonRole(role=Role(r).value) for r in set(roles)]
            s.add(person)
            s.flush()
            self._audit(s, actor_id, "person", person.id, "create", None, _person_state(person))
            return person_view(person)

    def credentials(self, login: str) -> tuple[int, str | None, bool] | None:
        """(person id, password hash, active) of the person whose email is ``login``."""
        with self._sessions() as s:
            row = s.execute(
                select(m.Person.id, m.Person.password_hash, m.Person.active)
                .where(func.lower(m.Person.email) == normalise_login(login))
            ).first()
            return None if row is None else (row[0], row[1], bool(row[2]))

    def set_password_hash(self, person_id: int, password_hash: str, *, actor_id: int | None) -> None:
        with self._sessions.begin() as s:
            person = self._person(s, person_id, for_update=True)
            before = _person_state(person)
            person.password_hash = password_hash
            self._audit(s, actor_id, "person", person_id, "set_password", before, _person_state(person))

    def record_event(self, actor_id: int | None, entity: str, action: str, after: dict) -> None:  # type: ignore[type-arg]
        """An audit entry for a change that is not a row here (a rubric version file added)."""
        with self._sessions.begin() as s:
            self._audit(s, actor_id, entity, 0, action, None, after)

    def active_person(self, person_id: int) -> PersonView | None:
        """The person, if their account is open (one read, for every rerun of a signed-in page)."""
        with self._sessions() as s:
            person = s.get(m.Person, person_id)
            return person_view(person) if person is not None and person.active else None

    def oidc_subject(self, person_id: int) -> str | None:
        with self._sessions() as s:
            return s.scalar(select(m.Person.oidc_subject).where(m.Person.id == person_id))

    def person_for_identity(self, subject: str, email: str | None) -> tuple[int, bool] | None:
        """(person id, active) matched by the provider's subject, else by email (binding the
        subject to that person the first time). None: nobody matches."""
        with self._sessions.begin() as s:
            row = s.execute(select(m.Person).where(m.Person.oidc_subject == subject)).scalar_one_or_none()
            if row is None and email:
                row = s.execute(
                    select(m.Person).where(func.lower(m.Person.email) == normalise_login(email))
                ).scalar_one_or_none()
                if row is not None:
                    if row.oidc_subject is not None and row.oidc_subject != subject:
                        raise SignInError(
                            f"The account for {email} is linked to a different organisation identity. "
                            "Ask an administrator to check it."
                        )
                    before = _person_state(row)
                    row.oidc_subject = subject
                    self._audit(s, None, "person", row.id, "link_identity", before, _person_state(row))
            return None if row is None else (row.id, bool(row.active))

    def has_administrator(self) -> bool:
        """Whether an active administrator exists (the first-run step creates one)."""
        with self._sessions() as s:
            return bool(s.scalar(
                select(func.count()).select_from(m.Person).join(m.PersonRole)
                .where(m.PersonRole.role == Role.ADMINISTRATOR.value, m.Person.active.is_(True))
            ))

    # -- failed sign-ins ---------------------------------------------------------------------
    def record_attempt(self, login: str, client: str | None, succeeded: bool, at: dt.datetime) -> None:
        with self._sessions.begin() as s:
            s.add(SignInAttempt(login=normalise_login(login)[:320], client=(client or None) and client[:100],
                                succeeded=succeeded, at=at))

    def failures_since(self, since: dt.datetime, *, login: str | None = None, client: str | None = None) -> list[dt.datetime]:
        """When sign-ins failed since ``since`` (for one login: only after its last success)."""
        with self._sessions() as s:
            query = select(SignInAttempt.at, SignInAttempt.succeeded).where(SignInAttempt.at >= since)
            if login is not None:
                query = query.where(SignInAttempt.login == normalise_login(login))
            if client is not None:
                query = query.where(SignInAttempt.client == client)
            failures: list[dt.datetime] = []
            for at, succeeded in s.execute(query.order_by(SignInAttempt.at)):
                if succeeded and login is not None:
                    failures.clear()
                elif not succeeded:
                    failures.append(aware(at))
            return failures

    # -- sign-in sessions ------------------------------------------------------------------
    def open_session(self, token_hash: str, person_id: int, method: str, now: dt.datetime) -> SignInSessionView:
        try:
            with self._sessions.begin() as s:
                row = SignInSession(token_hash=token_hash, person_id=person_id, method=method,
                                    created_at=now, last_seen_at=now)
                s.add(row)
                s.flush()
                return _session_view(row)
        except IntegrityError:  # the same OIDC cookie seen by two reruns at once
            found = self.session_by_token(token_hash)
            if found is None:
                raise
            return found

    def session_by_token(self, token_hash: str) -> SignInSessionView | None:
        with self._sessions() as s:
            row = s.execute(select(SignInSession).where(SignInSession.token_hash == token_hash)).scalar_one_or_none()
            return None if row is None else _session_view(row)

    def session_by_id(self, session_id: int) -> SignInSessionView | None:
        with self._sessions() as s:
            row = s.get(SignInSession, session_id)
            return None if row is None else _session_view(row)

    def touch_session(self, session_id: int, now: dt.datetime) -> None:
        with self._sessions.begin() as s:
            s.execute(update(SignInSession).where(SignInSession.id == session_id, SignInSession.ended_at.is_(None))
                      .values(last_seen_at=now))

    def end_session(self, session_id: int, reason: str, now: dt.datetime) -> None:
        with self._sessions.begin() as s:
            s.execute(update(SignInSession).where(SignInSession.id == session_id, SignInSession.ended_at.is_(None))
                      .values(ended_at=now, end_reason=reason))

    # -- scope -----------------------------------------------------------------------------
    def scope_of(self, person_id: int) -> Scope:
        with self._sessions() as s:
            teams = s.execute(select(ManagedTeam.area, ManagedTeam.team).where(ManagedTeam.person_id == person_id))
            areas = s.scalars(select(PersonArea.area).where(PersonArea.person_id == person_id))
            assigned = set(s.scalars(select(AssessorAssignment.recording_id).where(
                AssessorAssignment.person_id == person_id, AssessorAssignment.withdrawn_at.is_(None))))
            drawn = s.execute(select(SampleAssignment.recording_id, SampleAssignment.rule).where(
                or_(SampleAssignment.rater_id == person_id, SampleAssignment.second_rater_id == person_id))).all()
            assigned.update(r for r, rule in drawn if rule == "external_audit")
            monitoring = frozenset(r for r, rule in drawn if rule != "external_audit")
            return Scope(frozenset((a, t) for a, t in teams), frozenset(areas), frozenset(assigned), monitoring)

    def managed_team_areas(self) -> dict[int, frozenset[str]]:
        """Person id -> the areas of the teams they manage, for everyone who manages one: one
        query (a list of treatment managers asked :meth:`scope_of` once per manager)."""
        areas: dict[int, set[str]] = defaultdict(set)
        with self._sessions() as s:
            for person_id, area in s.execute(select(ManagedTeam.person_id, ManagedTeam.area).distinct()):
                areas[person_id].add(area)
        return {pid: frozenset(a) for pid, a in areas.items()}

    def account(self, person_id: int) -> AccountView:
        with self._sessions() as s:
            p = self._person(s, person_id)
            view = person_view(p)
            active, has_password, subject = p.active, p.password_hash is not None, p.oidc_subject
        return AccountView(view, active, has_password, subject, self.scope_of(person_id))

    def names(self) -> dict[int, str]:
        """Everyone's name by id, closed accounts included (the audit log outlives them): one
        query of two columns (the whole accounts list, with every scope, took 0.4 s at 2,009
        people on each of the Audit log's three reads of it)."""
        with self._sessions() as s:
            return {pid: name for pid, name in s.execute(select(m.Person.id, m.Person.display_name))}

    def accounts(self, *, with_assignments: bool = True) -> list[AccountView]:
        """Everyone with their scope, in a fixed number of queries whatever the number of people
        (one per person took 1.7 s for 2,000 people on SQLite, 5 s on PostgreSQL). Without
        ``with_assignments`` the scopes leave out the sessions assigned and drawn (empty): the
        People page lists teams and areas only, and every sample assignment (18,605 at national
        scale) was read for it."""
        teams: dict[int, set[tuple[str, str]]] = defaultdict(set)
        areas: dict[int, set[str]] = defaultdict(set)
        assigned: dict[int, set[int]] = defaultdict(set)
        monitoring: dict[int, set[int]] = defaultdict(set)
        roles: dict[int, set[str]] = defaultdict(set)
        p = m.Person
        with self._sessions() as s:  # plain rows, no ORM objects: 2,009 people took 0.9 s through the ORM
            people = s.execute(select(p.id, p.display_name, p.email, p.is_demo, p.active, p.password_hash.is_not(None),
                                      p.oidc_subject).order_by(p.display_name, p.id)).all()  # fmt: skip
            for pid, role in s.execute(select(m.PersonRole.person_id, m.PersonRole.role)):
                roles[pid].add(role)
            for pid, area, team in s.execute(select(ManagedTeam.person_id, ManagedTeam.area, ManagedTeam.team)):
                teams[pid].add((area, team))
            for pid, area in s.execute(select(PersonArea.person_id, PersonArea.area)):
                areas[pid].add(area)
            for pid, rid in s.execute(select(AssessorAssignment.person_id, AssessorAssignment.recording_id)
                                      .where(AssessorAssignment.withdrawn_at.is_(None))) if with_assignments else ():
                assigned[pid].add(rid)
            for first, second, rid, rule in s.execute(select(SampleAssignment.rater_id, SampleAssignment.second_rater_id,
                                                             SampleAssignment.recording_id, SampleAssignment.rule)) \
                    if with_assignments else ():
                for pid in {first, second} - {None}:
                    (assigned if rule == "external_audit" else monitoring)[pid].add(rid)  # type: ignore[index]
            none: frozenset[Any] = frozenset()  # .get, not [...]: a defaultdict would add an empty set per person
            return [
                AccountView(PersonView(pid, name, email, frozenset(roles.get(pid, none)), bool(demo)), bool(active),
                            bool(has_password), subject,
                            Scope(frozenset(teams.get(pid, none)), frozenset(areas.get(pid, none)),
                                  frozenset(assigned.get(pid, none)), frozenset(monitoring.get(pid, none))))
                for pid, name, email, demo, active, has_password, subject in people
            ]  # fmt: skip

    def update_person(self, person_id: int, *, actor_id: int | None, display_name: str | None = None,
                      email: str | None = None, roles: Iterable[Role] | None = None, active: bool | None = None) -> None:
        with self._sessions.begin() as s:
            person = self._person(s, person_id, for_update=True)
            before = _person_state(person)
            if display_name is not None:
                person.display_name = display_name.strip()
            if email is not None:
                email = normalise_login(email) or None
                if email and s.scalar(select(m.Person.id).where(func.lower(m.Person.email) == email,
                                                                m.Person.id != person_id)):
                    raise SignInError(f"Someone else already has the email {email}; each person needs their own.")
                person.email = email
            if roles is not None:
                wanted = {Role(r).value for r in roles}
                person.roles = [r for r in person.roles if r.role in wanted] + [
                    m.PersonRole(role=r) for r in sorted(wanted - person.role_names)]
            if active is not None:
                person.active = active
                if not active:
                    s.execute(update(SignInSession).where(SignInSession.person_id == person_id,
                                                          SignInSession.ended_at.is_(None))
                              .values(ended_at=m.utcnow(), end_reason="deactivated"))
            s.flush()
            after = _person_state(person)
            if after != before:
                self._audit(s, actor_id, "person", person_id, "update", before, after)

    def set_scope(self, person_id: int, *, actor_id: int | None, managed_teams: Iterable[tuple[str, str]] | None = None,
                  areas: Iterable[str] | None = None) -> None:
        with self._sessions.begin() as s:
            self._person(s, person_id, for_update=True)
            before_teams = sorted(s.execute(select(ManagedTeam.area, ManagedTeam.team)
                                            .where(ManagedTeam.person_id == person_id)).all())
            before_areas = sorted(s.scalars(select(PersonArea.area).where(PersonArea.person_id == person_id)))
            before = {"managed_teams": [[a, t] for a, t in before_teams], "areas": before_areas}
            after = dict(before)
            if managed_teams is not None:
                wanted = sorted({(a.strip(), t.strip()) for a, t in managed_teams if a.strip() and t.strip()})
                for row in s.scalars(select(ManagedTeam).where(ManagedTeam.person_id == person_id)):
                    s.delete(row)
                s.flush()
                s.add_all(ManagedTeam(person_id=person_id, area=a, team=t) for a, t in wanted)
                after["managed_teams"] = [list(t) for t in wanted]
            if areas is not None:
                wanted_areas = sorted({a.strip() for a in areas if a.strip()})
                for row in s.scalars(select(PersonArea).where(PersonArea.person_id == person_id)):
                    s.delete(row)
                s.flush()
                s.add_all(PersonArea(person_id=person_id, area=a) for a in wanted_areas)
                after["areas"] = wanted_areas
            if after != before:
                self._audit(s, actor_id, "scope", person_id, "update", before, after)

    def set_recording_place(self, recording_id: int, *, area: str | None, team: str | None,
                            actor_id: int | None) -> bool:
        """Which area and team a session belongs to (who may see it). True if it changed."""
        with self._sessions.begin() as s:
            recording = s.get(m.Recording, recording_id, with_for_update=True)
            if recording is None:
                raise NotFoundError(f"There is no recorded session with id {recording_id}.")
            before = {"area": recording.area, "team": recording.team}
            recording.area = (area or "").strip() or None
            recording.team = (team or "").strip() or None
            after = {"area": recording.area, "team": recording.team}
            if after == before:
                return False
            self._audit(s, actor_id, "recording", recording_id, "place", before, after)
            return True

    def assign(self, person_id: int, recording_id: int, *, actor_id: int | None) -> None:
        with self._sessions.begin() as s:
            self._person(s, person_id)
            if s.get(m.Recording, recording_id) is None:
                raise NotFoundError(f"There is no recorded session with id {recording_id}.")
            row = s.get(AssessorAssignment, (person_id, recording_id), with_for_update=True)
            if row is None:
                s.add(AssessorAssignment(person_id=person_id, recording_id=recording_id, assigned_by=actor_id))
            elif row.withdrawn_at is not None:
                row.withdrawn_at, row.assigned_by, row.assigned_at = None, actor_id, m.utcnow()
            else:
                return
            self._audit(s, actor_id, "assignment", recording_id, "assign", None, {"person_id": person_id})

    def withdraw(self, person_id: int, recording_id: int, *, actor_id: int | None) -> None:
        with self._sessions.begin() as s:
            row = s.get(AssessorAssignment, (person_id, recording_id), with_for_update=True)
            if row is None or row.withdrawn_at is not None:
                return
            row.withdrawn_at = m.utcnow()
            self._audit(s, actor_id, "assignment", recording_id, "withdraw", {"person_id": person_id}, None)

    def assignments(self) -> list[AssignmentView]:
        with self._sessions() as s:
            rows = s.scalars(select(AssessorAssignment).order_by(AssessorAssignment.assigned_at.desc()))
            return [AssignmentView(r.person_id, r.recording_id, r.assigned_by, aware(r.assigned_at),
                                   aware(r.withdrawn_at) if r.withdrawn_at else None) for r in rows]

    # -- the logs, for administrators --------------------------------------------------------
    def audit_log(self, *, since: dt.datetime | None = None, limit: int = 5000, offset: int = 0,
                  entities: Sequence[str] = (), actor_ids: Sequence[int | None] = (),
                  until: dt.datetime | None = None) -> list[LogEntry]:  # fmt: skip
        """Every change (ratings, people, scope, assignments, unblinding), every recording
        access and every password sign-in attempt, newest first: ``limit`` of them from
        ``offset``, selected in SQL. Filters (empty: all): ``entities`` ("recording" for the
        plays, "sign_in" for the sign-ins), ``actor_ids`` (None: made with nobody signed in),
        ``since`` <= at < ``until``. Each source reads at most offset + limit rows on its
        index on time, however long the log."""
        wanted = set(entities)
        people_ids = {i for i in actor_ids if i is not None}
        system = None in set(actor_ids)
        window = offset + limit
        entries: list[LogEntry] = []
        with self._sessions() as s:
            changed = {e for e in wanted if e not in {"recording", "sign_in"}} | ({"recording"} & wanted)
            if not wanted or changed:
                a = AuditEntry  # plain rows, no ORM objects: 5,000 entries took 0.3-0.5 s through the ORM
                changes = (select(a.at, a.actor_id, a.entity, a.entity_id, a.action, a.before, a.after)
                           .order_by(a.at.desc(), a.id.desc()).limit(window))  # fmt: skip
                if wanted:
                    changes = changes.where(AuditEntry.entity.in_(sorted(changed)))
                if actor_ids:
                    who = [AuditEntry.actor_id.in_(sorted(people_ids))] + ([AuditEntry.actor_id.is_(None)] if system else [])
                    changes = changes.where(or_(*who))
                changes = _in_period(changes, AuditEntry.at, since, until)
                entries += [LogEntry(aware(at), actor, entity, entity_id, action, before, after)
                            for at, actor, entity, entity_id, action, before, after in s.execute(changes)]
            if not wanted or "recording" in wanted:
                access = select(RecordingAccess).order_by(RecordingAccess.accessed_at.desc(),
                                                          RecordingAccess.id.desc()).limit(window)  # fmt: skip
                if actor_ids:
                    who = [RecordingAccess.person_id.in_(sorted(people_ids))]
                    access = access.where(or_(*who, *([RecordingAccess.person_id.is_(None)] if system else [])))
                access = _in_period(access, RecordingAccess.accessed_at, since, until)
                entries += [LogEntry(aware(r.accessed_at), r.person_id, "recording", r.recording_id, "play",
                                     None, {"method": r.method, "range": r.range_header, "status": r.status_code})
                            for r in s.scalars(access)]
            if not wanted or "sign_in" in wanted:
                attempts = select(SignInAttempt).order_by(SignInAttempt.at.desc(), SignInAttempt.id.desc()).limit(window)
                if actor_ids:  # a success is its person's; a failure (or an unknown email) nobody's
                    emails = select(func.lower(m.Person.email)).where(m.Person.email.is_not(None))
                    mine = select(func.lower(m.Person.email)).where(m.Person.id.in_(sorted(people_ids)))
                    who = [SignInAttempt.succeeded.is_(True) & SignInAttempt.login.in_(mine)]
                    if system:
                        who += [SignInAttempt.succeeded.is_(False), SignInAttempt.login.not_in(emails)]
                    attempts = attempts.where(or_(*who))
                attempts = _in_period(attempts, SignInAttempt.at, since, until)
                rows = s.scalars(attempts).all()
                logins = sorted({a.login for a in rows})
                people = dict(s.execute(select(func.lower(m.Person.email), m.Person.id)
                                        .where(func.lower(m.Person.email).in_(logins))).all()) if logins else {}  # fmt: skip
                entries += [LogEntry(aware(a.at), people.get(a.login) if a.succeeded else None, "sign_in",
                                     people.get(a.login), "signed_in" if a.succeeded else "failed", None,
                                     {"email": a.login, "client": a.client})
                            for a in rows]  # fmt: skip
        return sorted(entries, key=lambda e: e.at, reverse=True)[offset:window]

    def audit_log_first(self) -> dt.datetime | None:
        """When the oldest entry of the audit log (changes, plays, sign-ins) was made: three
        lookups on the indexes on time."""
        with self._sessions() as s:
            found = [s.scalar(select(func.min(AuditEntry.at))), s.scalar(select(func.min(RecordingAccess.accessed_at))),
                     s.scalar(select(func.min(SignInAttempt.at)))]  # fmt: skip
        return min((aware(f) for f in found if f is not None), default=None)

    def teams(self) -> list[tuple[str, str]]:
        """The (area, team) pairs recordings name, for an administrator to pick from."""
        with self._sessions() as s:
            rows = s.execute(select(m.Recording.area, m.Recording.team).where(m.Recording.team.is_not(None))
                             .distinct().order_by(m.Recording.area, m.Recording.team))
            return [(a or "", t) for a, t in rows]

    def areas(self) -> list[str]:
        with self._sessions() as s:
            return [a for a in s.scalars(select(m.Recording.area).where(m.Recording.area.is_not(None))
                                         .distinct().order_by(m.Recording.area))]
