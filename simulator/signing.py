"""Pre-signed, time-limited download URLs (the simulator's stand-in for S3 pre-signed URLs)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from urllib.parse import urlencode

logger = logging.getLogger(__name__)


class UrlSigner:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _sig(self, path: str, expires_ms: int) -> str:
        msg = f"{path}\n{expires_ms}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, path: str, ttl_s: float) -> str:
        """`base_url + path` with `X-Amz-Expires`-like query parameters valid for `ttl_s` seconds."""
        expires_ms = int((time.time() + ttl_s) * 1000)
        query = urlencode(
            {
                "Expires": expires_ms,
                "Signature": self._sig(path, expires_ms),
                "X-Amz-Expires": max(0, int(ttl_s)),
            }
        )
        return f"{base_url}{path}?{query}"

    def check(self, path: str, query: dict[str, list[str]]) -> str | None:
        """None when the signature is valid and not expired, else the reason ("expired"/"invalid")."""
        try:
            expires_ms = int(query.get("Expires", ["0"])[0])
            signature = query.get("Signature", [""])[0]
        except ValueError:
            return "invalid"
        if not hmac.compare_digest(signature, self._sig(path, expires_ms)):
            return "invalid"
        if time.time() * 1000 >= expires_ms:
            return "expired"
        return None
