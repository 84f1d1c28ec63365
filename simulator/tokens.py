"""OAuth access tokens: issue, validate, expire, revoke; per-token rate-limit windows.

A token belongs to an OAuth client and, for the browser grants (authorization code, PKCE, implicit),
to the person who signed in (`user_id`); client-credentials tokens have no user."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

from simulator.errors import ApiError

logger = logging.getLogger(__name__)

RATE_WINDOW_S = 60


@dataclass
class Token:
    value: str
    client_id: str
    issued_s: float
    expires_s: float
    revoked: bool = False
    window_start_s: float = 0.0
    window_count: int = 0
    channel_ids: list[str] = field(default_factory=list)
    user_id: str | None = None  # the signed-in person (None: client credentials)


class TokenStore:
    """Issued tokens of the simulated org (one OAuth client unless more are added)."""

    def __init__(self, clients: dict[str, str], ttl_s: float, rate_allowed: int = 300) -> None:
        self._clients = dict(clients)
        self._ttl_s = ttl_s
        self.rate_allowed = rate_allowed
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    @property
    def ttl_s(self) -> float:
        return self._ttl_s

    @ttl_s.setter
    def ttl_s(self, value: float) -> None:
        self._ttl_s = float(value)

    def add_client(self, client_id: str, secret: str) -> None:
        """Accept `client_id:secret` in HTTP Basic from now on."""
        with self._lock:
            self._clients[client_id] = secret

    def remove_client(self, client_id: str) -> None:
        """Refuse the client from now on and revoke its tokens (a client deleted or disabled through
        `/api/v2/oauth/clients`)."""
        with self._lock:
            self._clients.pop(client_id, None)
            for token in self._tokens.values():
                if token.client_id == client_id:
                    token.revoked = True

    def authenticate_basic(self, authorization: str | None) -> str:
        """Client id from a `Basic` header; ApiError 401 when missing or wrong."""
        if not authorization or not authorization.lower().startswith("basic "):
            raise ApiError(401, "Client authentication required (HTTP Basic)", code="invalid_client")
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError(401, "Malformed Basic credentials", code="invalid_client") from exc
        client_id, _, secret = raw.partition(":")
        with self._lock:
            expected = self._clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, secret):
            raise ApiError(401, "Invalid client credentials", code="invalid_client")
        return client_id

    def issue(self, client_id: str, *, user_id: str | None = None, ttl_s: float | None = None) -> Token:
        """A new token of `client_id` (for the person `user_id`), valid `ttl_s` (default: `ttl_s`)."""
        now = time.time()
        token = Token(
            value=secrets.token_urlsafe(48),
            client_id=client_id,
            issued_s=now,
            expires_s=now + (self._ttl_s if ttl_s is None else float(ttl_s)),
            window_start_s=now,
            user_id=user_id,
        )
        with self._lock:
            self._tokens[token.value] = token
        return token

    def check_bearer(self, authorization: str | None) -> Token:
        """The valid token of a `Bearer` header; ApiError 401 when missing, unknown, expired, revoked."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(
                401,
                "No authentication bearer token specified in authorization header.",
                code="authentication.required",
            )
        value = authorization[7:].strip()
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                raise ApiError(401, "Invalid login credentials.", code="bad.credentials")
            if token.revoked:
                raise ApiError(401, "The access token has been revoked.", code="bad.credentials")
            if time.time() >= token.expires_s:
                raise ApiError(401, "The access token has expired.", code="bad.credentials")
            return token

    def count_request(self, token: Token) -> tuple[int, int, int]:
        """Count one request against the token's window: (count, allowed, reset seconds)."""
        now = time.time()
        with self._lock:
            if now - token.window_start_s >= RATE_WINDOW_S:
                token.window_start_s = now
                token.window_count = 0
            token.window_count += 1
            reset = max(0, int(token.window_start_s + RATE_WINDOW_S - now))
            return token.window_count, self.rate_allowed, reset

    def revoke(self, value: str) -> bool:
        """Revoke one token (e.g. issued for an authorization code that was replayed)."""
        with self._lock:
            token = self._tokens.get(value)
            if token is None or token.revoked:
                return False
            token.revoked = True
            return True

    def revoke_all(self) -> int:
        with self._lock:
            live = [t for t in self._tokens.values() if not t.revoked]
            for t in live:
                t.revoked = True
        logger.info("simulator revoked %d access tokens", len(live))
        return len(live)

    def is_valid(self, value: str) -> bool:
        with self._lock:
            token = self._tokens.get(value)
            return token is not None and not token.revoked and time.time() < token.expires_s
