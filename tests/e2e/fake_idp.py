"""A fake OpenID Connect provider for the organisation sign-in e2e test.

Just enough of OIDC for Streamlit's ``st.login`` (Authlib): discovery, an authorization
endpoint that approves at once (no login form) for whichever user the test has set, a token
endpoint that checks the client, the code, the redirect URI and the PKCE verifier and returns
an RS256 ``id_token`` carrying the request's nonce, and the JWKS. It runs with uvicorn in a
thread of the test process on 127.0.0.1 and a free port (shared/design/recordings-notes.md,
section 7).

Not a model of a real provider: codes never expire (they are single-use), nothing is signed
out, and there is no userinfo endpoint (Authlib takes the user from the id_token).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class IdpUser:
    """Who the provider says signed in: the id_token's ``sub``, ``email``, ``email_verified``
    and ``name``."""

    sub: str
    email: str
    name: str
    email_verified: bool = True


@dataclass
class FakeIdP:
    client_id: str = "session-rater-e2e"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: IdpUser = field(default_factory=lambda: IdpUser("nobody", "nobody@idp.example", "Nobody"))
    issuer: str = ""  # set when it starts (it holds the port)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "fake-idp-1"}))
    codes: dict[str, dict[str, object]] = field(default_factory=dict)
    tokens_issued: list[dict[str, object]] = field(default_factory=list)  # the id_token claims, in order
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    # -- endpoints ---------------------------------------------------------------------------
    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        })

    async def authorize(self, request: Request) -> Response:
        """Approve at once: back to the client's redirect URI with a code and its state."""
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return PlainTextResponse("bad authorization request", status_code=400)
        if "openid" not in (q.get("scope") or "").split():
            return PlainTextResponse("scope must include openid", status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "user": self.user,
            "nonce": q.get("nonce"),
            "redirect_uri": q["redirect_uri"],
            "challenge": q.get("code_challenge"),
            "challenge_method": q.get("code_challenge_method"),
        }
        query = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(query)}", status_code=302)

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        # RFC 6749 2.3.1: both are form-encoded before base64 (Authlib quotes them)
        return unquote(client_id) == self.client_id and unquote(client_secret) == self.client_secret

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not self._client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(form.get("code", ""), None)  # single use
        if form.get("grant_type") != "authorization_code" or grant is None \
                or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if grant["challenge"] is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant["challenge_method"] != "S256" or digest != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        user: IdpUser = grant["user"]  # type: ignore[assignment]
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer, "sub": user.sub, "aud": self.client_id, "iat": now, "exp": now + 600,
            "email": user.email, "email_verified": user.email_verified, "name": user.name,
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        self.tokens_issued.append(claims)
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return JSONResponse({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                             "expires_in": 600, "id_token": id_token, "scope": "openid email profile"},
                            headers={"Cache-Control": "no-store"})

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
        ])

    # -- running -----------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> FakeIdP:
        """Serve on 127.0.0.1 and a free port, in a daemon thread; returns once it listens."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off", ws="none", http="h11",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="fake-idp", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake identity provider did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
