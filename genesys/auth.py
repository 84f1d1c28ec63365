"""OAuth client-credentials tokens: cached, refreshed ahead of expiry and after a 401.

One `TokenProvider` per OAuth client; every thread of a `GenesysClient` shares it. Only one
thread refreshes at a time; the others wait for its result. Neither the secret nor the token is
ever logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import requests

from .config import ClientConfig
from .errors import (
    AuthenticationFailed,
    GenesysError,
    GenesysUnavailable,
    RateLimited,
    TransientError,
    error_from_response,
)

logger = logging.getLogger(__name__)

ENDPOINT = "POST /oauth/token"


class AccessTokens(Protocol):
    """Where a client gets its bearer token: `TokenProvider` (client credentials) or a signed-in
    person's token (`provisioning.signin.StaticTokenProvider`)."""

    def token(self) -> str: ...

    def authorization(self) -> str: ...

    def invalidate(self, token: str | None = None) -> None: ...

    def close(self) -> None: ...


class TokenProvider:
    """Client-credentials grant (HTTP Basic auth, form body ``grant_type=client_credentials``)."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = 4,
        refresh_margin_s: float = 300.0,
        refresh_fraction: float = 0.2,
    ) -> None:
        self._config = config
        self._session = session or requests.Session()
        self._clock = clock
        self._max_attempts = max(1, max_attempts)
        self._refresh_margin_s = refresh_margin_s
        self._refresh_fraction = refresh_fraction
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_type = "bearer"
        self._refresh_at = 0.0
        self._expires_at = 0.0
        self.fetch_count = 0

    def token(self) -> str:
        """A valid access token (fetches or refreshes it when needed)."""
        token = self._token
        if token is not None and self._clock() < self._refresh_at:
            return token
        with self._lock:
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            if self._token is not None and self._clock() < self._expires_at:
                # refresh ahead of expiry; if the refresh fails the current token is still usable
                try:
                    self._fetch_locked()
                except GenesysError as exc:
                    logger.warning(
                        "token refresh ahead of expiry failed (%s); keeping the current token", exc
                    )
                    self._refresh_at = min(self._expires_at, self._clock() + 5.0)
                return self._token
            return self._fetch_locked()

    def authorization(self) -> str:
        """The value for the ``Authorization`` header."""
        token = self.token()
        return f"Bearer {token}"

    def invalidate(self, token: str | None = None) -> None:
        """Forget the token (after a 401). With ``token``, only if it is still the current one,
        so that many threads hitting 401 with the same token trigger one refresh."""
        with self._lock:
            if token is None or token == self._token:
                if self._token is not None:
                    logger.info("access token rejected or revoked; a new one will be requested")
                self._token = None
                self._refresh_at = self._expires_at = 0.0

    def close(self) -> None:
        """Release the HTTP connections to the login host."""
        self._session.close()

    def _fetch_locked(self) -> str:
        """Fetch a new token (retrying transient failures) and return it."""
        url = self._config.token_url
        last: GenesysError | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._session.post(
                    url,
                    data={"grant_type": "client_credentials"},
                    auth=(self._config.client_id, self._config.client_secret),
                    headers={"Accept": "application/json", "User-Agent": self._config.user_agent},
                    timeout=self._config.timeout_s,
                )
            except requests.RequestException as exc:
                last = TransientError(ENDPOINT, 0, message=f"{type(exc).__name__} contacting {url}")
            else:
                if response.status_code == 200:
                    return self._accept(response)
                err = error_from_response(ENDPOINT, response.status_code, response.headers, response.text)
                if response.status_code in (400, 401, 403):
                    raise AuthenticationFailed(
                        ENDPOINT,
                        response.status_code,
                        code=err.code,
                        message=f"the login host {self._config.effective_login_url} refused the client "
                        f"credentials of client id {self._config.client_id}: {err.message or 'no detail'}",
                        correlation_id=err.correlation_id,
                    )
                if not isinstance(err, RateLimited | TransientError):
                    raise err
                last = err
            if attempt < self._max_attempts:
                delay = (
                    min(last.retry_after, self._config.max_retry_after_s)
                    if isinstance(last, RateLimited)
                    else min(self._config.backoff_max_s, self._config.backoff_initial_s * 2 ** (attempt - 1))
                )
                logger.warning(
                    "%s attempt %d/%d failed (%s); retrying in %.1fs",
                    ENDPOINT,
                    attempt,
                    self._max_attempts,
                    last,
                    delay,
                )
                time.sleep(delay)
        assert last is not None
        raise GenesysUnavailable(ENDPOINT, self._max_attempts, last)

    def _accept(self, response: requests.Response) -> str:
        try:
            data = response.json()
            token = data["access_token"]
            expires_in = float(data.get("expires_in") or 86400)
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthenticationFailed(
                ENDPOINT, response.status_code, message=f"malformed token response ({exc})"
            ) from None
        now = self._clock()
        margin = min(self._refresh_margin_s, expires_in * self._refresh_fraction)
        self._token = str(token)
        self._token_type = str(data.get("token_type") or "bearer")
        self._expires_at = now + expires_in
        self._refresh_at = now + expires_in - margin
        self.fetch_count += 1
        logger.info(
            "obtained an access token for client id %s from %s (valid %.0fs)",
            self._config.client_id,
            self._config.effective_login_url,
            expires_in,
        )
        return self._token
