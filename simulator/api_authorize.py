"""Routes of the login host and of the signed-in person: `/oauth/authorize` (authorization code with
PKCE, implicit grant), `/oauth/token` (client credentials, authorization code, refresh token),
`/logout`, `GET /api/v2/users/me`, `GET /api/v2/tokens/me`, and the per-route permission check.

The requests are the ones Genesys' SDKs send: `loginPKCEGrant` / `loginImplicitGrant` of
platform-client-sdk-javascript redirect to `{login}/oauth/authorize?client_id&redirect_uri&
response_type=code|token&state[&code_challenge&code_challenge_method=S256]`; `authorizePKCEGrant`
(JS) and `ApiClient.get_pkce_token` (Python) POST the form `grant_type=authorization_code&code&
code_verifier&client_id&redirect_uri` without client authentication; `get_code_authorization_token`
adds HTTP Basic and expects a `refresh_token` back. The code comes back in the redirect's query
(`code`, `state`; errors as `error`, `error_description`), the implicit token in its fragment
(`access_token`, `expires_in`, `token_type`, `state`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from simulator import documents, login_page
from simulator.api_platform import iso
from simulator.errors import ApiError, bad_request
from simulator.http_api import Request, Response, Route, Router
from simulator.oauth_clients import LoginSessions, OAuthClient, s256
from simulator.oauth_users import Person
from simulator.permissions import missing, need_for
from simulator.tokens import Token

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

AUTHORIZE_PARAMS = ("client_id", "response_type", "redirect_uri", "state", "code_challenge",
                    "code_challenge_method", "org", "provider", "prompt")  # fmt: skip
PKCE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class AuthorizeError(Exception):
    """An error reported to the client: by redirect when `redirect` is trusted, else on a page."""

    def __init__(self, error: str, description: str, *, redirect: bool) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect = redirect


def oauth_error(status: int, error: str, description: str) -> Response:
    """The token endpoint's error body (the shape the client-credentials route has always used)."""
    return Response(status, {"error": error, "description": description, "error_description": description})


def _form(req: Request) -> dict[str, str]:
    parsed = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items() if v}


def _query(req: Request) -> dict[str, str]:
    return {k: v[0] for k, v in req.query.items() if v}


def _with_query(uri: str, values: dict[str, str]) -> str:
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(values)


