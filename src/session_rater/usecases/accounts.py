"""Signing in: local accounts (argon2 password hashes), the first-run administrator, failed
sign-in rate limits, idle expiry, and matching an organisation (OpenID Connect) identity to a
person. The web layer (ui.auth for the script, web for the sign-in routes) calls this; nothing
else in the app knows how someone signed in.

Rate limits (OWASP Authentication Cheat Sheet, "Protect against automated attacks"): after
``MAX_FAILURES`` failed sign-ins for one email within ``FAILURE_WINDOW`` further tries for that
email are refused until the window has passed, whatever the password; after
``CLIENT_MAX_FAILURES`` failures from one client address (any emails) that address is slowed
down (its tries wait ``CLIENT_SLOWDOWN_SECONDS`` each, one at a time), never refused outright:
behind a proxy many people share one address, and the right password must still work. Unknown
emails and wrong passwords get the same message, and take the same time (a dummy hash is
verified), so the form does not tell which emails have accounts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from session_rater.db.accounts_store import AccountsStore, SignInSessionView
from session_rater.db.models import utcnow
from session_rater.db.store import Store
from session_rater.domain.records import AccountView, PersonView
from session_rater.domain.model import Role
from session_rater.errors import SessionEndedError, SignInError

MAX_FAILURES = 5
CLIENT_MAX_FAILURES = 30
CLIENT_SLOWDOWN_SECONDS = 3.0  # each try from an address past CLIENT_MAX_FAILURES waits this long, one at a time
FAILURE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
TOUCH_EVERY = dt.timedelta(seconds=30)  # last-seen is written at most this often per session

WRONG = "That email and password do not match an account. Check both and try again"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    """NIST SP 800-63B 5.1.1.2: length, not composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SignInError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters; a few words make a good one.")
    if len(password) > 1024:
        raise SignInError("A password can be at most 1024 characters.")


@dataclass(frozen=True)
class SignedIn:
    person: PersonView
    session: SignInSessionView


