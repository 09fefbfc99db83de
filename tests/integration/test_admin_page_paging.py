"""Issue 17, the Recordings, Audit log and People pages at national scale: the retention review is
counted and paged in SQL (the sessions kept by an open audit selected with the rule the work
queues apply) and gives what deciding every recording in Python gave; the audit log names
everyone, closed accounts included, in one query; the People page's accounts leave out the
sessions assigned; the missing-files check skips the recordings deleted under the policy. On
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_rater.db.engine import make_sessionmaker
from session_rater.db.models import utcnow
from session_rater.db.sampling_models import SampleAssignment, SampleDraw
from session_rater.db.store import RecordingSpec
from session_rater.domain.model import Capacity, Role
from session_rater.settings import load_settings
from session_rater.usecases import retention
from session_rater.usecases.services import DEFAULT_RUBRIC_ID, Services, open_services

TODAY = dt.date(2026, 6, 1)  # the default policy keeps two years: sessions of 2019 are past it


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                              "SESSION_RATER_DEMO": "0", "SESSION_RATER_SECRET": "g" * 40})  # fmt: skip
    services = open_services(settings)
    yield services
    services.close()


@dataclasses.dataclass
class Past:
    due: list[int]
    held: list[int]
    audited: list[int]  # an assignment awaiting a rating
    recent: int


def _assign(svc: Services, draw_seed: int, recording_id: int, rule: str, rater: int | None,
            second: int | None = None, due_on: dt.date | None = None) -> None:  # fmt: skip
    with make_sessionmaker(svc.store.engine).begin() as s:
        draw = SampleDraw(policy_name=f"p{draw_seed}", policy_version="1", seed=draw_seed, drawn_on=dt.date(2019, 6, 1),
                          policy={}, shortfalls=[])  # fmt: skip
        s.add(draw)
        s.flush()
        s.add(SampleAssignment(draw_id=draw.id, policy_name=f"p{draw_seed}", recording_id=recording_id, rule=rule,
                               reason="test", rater_id=rater, second_rater_id=second, due_on=due_on,
                               created_at=utcnow()))  # fmt: skip


def _submit(svc: Services, recording_id: int, tutor: int, rater: int, capacity: Capacity) -> None:
    rubric = svc.catalog.latest(DEFAULT_RUBRIC_ID)
    rating = svc.store.start_rating(recording_id, tutor, rater, capacity, rubric)
    for item in rubric.items:
        svc.store.save_item(rating.id, item.id, score=rubric.minimum)
    svc.store.submit_rating(rating.id, confirm_uniform=True)


def _past(svc: Services) -> Past:
    """Twelve sessions of 2019 (past the period) and a recent one: some held, some kept by a
    sample assignment still awaiting a rating, some with their assignment done, the rest free."""
    store = svc.store
    tutor = store.add_person("Tom Tutor", [Role.TUTOR]).id
    assessor = store.add_person("Ann Assessor", [Role.EXTERNAL_ASSESSOR]).id
    monitor = store.add_person("Mo Manager", [Role.TREATMENT_MANAGER]).id

    def session(n: int, on: dt.date) -> int:
        spec = RecordingSpec(file_path=f"/nowhere/{n}.mp4", programme="Think First", group_name=f"Group {n % 3}",
                             session_number=n, session_title=f"Session {n}", recorded_on=on, site="Site",
                             area="Cumbria", team="Carlisle team")  # fmt: skip
        return store.add_recording(spec, [tutor]).id

    old = [session(n, dt.date(2019, 1, 1) + dt.timedelta(days=10 * (n % 5) + n)) for n in range(1, 13)]
    recent = session(99, TODAY - dt.timedelta(days=30))
    held = [old[1], old[6]]
    for rid in held:
        retention.place_hold(svc, rid, "complaint", f"Complaint about {rid}")
    _assign(svc, 1, old[2], "external_audit", assessor, due_on=dt.date(2019, 7, 1))  # not rated: open
    _assign(svc, 2, old[3], "monitoring", None)  # no rater chosen: open
    _assign(svc, 3, old[4], "external_audit", assessor)  # rated and submitted: done
    _submit(svc, old[4], tutor, assessor, Capacity.EXTERNAL)
    _assign(svc, 4, old[5], "external_audit", assessor, second=monitor)  # the second rater not done: open
    _submit(svc, old[5], tutor, assessor, Capacity.EXTERNAL)
    _assign(svc, 5, old[6], "external_audit", assessor)  # held as well as audited
    _assign(svc, 6, recent, "external_audit", assessor)  # within its period: never read
    audited = [old[2], old[3], old[5], old[6]]
    due = [rid for rid in old if rid not in set(held) | set(audited)]
    return Past(due, held, audited, recent)


def _as_python_decided(svc: Services) -> list[retention.RetentionDecision]:
    """Every recording decided in Python, open audits from assignment_statuses (the rule of the
    work queues): what the review gave before it was paged in SQL."""
    facts = retention._store(svc).recording_facts(retention.open_audits(svc, TODAY), with_demo=False)
    return [d for d in (retention.decide(retention.policy(svc), f, TODAY) for f in facts) if d is not None]


def test_the_review_counted_and_paged_in_sql_decides_as_every_recording_decided_in_python(svc: Services) -> None:
    past = _past(svc)
    expected = _as_python_decided(svc)
    review = retention.review(svc, today=TODAY)
    assert list(review.decisions) == [d for d in expected if d.due or d.kept_on_purpose]
    assert {d.recording_id for d in review.due} == set(past.due)
    assert {d.recording_id for d in review.kept} == set(past.held) | set(past.audited)
    assert past.recent not in {d.recording_id for d in review.decisions}
    reasons = {d.recording_id: d.reason for d in review.kept}
    assert "audit that sampled it is open: external audit sample not yet submitted, due 01/07/2019" in reasons[past.audited[0]]
    assert "monitoring sample not yet submitted" in reasons[past.audited[1]]
    assert "complaint hold" in reasons[past.held[1]], "a hold is named before an open audit"


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_a_review_page_counts_every_recording_and_lists_the_oldest_of_each(svc: Services, limit: int) -> None:
    past = _past(svc)
    whole = retention.review(svc, today=TODAY)
    page = retention.review_page(svc, today=TODAY, due_limit=limit, kept_limit=limit)
    assert (page.due_count, page.kept_count) == (len(past.due), len(set(past.held) | set(past.audited)))
    assert list(page.due) == whole.due[:limit] and list(page.kept) == whole.kept[:limit]
    assert [(d.recorded_on, d.recording_id) for d in page.due] == sorted((d.recorded_on, d.recording_id) for d in page.due)


def test_a_released_hold_and_a_submitted_rating_move_a_recording_between_the_counts(svc: Services) -> None:
    past = _past(svc)
    before = retention.review_page(svc, today=TODAY)
    hold = next(h for h in retention.holds(svc) if h.recording_id == past.held[0])
    retention.release_hold(svc, hold.id, note="resolved")
    after = retention.review_page(svc, today=TODAY)
    assert (after.due_count, after.kept_count) == (before.due_count + 1, before.kept_count - 1)
    assert past.held[0] in {d.recording_id for d in after.due}


def test_no_open_audit_keeps_a_recording_when_the_policy_does_not_say_so(svc: Services, tmp_path: Path) -> None:
    past = _past(svc)
    rules = tmp_path / "retention.yaml"
    rules.write_text("id: short\nversion: '2'\ntitle: No audits\nkeep_after_session:\n  years: 2\n"
                     "keep_while_audit_open: false\n")  # fmt: skip
    svc.settings = dataclasses.replace(svc.settings, retention_policy=rules)
    page = retention.review_page(svc, today=TODAY)
    assert page.kept_count == len(past.held) and page.due_count == len(past.due) + len(set(past.audited) - set(past.held))


def test_the_missing_files_check_reads_only_the_recordings_whose_files_are_kept(svc: Services) -> None:
    past = _past(svc)
    retention._store(svc).record_deletion(past.due[0], files=[], note="test", policy={}, reason="test", by=None)
    files = svc.store.kept_recording_files()
    assert past.due[0] not in {rid for rid, _, _ in files}
    assert len(files) == svc.store.count_recordings() - 1
    label = next(label for rid, label, _ in files if rid == past.recent)
    assert label == svc.recording(past.recent).label


def test_the_audit_log_names_everyone_closed_accounts_included(svc: Services) -> None:
    store = svc.store
    kept = store.add_person("Kim Kept", [Role.TUTOR]).id
    closed = store.add_person("Cal Closed", [Role.TUTOR]).id
    svc.accounts_store.update_person(closed, actor_id=None, active=False)
    names = svc.accounts_store.names()
    assert names[kept] == "Kim Kept" and names[closed] == "Cal Closed"
    assert names == {a.person.id: a.person.display_name for a in svc.accounts_store.accounts()}


def test_accounts_without_assignments_are_the_accounts_with_no_sessions_in_their_scope(svc: Services) -> None:
    _past(svc)
    whole = svc.accounts_store.accounts()
    light = svc.accounts_store.accounts(with_assignments=False)
    assert any(a.scope.assigned_recordings for a in whole)
    assert light == [dataclasses.replace(a, scope=dataclasses.replace(
        a.scope, assigned_recordings=frozenset(), monitoring_assignments=frozenset())) for a in whole]  # fmt: skip


# -- migration 0014 -----------------------------------------------------------------------------------


def _audit_log_indexes(engine) -> set[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect

    return {ix["name"] for ix in inspect(engine).get_indexes("audit_log")} & {"ix_audit_log_at", "ix_audit_log_at_id"}


def test_0014_orders_the_audit_log_by_time_and_id_and_downgrades_to_the_index_on_time(database_url: str) -> None:
    from alembic import command

    from session_rater.db.accounts_store import AccountsStore
    from session_rater.db.engine import alembic_config, make_engine, migrate

    from tests.integration.test_migrations import _plan

    engine = make_engine(database_url)
    migrate(engine)
    assert _audit_log_indexes(engine) == {"ix_audit_log_at_id"}
    plan = _plan(engine, lambda: AccountsStore(engine).audit_log(limit=1000))
    changes = "\n".join(plan.splitlines()[:2])  # the first statement's plan (Limit, then the scan): the changes
    assert "ix_audit_log_at_id" in changes and "Sort" not in changes and "TEMP B-TREE" not in changes, plan
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013_page_indexes")
    assert _audit_log_indexes(engine) == {"ix_audit_log_at"}
    migrate(engine)
    assert _audit_log_indexes(engine) == {"ix_audit_log_at_id"}
    engine.dispose()