def register(router: Router, sim: Simulator) -> None:
    refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (client id, user id)
    refresh_lock = threading.Lock()

    def person_ttl(client: OAuthClient) -> float:
        return client.token_ttl_s if client.token_ttl_s is not None else sim.person_token_ttl_s

    # -- /oauth/authorize ----------------------------------------------------------------------
    def validate(params: dict[str, str]) -> OAuthClient:
        """The client of an authorize request; AuthorizeError for anything wrong with it."""
        client = sim.oauth.get(params.get("client_id", ""))
        if client is None:
            raise AuthorizeError("invalid_client", "Unknown OAuth client id", redirect=False)
        uri = params.get("redirect_uri", "")
        if not uri:
            raise AuthorizeError("invalid_request", "redirect_uri is required", redirect=False)
        if uri not in client.redirect_uris:
            raise AuthorizeError(
                "invalid_request",
                f"redirect_uri {uri!r} is not registered for this client (exact match required)",
                redirect=False,
            )
        rtype = params.get("response_type", "")
        if rtype not in ("code", "token"):
            raise AuthorizeError(
                "unsupported_response_type", f"response_type {rtype!r} is not supported", redirect=True
            )
        if (rtype == "code") != (client.grant_type == "CODE") or (rtype == "token") != (
            client.grant_type == "TOKEN"
        ):
            raise AuthorizeError(
                "unauthorized_client",
                f"client grant type {client.grant_type} does not allow response_type {rtype}",
                redirect=True,
            )
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if rtype == "code" and (challenge or method):
            if not challenge:
                raise AuthorizeError("invalid_request", "code_challenge is required", redirect=True)
            if method != "S256":
                raise AuthorizeError("invalid_request", "code_challenge_method must be S256", redirect=True)
            if not 43 <= len(challenge) <= 128 or not set(challenge) <= PKCE_ALPHABET:
                raise AuthorizeError("invalid_request", "malformed code_challenge", redirect=True)
        return client

    def error_redirect(params: dict[str, str], err: AuthorizeError) -> Response:
        values = {"error": err.error, "error_description": err.description}
        if params.get("state"):
            values["state"] = params["state"]
        uri = params["redirect_uri"]
        if params.get("response_type") == "token":
            location = uri + "#" + urlencode(values)
        else:
            location = _with_query(uri, values)
        logger.info("simulator authorize error %s for client %s", err.error, params.get("client_id"))
        return Response(302, None, {"Location": location, "Cache-Control": "no-store"})

    def complete(params: dict[str, str], client: OAuthClient, person: Person, cookie: str = "") -> Response:
        uri = params["redirect_uri"]
        state = params.get("state")
        if params["response_type"] == "code":
            code = sim.auth_codes.issue(client.id, uri, person.id, params.get("code_challenge"))
            values = {"code": code.code}
            if state:
                values["state"] = state
            location = _with_query(uri, values)
        else:
            token = sim.tokens.issue(client.id, user_id=person.id, ttl_s=person_ttl(client))
            values = {
                "access_token": token.value,
                "expires_in": str(int(round(token.expires_s - token.issued_s))),
                "token_type": "bearer",
            }
            if state:
                values["state"] = state
            location = uri + "#" + urlencode(values)
        logger.info(
            "simulator signed in %s for OAuth client %s (%s grant)",
            person.username,
            client.name,
            client.grant_type,
        )
        headers = {"Location": location, "Cache-Control": "no-store"}
        if cookie:
            headers["Set-Cookie"] = f"{LoginSessions.COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax"
        return Response(302, None, headers)

    def page(body: bytes, status: int = 200) -> Response:
        return Response(status, body, {"Cache-Control": "no-store"}, content_type="text/html; charset=utf-8")

    def authorize(req: Request, params: dict[str, str], submitted: bool) -> Response:
        params = {
            k: v
            for k, v in params.items()
            if k in AUTHORIZE_PARAMS or k in ("username", "password", "action")
        }
        try:
            client = validate(params)
        except AuthorizeError as err:
            if err.redirect:
                return error_redirect(params, err)
            logger.info("simulator authorize refused: %s (%s)", err.error, err.description)
            return page(login_page.error_page(err.error, err.description), 400)
        shown = {k: v for k, v in params.items() if k in AUTHORIZE_PARAMS}
        if submitted:
            if params.get("action") == "cancel":
                return error_redirect(
                    params, AuthorizeError("access_denied", "The user cancelled the sign-in", redirect=True)
                )
            person = sim.people.authenticate(params.get("username", ""), params.get("password", ""))
            if person is None:
                logger.info("simulator sign-in failed for %r", params.get("username", ""))
                return page(
                    login_page.login_form(
                        shown, client.name, sim.org.name, "Incorrect username or password."
                    ),
                    200,
                )
            return complete(params, client, person, sim.login_sessions.open(person.id))
        if params.get("prompt") != "login":
            user_id = sim.login_sessions.user_of(req.header("Cookie"))
            person = sim.people.by_id(user_id) if user_id else None
            if person is not None:
                return complete(params, client, person)
        return page(login_page.login_form(shown, client.name, sim.org.name))

    router.add("GET", "/oauth/authorize", lambda req: authorize(req, _query(req), False), auth=False)
    router.add("POST", "/oauth/authorize", lambda req: authorize(req, _form(req), True), auth=False)

    def logout(req: Request) -> Response:
        sim.login_sessions.close(req.header("Cookie"))
        params = _query(req)
        expired = f"{LoginSessions.COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        client = sim.oauth.get(params.get("client_id", ""))
        uri = params.get("redirect_uri")
        if client is not None and uri and uri in client.redirect_uris:
            return Response(302, None, {"Location": uri, "Set-Cookie": expired})
        body = login_page.message_page("Signed out", "You are signed out of Genesys Cloud.")
        return Response(200, body, {"Set-Cookie": expired}, content_type="text/html; charset=utf-8")

    router.add("GET", "/logout", logout, auth=False)

    # -- /oauth/token ----------------------------------------------------------------------------
    def basic_client(req: Request) -> OAuthClient:
        client_id = sim.tokens.authenticate_basic(req.header("Authorization"))
        client = sim.oauth.get(client_id)
        if client is None:
            raise ApiError(401, "Invalid client credentials", code="invalid_client")
        return client

    def token_body(token: Token, refresh: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": token.value,
            "token_type": "bearer",
            "expires_in": int(round(token.expires_s - token.issued_s)),
        }
        if refresh:
            body["refresh_token"] = refresh
        return body

    def authorization_code(req: Request, form: dict[str, str]) -> Response:
        confidential = (req.header("Authorization") or "").lower().startswith("basic ")
        if confidential:
            client = basic_client(req)
        else:
            found = sim.oauth.get(form.get("client_id", ""))
            if found is None:
                return oauth_error(401, "invalid_client", "Unknown or missing client_id")
            client = found
        code, reason = sim.auth_codes.take(form.get("code", ""))
        if code is None or reason:
            if code is not None and code.used and code.token:
                sim.tokens.revoke(code.token)  # RFC 6749 10.5: a replayed code revokes its token
            return oauth_error(400, "invalid_grant", reason)
        if code.client_id != client.id:
            return oauth_error(400, "invalid_grant", "authorization code was issued to another client")
        if form.get("redirect_uri", "") != code.redirect_uri:
            return oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if not verifier or not secrets.compare_digest(s256(verifier), code.challenge):
                return oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge")
        elif not confidential:
            return oauth_error(401, "invalid_client", "client authentication required (no PKCE challenge)")
        person = sim.people.by_id(code.user_id)
        if person is None:
            return oauth_error(400, "invalid_grant", "the user of this code no longer exists")
        token = sim.tokens.issue(client.id, user_id=person.id, ttl_s=person_ttl(client))
        code.token = token.value
        refresh = None
        if confidential:
            refresh = secrets.token_urlsafe(48)
            with refresh_lock:
                refresh_tokens[refresh] = (client.id, person.id)
        return Response(200, token_body(token, refresh), {"Cache-Control": "no-store"})

    def refresh_token(req: Request, form: dict[str, str]) -> Response:
        client = basic_client(req)
        with refresh_lock:
            entry = refresh_tokens.get(form.get("refresh_token", ""))
        if entry is None or entry[0] != client.id or sim.people.by_id(entry[1]) is None:
            return oauth_error(400, "invalid_grant", "unknown refresh token")
        token = sim.tokens.issue(client.id, user_id=entry[1], ttl_s=person_ttl(client))
        return Response(200, token_body(token, form["refresh_token"]), {"Cache-Control": "no-store"})

    def oauth_token(req: Request) -> Response:
        form = _form(req)
        grant = form.get("grant_type", "")
        try:
            if grant == "authorization_code":
                return authorization_code(req, form)
            if grant == "refresh_token":
                return refresh_token(req, form)
            client = basic_client(req)
        except ApiError as err:
            logger.info("simulator rejected OAuth client credentials: %s", err.message)
            return oauth_error(401, "invalid_client", err.message)
        if grant != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
        if client.grant_type != "CLIENT-CREDENTIALS":
            return oauth_error(
                400,
                "unauthorized_client",
                f"client grant type {client.grant_type} cannot use client_credentials",
            )
        token = sim.tokens.issue(client.id, ttl_s=client.token_ttl_s)
        return Response(200, token_body(token))

    router.add("POST", "/oauth/token", oauth_token, auth=False)

    # -- the signed-in person --------------------------------------------------------------------
    def users_me(req: Request) -> dict[str, Any]:
        if req.user_id is None:
            raise bad_request("This request requires a user context; client credentials tokens have none.")
        person = sim.people.by_id(req.user_id)
        if person is None:
            raise ApiError(401, "Invalid login credentials.", code="bad.credentials")
        doc = documents.user(person.user, sim.org)
        expand = {e for v in req.query.get("expand", []) for e in v.split(",") if e}
        if expand & {"authorization", "authorization.unusedRoles"}:
            auth: dict[str, Any] = {
                "roles": [{"id": r.id, "name": r.name} for r in person.roles],
                "permissions": sorted(person.permissions),
            }
            if "authorization.unusedRoles" in expand:
                auth["unusedRoles"] = []
            doc["authorization"] = auth
        if "date" in expand:
            doc["date"] = {"currentDate": iso(time.time())}
        return doc

    def tokens_me(req: Request) -> dict[str, Any]:
        org = {"id": sim.org.id, "name": sim.org.name}
        client = sim.oauth.get(req.client_id)
        doc: dict[str, Any] = {"organization": dict(org), "homeOrganization": dict(org)}
        if client is not None:
            doc["OAuthClient"] = {
                "id": client.id,
                "name": client.name,
                "authorizedGrantType": client.grant_type,
                "organization": dict(org),
            }
        return doc

    router.add("GET", "/api/v2/users/me", users_me)
    router.add("GET", "/api/v2/tokens/me", tokens_me)


def permission_check(sim: Simulator) -> Any:
    """The `ApiServer.authorize` hook: 403 `missing.permissions` when the token lacks the route's need."""
    warned: set[tuple[str, str]] = set()

    def check(route: Route, token: Token) -> None:
        if token.user_id is not None:
            person = sim.people.by_id(token.user_id)
            if person is None:
                raise ApiError(401, "Invalid login credentials.", code="bad.credentials")
            granted: frozenset[str] | None = person.permissions
        else:
            client = sim.oauth.get(token.client_id)
            granted = client.permissions if client is not None else None
        if granted is None:
            return
        need = need_for(route.method, route.template)
        if need is None:
            if route.template.startswith("/api/v2") and (route.method, route.template) not in warned:
                warned.add((route.method, route.template))
                logger.warning(
                    "no permission row for %s %s (simulator/permissions.py)", route.method, route.template
                )
            return
        lacking = missing(need, granted)
        if lacking:
            raise ApiError(
                403,
                "Unable to perform the requested action. You are missing the following permission(s): "
                + ", ".join(lacking),
                code="missing.permissions",
            )

    return check
