"""Local accounts and organisation sign-in (accounts.Accounts) on SQLite and PostgreSQL, with a
clock the tests move: the first administrator, argon2 hashes, rate limits, idle expiry, sign-out,
closed accounts and matching an identity provider's user to a person."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select, update

from session_rater.usecases.accounts import CLIENT_SLOWDOWN_SECONDS, Accounts
from session_rater.db import models as m
from session_rater.db.accounts_models import SignInAttempt, SignInSession
from session_rater.db.accounts_store import AccountsStore
from session_rater.db.audit_models import AuditEntry
from session_rater.db.store import PersonView, Store
from session_rater.domain.model import Role
from session_rater.errors import AuthError, SessionEndedError, SignInError

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "ada.admin@example.org"
WRONG_MESSAGE = "That email and password do not match an account"
IDLE = dt.timedelta(minutes=30)


class Clock:
    """The time Accounts sees; tests move it forward."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


# The production hasher (argon2id, 64 MiB, 3 passes) costs 50 ms to over a second per hash on a
# busy machine. Rate limits and sessions do not depend on its cost, so most tests use argon2id
# with the cheapest parameters; the tests of how passwords are kept use the real one.
def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def real_accounts(engine: Engine, clock: Clock) -> Accounts:
    return Accounts(AccountsStore(engine), Store(engine), idle=IDLE, clock=clock)


@pytest.fixture
def accounts(engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    monkeypatch.setattr("session_rater.usecases.accounts.PasswordHasher", cheap_hasher)
    return Accounts(AccountsStore(engine), Store(engine), idle=IDLE, clock=clock)


@pytest.fixture
def admin(accounts: Accounts) -> PersonView:
    return accounts.create_first_administrator("Ada Admin", ADMIN_EMAIL, PASSWORD)


def _password_hash(engine: Engine, person_id: int) -> str | None:
    with engine.connect() as c:
        return c.execute(select(m.Person.password_hash).where(m.Person.id == person_id)).scalar_one()


def _attempts(engine: Engine) -> list[tuple[str, str | None, bool]]:
    with engine.connect() as c:
        rows = c.execute(select(SignInAttempt.login, SignInAttempt.client, SignInAttempt.succeeded)
                         .order_by(SignInAttempt.id))
        return [(login, client, bool(ok)) for login, client, ok in rows]


def _count(engine: Engine, model: type[m.Base]) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(model)).scalar_one()


def _refused(accounts: Accounts, email: str, password: str, *, client: str | None = None) -> str:
    with pytest.raises(SignInError) as refused:
        accounts.sign_in(email, password, client=client)
    return str(refused.value)


# -- the first administrator, and how passwords are kept -------------------------------------------
def test_the_first_administrator_is_created_once_and_refused_the_second_time(accounts: Accounts, engine: Engine) -> None:
    assert accounts.needs_first_administrator()
    first = accounts.create_first_administrator("Ada Admin", ADMIN_EMAIL, PASSWORD)
    assert first.has_role(Role.ADMINISTRATOR) and first.email == ADMIN_EMAIL
    assert not accounts.needs_first_administrator()

    with pytest.raises(SignInError, match="An administrator already exists"):
        accounts.create_first_administrator("Eve Intruder", "eve@example.org", "another long password")
    assert _count(engine, m.Person) == 1
    assert accounts.store.credentials("eve@example.org") is None


def test_two_first_run_forms_submitted_at_once_make_one_administrator(accounts: Accounts, engine: Engine) -> None:
    barrier = threading.Barrier(4)

    def submit(i: int) -> str:
        barrier.wait()
        try:
            accounts.create_first_administrator(f"Admin {i}", f"admin{i}@example.org", PASSWORD)
        except SignInError as exc:
            return str(exc)
        return "created"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(submit, range(4)))
    assert outcomes.count("created") == 1, outcomes
    assert all("An administrator already exists" in o for o in outcomes if o != "created")
    assert _count(engine, m.Person) == 1


