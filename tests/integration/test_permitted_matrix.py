"""Who may do what, at the service layer: every Permitted use case, for each person of the demo,
on SQLite and PostgreSQL. A refusal is an AccessDeniedError that says why and changes nothing.

The demo (sample_sessions, the default rubric) is loaded once per module into a SQLite template
(about 10 s); each backend gets a copy of it. Checks that change nothing another check looks at
share one copy per backend; tests that do (submitting, correcting, unblinding, withdrawing) get
a fresh copy each.

The session under test is the demo's tf02-s11 (the newest session showing that clip: Barrow TF-02
session 11, Barrow team, delivered by Tom Hughes and Jo Bell, assigned to Alan Reid), rated for
Tom Hughes. There the demo has: Tom's self-assessment
and Helen Price's monitoring rating as drafts, Alan Reid's external rating submitted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, insert, select, text

from session_rater.db import models as m
from session_rater.db.audit_models import AuditEntry
from session_rater.db.engine import make_engine, migrate
from session_rater.db.store import PersonView, RatingView, RecordingView
from session_rater.usecases.demo import AREA
from session_rater.domain.access import Action
from session_rater.domain.model import Capacity, RatingStatus, Role
from session_rater.domain.rubric import Rubric
from session_rater.errors import AccessDeniedError, RatingError, RatingLockedError
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import DEFAULT_RUBRIC_ID, Services, open_services
from session_rater.settings import load_settings

POSTGRES_ENV = "SESSION_RATER_TEST_POSTGRES_URL"
SECRET = "matrix-secret-" + "x" * 40
SESSION_FILE = "tf02-s11-perspective-taking.mp4"
TUTOR = "Tom Hughes"
OTHER_AREA_PM = "Lee Lancaster"  # added to the demo: a programme manager (not an administrator) of Lancashire

# The people of the matrix, by their part in the session under test.
CAST = {
    "tutor": "Tom Hughes",
    "co-tutor": "Jo Bell",
    "other tutor": "Sam Rowe",
    "team's manager": "Helen Price",
    "other team's manager": "Mark Dixon",
    "assigned assessor": "Alan Reid",
    "unassigned assessor": "Ruth Okafor",
    "PM + admin": "Dev Sharma",
    "PM elsewhere": OTHER_AREA_PM,
}
WHO = list(CAST)


def cheap_hasher() -> PasswordHasher:
    """argon2id at its cheapest (setting a password in the matrix does not test hashing cost)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


# -- the demo, copied per backend -------------------------------------------------------------------
@dataclass
class Demo:
    svc: Services
    people: dict[str, PersonView]
    session: RecordingView
    tutor: PersonView
    rubric: Rubric
    _serial = itertools.count(1)

    @classmethod
    def of(cls, svc: Services) -> Demo:
        people = {p.display_name: p for p in svc.store.list_people()}
        session = next(r for r in svc.store.list_recordings() if Path(r.file_path).name == SESSION_FILE)
        return cls(svc, people, session, people[TUTOR], svc.catalog.latest(DEFAULT_RUBRIC_ID))

    def person(self, who: str) -> PersonView:
        return self.people[CAST.get(who, who)]

    def me(self, who: str) -> Permitted:
        return Permitted(self.svc, self.person(who))

    def recording(self, file_name: str) -> RecordingView:
        return next(r for r in self.svc.store.list_recordings() if Path(r.file_path).name == file_name)

    def rating(self, who: str, capacity: Capacity, recording: RecordingView | None = None,
               tutor: PersonView | None = None) -> RatingView:
        found = self.svc.store.find_rating((recording or self.session).id, (tutor or self.tutor).id,
                                           self.person(who).id, capacity)
        assert found is not None, f"the demo has no {capacity} rating by {who}"
        return found

    def newcomer(self, *roles: Role) -> PersonView:
        """A person nobody else's check looks at (for the administration use cases)."""
        n = next(self._serial)
        return self.svc.accounts_store.create_person(f"Newcomer {n}", f"newcomer{n}@example.org",
                                                     roles or [Role.EXTERNAL_ASSESSOR])

    def fingerprint(self) -> dict[str, int]:
        """Rows per table: every change the stores make adds a row somewhere (the audit log)."""
        with self.svc.store.engine.connect() as c:
            return {t.name: c.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in m.Base.metadata.sorted_tables}

    def fill(self, me: Permitted, rating: RatingView) -> None:
        """Score every item, not all alike."""
        values = self.rubric.scale_values
        for k, item in enumerate(self.rubric.items):
            me.save_item(rating.id, item.id, score=values[k % 2 + 1], not_applicable=False)


def _copy_rows(source: Engine, target: Engine) -> None:
    """Every row of the template into a freshly migrated database, keeping ids."""
    tables = m.Base.metadata.sorted_tables
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            rows = [dict(row) for row in src.execute(select(table)).mappings()]
            for row in rows:  # SQLite hands back naive datetimes; every moment stored is UTC
                for key, value in row.items():
                    if isinstance(value, dt.datetime) and value.tzinfo is None:
                        row[key] = value.replace(tzinfo=dt.UTC)
            if rows:
                dst.execute(insert(table), rows)
        if target.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.c and table.c.id.primary_key:
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"))


