"""The sign-in and sign-out pages for local accounts, served beside Streamlit as plain HTTP
routes so that the session cookie can be HttpOnly (a Streamlit script cannot set cookies).

``POST /signin`` checks the email and password (accounts.Accounts.sign_in: argon2, rate
limits), sets ``sr_session`` (HttpOnly, SameSite=Lax, Secure under https) to a random token
whose hash the database keeps, and sends the browser back to the page it came from. The
Streamlit script reads the cookie through ui.auth.current_user().

Cross-site request forgery: both forms carry a token another site cannot know, and are refused
when the browser says they came from another site (Origin, else Referer). The sign-in form's
token is also kept in an HttpOnly cookie of its own (double submit); the sign-out form's is
derived from the session being ended. Sign-out is a POST; ``GET /signout`` only asks.

Client addresses: the address that connects, or behind a trusted reverse proxy
(SESSION_RATER_TRUSTED_PROXIES) the one X-Forwarded-For names. Many failed sign-ins from one
address slow that address down (its tries are taken one at a time, a few seconds apart); they
never stop an account's right password on their own. Each account's own pause stays.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import secrets
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from session_rater.errors import SessionRaterError, SignInError, StorageError
from session_rater.usecases.accounts import Accounts
from session_rater.web.clients import Network, client_address, sent_from_this_site

log = logging.getLogger("session_rater.signin")

SESSION_COOKIE = "sr_session"
SIGNIN_PATH = "/signin"
SIGNOUT_PATH = "/signout"
KEEPALIVE_PATH = "/session/keepalive"  # the player posts here while a recording plays
ORGANISATION_COOKIE = "_streamlit_user"  # st.login's identity cookie
CSRF_COOKIE = "sr_csrf"  # the sign-in form's token, double submitted (cookie and form field)
FOREIGN_FORM = ("This form was not sent from Session Rater's own page (or it is too old). Nothing was done. "
                "Open Session Rater again and sign in from there.")  # fmt: skip
UNAVAILABLE = ("Signing in is not possible just now: the database cannot be written to. Nothing was changed. "
               "Try again in a few minutes; if it goes on, tell your administrator.")  # fmt: skip

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · Session Rater</title>
<style>
 body{{font-family:"Source Sans Pro",system-ui,sans-serif;background:#f6f7f9;color:#262730;margin:0}}
 main{{max-width:26rem;margin:8vh auto;background:#fff;border:1px solid #e1e3e8;border-radius:.75rem;padding:2rem 2.25rem}}
 h1{{font-size:1.6rem;margin:0 0 .25rem}} p.lead{{color:#555;margin:0 0 1.5rem}}
 label{{display:block;font-weight:600;margin:1rem 0 .35rem}}
 input{{width:100%;box-sizing:border-box;padding:.6rem .7rem;border:1px solid #c8cad0;border-radius:.5rem;font-size:1rem}}
 button{{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:.5rem;background:#b3261e;color:#fff;font-size:1rem;font-weight:600;cursor:pointer}}
 .msg{{padding:.75rem 1rem;border-radius:.5rem;margin-bottom:1rem}} .error{{background:#ffecec;color:#7d1a1a}}
 .info{{background:#e8f2fc;color:#0b3d6b}} .foot{{color:#545454;font-size:.9rem;margin-top:1.5rem}}
</style></head>
<body><main>
<h1>Session Rater</h1><p class="lead">Sign in with your Session Rater account.</p>
{message}
<form method="post" action="{action}">
 <input type="hidden" name="csrf" value="{csrf}">
 <label for="email">Email</label>
 <input id="email" name="email" type="email" autocomplete="username" required value="{email}" autofocus>
 <label for="password">Password</label>
 <input id="password" name="password" type="password" autocomplete="current-password" required>
 <button type="submit">Sign in</button>
</form>
<p class="foot">Forgotten your password? An administrator can set a new one.{extra}</p>
</main></body></html>
"""


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                       "frame-ancestors 'none'; base-uri 'none'"}  # fmt: skip


def signin_page(*, message: str = "", kind: str = "error", email: str = "", next_path: str = "/",
                organisation: bool = False, status: int = 200, csrf: str = "") -> HTMLResponse:
    box = f'<div class="msg {kind}" role="alert">{html.escape(message)}</div>' if message else ""
    extra = (' Or <a href="/?signin=organisation">sign in with your organisation</a>.' if organisation else "")
    action = SIGNIN_PATH + "?" + urlencode({"next": next_path})
    body = _PAGE.format(message=box, action=html.escape(action), email=html.escape(email), extra=extra,
                        csrf=html.escape(csrf))  # fmt: skip
    return HTMLResponse(body, status_code=status, headers=dict(_HEADERS))


_SIGNOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign out · Session Rater</title>
<style>
 body{{font-family:"Source Sans Pro",system-ui,sans-serif;background:#f6f7f9;color:#262730;margin:0}}
 main{{max-width:26rem;margin:8vh auto;background:#fff;border:1px solid #e1e3e8;border-radius:.75rem;padding:2rem 2.25rem}}
 h1{{font-size:1.6rem;margin:0 0 1rem}}
 button{{width:100%;padding:.7rem;border:0;border-radius:.5rem;background:#b3261e;color:#fff;font-size:1rem;font-weight:600;cursor:pointer}}
 a{{color:#0b57a4}}
</style></head>
<body><main>
<h1>Sign out of Session Rater?</h1>
<form method="post" action="{action}"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" autofocus>Sign out</button></form>
<p><a href="/">Back to Session Rater</a></p>
</main></body></html>
"""


def _set_csrf_cookie(response: Response, token: str, request: Request) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path=SIGNIN_PATH,
                        secure=request.url.scheme == "https")  # fmt: skip


def make_auth_routes(
    get_accounts: Callable[[], Accounts],
    organisation_configured: Callable[[], bool] = lambda: False,
    trusted_proxies: Callable[[], Sequence[Network]] = lambda: (),
) -> list[Route]:
    gates: dict[str, asyncio.Lock] = {}  # one try at a time from an address that is being slowed down

    def page(request: Request, csrf: str | None = None, **kwargs: object) -> HTMLResponse:
        """The sign-in page with a form token: the browser's, or a new one set as its cookie."""
        token = csrf or request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = signin_page(csrf=token, **kwargs)  # type: ignore[arg-type]
        if request.cookies.get(CSRF_COOKIE) != token:
            _set_csrf_cookie(response, token, request)
        return response

    async def signin(request: Request) -> Response:
        next_path = safe_next(request.query_params.get("next"))
        organisation = await run_in_threadpool(organisation_configured)
        if request.method == "GET":
            said = "You have signed out." if "signed_out" in request.query_params else ""
            return page(request, message=said, kind="info", next_path=next_path, organisation=organisation)
        form = await request.form()
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        proxies = trusted_proxies()
        cookie_token, form_token = request.cookies.get(CSRF_COOKIE) or "", str(form.get("csrf", ""))
        if not sent_from_this_site(request, proxies) or not cookie_token or not hmac.compare_digest(
                cookie_token.encode(), form_token.encode()):
            log.warning("sign-in form refused: not from this site or no matching form token (origin %r)",
                        request.headers.get("origin") or request.headers.get("referer"))
            return page(request, message=FOREIGN_FORM, email="", next_path=next_path, organisation=organisation,
                        status=403)  # fmt: skip
        client = client_address(request, proxies)
        accounts = await run_in_threadpool(get_accounts)
        try:
            delay = await run_in_threadpool(accounts.client_delay, client)
            if delay > 0 and client is not None:
                async with gates.setdefault(client, asyncio.Lock()):
                    await asyncio.sleep(delay)
                    token, _ = await run_in_threadpool(accounts.sign_in, email, password, client=client)
            else:
                token, _ = await run_in_threadpool(accounts.sign_in, email, password, client=client)
        except SignInError as exc:
            status = 429 if "Too many" in str(exc) else 401
            return page(request, message=str(exc), email=email, next_path=next_path, organisation=organisation,
                        status=status)  # fmt: skip
        except StorageError:
            log.exception("sign-in failed: the database cannot be written to")
            return page(request, message=UNAVAILABLE, email=email, next_path=next_path, organisation=organisation,
                        status=503)  # fmt: skip
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https")
        response.delete_cookie(CSRF_COOKIE, path=SIGNIN_PATH)
        return response

    async def signout(request: Request) -> Response:
        session_token = request.cookies.get(SESSION_COOKIE)
        accounts = await run_in_threadpool(get_accounts)
        if request.method == "GET":  # an old link or a bookmark: ask, with a form that can end the session
            if not session_token:
                return RedirectResponse(SIGNIN_PATH, status_code=303)
            body = _SIGNOUT_PAGE.format(action=SIGNOUT_PATH, csrf=html.escape(accounts.signout_token(session_token)))
            return HTMLResponse(body, headers=dict(_HEADERS))
        form = await request.form()
        expected = accounts.signout_token(session_token) if session_token else ""
        if not sent_from_this_site(request, trusted_proxies()) or not expected or not hmac.compare_digest(
                expected.encode(), str(form.get("csrf", "")).encode()):
            log.warning("sign-out form refused: not from this site or no matching form token")
            return HTMLResponse(FOREIGN_FORM, status_code=403, headers=dict(_HEADERS))
        try:
            await run_in_threadpool(accounts.sign_out, session_token)
        except SessionRaterError:
            log.exception("sign-out could not be recorded")
        response = RedirectResponse(SIGNIN_PATH + "?signed_out=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie("sr_viewer", path="/recordings")
        return response

    async def keepalive(request: Request) -> Response:
        accounts = await run_in_threadpool(get_accounts)
        try:
            alive = await run_in_threadpool(accounts.keep_alive, request.cookies.get(SESSION_COOKIE),
                                            request.cookies.get(ORGANISATION_COOKIE))
        except SessionRaterError:
            log.exception("keepalive could not be recorded")
            alive = True  # the database is failing, not the session: do not send the player away
        return Response(status_code=204 if alive else 401, headers={"Cache-Control": "no-store"})

    return [
        Route(KEEPALIVE_PATH, keepalive, methods=["POST"]),
        Route(SIGNIN_PATH, signin, methods=["GET", "POST"]),
        Route(SIGNOUT_PATH, signout, methods=["GET", "POST"]),
    ]