def test_passwords_and_session_tokens_are_stored_only_as_hashes(real_accounts: Accounts, engine: Engine) -> None:
    accounts = real_accounts
    admin = accounts.create_first_administrator("Ada Admin", ADMIN_EMAIL, PASSWORD)
    stored = _password_hash(engine, admin.id)
    assert stored is not None and stored.startswith("$argon2id$"), stored
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    assert "m=65536,t=3,p=4" in stored  # argon2-cffi's RFC 9106 low-memory profile, not weakened

    token, signed = accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    with engine.connect() as c:
        hashes = list(c.execute(select(SignInSession.token_hash)).scalars())
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in hashes and signed.session.method == "password"


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_the_next_sign_in(real_accounts: Accounts,
                                                                           engine: Engine) -> None:
    weak = cheap_hasher().hash(PASSWORD)
    person = real_accounts.store.create_person("Ada Admin", ADMIN_EMAIL, [Role.ADMINISTRATOR], password_hash=weak)
    real_accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    upgraded = _password_hash(engine, person.id)
    assert upgraded != weak and "m=65536,t=3,p=4" in upgraded
    assert PasswordHasher().verify(upgraded, PASSWORD)


def test_the_right_password_gives_a_token_that_resume_accepts(accounts: Accounts, admin: PersonView,
                                                             clock: Clock) -> None:
    token, signed = accounts.sign_in("  ADA.Admin@Example.ORG ", PASSWORD, client="10.0.0.1")
    assert signed.person.id == admin.id
    assert len(token) >= 40  # 32 random bytes, URL-safe
    clock.advance(minutes=5)
    again = accounts.resume(token)
    assert again.person.id == admin.id and again.session.id == signed.session.id
    other, _ = accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    assert other != token  # every sign-in is a new session


# -- failed sign-ins -----------------------------------------------------------------------------
def test_a_wrong_password_and_an_unknown_email_get_the_same_message_and_are_both_recorded(
        accounts: Accounts, admin: PersonView, engine: Engine) -> None:
    wrong_password = _refused(accounts, ADMIN_EMAIL, "not the password at all", client="10.0.0.1")
    unknown_email = _refused(accounts, "nobody@example.org", PASSWORD, client="10.0.0.1")
    assert wrong_password == unknown_email
    assert wrong_password.startswith(WRONG_MESSAGE) and "4 more tries" in wrong_password
    assert _attempts(engine) == [(ADMIN_EMAIL, "10.0.0.1", False), ("nobody@example.org", "10.0.0.1", False)]
    with pytest.raises(SignInError, match="Enter your email and your password"):
        accounts.sign_in(ADMIN_EMAIL, "")


def test_five_failures_pause_the_email_for_fifteen_minutes_even_with_the_right_password(
        accounts: Accounts, admin: PersonView, clock: Clock, engine: Engine) -> None:
    first_failure = clock.now
    for n, spelling in enumerate([ADMIN_EMAIL, ADMIN_EMAIL.upper(), f" {ADMIN_EMAIL}", ADMIN_EMAIL, ADMIN_EMAIL]):
        message = _refused(accounts, spelling, f"wrong guess {n}", client=f"10.0.0.{n}")
        assert message.startswith(WRONG_MESSAGE)
        clock.advance(minutes=1)
    assert "more tries" not in message  # the fifth failure: no tries left

    clock.now = first_failure + dt.timedelta(minutes=4)
    paused = _refused(accounts, ADMIN_EMAIL, PASSWORD, client="10.9.9.9")
    assert "Too many failed sign-ins" in paused and "paused for 11 more minute(s)" in paused
    clock.now = first_failure + dt.timedelta(minutes=15)  # the window includes its first moment
    assert "Too many failed sign-ins" in _refused(accounts, ADMIN_EMAIL, PASSWORD)
    assert len(_attempts(engine)) == 5  # tries while paused are not heard, so they do not extend it

    clock.now = first_failure + dt.timedelta(minutes=15, seconds=1)
    _, signed = accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    assert signed.person.id == admin.id


