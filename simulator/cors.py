"""CORS as the simulated API and login host serve it to browser apps.

Genesys Cloud's browser SDK (platform-client-sdk-javascript) calls `https://api.{region}` and POSTs
`https://login.{region}/oauth/token` from whatever origin the app is hosted on (client apps on
customers' own hosts and GitHub Pages do this), and an OAuth client has no "allowed origins"
setting (SDK model `OAuthClient`), so the platform answers CORS requests from any origin. Bearer
tokens travel in the `Authorization` header, never in cookies, so no `Allow-Credentials` is sent.

`CorsPolicy(origins=None)` answers every origin; a set of origins restricts it (to test an app's
error state when the platform refuses its origin).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from simulator.http_api import Response

logger = logging.getLogger(__name__)

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
EXPOSE_HEADERS = (
    "ININ-Correlation-Id, inin-ratelimit-count, inin-ratelimit-allowed, inin-ratelimit-reset, "
    "Retry-After, Location"
)
DEFAULT_ALLOW_HEADERS = "Authorization, Content-Type, Accept, ININ-Client-Path, purecloud-sdk"
MAX_AGE_S = 600


class CorsPolicy:
    """Which origins get CORS headers, and the headers they get."""

    def __init__(self, origins: Iterable[str] | None = None) -> None:
        self.origins: frozenset[str] | None = None if origins is None else frozenset(origins)

    def allowed(self, origin: str | None) -> bool:
        return bool(origin) and (self.origins is None or origin in self.origins)

    def headers(self, origin: str | None) -> dict[str, str]:
        """Headers added to an actual (non-preflight) response for a request from `origin`."""
        if not self.allowed(origin):
            return {}
        assert origin is not None
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSE_HEADERS,
            "Vary": "Origin",
        }

    def preflight(self, origin: str | None, request_headers: str | None) -> Response:
        """The answer to `OPTIONS` (a browser's preflight when `origin` is set)."""
        if origin is None:
            return Response(200, None, {"Allow": ALLOW_METHODS})
        if not self.allowed(origin):
            logger.info("simulator refused CORS preflight from origin %s", origin)
            return Response(403, b"CORS origin not allowed", {"Vary": "Origin"}, content_type="text/plain")
        return Response(
            200,
            None,
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": request_headers or DEFAULT_ALLOW_HEADERS,
                "Access-Control-Max-Age": str(MAX_AGE_S),
                "Vary": "Origin",
            },
        )
