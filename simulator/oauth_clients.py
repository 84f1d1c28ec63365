"""OAuth clients of the simulated org as data, and the short-lived state of the browser flows:
authorization codes and login sessions.

An `OAuthClient` mirrors what Genesys Cloud stores for one (SDK model `OAuthClient`): an id, a name,
one `authorizedGrantType` (`CODE`, `TOKEN` or `CLIENT-CREDENTIALS`), the `registeredRedirectUri`
list, the token lifetime (`accessTokenValiditySeconds`) and a secret. Genesys has no "allowed
origins" setting on a client (the model has no such field), so CORS is not configured here.

Redirect URIs match exactly (scheme, host, port, path and query, as strings): Genesys documents
no wildcard or loopback-port exception, so a command-line tool must register the exact
`http://127.0.0.1:PORT/path` it listens on (docs/genesys.md, Authentication).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from simulator.org import seeded_uuid

logger = logging.getLogger(__name__)

GRANT_TYPES = ("CODE", "TOKEN", "CLIENT-CREDENTIALS")
"""The `OAuthClient.authorizedGrantType` values the simulator implements."""


@dataclass
class OAuthClient:
    id: str
    name: str
    grant_type: str
    secret: str = field(repr=False)
    redirect_uris: list[str] = field(default_factory=list)
    permissions: frozenset[str] | None = None  # client-credentials tokens only; None: every permission
    token_ttl_s: float | None = None  # None: the simulator's default for this kind of token
    description: str = ""

    @property
    def public(self) -> bool:
        """Whether the client is used from browsers/CLIs without its secret (PKCE or implicit)."""
        return self.grant_type in ("CODE", "TOKEN")


def check_redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"redirect URI {uri!r} must be an absolute http(s) URL")
    if parts.fragment:
        raise ValueError(f"redirect URI {uri!r} must not contain a fragment")
    return uri


class OAuthClients:
    """The org's OAuth clients (thread-safe)."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"oauth-clients-{seed}")
        self._clients: dict[str, OAuthClient] = {}
        self._lock = threading.Lock()

    def register(
        self,
        name: str,
        grant_type: str = "CODE",
        redirect_uris: Iterable[str] = (),
        *,
        client_id: str | None = None,
        secret: str | None = None,
        permissions: Iterable[str] | None = None,
        token_ttl_s: float | None = None,
        description: str = "",
    ) -> OAuthClient:
        grant = grant_type.upper().replace("_", "-")
        if grant not in GRANT_TYPES:
            raise ValueError(f"grant type {grant_type!r} is not one of {', '.join(GRANT_TYPES)}")
        uris = [check_redirect_uri(u) for u in redirect_uris]
        if grant in ("CODE", "TOKEN") and not uris:
            logger.info("OAuth client %r has no redirect URI yet; add one before signing in", name)
        with self._lock:
            cid = client_id or seeded_uuid(self._rng)
            if cid in self._clients:
                raise ValueError(f"an OAuth client with id {cid!r} exists already")
            client = OAuthClient(
                id=cid,
                name=name,
                grant_type=grant,
                secret=secret if secret is not None else secrets.token_urlsafe(32),
                redirect_uris=uris,
                permissions=None if permissions is None else frozenset(permissions),
                token_ttl_s=token_ttl_s,
                description=description,
            )
            self._clients[cid] = client
        logger.info("simulator OAuth client %r (%s) registered as %s", name, grant, cid)
        return client

    def get(self, client_id: str) -> OAuthClient | None:
        with self._lock:
            return self._clients.get(client_id)

    def all(self) -> list[OAuthClient]:
        with self._lock:
            return list(self._clients.values())

    def add_redirect_uri(self, client_id: str, uri: str) -> None:
        with self._lock:
            client = self._clients[client_id]
            if check_redirect_uri(uri) not in client.redirect_uris:
                client.redirect_uris.append(uri)

    def authenticate(self, client_id: str, secret: str) -> OAuthClient | None:
        client = self.get(client_id)
        if client is None or not secrets.compare_digest(client.secret.encode(), secret.encode()):
            return None
        return client


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    challenge: str | None
    expires_s: float
    used: bool = False
    token: str | None = None  # the access token issued for it (revoked if the code is replayed)


class AuthCodes:
    """Single-use, short-lived authorization codes."""

    def __init__(self, ttl_s: float = 120.0) -> None:
        self.ttl_s = ttl_s
        self._codes: dict[str, AuthCode] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str, redirect_uri: str, user_id: str, challenge: str | None) -> AuthCode:
        now = time.time()
        code = AuthCode(
            secrets.token_urlsafe(32), client_id, redirect_uri, user_id, challenge, now + self.ttl_s
        )
        with self._lock:
            for key in [k for k, c in self._codes.items() if c.expires_s < now - 3600]:
                del self._codes[key]
            self._codes[code.code] = code
        return code

    def take(self, value: str) -> tuple[AuthCode | None, str]:
        """(code, "") when usable, marking it used; (code or None, reason) otherwise."""
        with self._lock:
            code = self._codes.get(value)
            if code is None:
                return None, "unknown authorization code"
            if code.used:
                return code, "authorization code was already used"
            if time.time() >= code.expires_s:
                return code, "authorization code expired"
            code.used = True
            return code, ""


class LoginSessions:
    """The login host's session cookie: a browser that signed in recently is not asked again."""

    COOKIE = "callexport_sim_login"

    def __init__(self, ttl_s: float = 8 * 3600.0) -> None:
        self.ttl_s = ttl_s
        self.enabled = True
        self._sessions: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def open(self, user_id: str) -> str:
        value = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[value] = (user_id, time.time() + self.ttl_s)
        return value

    def user_of(self, cookie_header: str | None) -> str | None:
        if not self.enabled or not cookie_header:
            return None
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.COOKIE:
                with self._lock:
                    entry = self._sessions.get(value)
                if entry and time.time() < entry[1]:
                    return entry[0]
        return None

    def close(self, cookie_header: str | None) -> None:
        for part in (cookie_header or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.COOKIE:
                with self._lock:
                    self._sessions.pop(value, None)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