class Accounts:
    def __init__(self, store: AccountsStore, people: Store, *, idle: dt.timedelta,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.store = store
        self.people = people
        self.idle = idle
        self.clock = clock
        self.hasher = PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    # -- accounts --------------------------------------------------------------------------
    def add_person(self, display_name: str, email: str | None, roles: list[Role], password: str | None, *,
                   actor_id: int | None) -> PersonView:  # fmt: skip
        """A new account (audited); without a password it signs in only through the organisation."""
        hashed = self.hash_password(password) if password is not None else None
        return self.store.create_person(display_name, email, roles, password_hash=hashed, actor_id=actor_id)

    def person_id_for_email(self, email: str) -> int | None:
        found = self.store.credentials(email)
        return None if found is None else found[0]

    def accounts(self) -> list[AccountView]:
        """Everyone, closed accounts included, with their roles and scope."""
        return self.store.accounts()

    def hash_password(self, password: str) -> str:
        check_password_rules(password)
        return self.hasher.hash(password)

    def needs_first_administrator(self) -> bool:
        return not self.store.has_administrator()

    def create_first_administrator(self, display_name: str, email: str, password: str) -> PersonView:
        """The first-run step. Refused once an administrator exists (then an administrator
        adds people from the People page)."""
        if not display_name.strip() or "@" not in email:
            raise SignInError("Give the administrator's name and email address.")
        hashed = self.hash_password(password)
        return self.store.create_person(display_name, email, [Role.ADMINISTRATOR], password_hash=hashed,
                                        only_if_no_administrator=True)

    def set_password(self, person_id: int, password: str, *, actor_id: int | None) -> None:
        """A new password; it also lifts a pause after failed sign-ins (failures count from the
        last success, and setting a password counts as one)."""
        self.store.set_password_hash(person_id, self.hash_password(password), actor_id=actor_id)
        email = self.people.get_person(person_id).email
        if email:
            self.store.record_attempt(email, None, True, self.clock())

    # -- local sign-in -----------------------------------------------------------------------
    def locked_until(self, login: str) -> tuple[dt.datetime, str] | None:
        """When further sign-in tries for this email will be heard again, and why; None if the
        account is not paused. (An address with many failures is slowed down instead, by the
        sign-in route: see :meth:`client_delay`.)"""
        failures = self.store.failures_since(self.clock() - FAILURE_WINDOW, login=login)
        if len(failures) >= MAX_FAILURES:
            return failures[-MAX_FAILURES] + FAILURE_WINDOW, "this account is paused"
        return None

    def sign_in(self, login: str, password: str, *, client: str | None = None) -> tuple[str, SignedIn]:
        """A new session token for the person whose email and password these are."""
        login = login.strip()
        if not login or not password:
            raise SignInError("Enter your email and your password.")
        locked = self.locked_until(login)
        if locked is not None:
            until, what = locked
            minutes = max(1, round((until - self.clock()).total_seconds() / 60))
            raise SignInError(
                f"Too many failed sign-ins: {what} for {minutes} more minute(s). "
                "Wait, or ask an administrator to set a new password."
            )
        found = self.store.credentials(login)
        stored = found[1] if found and found[1] else self._dummy_hash
        try:
            matched = self.hasher.verify(stored, password) and found is not None and found[1] is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            matched = False
        if matched and found is not None and not found[2]:
            self.store.record_attempt(login, client, False, self.clock())
            raise SignInError("This account has been closed. Ask an administrator if you need it again.")
        self.store.record_attempt(login, client, matched, self.clock())
        if not matched or found is None:
            left = MAX_FAILURES - len(self.store.failures_since(self.clock() - FAILURE_WINDOW, login=login))
            hint = f" ({left} more tries before a 15-minute pause)." if 0 < left < MAX_FAILURES else "."
            raise SignInError(WRONG + hint)
        person_id, stored_hash, _ = found
        if self.hasher.check_needs_rehash(stored_hash):  # parameters were raised since it was set
            self.store.set_password_hash(person_id, self.hasher.hash(password), actor_id=person_id)
        token = secrets.token_urlsafe(32)
        session = self.store.open_session(token_hash(token), person_id, "password", self.clock())
        return token, SignedIn(self.people.get_person(person_id), session)

    def resume(self, token: str | None) -> SignedIn:
        """The person a session token belongs to, if the session is still live; marks it seen."""
        if not token:
            raise SessionEndedError("You are not signed in.")
        session = self.store.session_by_token(token_hash(token))
        if session is None:
            raise SessionEndedError("Your sign-in was not recognised (it may have been altered). Sign in again.")
        return self._check(session)

    def _check(self, session: SignInSessionView) -> SignedIn:
        now = self.clock()
        if session.ended_at is not None:
            why = {"idle": f"after {self._idle_text()} without activity", "signed_out": "because you signed out",
                   "deactivated": "because the account was closed"}.get(session.end_reason or "", "")
            raise SessionEndedError(f"Your session ended {why}. Sign in again.".replace("  ", " "))
        if now - session.last_seen_at > self.idle:
            self.store.end_session(session.id, "idle", now)
            raise SessionEndedError(f"Your session ended after {self._idle_text()} without activity. Sign in again.")
        person = self.store.active_person(session.person_id)
        if person is None:
            self.store.end_session(session.id, "deactivated", now)
            raise SessionEndedError("Your session ended because the account was closed.")
        if now - session.last_seen_at >= TOUCH_EVERY:
            self.store.touch_session(session.id, now)
        return SignedIn(person, session)

    def _idle_text(self) -> str:
        minutes = round(self.idle.total_seconds() / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"

    def sign_out(self, token: str | None) -> None:
        if token:
            session = self.store.session_by_token(token_hash(token))
            if session is not None:
                self.store.end_session(session.id, "signed_out", self.clock())

    # -- organisation sign-in (OpenID Connect) -------------------------------------------------
    def organisation_sign_in(self, cookie: str, subject: str | None, email: str | None) -> SignedIn:
        """The person an identity provider's user is, matched by subject then email.

        ``cookie`` is the identity cookie the provider's sign-in left in this browser; each
        sign-in makes a new one, so it keys the idle clock of this browser's session."""
        if not subject:
            raise SignInError("The identity provider did not say who you are (no subject). Ask your administrator.")
        if not cookie:
            raise SignInError("Your organisation sign-in could not be read in this browser. Sign out and in again.")
        key = token_hash("oidc\n" + cookie)
        session = self.store.session_by_token(key)
        if session is not None and self.store.oidc_subject(session.person_id) != subject:
            raise SignInError("This browser's organisation sign-in belongs to someone else. Sign out and in again.")
        if session is None:
            match = self.store.person_for_identity(subject, email)
            if match is None:
                raise SignInError(
                    f"{email or subject} signed in with your organisation, but has no Session Rater account. "
                    "Ask an administrator to add you with that email address."
                )
            person_id, active = match
            if not active:
                raise SignInError("This account has been closed. Ask an administrator if you need it again.")
            session = self.store.open_session(key, person_id, "oidc", self.clock())
        return self._check(session)

    def signed_in(self, token: str | None, organisation_cookie: str | None) -> SignedIn | None:
        """Who a request's cookies sign in (the local session cookie, or the organisation's
        identity cookie of a session the app already opened), if that session is live; it
        counts as activity. Never revives a session that has ended or gone idle."""
        keys = ([token_hash(token)] if token else []) + (
            [token_hash("oidc\n" + organisation_cookie)] if organisation_cookie else [])
        for key in keys:
            session = self.store.session_by_token(key)
            if session is None:
                continue
            try:
                return self._check(session)
            except SessionEndedError:
                continue
        return None

    def keep_alive(self, token: str | None, organisation_cookie: str | None) -> bool:
        """Watching a recording is activity: the player calls this while the video plays, so
        a rater who watches for an hour without touching the form is not signed out. Never
        revives a session that has already ended or gone idle."""
        return self.signed_in(token, organisation_cookie) is not None

    def session_is_live(self, session_id: int, person_id: int) -> bool:
        """Whether sign-in session ``session_id`` is ``person_id``'s and still live (not ended,
        not idle past the limit, the account open). Does not count as activity."""
        session = self.store.session_by_id(session_id)
        if session is None or session.person_id != person_id or session.ended_at is not None:
            return False
        return self.clock() - session.last_seen_at <= self.idle

    @staticmethod
    def signout_token(session_token: str) -> str:
        """The sign-out form's token: derived from the session it ends, so only a page of that
        session can have it (another site can neither read the cookie nor compute this)."""
        return hashlib.sha256(f"signout\n{session_token}".encode()).hexdigest()[:32]

    def client_delay(self, client: str | None) -> float:
        """Seconds to hold a sign-in from ``client`` before hearing it: none, unless that address
        has failed :data:`CLIENT_MAX_FAILURES` times within the window (then it is slowed down,
        never stopped: the right password still signs in)."""
        if not client:
            return 0.0
        failures = self.store.failures_since(self.clock() - FAILURE_WINDOW, client=client)
        return CLIENT_SLOWDOWN_SECONDS if len(failures) >= CLIENT_MAX_FAILURES else 0.0

    def end_organisation_session(self, cookie: str) -> None:
        session = self.store.session_by_token(token_hash("oidc\n" + cookie))
        if session is not None:
            self.store.end_session(session.id, "signed_out", self.clock())