class Databases:
    def __init__(self, template: Path, tmp: pytest.TempPathFactory) -> None:
        self.template = template
        self.tmp = tmp
        self.shared: dict[str, Demo] = {}
        self.opened: list[Services] = []

    def _open(self, backend: str) -> Demo:
        if backend == "sqlite":
            folder = self.tmp.mktemp("matrix-copy")
            shutil.copy(self.template / "session_rater.db", folder / "session_rater.db")
            url = f"sqlite:///{folder / 'session_rater.db'}"
        else:
            url = os.environ[POSTGRES_ENV]
            stale = self.shared.pop(backend, None)  # one PostgreSQL database: a fresh copy replaces it
            if stale is not None:
                stale.svc.store.engine.dispose()
            source, target = make_engine(f"sqlite:///{self.template / 'session_rater.db'}"), make_engine(url)
            with target.begin() as c:
                c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                c.execute(text("CREATE SCHEMA public"))
            migrate(target)
            _copy_rows(source, target)
            source.dispose()
            target.dispose()
        settings = load_settings({"SESSION_RATER_DATA_DIR": str(self.template), "DATABASE_URL": url,
                                  "SESSION_RATER_DEMO": "0", "SESSION_RATER_SECRET": SECRET})
        svc = open_services(settings)
        self.opened.append(svc)
        return Demo.of(svc)

    def shared_demo(self, backend: str) -> Demo:
        if backend not in self.shared:
            self.shared[backend] = self._open(backend)
        return self.shared[backend]

    def fresh_demo(self, backend: str) -> Demo:
        return self._open(backend)

    def close(self) -> None:
        for svc in self.opened:
            svc.store.engine.dispose()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo loaded (plus a programme manager of another area)."""
    data_dir = tmp_path_factory.mktemp("matrix-template") / "data"
    svc = open_services(load_settings({"SESSION_RATER_DATA_DIR": str(data_dir), "SESSION_RATER_SECRET": SECRET}))
    lee = svc.accounts_store.create_person(OTHER_AREA_PM, "lee.lancaster@example.org", [Role.PROGRAMME_MANAGER])
    svc.accounts_store.set_scope(lee.id, actor_id=None, areas=["Lancashire"])
    svc.store.engine.dispose()
    return data_dir


@pytest.fixture(scope="module")
def databases(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("session_rater.usecases.accounts.PasswordHasher", cheap_hasher)
        dbs = Databases(template, tmp_path_factory)
        yield dbs
        dbs.close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return request.param


@pytest.fixture
def shared(databases: Databases, backend: str) -> Demo:
    """The backend's shared copy: only for checks whose changes no other check looks at."""
    return databases.shared_demo(backend)


@pytest.fixture
def fresh(databases: Databases, backend: str) -> Iterator[Demo]:
    demo = databases.fresh_demo(backend)
    yield demo
    demo.svc.store.engine.dispose()


# -- the matrix ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UseCase:
    """``act`` runs the use case as ``me`` (with what ``prepare`` made beforehand) and returns
    its result; ``check`` looks at that result where it was allowed."""

    act: Callable[[Permitted, Demo, object], object]
    check: Callable[[object, Permitted, Demo, object], None] = lambda result, me, d, made: None
    prepare: Callable[[Demo], object] = lambda d: None


def _rate(capacity: Capacity) -> UseCase:
    def check(rating: object, me: Permitted, d: Demo, _: object) -> None:
        assert isinstance(rating, RatingView)
        assert (rating.rater_id, rating.capacity, rating.recording_id, rating.tutor_id) == (
            me.person.id, capacity, d.session.id, d.tutor.id)
    return UseCase(lambda me, d, _: me.start_rating(d.session.id, d.tutor.id, capacity, d.rubric), check)


def _check_url(result: object, me: Permitted, d: Demo, _: object) -> None:
    url, cookie = result  # type: ignore[misc]
    assert url.startswith(f"/recordings/{d.session.id}?p={me.person.id}&") and cookie.startswith("sr_viewer=")


def _check_compared(result: object, me: Permitted, d: Demo, _: object) -> None:
    table, ratings = result  # type: ignore[misc]
    assert not table.empty and ratings
    assert all(r.is_submitted and r.tutor_id == d.tutor.id for r in ratings)


def _check_export(rows: object, me: Permitted, d: Demo, _: object) -> None:
    assert isinstance(rows, list)
    if me.is_admin():
        assert rows and len(rows) == len(d.svc.export_rows())
    else:  # only the sessions of the programme manager's areas (none of the demo's are in Lancashire)
        assert rows == []


def _check_assigned(_: object, me: Permitted, d: Demo, newcomer: object) -> None:
    assert d.session in Permitted(d.svc, newcomer).recordings()  # type: ignore[arg-type]


def _manager_draft(d: Demo) -> RatingView:
    return d.rating("team's manager", Capacity.MONITORING)


def _assessor_rating(d: Demo) -> RatingView:
    return d.rating("assigned assessor", Capacity.EXTERNAL)


def _supervised(d: Demo) -> tuple[RecordingView, PersonView]:
    """Tom Hughes in the demo's tf02-s03: Helen Price's monitoring rating there is submitted."""
    return d.recording("tf02-s03-problem-solving.mp4"), d.tutor