def test_a_successful_sign_in_clears_earlier_failures(accounts: Accounts, admin: PersonView, clock: Clock) -> None:
    for n in range(4):
        _refused(accounts, ADMIN_EMAIL, f"wrong {n}")
    accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    for n in range(4):
        clock.advance(seconds=10)
        message = _refused(accounts, ADMIN_EMAIL, f"wrong again {n}")
    assert "1 more tries" in message  # counted from the success, not from the first failure
    _, signed = accounts.sign_in(ADMIN_EMAIL, PASSWORD)  # 8 failures in the window, 4 since the success
    assert signed.person.id == admin.id


def test_many_failures_from_one_address_slow_it_down_but_never_stop_the_right_password(
        accounts: Accounts, admin: PersonView, clock: Clock) -> None:
    """Behind a reverse proxy everyone shares one address: 30 failures from anyone must not lock
    everybody out (issue 15). The address is slowed down instead; each account keeps its pause."""
    for n in range(29):  # as sign_in records them: one failure for each of 29 different emails
        accounts.store.record_attempt(f"guess{n}@example.org", "203.0.113.7", False, clock())
    assert accounts.client_delay("203.0.113.7") == 0
    _refused(accounts, "guess-thirty@example.org", "whatever it is", client="203.0.113.7")

    assert accounts.client_delay("203.0.113.7") == CLIENT_SLOWDOWN_SECONDS > 0
    _, signed = accounts.sign_in(ADMIN_EMAIL, PASSWORD, client="203.0.113.7")
    assert signed.person.id == admin.id
    assert accounts.client_delay("198.51.100.2") == 0  # another address is not slowed
    clock.advance(minutes=15, seconds=1)
    assert accounts.client_delay("203.0.113.7") == 0


# -- staying signed in ---------------------------------------------------------------------------
def test_activity_keeps_a_session_alive_and_idleness_ends_it_for_good(
        accounts: Accounts, admin: PersonView, clock: Clock, engine: Engine) -> None:
    token, _ = accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    for _ in range(3):  # 87 minutes in all, never 30 without activity
        clock.advance(minutes=29)
        assert accounts.resume(token).person.id == admin.id

    clock.advance(minutes=30, seconds=1)
    with pytest.raises(SessionEndedError, match="ended after 30 minutes without activity"):
        accounts.resume(token)
    clock.advance(seconds=-60)  # even a clock read as within the limit does not bring it back
    with pytest.raises(SessionEndedError, match="ended after 30 minutes without activity"):
        accounts.resume(token)
    with engine.connect() as c:
        assert c.execute(select(SignInSession.end_reason)).scalar_one() == "idle"


def test_signing_out_ends_the_session(accounts: Accounts, admin: PersonView, clock: Clock) -> None:
    token, _ = accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    other, _ = accounts.sign_in(ADMIN_EMAIL, PASSWORD)  # another browser
    accounts.sign_out(token)
    with pytest.raises(SessionEndedError, match="because you signed out"):
        accounts.resume(token)
    assert accounts.resume(other).person.id == admin.id
    accounts.sign_out(None)
    accounts.sign_out("never-issued")  # harmless


def test_a_tampered_unknown_or_missing_token_is_refused_clearly(accounts: Accounts, admin: PersonView) -> None:
    token, _ = accounts.sign_in(ADMIN_EMAIL, PASSWORD)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "x" * 43, hashlib.sha256(token.encode()).hexdigest()):  # the stored hash is no token
        with pytest.raises(SessionEndedError, match="not recognised"):
            accounts.resume(bad)
    for missing in (None, ""):
        with pytest.raises(SessionEndedError, match="You are not signed in"):
            accounts.resume(missing)
    assert accounts.resume(token).person.id == admin.id


