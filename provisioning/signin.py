"""The administrator's sign-in for `python run.py setup`.

Two ways, both giving a token provider for a `GenesysClient`:

* **browser** (interactive): OAuth authorization code with PKCE (RFC 7636, ``S256``), as command-line
  tools do it: a one-shot HTTP server on loopback receives the redirect, the code is exchanged
  at ``{login}/oauth/token`` with ``grant_type=authorization_code``, ``code``, ``code_verifier``,
  ``client_id`` and ``redirect_uri`` and no secret (the official SDK's ``ApiClient.get_pkce_token``).
  The OAuth client is a "Code Authorization" client of the org whose redirect URIs include the loopback
  address used here (Genesys' own CLI asks for the same: a browser-login client with
  ``http://localhost:PORT``).
* **admin client** (automation): the client-credentials grant of an OAuth client holding the
  administrator's permissions (genesys/permissions.py `SETUP_NEEDS`).

Tokens and secrets are never printed or logged.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from genesys.auth import AccessTokens, TokenProvider
from genesys.config import ClientConfig
from genesys.errors import GenesysError
from provisioning.regions import Region

logger = logging.getLogger(__name__)

DEFAULT_REDIRECT_URI = "http://127.0.0.1:53682/oauth/callback"
SIGN_IN_TIMEOUT_S = 300.0


class SignInError(Exception):
    """The administrator could not be signed in (the message says what to do)."""


class StaticTokenProvider:
    """A token obtained once (the administrator's browser sign-in) in the `TokenProvider` interface."""

    def __init__(self, token: str, expires_in_s: float) -> None:
        self._token = token
        self._expires_at = time.monotonic() + max(0.0, expires_in_s)
        self.fetch_count = 1

    def token(self) -> str:
        if time.monotonic() >= self._expires_at:
            raise SignInError("the administrator's sign-in has expired: run `python run.py setup` again")
        return self._token

    def authorization(self) -> str:
        return f"Bearer {self.token()}"

    def invalidate(self, token: str | None = None) -> None:
        """Nothing to refresh: a rejected token stays rejected (the request then fails)."""

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class AdminSession:
    region: Region
    tokens: AccessTokens  # TokenProvider or StaticTokenProvider
    kind: str  # "browser" (a person) or "client" (an admin OAuth client)
    client_id: str
    who: str = ""  # filled in from the API once signed in

    @property
    def is_person(self) -> bool:
        return self.kind == "browser"


def unreachable(region: Region, detail: str) -> SignInError:
    return SignInError(
        f"Genesys Cloud does not answer at {region.login_url} ({detail}). Check the region "
        "(--region: a name such as mypurecloud.ie, or the API URL) and this machine's network and proxy."
    )


def sign_in_with_client(region: Region, client_id: str, client_secret: str) -> AdminSession:
    """Client-credentials sign-in of an admin OAuth client (the token is fetched now, to fail early)."""
    config = ClientConfig(region.api_url, client_id, client_secret, login_url=region.login_url, max_retries=1)
    provider = TokenProvider(config, max_attempts=2)
    try:
        provider.token()
    except GenesysError as exc:
        if exc.status in (0, 502, 503, 504):
            raise unreachable(region, str(exc.message or type(exc).__name__)) from None
        raise SignInError(
            f"the admin OAuth client {client_id} was refused by {region.login_url}: {exc.message or exc}. "
            "Check --admin-client-id and the secret (CALLEXPORT_ADMIN_CLIENT_SECRET)."
        ) from None
    return AdminSession(region, provider, "client", client_id, who=f"OAuth client {client_id}")


# ---------------------------------------------------------------------------------- PKCE


def code_verifier() -> str:
    """43–128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1), from the OS's random source."""
    return secrets.token_urlsafe(64)[:96]


def code_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding (``S256``, RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorize_url(region: Region, client_id: str, redirect_uri: str, challenge: str, state: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
    }
    return f"{region.login_url}/oauth/authorize?{urlencode(query)}"


_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>callexport setup</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body></html>"
)


class _Callback:
    """The loopback HTTP server that receives the one redirect of the sign-in."""

    def __init__(self, redirect_uri: str, state: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1"):
            raise SignInError(
                f"the redirect URI must be a loopback address such as {DEFAULT_REDIRECT_URI}, "
                f"got {redirect_uri!r}"
            )
        self.path = parts.path or "/"
        self.state = state
        self.result: dict[str, str] = {}
        self.done = threading.Event()
        callback = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                logger.debug("sign-in callback: %s", format % args)

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                url = urlsplit(self.path)
                if url.path != callback.path:
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                ok = callback.accept(query)
                title = "Signed in" if ok else "Sign-in failed"
                text = (
                    "You can close this tab and return to the terminal."
                    if ok
                    else "Return to the terminal for the reason."
                )
                body = _PAGE.format(title=title, text=text).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        try:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", parts.port or 80), Handler)
        except OSError as exc:
            raise SignInError(
                f"cannot listen on {redirect_uri} for the sign-in redirect ({exc.strerror or exc}); "
                "free that port or register another loopback redirect URI and pass it with --redirect-uri"
            ) from None
        self.thread = threading.Thread(target=self.server.serve_forever, name="signin-callback", daemon=True)
        self.thread.start()

    def accept(self, query: dict[str, str]) -> bool:
        if self.done.is_set():
            return False
        if query.get("state") != self.state:
            self.result = {
                "error": "state_mismatch",
                "error_description": "the state parameter does not match",
            }
        else:
            self.result = query
        self.done.set()
        return "code" in self.result

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sign_in_with_browser(
    region: Region,
    client_id: str,
    *,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    open_url: Callable[[str], object] | None = None,
    say: Callable[[str], None] = print,
    timeout_s: float = SIGN_IN_TIMEOUT_S,
) -> AdminSession:
    """Sign the administrator in through their browser (authorization code + PKCE, loopback redirect)."""
    verifier = code_verifier()
    state = secrets.token_urlsafe(24)
    callback = _Callback(redirect_uri, state)
    try:
        url = authorize_url(region, client_id, redirect_uri, code_challenge(verifier), state)
        say("Sign in to Genesys Cloud in your browser. If it does not open, open this address:")
        say(f"  {url}")
        if open_url is not None:
            try:
                open_url(url)
            except Exception as exc:  # no browser on this machine: the printed address still works
                logger.info("could not open a browser: %s", exc)
        if not callback.done.wait(timeout_s):
            raise SignInError(f"no sign-in within {timeout_s:.0f} s; run `python run.py setup` again")
        result = callback.result
    finally:
        callback.close()
    if "code" not in result:
        reason = result.get("error_description") or result.get("error") or "no authorization code"
        raise SignInError(f"the sign-in was not completed: {reason}")
    return _exchange(region, client_id, result["code"], verifier, redirect_uri)


def _exchange(region: Region, client_id: str, code: str, verifier: str, redirect_uri: str) -> AdminSession:
    token_url = f"{region.login_url}/oauth/token"
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
    }
    try:
        response = requests.post(token_url, data=form, headers={"Accept": "application/json"}, timeout=30)
    except requests.RequestException as exc:
        raise unreachable(region, type(exc).__name__) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        reason = (
            (body or {}).get("error_description")
            or (body or {}).get("error")
            or f"HTTP {response.status_code}"
        )
        raise SignInError(f"{token_url} did not accept the authorization code: {reason}")
    tokens = StaticTokenProvider(str(body["access_token"]), float(body.get("expires_in") or 3600))
    return AdminSession(region, tokens, "browser", client_id)