def _see_supervision(me: Permitted, d: Demo, _: object) -> object:
    from session_rater.usecases.supervision import Supervision

    session, tutor = _supervised(d)
    return Supervision(me).feedback(session.id, tutor.id, look=True)


def _record_supervision(me: Permitted, d: Demo, _: object) -> object:
    from session_rater.usecases.supervision import Supervision

    session, tutor = _supervised(d)
    return Supervision(me).record_discussion(session.id, tutor.id, session.recorded_on, f"Agreed by {me.person.id}")


def _monitoring_report(me: Permitted, d: Demo, _: object) -> object:
    from session_rater.usecases.monitoring_report import MonitoringReports

    reports = MonitoringReports(me)
    report = reports.report(d.person("team's manager").id, "2026Q2")
    return reports.pdf(report)


def _area_report(me: Permitted, d: Demo, _: object) -> object:
    from session_rater.usecases.area_report import AreaReports

    reports = AreaReports(me)
    report = reports.report(AREA)
    return reports.pdf(report), reports.xlsx(report)


def _keep_audit_marks(me: Permitted, d: Demo, _: object) -> object:
    from session_rater.usecases.audits import Audits

    marks = (Path(__file__).resolve().parents[1] / "data" / "audit" / "cumbria-2002-follow-up-marks.csv").read_text()
    audits = Audits(me)
    saved = audits.save(title=f"Audit by {me.person.id}", area=AREA, marks_csv=marks, mandatory=[])
    return audits.pdf(audits.scored(saved.mark_set.id))


def _is_pdf(result: object, me: Permitted, d: Demo, _: object) -> None:
    first = result[0] if isinstance(result, tuple) else result
    assert isinstance(first, bytes) and first.startswith(b"%PDF"), "not a PDF"


VALIDITY_FILE = "TF-14 s11"  # the demo's validity session, waiting in Mark Dixon's My work (demo_benchmarks.py)


def _validity_benchmark(d: Demo) -> int:
    return next(b.id for b in d.svc.store.benchmarks()
                if seen_as(d.svc.recording(b.recording_id)) == VALIDITY_FILE)  # fmt: skip


def _see_master_scores(me: Permitted, d: Demo, _: object) -> object:
    from session_rater.usecases.calibration import Calibration

    return Calibration(me).master_scores(_validity_benchmark(d))


def _validity_exemplar(d: Demo) -> int:
    """An exemplar clip of TF-14 s11, the benchmark hidden in Mark Dixon's My work as a validity session."""
    bench = _validity_benchmark(d)
    found = [c.id for c in d.svc.store.exemplars(bench)]
    if found:
        return found[0]
    item = d.rubric.items[0].id
    return d.svc.store.add_exemplar(bench, item, 2, 3.0, 6.0, "matrix clip", by=None).id


def _play_exemplar(me: Permitted, d: Demo, clip_id: object) -> object:
    from session_rater.usecases.exemplar_clips import exemplar

    return exemplar(me, clip_id)  # type: ignore[arg-type]


def _check_exemplar(found: object, me: Permitted, d: Demo, clip_id: object) -> None:
    src = found.src  # type: ignore[attr-defined]
    assert src.startswith(f"/recordings/exemplars/{clip_id}?p={me.person.id}&"), src
    assert "/recordings/exemplars/" in src and f"/recordings/{found.recording_id}?" not in src  # type: ignore[attr-defined]


