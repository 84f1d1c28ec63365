"""The service's OAuth client: client credentials, the service's role in the home division, its
secret stored through the credential chain (`genesys.credentials.CredentialStore`), never printed.

`OAuthApi`: `GET/POST /api/v2/oauth/clients` (`OAuthClientRequest`: ``authorizedGrantType``
``CLIENT-CREDENTIALS``, ``roleDivisions``), `PUT …/{id}`, `POST …/{id}/secret`; as the Terraform
provider's `genesyscloud_oauth_client`. Genesys returns a client's secret when it creates it and when
it regenerates it, so a lost or wrong stored secret is repaired by regenerating it (then any other
machine using the same client needs the new one: `python run.py credentials set` there).
"""

from __future__ import annotations

import logging
from typing import Any

from genesys.auth import TokenProvider
from genesys.config import ClientConfig
from genesys.credentials import CredentialError
from genesys.errors import AuthenticationFailed, GenesysError
from provisioning.plan import CREATE, OK, UPDATE, Context, Finding, Outcome, collision, is_ours, with_marker

logger = logging.getLogger(__name__)

DESCRIPTION = "The callexport export service signs in with this client (client credentials)."
TOKEN_VALIDITY_S = 86400


def home_division_id(ctx: Context) -> str:
    if "division_id" not in ctx.values:
        client = ctx.require_client()
        division = client.call(
            "GET /api/v2/authorization/divisions/home",
            lambda: client.authorization.get_authorization_divisions_home(),
        )
        ctx.values["division_id"] = division["id"]
    return str(ctx.values["division_id"])


def find_client(ctx: Context, name: str) -> dict[str, Any] | None:
    client = ctx.require_client()
    # the listing has no paging parameters: one request returns every client
    listing = client.call("GET /api/v2/oauth/clients", lambda: client.oauth.get_oauth_clients()) or {}
    clients = [c for c in listing.get("entities") or [] if isinstance(c, dict)]
    return next((c for c in clients if str(c.get("name", "")).lower() == name.lower()), None)


def stored_secret_works(ctx: Context, client_id: str) -> tuple[bool, str]:
    """Whether the credential chain holds this client's id with a secret the login host accepts."""
    try:
        creds = ctx.require_credentials().load()
    except CredentialError:
        return False, "no credentials are stored"
    if creds.client_id != client_id:
        return False, f"the stored credentials belong to another client ({creds.client_id})"
    region = ctx.require_session().region
    config = ClientConfig(region.api_url, client_id, creds.client_secret, login_url=region.login_url)
    provider = TokenProvider(config, max_attempts=2)
    try:
        provider.token()
    except AuthenticationFailed:
        return False, "the stored secret is refused by Genesys Cloud"
    except GenesysError as exc:
        return False, f"the stored secret could not be checked ({exc})"
    finally:
        provider.close()
    return True, f"stored in {creds.source}"


class OAuthClientStep:
    key = "oauth-client"

    def __init__(self, ctx: Context) -> None:
        self.title = f"OAuth client {ctx.options.client_name!r}"
        person = ctx.session is not None and ctx.session.is_person
        self.needs: tuple[str, ...] = ("role", "role-grant") if person else ("role",)

    def _wanted(self, ctx: Context) -> dict[str, Any]:
        role_id = ctx.values.get("role_id")
        return {
            "name": ctx.options.client_name,
            "authorizedGrantType": "CLIENT-CREDENTIALS",
            "accessTokenValiditySeconds": TOKEN_VALIDITY_S,
            "roleDivisions": [{"roleId": role_id, "divisionId": home_division_id(ctx)}] if role_id else [],
            "state": "active",
        }

    def inspect(self, ctx: Context) -> Finding:
        name = ctx.options.client_name
        found = find_client(ctx, name)
        if found is None:
            ctx.values.pop("client_id", None)
            return Finding(
                CREATE, f"create the OAuth client {name!r} (client credentials) and store its secret"
            )
        if not is_ours(found.get("description")) and self.key not in ctx.options.adopt:
            return collision("OAuth client", name, "--client-name", self.key)
        ctx.values["client_id"] = found["id"]
        wanted = self._wanted(ctx)
        changes = []
        if found.get("authorizedGrantType") != "CLIENT-CREDENTIALS":
            changes.append(f"grant type {found.get('authorizedGrantType')} -> CLIENT-CREDENTIALS")
        have = {(rd.get("roleId"), rd.get("divisionId")) for rd in found.get("roleDivisions") or []}
        want = {(rd["roleId"], rd["divisionId"]) for rd in wanted["roleDivisions"]}
        if have != want:
            changes.append("give it only the service's role in the home division")
        if found.get("state", "active") != "active":
            changes.append(f"state {found.get('state')} -> active")
        if not is_ours(found.get("description")):
            changes.append("mark it as managed by callexport setup (adopted)")
        works, why = stored_secret_works(ctx, found["id"])
        new_secret = not works
        if new_secret:
            changes.append(f"generate a new secret and store it ({why})")
        if not changes:
            return Finding(OK, f"OAuth client {name!r} is as needed; its secret is {why}", found=found)
        return Finding(
            UPDATE,
            f"fix the OAuth client {name!r}: " + "; ".join(changes),
            changes,
            found=found,
            data={"new_secret": new_secret, "update": len(changes) > int(new_secret)},
        )

    def _store(self, ctx: Context, client_id: str, secret: str) -> str:
        where = ctx.require_credentials().save(client_id, secret, target=ctx.options.credential_store)
        return where

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        if finding.action == CREATE:
            client = ctx.require_client()
            body = {**self._wanted(ctx), "description": with_marker(DESCRIPTION)}
            created = client.call("POST /api/v2/oauth/clients", lambda: client.oauth.post_oauth_clients(body))
            ctx.values["client_id"] = created["id"]
            where = self._store(ctx, created["id"], created["secret"])
            return Outcome(
                "created",
                f"created the OAuth client {ctx.options.client_name!r} ({created['id']}); secret stored in {where}",
            )
        found = finding.found or {}
        client_id = found["id"]
        done = []
        if finding.data.get("update"):
            client = ctx.require_client()
            body = {**self._wanted(ctx), "description": with_marker(found.get("description") or DESCRIPTION)}
            client.call(
                "PUT /api/v2/oauth/clients/{clientId}", lambda: client.oauth.put_oauth_client(client_id, body)
            )
            done.append("role, grant type and state set")
        if finding.data.get("new_secret"):
            client = ctx.require_client()
            renewed = client.call(
                "POST /api/v2/oauth/clients/{clientId}/secret",
                lambda: client.oauth.post_oauth_client_secret(client_id),
            )
            where = self._store(ctx, client_id, renewed["secret"])
            done.append(f"new secret stored in {where} (other machines using this client need it too)")
        return Outcome("updated", f"fixed the OAuth client {ctx.options.client_name!r}: " + "; ".join(done))
