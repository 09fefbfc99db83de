"""The sign-in and sign-out pages for local accounts, served beside Streamlit as plain HTTP
routes so that the session cookie can be HttpOnly (a Streamlit script cannot set cookies).

``POST /signin`` checks the email and password (accounts.Accounts.sign_in: argon2, rate
limits), sets ``sr_session`` (HttpOnly, SameSite=Lax, Secure under https) to a random token
whose hash the database keeps, and sends the browser back to the page it came from. The
Streamlit script reads the cookie through ui.auth.current_user().
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from session_rater.usecases.accounts import Accounts
from session_rater.errors import SignInError

SESSION_COOKIE = "sr_session"
SIGNIN_PATH = "/signin"
SIGNOUT_PATH = "/signout"
KEEPALIVE_PATH = "/session/keepalive"  # the player posts here while a recording plays
ORGANISATION_COOKIE = "_streamlit_user"  # st.login's identity cookie

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · Session Rater</title>
<style>
 body{{font-family:"Source Sans Pro",system-ui,sans-serif;background:#f6f7f9;color:#262730;margin:0}}
 main{{max-width:26rem;margin:8vh auto;background:#fff;border:1px solid #e1e3e8;border-radius:.75rem;padding:2rem 2.25rem}}
 h1{{font-size:1.6rem;margin:0 0 .25rem}} p.lead{{color:#555;margin:0 0 1.5rem}}
 label{{display:block;font-weight:600;margin:1rem 0 .35rem}}
 input{{width:100%;box-sizing:border-box;padding:.6rem .7rem;border:1px solid #c8cad0;border-radius:.5rem;font-size:1rem}}
 button{{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:.5rem;background:#ff4b4b;color:#fff;font-size:1rem;font-weight:600;cursor:pointer}}
 .msg{{padding:.75rem 1rem;border-radius:.5rem;margin-bottom:1rem}} .error{{background:#ffecec;color:#7d1a1a}}
 .info{{background:#e8f2fc;color:#0b3d6b}} .foot{{color:#777;font-size:.9rem;margin-top:1.5rem}}
</style></head>
<body><main>
<h1>Session Rater</h1><p class="lead">Sign in with your Session Rater account.</p>
{message}
<form method="post" action="{action}">
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


def signin_page(*, message: str = "", kind: str = "error", email: str = "", next_path: str = "/",
                organisation: bool = False, status: int = 200) -> HTMLResponse:
    box = f'<div class="msg {kind}" role="alert">{html.escape(message)}</div>' if message else ""
    extra = (' Or <a href="/?signin=organisation">sign in with your organisation</a>.' if organisation else "")
    action = SIGNIN_PATH + "?" + urlencode({"next": next_path})
    body = _PAGE.format(message=box, action=html.escape(action), email=html.escape(email), extra=extra)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                                           "Referrer-Policy": "no-referrer"})


def make_auth_routes(get_accounts: Callable[[], Accounts], organisation_configured: Callable[[], bool] = lambda: False) -> list[Route]:
    async def signin(request: Request) -> Response:
        next_path = safe_next(request.query_params.get("next"))
        organisation = await run_in_threadpool(organisation_configured)
        if request.method == "GET":
            said = "You have signed out." if "signed_out" in request.query_params else ""
            return signin_page(message=said, kind="info", next_path=next_path, organisation=organisation)
        form = await request.form()
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        client = request.client.host if request.client else None
        accounts = await run_in_threadpool(get_accounts)
        try:
            token, _ = await run_in_threadpool(accounts.sign_in, email, password, client=client)
        except SignInError as exc:
            status = 429 if "Too many" in str(exc) else 401
            return signin_page(message=str(exc), email=email, next_path=next_path, organisation=organisation,
                               status=status)
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https")
        return response

    async def signout(request: Request) -> Response:
        accounts = await run_in_threadpool(get_accounts)
        await run_in_threadpool(accounts.sign_out, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(SIGNIN_PATH + "?signed_out=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie("sr_viewer", path="/recordings")
        return response

    async def keepalive(request: Request) -> Response:
        accounts = await run_in_threadpool(get_accounts)
        alive = await run_in_threadpool(accounts.keep_alive, request.cookies.get(SESSION_COOKIE),
                                        request.cookies.get(ORGANISATION_COOKIE))
        return Response(status_code=204 if alive else 401, headers={"Cache-Control": "no-store"})

    return [
        Route(KEEPALIVE_PATH, keepalive, methods=["POST"]),
        Route(SIGNIN_PATH, signin, methods=["GET", "POST"]),
        Route(SIGNOUT_PATH, signout, methods=["GET", "POST"]),
    ]