USE_CASES: dict[str, UseCase] = {
    "open the session": UseCase(lambda me, d, _: me.recording(d.session.id),
                                lambda r, me, d, _: None if r == d.session else pytest.fail(f"{r} opened")),
    "get a recording URL": UseCase(lambda me, d, _: me.recording_url(d.session), _check_url),
    "rate as self-assessment": _rate(Capacity.SELF_ASSESSMENT),
    "rate as monitoring": _rate(Capacity.MONITORING),
    "rate as external assessor": _rate(Capacity.EXTERNAL),
    "rate as benchmark": _rate(Capacity.BENCHMARK),
    "compare the tutor's ratings": UseCase(lambda me, d, _: me.compare_session(d.session.id, d.tutor.id),
                                           _check_compared),
    "edit the manager's draft": UseCase(
        lambda me, d, _: me.save_item(_manager_draft(d).id, d.rubric.items[-1].id, evidence=f"seen by {me.person.id}"),
        lambda saved, me, d, _: None if saved.evidence == f"seen by {me.person.id}" else pytest.fail("not saved")),  # type: ignore[attr-defined]
    "submit the manager's draft": UseCase(lambda me, d, _: me.submit(_manager_draft(d).id, confirm_uniform=True)),
    "correct the assessor's rating": UseCase(lambda me, d, _: me.correct(_assessor_rating(d).id, "scored against the wrong scale")),
    "history of the manager's draft": UseCase(lambda me, d, _: me.rating_history(_manager_draft(d).id),
                                              lambda h, me, d, _: None if len(h) == 1 else pytest.fail(str(h))),  # type: ignore[arg-type]
    "export report rows": UseCase(lambda me, d, _: me.export_rows(), _check_export),
    "report areas": UseCase(lambda me, d, _: me.report_areas(),
                            lambda areas, me, d, _: None if areas == (None if me.is_admin() else ("Lancashire",))
                            else pytest.fail(f"areas {areas}")),
    "list people and accounts": UseCase(lambda me, d, _: me.accounts(),
                                        lambda a, me, d, _: None if len(a) >= len(CAST) else pytest.fail(str(a))),  # type: ignore[arg-type]
    "add a person": UseCase(
        lambda me, d, _: me.add_person("Added Person", f"added.by.{me.person.id}@example.org", [Role.TUTOR], None),
        lambda p, me, d, _: None if d.svc.person(p.id).has_role(Role.TUTOR) else pytest.fail("not added")),  # type: ignore[attr-defined]
    "change a person": UseCase(lambda me, d, p: me.update_person(p.id, display_name="Renamed Person"),  # type: ignore[attr-defined]
                               lambda _, me, d, p: None if d.svc.person(p.id).display_name == "Renamed Person"  # type: ignore[attr-defined]
                               else pytest.fail("not renamed"), prepare=Demo.newcomer),
    "set someone's password": UseCase(lambda me, d, p: me.set_password(p.id, "a long enough password"),  # type: ignore[attr-defined]
                                      lambda _, me, d, p: None if d.svc.accounts_store.account(p.id).has_password  # type: ignore[attr-defined]
                                      else pytest.fail("no password"), prepare=Demo.newcomer),
    "set someone's scope": UseCase(lambda me, d, p: me.set_scope(p.id, areas=[AREA]),  # type: ignore[attr-defined]
                                   lambda _, me, d, p: None if d.svc.accounts_store.scope_of(p.id).areas == {AREA}  # type: ignore[attr-defined]
                                   else pytest.fail("no scope"), prepare=Demo.newcomer),
    "assign a session": UseCase(lambda me, d, p: me.assign(p.id, d.session.id), _check_assigned,  # type: ignore[attr-defined]
                                prepare=Demo.newcomer),
    "list assignments": UseCase(lambda me, d, _: me.assignments(),
                                lambda a, me, d, _: None if a else pytest.fail("no assignments")),
    "read the audit log": UseCase(lambda me, d, _: me.audit_log(limit=20),
                                  lambda log, me, d, _: None if log else pytest.fail("empty log")),
    "see the tutor's supervision feedback": UseCase(
        _see_supervision, lambda fb, me, d, _: None if fb.tutor_id == d.tutor.id and fb.items else pytest.fail("empty")),  # type: ignore[attr-defined]
    "record a supervision discussion": UseCase(_record_supervision),
    "the team's manager's monitoring report": UseCase(_monitoring_report, _is_pdf),
    "the area report (PDF and XLSX)": UseCase(_area_report, _is_pdf),
    "keep the audit's marks": UseCase(_keep_audit_marks, _is_pdf),
    "see a benchmark's master scores": UseCase(
        _see_master_scores, lambda m, me, d, _: None if m is not None and m.version == 1 else pytest.fail(str(m))),  # type: ignore[attr-defined]
    "play an exemplar clip": UseCase(_play_exemplar, _check_exemplar, prepare=_validity_exemplar),
}

_ = None  # not in this table: the person's own rating (see the tests below the matrix)
ADMIN_ONLY = (0, 0, 0, 0, 0, 0, 0, 1, 0)
#                                    tutor  co-tutor  other   team's  other    assigned  unassigned  PM +   PM
#                                                     tutor   manager manager  assessor  assessor    admin  elsewhere
MATRIX: dict[str, tuple[int | None, ...]] = {
    "open the session":               (1,     1,        0,      1,      0,       1,        0,          1,     0),
    "get a recording URL":            (1,     1,        0,      1,      0,       1,        0,          1,     0),
    "rate as self-assessment":        (1,     0,        0,      0,      0,       0,        0,          0,     0),
    "rate as monitoring":             (0,     0,        0,      1,      0,       0,        0,          0,     0),
    "rate as external assessor":      (0,     0,        0,      0,      0,       1,        0,          0,     0),
    "rate as benchmark":              (0,     0,        0,      0,      0,       0,        0,          1,     0),
    "compare the tutor's ratings":    (0,     0,        0,      0,      0,       1,        0,          1,     0),
    "edit the manager's draft":       (0,     0,        0,      1,      0,       0,        0,          0,     0),
    "submit the manager's draft":     (0,     0,        0,      _,      0,       0,        0,          0,     0),
    "correct the assessor's rating":  (0,     0,        0,      0,      0,       _,        0,          0,     0),
    "history of the manager's draft": (0,     0,        0,      1,      0,       0,        0,          1,     0),
    "export report rows":             (0,     0,        0,      0,      0,       0,        0,          1,     1),
    "report areas":                   (0,     0,        0,      0,      0,       0,        0,          1,     1),
    "list people and accounts":       ADMIN_ONLY,
    "add a person":                   ADMIN_ONLY,
    "change a person":                ADMIN_ONLY,
    "set someone's password":         ADMIN_ONLY,
    "set someone's scope":            ADMIN_ONLY,
    "assign a session":               ADMIN_ONLY,
    "list assignments":               ADMIN_ONLY,
    "read the audit log":             ADMIN_ONLY,
    "see the tutor's supervision feedback":   (1, 0, 0, 1, 0, 0, 0, 1, 0),
    "record a supervision discussion":        (1, 0, 0, 1, 0, 0, 0, 0, 0),
    "the team's manager's monitoring report": (0, 0, 0, 1, 0, 0, 0, 1, 0),
    "the area report (PDF and XLSX)":         (0, 0, 0, 0, 0, 0, 0, 1, 0),
    "keep the audit's marks":                 (0, 0, 0, 0, 0, 1, 1, 1, 0),
    # TF-14 s11: Jo Bell delivered it (self-assessed), Helen Price monitored it, Ruth Okafor and Dev
    # Sharma are its panel; Mark Dixon has it as a validity session and has not rated it yet: blind.
    "see a benchmark's master scores":        (0, 1, 0, 1, 0, 0, 1, 1, 0),
    # An exemplar of TF-14 s11 (cleared for training): anyone who rates with the rubric, whether or not they may
    # play the recording, except Mark Dixon, whose hidden validity session it is (a clip of it would say so).
    "play an exemplar clip":                  (1, 1, 1, 1, 0, 1, 1, 1, 1),
}
CELLS = [pytest.param(use_case, who, bool(allowed), id=f"{use_case} | {who}")
         for use_case, row in MATRIX.items() for who, allowed in zip(WHO, row, strict=True) if allowed is not None]


