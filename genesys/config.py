"""Connection settings of one Genesys Cloud OAuth client (API host, credentials, budgets)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

_API_PREFIX = re.compile(r"//(api)\.")


def login_url_for(api_url: str) -> str:
    """Return the OAuth login host for an API host, exactly as the official SDK derives it.

    ``https://api.mypurecloud.ie`` -> ``https://login.mypurecloud.ie``; a host without the
    ``api.`` label (loopback, a simulator, a gateway) is used unchanged.
    """
    return _API_PREFIX.sub("//login.", api_url.rstrip("/"))


@dataclass(frozen=True)
class ClientConfig:
    """Everything a `GenesysClient` needs. The secret never appears in ``repr``."""

    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    login_url: str | None = None
    requests_per_minute: int = 300
    timeout_s: float = 30.0
    max_retries: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    rate_limit_max_wait_s: float = 120.0
    user_agent: str = "callexport"

    def __post_init__(self) -> None:
        if not self.api_url or "://" not in self.api_url:
            raise ValueError(
                f"api_url must be an absolute URL such as https://api.mypurecloud.com, got {self.api_url!r}"
            )
        if not self.client_id:
            raise ValueError("client_id is empty")
        if not self.client_secret:
            raise ValueError("client_secret is empty")
        if self.requests_per_minute < 1:
            raise ValueError("requests_per_minute must be at least 1")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))

    @property
    def effective_login_url(self) -> str:
        return (self.login_url or login_url_for(self.api_url)).rstrip("/")

    @property
    def token_url(self) -> str:
        return self.effective_login_url + "/oauth/token"