def test_a_closed_account_cannot_sign_in_and_its_sessions_end(
        accounts: Accounts, admin: PersonView, engine: Engine) -> None:
    tutor = accounts.store.create_person("Tim Tutor", "tim@example.org", [Role.TUTOR],
                                         password_hash=accounts.hash_password(PASSWORD), actor_id=admin.id)
    token, _ = accounts.sign_in("tim@example.org", PASSWORD)
    accounts.store.update_person(tutor.id, actor_id=admin.id, active=False)

    with pytest.raises(SessionEndedError, match="because the account was closed"):
        accounts.resume(token)
    with pytest.raises(SignInError, match="This account has been closed"):
        accounts.sign_in("tim@example.org", PASSWORD)
    assert _attempts(engine)[-1] == ("tim@example.org", None, False)
    assert _refused(accounts, "tim@example.org", "a wrong password").startswith(WRONG_MESSAGE)  # no hint it exists

    # Closed directly in the database (no session ended by the store): resume notices too.
    accounts.store.update_person(tutor.id, actor_id=admin.id, active=True)
    token, _ = accounts.sign_in("tim@example.org", PASSWORD)
    with engine.begin() as c:
        c.execute(update(m.Person).where(m.Person.id == tutor.id).values(active=False))
    with pytest.raises(SessionEndedError, match="account was closed"):
        accounts.resume(token)
    with engine.connect() as c:
        reasons = c.execute(select(SignInSession.end_reason).order_by(SignInSession.id)).scalars().all()
    assert reasons == ["deactivated", "deactivated"]


# -- organisation sign-in --------------------------------------------------------------------------
def test_organisation_sign_in_matches_by_email_once_then_by_subject(accounts: Accounts, engine: Engine) -> None:
    olu = accounts.store.create_person("Olu Okoro", "olu.okoro@example.org", [Role.TUTOR])
    first = accounts.organisation_sign_in("cookie-1", "idp|olu", "Olu.Okoro@EXAMPLE.org")
    assert first.person.id == olu.id and first.session.method == "oidc"
    assert accounts.store.account(olu.id).oidc_subject == "idp|olu"
    with engine.connect() as c:
        linked = c.execute(select(AuditEntry.action, AuditEntry.entity_id)
                           .where(AuditEntry.action == "link_identity")).all()
    assert linked == [("link_identity", olu.id)]

    # Later sign-ins are matched by the subject, whatever email the provider now gives.
    later = accounts.organisation_sign_in("cookie-2", "idp|olu", "olu@new-domain.example")
    assert later.person.id == olu.id and later.session.id != first.session.id
    assert accounts.organisation_sign_in("cookie-2", "idp|olu", None).session.id == later.session.id


def test_organisation_sign_in_refuses_an_unknown_person_naming_the_email(accounts: Accounts, engine: Engine) -> None:
    accounts.store.create_person("Olu Okoro", "olu.okoro@example.org", [Role.TUTOR])
    with pytest.raises(SignInError, match=r"stranger@example\.org .*no Session Rater account"):
        accounts.organisation_sign_in("cookie-1", "idp|stranger", "stranger@example.org")
    with pytest.raises(SignInError, match="no subject"):
        accounts.organisation_sign_in("cookie-1", None, "olu.okoro@example.org")
    assert _count(engine, SignInSession) == 0


def test_organisation_sign_in_refuses_an_email_bound_to_another_subject(accounts: Accounts) -> None:
    olu = accounts.store.create_person("Olu Okoro", "olu.okoro@example.org", [Role.TUTOR])
    accounts.organisation_sign_in("cookie-1", "idp|olu", "olu.okoro@example.org")
    with pytest.raises(SignInError, match="linked to a different organisation identity"):
        accounts.organisation_sign_in("cookie-2", "idp|impostor", "olu.okoro@example.org")
    assert accounts.store.account(olu.id).oidc_subject == "idp|olu"


