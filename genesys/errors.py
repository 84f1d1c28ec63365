"""Exception hierarchy for Genesys Cloud calls.

Every error names the endpoint (``GET /api/v2/...``) and carries the HTTP status, the Genesys
error ``code`` and the ``ININ-Correlation-Id`` so an operator can quote it to Genesys support.
Messages never contain tokens, secrets or request headers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

_MAX_MESSAGE = 300


class GenesysError(Exception):
    """A Genesys Cloud request failed. ``status`` is 0 when no HTTP response was received."""

    def __init__(
        self,
        endpoint: str,
        status: int = 0,
        code: str | None = None,
        message: str = "",
        correlation_id: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message[:_MAX_MESSAGE]
        self.correlation_id = correlation_id
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [f"{self.endpoint}:"]
        parts.append(f"HTTP {self.status}" if self.status else "no response")
        if self.code:
            parts.append(f"[{self.code}]")
        if self.message:
            parts.append(self.message)
        if self.correlation_id:
            parts.append(f"(correlation id {self.correlation_id})")
        return " ".join(parts)


class BadRequest(GenesysError):
    """400: the request was rejected as invalid (not retried)."""


class Unauthorized(GenesysError):
    """401: the token is missing, expired or revoked."""


class AuthenticationFailed(Unauthorized):
    """The login host refused the client credentials (wrong id/secret, disabled client)."""


class Forbidden(GenesysError):
    """403: the OAuth client lacks a permission or scope."""


class NotFound(GenesysError):
    """404: unknown id, or the resource is not ready yet (analytics details, transcripts)."""


class Conflict(GenesysError):
    """409: version mismatch or duplicate."""


class RateLimited(GenesysError):
    """429: too many requests; ``retry_after`` seconds from the ``Retry-After`` header."""

    def __init__(self, endpoint: str, retry_after: float, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(endpoint, 429, **kwargs)


class TransientError(GenesysError):
    """502/503/504 or a connection error/timeout: worth retrying with backoff."""

    retry_after: float | None = None  # seconds, when the server said (a 429 on a media download)


class ServerError(GenesysError):
    """Another 5xx (e.g. 500): not retried automatically."""


class GenesysUnavailable(GenesysError):
    """Retries were exhausted; ``last`` is the final error."""

    def __init__(self, endpoint: str, attempts: int, last: GenesysError) -> None:
        self.attempts = attempts
        self.last = last
        super().__init__(
            endpoint,
            last.status,
            code=last.code,
            message=f"gave up after {attempts} attempts; last error: {last.message or type(last).__name__}",
            correlation_id=last.correlation_id,
        )


class RateLimitTimeout(GenesysError):
    """The local rate limiter could not grant a request slot within its bounded wait."""


class ClientClosed(GenesysError):
    """The client was closed while a request or a retry wait was in progress."""


_BY_STATUS: dict[int, type[GenesysError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: NotFound,
    502: TransientError,
    503: TransientError,
    504: TransientError,
}


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds from a ``Retry-After`` header (numeric form; HTTP dates fall back to ``default``)."""
    if not value:
        return default
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return default


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def error_from_response(
    endpoint: str,
    status: int,
    headers: Mapping[str, str] | None,
    body: str | bytes | None,
) -> GenesysError:
    """Map an HTTP error response to the matching exception class."""
    code = None
    message = ""
    correlation_id = _header(headers, "ININ-Correlation-Id")
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            code = data.get("code") or data.get("error")
            message = str(data.get("message") or data.get("error_description") or "")
            correlation_id = correlation_id or data.get("contextId")
        else:
            message = body.strip().splitlines()[0] if body.strip() else ""
    if status == 429:
        return RateLimited(
            endpoint,
            parse_retry_after(_header(headers, "Retry-After")),
            code=code,
            message=message,
            correlation_id=correlation_id,
        )
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else GenesysError
    return cls(endpoint, status, code=code, message=message, correlation_id=correlation_id)