def test_the_matrix_covers_every_use_case_and_person() -> None:
    assert set(MATRIX) == set(USE_CASES)
    assert all(len(row) == len(CAST) for row in MATRIX.values())


@pytest.mark.parametrize(("use_case", "who", "allowed"), CELLS)
def test_role_by_use_case(shared: Demo, use_case: str, who: str, allowed: bool) -> None:
    case, me = USE_CASES[use_case], shared.me(who)
    made = case.prepare(shared)
    if allowed:
        case.check(case.act(me, shared, made), me, shared, made)
        return
    before = shared.fingerprint()
    with pytest.raises(AccessDeniedError) as refused:
        case.act(me, shared, made)
    assert len(str(refused.value)) > 20, f"an unhelpful refusal: {refused.value!r}"
    assert shared.fingerprint() == before, "a refused use case changed the database"


# -- what each person sees and may rate ----------------------------------------------------------------
def sessions(*groups: str) -> set[str]:
    """``sessions("TF-04: 3 7 7c 11")``: sessions 3, 7, the catch-up of 7 and 11 of group TF-04."""
    return {f"{group} s{n}" for spec in groups for group, numbers in [spec.split(": ")] for n in numbers.split()}


def seen_as(recording: RecordingView) -> str:
    return f"{recording.group_name.split()[-1]} s{recording.session_number}{'c' if recording.is_catch_up else ''}"


SEES = {  # the demo's sessions in each person's reach (usecases/demo.py: groups, tutors, teams, assignments)
    "tutor": sessions("TF-02: 3 7c 11", "TF-04: 3 7 7c 11", "TF-06: 3 7 11", "TF-10: 3 7 11", "TF-12: 3 7 7c 11"),
    "co-tutor": sessions("TF-01: 11", "TF-02: 3 11", "TF-04: 3 7 7c 11", "TF-08: 3 7 7c 11", "TF-09: 3 7 11",
                         "TF-10: 3 7 11", "TF-14: 3 7 11"),
    "other tutor": sessions("TF-01: 3 7", "TF-02: 7c", "TF-03: 3 7 11", "TF-07: 3 7 11", "TF-11: 3 7 11",
                            "TF-13: 3 7 11", "TF-06: 11"),  # TF-06 s11: the benchmark of his calibration round
    "team's manager": sessions("TF-02: 3 7c 11", "TF-04: 3 7 7c 11", "TF-06: 3 7 11", "TF-08: 3 7 7c 11",
                               "TF-10: 3 7 11", "TF-12: 3 7 7c 11", "TF-14: 3 7 11"),  # every Barrow session
    "other team's manager": sessions("TF-01: 3 7 11", "TF-03: 3 7 11", "TF-05: 3 7 11", "TF-07: 3 7 11",
                                     "TF-09: 3 7 11", "TF-11: 3 7 11", "TF-13: 3 7 11", "TF-15: 3 7",  # Carlisle's
                                     "TF-06: 11", "TF-14: 11"),  # his calibration round's benchmark; a validity session
    "assigned assessor": sessions("TF-01: 7", "TF-02: 3 11", "TF-03: 3 11", "TF-04: 3 7 7c 11", "TF-05: 7 11",
                                  "TF-06: 3 11", "TF-07: 3 7", "TF-08: 7 7c 11", "TF-09: 3 11", "TF-10: 3 7",
                                  "TF-11: 3 7 11", "TF-12: 3 7c 11", "TF-13: 7 11", "TF-14: 3 7", "TF-15: 3 7"),
    "unassigned assessor": sessions("TF-01: 3 11", "TF-02: 7c", "TF-03: 3 7 11", "TF-05: 3", "TF-06: 3 7 11",  # s11: her panel
                                    "TF-07: 3 11", "TF-08: 3 7", "TF-09: 3 7 11", "TF-10: 11", "TF-12: 3 7 11",
                                    "TF-13: 3 11", "TF-14: 11", "TF-15: 3"),
    "PM + admin": sessions("TF-01: 3 7 11", "TF-02: 3 7c 11", "TF-03: 3 7 11", "TF-04: 3 7 7c 11", "TF-05: 3 7 11",
                           "TF-06: 3 7 11", "TF-07: 3 7 11", "TF-08: 3 7 7c 11", "TF-09: 3 7 11", "TF-10: 3 7 11",
                           "TF-11: 3 7 11", "TF-12: 3 7 7c 11", "TF-13: 3 7 11", "TF-14: 3 7 11", "TF-15: 3 7"),
    "PM elsewhere": set(),
}