def test_organisation_sign_in_of_a_closed_account_is_refused(accounts: Accounts) -> None:
    olu = accounts.store.create_person("Olu Okoro", "olu.okoro@example.org", [Role.TUTOR])
    accounts.organisation_sign_in("cookie-1", "idp|olu", "olu.okoro@example.org")
    accounts.store.update_person(olu.id, actor_id=None, active=False)
    with pytest.raises(SessionEndedError, match="account was closed"):
        accounts.organisation_sign_in("cookie-1", "idp|olu", "olu.okoro@example.org")
    with pytest.raises(SignInError, match="This account has been closed"):
        accounts.organisation_sign_in("cookie-2", "idp|olu", "olu.okoro@example.org")


def test_an_organisation_session_belongs_to_the_subject_that_opened_it(accounts: Accounts) -> None:
    """The browser's cookie keys the session; another person's identity must never resume it
    (ui.auth passes "" when it cannot read the provider's cookie: then every browser shares it)."""
    olu = accounts.store.create_person("Olu Okoro", "olu.okoro@example.org", [Role.TUTOR])
    pat = accounts.store.create_person("Pat Peters", "pat.peters@example.org", [Role.ADMINISTRATOR])
    for cookie in ("the same cookie", ""):
        try:
            assert accounts.organisation_sign_in(cookie, "idp|olu", "olu.okoro@example.org").person.id == olu.id
            signed = accounts.organisation_sign_in(cookie, "idp|pat", "pat.peters@example.org")
        except AuthError:
            continue  # refusing is safe
        assert signed.person.id == pat.id, f"Pat's organisation sign-in (cookie {cookie!r}) resumed Olu's session"


# -- password rules ------------------------------------------------------------------------------
def test_a_password_too_short_or_too_long_is_refused_clearly_and_nothing_changes(
        accounts: Accounts, engine: Engine) -> None:
    with pytest.raises(SignInError, match="at least 10 characters"):
        accounts.create_first_administrator("Ada Admin", ADMIN_EMAIL, "short")
    assert accounts.needs_first_administrator() and _count(engine, m.Person) == 0

    admin = accounts.create_first_administrator("Ada Admin", ADMIN_EMAIL, PASSWORD)
    before = _password_hash(engine, admin.id)
    audit_before = _count(engine, AuditEntry)
    for bad, says in (("nine char", "at least 10 characters"), ("x" * 1025, "at most 1024 characters")):
        with pytest.raises(SignInError, match=says):
            accounts.set_password(admin.id, bad, actor_id=admin.id)
    assert _password_hash(engine, admin.id) == before
    assert _count(engine, AuditEntry) == audit_before
    accounts.sign_in(ADMIN_EMAIL, PASSWORD)

    accounts.set_password(admin.id, "a brand new passphrase", actor_id=admin.id)
    assert _refused(accounts, ADMIN_EMAIL, PASSWORD).startswith(WRONG_MESSAGE)
    accounts.sign_in(ADMIN_EMAIL, "a brand new passphrase")


def test_a_new_password_set_by_an_administrator_lifts_the_pause(
        accounts: Accounts, admin: PersonView, clock: Clock) -> None:
    """The pause message says "Wait, or ask an administrator to set a new password"."""
    tim = accounts.store.create_person("Tim Tutor", "tim@example.org", [Role.TUTOR],
                                       password_hash=accounts.hash_password(PASSWORD), actor_id=admin.id)
    for n in range(5):
        _refused(accounts, "tim@example.org", f"forgotten {n}")
    paused = _refused(accounts, "tim@example.org", PASSWORD)
    assert "ask an administrator to set a new password" in paused

    accounts.set_password(tim.id, "a fresh passphrase", actor_id=admin.id)
    _, signed = accounts.sign_in("tim@example.org", "a fresh passphrase")
    assert signed.person.id == tim.id
