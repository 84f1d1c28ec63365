"""`AdminClient`: the `GenesysClient` of the signed-in administrator, with the SDK API classes the
provisioning steps use (`AuthorizationApi`, `OAuthApi`, `ArchitectApi`, `RoutingApi`,
`IntegrationsApi`, `ConversationsApi`).

Requests go through the service's own transport (rate limit, retries, error mapping, raw JSON
back), so a step calls ``client.call(endpoint, lambda: client.routing.post_routing_queues(body))``
and gets the Genesys JSON as sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from genesys.config import ClientConfig
from genesys.ratelimit import RateLimiter
from genesys.rest import GenesysClient
from genesys.sdk import sdk
from provisioning.signin import AdminSession

logger = logging.getLogger(__name__)


class AdminClient(GenesysClient):
    def __init__(self, session: AdminSession) -> None:
        config = ClientConfig(
            session.region.api_url,
            session.client_id,
            "administrator-token",  # unused: the session's token provider signs every request
            login_url=session.region.login_url,
            max_retries=3,
            user_agent="callexport-setup",
        )
        # one setup run is one short-lived user of the admin's budget: its own limiter (the process-wide
        # one per client id would carry the requests of earlier runs in the same process)
        super().__init__(
            config, token_provider=session.tokens, limiter=RateLimiter(config.requests_per_minute)
        )
        self.session = session
        self.authorization = sdk.AuthorizationApi(self.api_client)
        self.oauth = sdk.OAuthApi(self.api_client)
        self.architect = sdk.ArchitectApi(self.api_client)
        self.routing = sdk.RoutingApi(self.api_client)
        self.integrations = sdk.IntegrationsApi(self.api_client)
        self.conversations = sdk.ConversationsApi(self.api_client)

    def call(self, endpoint: str, fn: Callable[[], Any]) -> Any:
        """One SDK call under the client's policy; the raw JSON of the response."""
        return self._sdk(endpoint, fn)

    def all_pages(self, endpoint: str, fetch: Callable[[int], Any]) -> list[dict[str, Any]]:
        """Every entity of a paged listing; ``fetch(page_number)`` makes one SDK call."""
        return self._pages(endpoint, fetch)