@pytest.mark.parametrize("who", WHO)
def test_each_person_sees_exactly_the_sessions_in_their_reach(shared: Demo, who: str) -> None:
    me = shared.me(who)
    seen = [seen_as(r) for r in me.recordings()]
    assert sorted(seen) == sorted(SEES[who]), "each session once, and exactly those in reach"
    from session_rater.usecases.sessions_list import session_facets, sessions_page

    page = sessions_page(me, page_size=1000)  # the paged list, selected and counted in SQL
    assert (set(page.rows["id"]) if not page.rows.empty else set()) == {r.id for r in me.recordings()}
    assert page.matching == session_facets(me).total == len(me.recordings())


OFFERED = {  # the capacities the Rate page offers for the session under test, rating Tom Hughes
    "tutor": [Capacity.SELF_ASSESSMENT], "co-tutor": [], "other tutor": [], "team's manager": [Capacity.MONITORING],
    "other team's manager": [], "assigned assessor": [Capacity.EXTERNAL], "unassigned assessor": [],
    "PM + admin": [Capacity.BENCHMARK], "PM elsewhere": [],
}


@pytest.mark.parametrize("who", WHO)
def test_the_capacities_offered_are_the_ones_allowed(shared: Demo, who: str) -> None:
    assert shared.me(who).capacities(shared.session, shared.tutor.id) == OFFERED[who]


def test_a_co_tutor_self_assesses_only_their_own_delivery(shared: Demo) -> None:
    jo = shared.me("co-tutor")
    own = jo.start_rating(shared.session.id, jo.person.id, Capacity.SELF_ASSESSMENT, shared.rubric)
    assert own.tutor_id == jo.person.id and own.capacity is Capacity.SELF_ASSESSMENT


def test_a_session_out_of_reach_reads_like_one_that_does_not_exist(shared: Demo) -> None:
    sam = shared.me("other tutor")
    with pytest.raises(AccessDeniedError) as out_of_reach:
        sam.recording(shared.session.id)
    with pytest.raises(AccessDeniedError) as missing:
        sam.recording(987654)
    assert str(out_of_reach.value).replace(str(shared.session.id), "N") == str(missing.value).replace("987654", "N")


def test_administrators_cannot_lock_themselves_out_or_assign_to_a_non_assessor(shared: Demo) -> None:
    dev = shared.me("PM + admin")
    before = shared.fingerprint()
    with pytest.raises(AccessDeniedError, match="ask another administrator"):
        dev.update_person(dev.person.id, active=False)
    with pytest.raises(AccessDeniedError, match="ask another administrator"):
        dev.update_person(dev.person.id, roles=[Role.PROGRAMME_MANAGER])
    with pytest.raises(AccessDeniedError, match="external assessors"):
        dev.assign(shared.person("other tutor").id, shared.session.id)
    assert shared.fingerprint() == before


# -- rating rules that change what others see: a fresh copy each ---------------------------------------------
RATERS = [pytest.param("tutor", Capacity.SELF_ASSESSMENT, id="tutor"),
          pytest.param("team's manager", Capacity.MONITORING, id="team's manager"),
          pytest.param("assigned assessor", Capacity.EXTERNAL, id="assigned assessor"),
          pytest.param("PM + admin", Capacity.BENCHMARK, id="PM + admin")]


@pytest.mark.parametrize(("who", "capacity"), RATERS)
def test_a_rating_is_submitted_once_and_a_second_submit_changes_nothing(fresh: Demo, who: str,
                                                                         capacity: Capacity) -> None:
    me = fresh.me(who)
    rating = me.start_rating(fresh.session.id, fresh.tutor.id, capacity, fresh.rubric)
    if not rating.is_submitted:  # the demo's assessor has submitted already
        fresh.fill(me, rating)
        me.submit(rating.id)
    submitted = fresh.svc.store.get_rating(rating.id)
    assert submitted.status is RatingStatus.SUBMITTED
    before = fresh.fingerprint()
    with pytest.raises(RatingLockedError, match="already submitted; nothing was changed"):
        me.submit(rating.id)
    with pytest.raises(RatingLockedError, match="read-only; nothing was changed"):
        me.save_item(rating.id, fresh.rubric.items[0].id, score=fresh.rubric.minimum)
    assert fresh.svc.store.get_rating(rating.id) == submitted
    assert fresh.fingerprint() == before


def test_a_correction_needs_a_reason_and_nothing_changes_without_one(fresh: Demo) -> None:
    alan = fresh.me("assigned assessor")
    rating = fresh.rating("assigned assessor", Capacity.EXTERNAL)
    before = fresh.fingerprint()
    for reason in ("", "   "):
        with pytest.raises(RatingError, match="needs a reason.*nothing was changed"):
            alan.correct(rating.id, reason)
    assert fresh.fingerprint() == before
    assert alan.rating_history(rating.id) == [rating]

    correction = alan.correct(rating.id, "Item scored against the previous session's notes")
    assert (correction.version, correction.supersedes_id, correction.status) == (2, rating.id, RatingStatus.DRAFT)
    assert fresh.rating("assigned assessor", Capacity.EXTERNAL).id == correction.id


