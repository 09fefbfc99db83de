"""Who is using the app: the one seam, :func:`current_user`. Local accounts (the sign-in page
at /signin sets an HttpOnly session cookie) and organisation sign-in (OpenID Connect through
``st.login``, configured by ``[auth]`` in .streamlit/secrets.toml) both end here; no page
knows which was used.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode, urlsplit

import streamlit as st

from session_rater.ui.text import plain
from session_rater.errors import AuthError, SessionRaterError
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services
from session_rater.web.signin import ORGANISATION_COOKIE, SESSION_COOKIE, SIGNIN_PATH, SIGNOUT_PATH

# A local session token handed to the script in session state rather than in the cookie (the
# Streamlit test harness, which cannot send cookies). It is checked exactly like the cookie.
TOKEN_KEY = "_sr_session_token"


def organisation_configured() -> bool:
    """Whether an OpenID Connect provider is set up (``[auth]`` in .streamlit/secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all  # noqa: BLE001
        return False


def _here() -> str:
    """This page's path and query, to come back to after signing in."""
    url = getattr(st.context, "url", None) or ""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _organisation_user(svc: Services) -> Permitted | str | None:
    """The person signed in through the organisation's provider; a message if that failed;
    None if nobody is signed in that way."""
    if not organisation_configured() or not st.user.is_logged_in:
        return None
    cookie = st.context.cookies.get(ORGANISATION_COOKIE) or ""
    try:
        # An email the provider says it has not verified is not used to find the account.
        email = st.user.get("email") if st.user.get("email_verified") is not False else None
        signed = svc.accounts.organisation_sign_in(cookie, st.user.get("sub"), email)  # type: ignore[arg-type]
    except AuthError as exc:
        return str(exc)
    return Permitted(svc, signed.person, signed.session.id)


def current_user(svc: Services) -> Permitted | None:
    """The signed-in person and what they may do; None after showing the sign-in screen."""
    organisation = _organisation_user(svc)
    if isinstance(organisation, Permitted):
        return organisation
    message = organisation or ""
    token = st.session_state.get(TOKEN_KEY) or st.context.cookies.get(SESSION_COOKIE)
    if token:
        try:
            signed = svc.accounts.resume(token)
            return Permitted(svc, signed.person, signed.session.id)
        except AuthError as exc:
            message = str(exc)
    sign_in_screen(svc, message, organisation_failed=organisation is not None)
    return None


def _same_tab_link(label: str, href: str, *, primary: bool = False) -> None:
    """A link styled as a button that opens in this tab (st.link_button always opens a new
    one, which would leave the old tab showing the app after signing out)."""
    colours = "background:#ff4b4b;color:#fff;border-color:#ff4b4b" if primary else "background:#fff;color:#31333f"
    st.markdown(
        f'<a href="{html.escape(href)}" target="_self" style="display:inline-block;padding:.4rem .9rem;'
        f'border:1px solid rgba(49,51,63,.2);border-radius:.5rem;text-decoration:none;{colours}">'
        f"{html.escape(label)}</a>",
        unsafe_allow_html=True,
    )


def _sign_out_form(svc: Services) -> None:
    """Sign-out is a POST with a token derived from this session (a link, or a form another
    site could send, cannot sign anyone out)."""
    token = st.session_state.get(TOKEN_KEY) or st.context.cookies.get(SESSION_COOKIE) or ""
    st.markdown(
        f'<form method="post" action="{SIGNOUT_PATH}" target="_self" style="margin:0">'
        f'<input type="hidden" name="csrf" value="{html.escape(svc.accounts.signout_token(token))}">'
        '<button type="submit" style="padding:.4rem .9rem;border:1px solid rgba(49,51,63,.45);border-radius:.5rem;'
        'background:#fff;color:#262730;font:inherit;cursor:pointer">Sign out</button></form>',
        unsafe_allow_html=True,
    )


def sign_out_control(svc: Services, me: Permitted) -> None:
    roles = ", ".join(sorted(r.replace("_", " ") for r in me.person.roles)) or "no role yet"
    with st.sidebar:
        st.markdown(f"Signed in as **{plain(me.person.display_name)}**  \n:small[{roles}]")
        if organisation_configured() and st.user.is_logged_in:
            if st.button("Sign out", icon=":material/logout:", key="sign_out"):
                svc.accounts.end_organisation_session(st.context.cookies.get(ORGANISATION_COOKIE) or "")
                st.logout()
        else:
            _sign_out_form(svc)


def sign_in_screen(svc: Services, message: str = "", *, organisation_failed: bool = False) -> None:
    organisation = organisation_configured()
    if organisation and st.query_params.get("signin") == "organisation" and not organisation_failed:
        st.login()
    st.title("Session Rater")
    if message:
        st.warning(plain(message), icon=":material/lock:")
    try:
        first_run = svc.accounts.needs_first_administrator()
    except SessionRaterError as exc:
        st.error(plain(exc))
        return
    if first_run and not organisation:
        _first_administrator(svc)
        return
    st.write("Score recorded programme sessions against the integrity checklist, blind, and see "
             "how ratings compare with the benchmark. Sign in to go on.")
    left, right, _ = st.columns([1, 1, 2])
    with left:
        _same_tab_link("Sign in", SIGNIN_PATH + "?" + urlencode({"next": _here()}), primary=True)
    if organisation:
        if organisation_failed:
            if right.button("Sign out of the organisation account", use_container_width=True):
                svc.accounts.end_organisation_session(st.context.cookies.get(ORGANISATION_COOKIE) or "")
                st.logout()
        elif right.button("Sign in with your organisation", icon=":material/badge:", use_container_width=True):
            st.login()


def _first_administrator(svc: Services) -> None:
    st.subheader("First run: create the administrator")
    st.write("Nobody can sign in yet. The administrator adds the tutors, managers and assessors, "
             "their teams and areas, and assigns sessions. Keep this password safe.")
    with st.form("first_administrator"):
        name = st.text_input("Your name")
        email = st.text_input("Email (you sign in with it)")
        password = st.text_input("Password (at least 10 characters)", type="password")
        again = st.text_input("Password again", type="password")
        if st.form_submit_button("Create the administrator", type="primary"):
            if password != again:
                st.error("The two passwords differ; type the same one twice.")
                return
            try:
                person = svc.accounts.create_first_administrator(name, email, password)
            except SessionRaterError as exc:
                st.error(plain(exc))
                return
            st.success(f"{plain(person.display_name)} is the administrator. Sign in with {plain(person.email)}.")
            _same_tab_link("Sign in", SIGNIN_PATH, primary=True)
