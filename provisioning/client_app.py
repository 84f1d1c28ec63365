"""The Client App integration that embeds the callexport admin app in Genesys Cloud.

As Genesys documents installing a client app through the API
(developer.genesys.cloud/platform/integrations/client-apps/installing-app) and as the Terraform
provider's `genesyscloud_integration` does it: `POST /api/v2/integrations` with the type
``embedded-client-app``; `PUT …/{id}/config/current` with the current ``version`` and the properties
``url``, ``displayType``, ``sandbox``; `PATCH …/{id}` with ``intendedState: ENABLED``. The integration is
found by type and name; it is ours when its notes carry the marker. Genesys requires the app's URL to
be HTTPS (the page embedding it is HTTPS).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from genesys.errors import Conflict
from provisioning.plan import CREATE, MARKER, OK, UPDATE, Context, Finding, Outcome, collision, is_ours

logger = logging.getLogger(__name__)

TYPE_ID = "embedded-client-app"
NOTES = f"The callexport admin app: edit the export profiles. {MARKER}"
SANDBOX = (
    "allow-forms,allow-modals,allow-popups,allow-presentation,allow-same-origin,allow-scripts,allow-downloads"
)
DEFAULT_APP_URL = "http://localhost:8760/"  # `python run.py admin serve` on this machine; production: HTTPS
PLACEHOLDERS = "gcHostOrigin={{gcHostOrigin}}&gcTargetEnv={{gcTargetEnv}}&gcLangTag={{gcLangTag}}"


def app_url(base: str) -> str:
    """The integration's URL: the admin app's address with the placeholders Genesys Cloud fills in
    (the app derives the region's hosts from ``gcHostOrigin``: docs/admin.md), unless already there."""
    if "{{gcHostOrigin}}" in base:
        return base
    return base + ("&" if "?" in base else "?") + PLACEHOLDERS


def wanted_properties(url: str) -> dict[str, Any]:
    return {"url": app_url(url), "displayType": "standalone", "sandbox": SANDBOX, "featureCategory": ""}


def find_app(ctx: Context, name: str) -> dict[str, Any] | None:
    client = ctx.require_client()
    found = client.all_pages(
        "GET /api/v2/integrations",
        lambda page: client.integrations.get_integrations(page_number=page, page_size=100),
    )
    return next(
        (
            i
            for i in found
            if (i.get("integrationType") or {}).get("id") == TYPE_ID
            and str(i.get("name", "")).lower() == name.lower()
        ),
        None,
    )


def current_config(ctx: Context, integration_id: str) -> dict[str, Any]:
    client = ctx.require_client()
    return client.call(
        "GET /api/v2/integrations/{integrationId}/config/current",
        lambda: client.integrations.get_integration_config_current(integration_id),
    )


class ClientAppStep:
    key = "client-app"
    needs: tuple[str, ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.title = f"Admin app {ctx.options.app_name!r} (Client App integration)"

    def inspect(self, ctx: Context) -> Finding:
        options = ctx.options
        app = find_app(ctx, options.app_name)
        if app is None:
            return Finding(CREATE, f"create the Client App {options.app_name!r} at {options.app_url}")
        config = current_config(ctx, app["id"])
        if not is_ours(config.get("notes")) and self.key not in options.adopt:
            return collision("Client App integration", options.app_name, "--app-name", self.key)
        properties = config.get("properties") or {}
        changes = [
            f"{key} {properties.get(key)!r} -> {value!r}"
            for key, value in wanted_properties(options.app_url).items()
            if properties.get(key) != value
        ]
        if not is_ours(config.get("notes")):
            changes.append("mark it as managed by callexport setup (adopted)")
        if app.get("intendedState") != "ENABLED":
            changes.append("enable it")
        if not changes:
            return Finding(OK, f"Client App {options.app_name!r} is enabled at {options.app_url}", found=app)
        return Finding(
            UPDATE, f"fix the Client App {options.app_name!r}: " + "; ".join(changes), changes, found=app
        )

    def _configure(self, ctx: Context, integration_id: str) -> None:
        client, options = ctx.require_client(), ctx.options
        for attempt in (1, 2):  # a concurrent change of the configuration: read the version again once
            config = current_config(ctx, integration_id)
            body = {
                "name": options.app_name,
                "version": config.get("version", 1),
                "notes": NOTES,
                "properties": {**(config.get("properties") or {}), **wanted_properties(options.app_url)},
                "advanced": config.get("advanced") or {},
                "credentials": config.get("credentials") or {},
            }
            try:
                client.call(
                    "PUT /api/v2/integrations/{integrationId}/config/current",
                    functools.partial(
                        client.integrations.put_integration_config_current, integration_id, body=body
                    ),
                )
                return
            except Conflict:
                if attempt == 2:
                    raise

    def _enable(self, ctx: Context, integration_id: str) -> None:
        client = ctx.require_client()
        client.call(
            "PATCH /api/v2/integrations/{integrationId}",
            lambda: client.integrations.patch_integration(integration_id, body={"intendedState": "ENABLED"}),
        )

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        options = ctx.options
        if finding.action == CREATE:
            client = ctx.require_client()
            body = {"integrationType": {"id": TYPE_ID}}
            app = client.call(
                "POST /api/v2/integrations", lambda: client.integrations.post_integrations(body=body)
            )
            self._configure(ctx, app["id"])
            self._enable(ctx, app["id"])
            return Outcome("created", f"created the Client App {options.app_name!r} at {options.app_url}")
        app = finding.found or {}
        if any(not c.startswith("enable") for c in finding.changes):
            self._configure(ctx, app["id"])
        if app.get("intendedState") != "ENABLED":
            self._enable(ctx, app["id"])
        return Outcome("updated", f"fixed the Client App {options.app_name!r}: " + "; ".join(finding.changes))