@pytest.mark.parametrize(("who", "capacity"), RATERS[:3])
def test_raters_see_others_ratings_only_after_submitting_their_own(fresh: Demo, who: str, capacity: Capacity) -> None:
    me = fresh.me(who)
    if capacity is Capacity.EXTERNAL:  # the demo's assessor has submitted: use a session they have not rated
        session, tutor = fresh.recording("tf01-s07-consequential-thinking.mp4"), fresh.person("other tutor")
    else:
        session, tutor = fresh.session, fresh.tutor
    before = fresh.fingerprint()
    with pytest.raises(AccessDeniedError, match="(?i)submit your own rating first"):
        me.compare_session(session.id, tutor.id)
    assert fresh.fingerprint() == before

    rating = me.start_rating(session.id, tutor.id, capacity, fresh.rubric)
    fresh.fill(me, rating)
    me.submit(rating.id)
    table, ratings = me.compare_session(session.id, tutor.id)
    assert not table.empty and len(ratings) >= 2 and {r.rater_id for r in ratings} - {me.person.id}
    # The submitted rating was made blind and stays so; having looked, a later correction is not.
    assert fresh.svc.store.get_rating(rating.id).is_blind
    assert fresh.svc.store.is_unblinded(me.person.id, session.id, tutor.id)
    corrected = me.correct(rating.id, "Looked again at the recording")
    assert not corrected.is_blind


def test_an_overseer_may_look_first_and_is_then_recorded_as_not_blind(fresh: Demo) -> None:
    dev, store = fresh.me("PM + admin"), fresh.svc.store
    jo = fresh.person("co-tutor")
    started = dev.start_rating(fresh.session.id, fresh.tutor.id, Capacity.BENCHMARK, fresh.rubric)
    assert started.is_blind and not store.is_unblinded(dev.person.id, fresh.session.id, fresh.tutor.id)

    table, ratings = dev.compare_session(fresh.session.id, fresh.tutor.id)
    assert not table.empty and ratings
    assert store.is_unblinded(dev.person.id, fresh.session.id, fresh.tutor.id)
    assert not store.get_rating(started.id).is_blind  # the draft made before looking is marked too
    dev.compare_session(fresh.session.id, fresh.tutor.id)  # looking again records nothing more
    with fresh.svc.store.engine.connect() as c:
        looked = c.execute(select(AuditEntry.actor_id, AuditEntry.entity_id, AuditEntry.after)
                           .where(AuditEntry.action == "saw_others")).all()
    assert looked == [(dev.person.id, fresh.session.id, {"tutor_id": fresh.tutor.id})]

    fresh.fill(dev, started)
    assert not dev.submit(started.id).is_blind
    # Looking at the co-tutor's ratings first makes a later rating of the co-tutor not blind ...
    dev.compare_session(fresh.session.id, jo.id)
    later = dev.start_rating(fresh.session.id, jo.id, Capacity.BENCHMARK, fresh.rubric)
    assert not later.is_blind
    # ... while a (session, tutor) not looked at stays blind.
    elsewhere = dev.start_rating(fresh.recording("tf02-s03-problem-solving.mp4").id, fresh.tutor.id,
                                 Capacity.BENCHMARK, fresh.rubric)
    assert elsewhere.is_blind


def test_a_rater_whose_access_is_withdrawn_can_no_longer_change_their_rating(fresh: Demo) -> None:
    """Permitted checks every use case against the rules at the time it is used; a rating's
    owner is not enough once the session has left their reach."""
    alan, dev = fresh.me("assigned assessor"), fresh.me("PM + admin")
    session, tutor = fresh.recording("tf01-s07-consequential-thinking.mp4"), fresh.person("other tutor")
    draft = alan.start_rating(session.id, tutor.id, Capacity.EXTERNAL, fresh.rubric)
    alan.save_item(draft.id, fresh.rubric.items[0].id, score=fresh.rubric.minimum)

    dev.withdraw(alan.person.id, session.id)
    alan = fresh.me("assigned assessor")  # as the next page load would build it
    with pytest.raises(AccessDeniedError):
        alan.recording(session.id)
    before = fresh.fingerprint()
    with pytest.raises(AccessDeniedError):
        alan.save_item(draft.id, fresh.rubric.items[1].id, score=fresh.rubric.minimum)
    with pytest.raises(AccessDeniedError):
        alan.submit(draft.id)
    assert fresh.fingerprint() == before


def test_a_manager_drawn_to_monitor_another_teams_session_may_open_and_monitor_it(fresh: Demo) -> None:
    """A sample draw may give a treatment manager a session outside their teams (the sampler
    works by area); the draw itself puts it in their reach, for monitoring only."""
    from session_rater.db.sampling_models import SampleAssignment, SampleDraw

    mark = fresh.person("other team's manager")  # manages Carlisle; the session is Barrow's
    barrow = fresh.recording("tf02-s03-problem-solving.mp4")
    assert barrow.id not in {r.id for r in fresh.me("other team's manager").recordings()}
    with fresh.svc.store.engine.begin() as db:
        draw_id = db.execute(insert(SampleDraw).values(
            policy_name="default", policy_version="1", seed=1, drawn_on=barrow.recorded_on, dry_run=False,
            policy={}, shortfalls=[])).inserted_primary_key[0]
        db.execute(insert(SampleAssignment).values(
            draw_id=draw_id, policy_name="default", recording_id=barrow.id, rule="monitoring",
            reason="10% monitoring sample", rater_id=mark.id))
    me = fresh.me("other team's manager")
    assert barrow.id in {r.id for r in me.recordings()}
    assert me.recording(barrow.id).id == barrow.id
    tutor = barrow.tutors[0]
    assert me.capacities(barrow, tutor.id) == [Capacity.MONITORING]
    rating = me.start_rating(barrow.id, tutor.id, Capacity.MONITORING, fresh.rubric)
    assert rating.rater_id == mark.id
    with pytest.raises(AccessDeniedError):
        me.start_rating(barrow.id, tutor.id, Capacity.EXTERNAL, fresh.rubric)


# -- Sampling and Coverage list only what is in reach (issue 15) --------------------------------------
COVERAGE_VIEWERS = ["team's manager", "other team's manager", "PM + admin", "PM elsewhere"]


@pytest.mark.parametrize("who", COVERAGE_VIEWERS)
def test_sampling_and_coverage_list_only_the_sessions_in_reach(fresh: Demo, who: str) -> None:
    """Before the fix a treatment manager saw other areas' sessions, tutors and raters under
    "Draws made" and in Coverage by tutor: both read the roster without the person's scope."""
    from session_rater.usecases.coverage import coverage
    from session_rater.usecases.monitoring import Monitoring

    admin = Monitoring(fresh.me("PM + admin"))
    policy = next(e.policy for e in admin.policies_in_force(admin.catalog()) if e.policy.name == "default")
    admin.draw(policy, 7, save=True)

    me = fresh.me(who)
    mon = Monitoring(me)
    reach = {r.id for r in me.recordings()}
    assert {s.recording_id for s in mon.roster()} == reach
    assert {a.recording_id for a in mon.assignment_statuses(dt.date.today())} <= reach
    assert set(mon.recordings()) == reach
    for draw in mon.draws():
        shown, hidden = mon.visible(mon.selections_of(draw))
        assert {s.recording_id for s in shown} <= reach
        assert len(shown) + hidden == len(mon.selections_of(draw))
    tutors_in_reach = {t.display_name for r in me.recordings() for t in r.tutors}
    by_tutor = coverage(mon, by="tutor", period="all").table
    assert set(by_tutor["tutor"]) <= tutors_in_reach if not by_tutor.empty else True


@pytest.mark.parametrize("who", [w for w in WHO if w not in COVERAGE_VIEWERS])
def test_sampling_and_coverage_are_refused_to_those_without_the_role(fresh: Demo, who: str) -> None:
    from session_rater.usecases.coverage import coverage
    from session_rater.usecases.monitoring import Monitoring

    mon = Monitoring(fresh.me(who))
    for use in (mon.roster, mon.draws, mon.recordings, lambda: coverage(mon, by="area", period="all")):
        with pytest.raises(AccessDeniedError):
            use()


# -- the benchmark: a validity session hides among live work until it is submitted ----------------------
def test_a_validity_session_is_not_revealed_before_submit_and_compared_after(fresh: Demo) -> None:
    from session_rater.usecases.calibration import Calibration
    from session_rater.usecases.monitoring import Monitoring

    mark = fresh.me("other team's manager")
    bench = fresh.svc.store.get_benchmark(_validity_benchmark(fresh))
    recording = fresh.svc.recording(bench.recording_id)
    [item] = Monitoring(mark).work_queue(dt.date.today())
    assert (item.recording_id, item.rule.value, item.capacity) == (recording.id, "monitoring", Capacity.MONITORING)
    assert mark.capacities(recording, bench.tutor_id) == [Capacity.MONITORING], "rated as any monitoring session"
    assert mark.decide(Action.VIEW_SESSION, recording).reason == "drawn for this treatment manager to monitor"
    from session_rater.usecases.sessions_list import sessions_page

    listed = sessions_page(mark, page_size=1000).rows  # what the Sessions page shows: no panel rating counted
    assert listed.loc[listed["id"] == recording.id, ["benchmark", "drafts"]].values.tolist() == [[0, 0]]
    url, _ = mark.recording_url(recording)
    assert url.startswith(f"/recordings/{recording.id}?p={mark.person.id}&")
    with pytest.raises(AccessDeniedError):
        mark.compare_session(recording.id, bench.tutor_id)
    assert Calibration(mark).comparison(recording.id, bench.tutor_id) is None
    rating = mark.start_rating(recording.id, bench.tutor_id, Capacity.MONITORING, fresh.rubric)
    fresh.fill(mark, rating)
    submitted = mark.submit(rating.id)
    comparison = Calibration(mark).after_submit(submitted)
    assert comparison is not None and comparison.figures.n_items == len(fresh.rubric.items)
    assert not fresh.svc.store.validity_assignments(mark.person.id)[0].hidden
    assert Calibration(mark).master_scores(bench.id) is not None
