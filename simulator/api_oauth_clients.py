"""OAuth clients through the API (`OAuthApi`): `GET/POST /api/v2/oauth/clients`,
`GET/PUT/DELETE …/{clientId}`, `POST …/{clientId}/secret`.

The clients themselves live in the org's registry (`simulator.oauth_clients.OAuthClients`, `sim.oauth`,
which signs them in); this module adds what the API shows and changes (roles per division, state,
description, dates). A client-credentials client created here can sign in at `/oauth/token` at once;
its tokens carry the permissions of its roles *now* (a permission removed from the role is gone for
the client's existing tokens too). Modelled on the platform:

* the secret is in the body of the `POST` that creates the client and of the `POST …/secret` that
  regenerates it, and nowhere else (listings and `GET` leave it out), so a lost secret can only be
  replaced;
* a client-credentials client needs at least one role (`roleDivisions`, or the older `roleIds` which
  mean the home division); the roles must exist;
* `state` `disabled`/`inactive` clients cannot get tokens; deleting a client revokes its tokens;
* a person can give a client only roles they hold themselves (Genesys' premium-app installer grants its
  role to the signed-in user before it assigns the role to its client: `wizard/scripts/modules/role.js`).
"""

from __future__ import annotations

import copy
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.errors import ApiError, bad_request, not_found
from simulator.http_api import Request, Response, Router
from simulator.paging import listing

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

API = "/api/v2"
GRANT_TYPES = ("CODE", "TOKEN", "SAML2-BEARER", "PASSWORD", "CLIENT-CREDENTIALS")
STATES = ("active", "disabled", "inactive")


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class OAuthClientRecord:
    id: str
    name: str
    description: str
    grant_type: str
    token_validity_s: int
    role_divisions: list[dict[str, str]]
    redirect_uris: list[str]
    scope: list[str]
    state: str
    secret: str
    created_by: str
    date_created: str
    date_modified: str
    extra: dict[str, Any] = field(default_factory=dict)

    def document(self, *, with_secret: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "accessTokenValiditySeconds": self.token_validity_s,
            "authorizedGrantType": self.grant_type,
            "roleIds": sorted({rd["roleId"] for rd in self.role_divisions}),
            "roleDivisions": copy.deepcopy(self.role_divisions),
            "registeredRedirectUri": list(self.redirect_uris),
            "scope": list(self.scope),
            "state": self.state,
            "dateCreated": self.date_created,
            "dateModified": self.date_modified,
            "createdBy": {"id": self.created_by, "selfUri": f"{API}/users/{self.created_by}"},
            "selfUri": f"{API}/oauth/clients/{self.id}",
        }
        if self.description:
            doc["description"] = self.description
        if with_secret:
            doc["secret"] = self.secret
        return doc


class OAuthClientStore:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._clients: dict[str, OAuthClientRecord] = {}
        self._lock = threading.RLock()

    def _fields(self, body: dict[str, Any], person_id: str | None = None) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("An OAuth client needs a name")
        grant = body.get("authorizedGrantType")
        if grant not in GRANT_TYPES:
            raise bad_request(f"authorizedGrantType must be one of {', '.join(GRANT_TYPES)}")
        validity = body.get("accessTokenValiditySeconds", 86400)
        if not isinstance(validity, int) or not 300 <= validity <= 172800:
            raise bad_request("accessTokenValiditySeconds must be between 300 and 172800")
        home = self._sim.authz.division["id"]
        role_divisions = body.get("roleDivisions")
        if role_divisions is None:
            role_divisions = [{"roleId": r, "divisionId": home} for r in body.get("roleIds") or []]
        if not isinstance(role_divisions, list):
            raise bad_request("roleDivisions must be a list")
        cleaned = []
        for rd in role_divisions:
            if not isinstance(rd, dict) or not isinstance(rd.get("roleId"), str):
                raise bad_request("Each roleDivision needs a roleId")
            self._sim.authz.get(rd["roleId"])  # 404 for an unknown role
            cleaned.append({"roleId": rd["roleId"], "divisionId": str(rd.get("divisionId") or home)})
        if person_id is not None:
            held = {r.id for r in self._sim.authz.roles_of(person_id)}
            lacking = sorted({rd["roleId"] for rd in cleaned} - held)
            if lacking:
                raise ApiError(
                    403,
                    "You can only assign roles that you have yourself; you do not have role(s) "
                    + ", ".join(lacking),
                    code="missing.permissions",
                )
        if grant == "CLIENT-CREDENTIALS" and not cleaned:
            raise bad_request("A client credentials client needs at least one role")
        state = body.get("state", "active")
        if state not in STATES:
            raise bad_request(f"state must be one of {', '.join(STATES)}")
        return {
            "name": name.strip(),
            "description": str(body.get("description") or ""),
            "grant_type": grant,
            "token_validity_s": validity,
            "role_divisions": cleaned,
            "redirect_uris": [str(u) for u in body.get("registeredRedirectUri") or []],
            "scope": [str(s) for s in body.get("scope") or []],
            "state": state,
        }

    def _sync_tokens(self, record: OAuthClientRecord) -> None:
        """The registry and the token store follow the record (secret, name, permissions, state)."""
        registered = self._sim.oauth.get(record.id)
        if registered is not None:
            registered.name, registered.secret = record.name, record.secret
            registered.permissions = frozenset(self._role_permissions(record))
        usable = record.state == "active" and record.grant_type == "CLIENT-CREDENTIALS"
        if usable:
            self._sim.tokens.add_client(record.id, record.secret)
        else:
            self._sim.tokens.remove_client(record.id)

    def _role_permissions(self, record: OAuthClientRecord) -> set[str]:
        granted: set[str] = set()
        for rd in record.role_divisions:
            try:
                granted.update(self._sim.authz.get(rd["roleId"]).permissions())
            except ApiError:  # a deleted role grants nothing
                continue
        return granted

    def refresh_permissions(self) -> None:
        """After a role changed: every client's tokens carry its roles' permissions as they are now."""
        with self._lock:
            for record in self._clients.values():
                registered = self._sim.oauth.get(record.id)
                if registered is not None:
                    registered.permissions = frozenset(self._role_permissions(record))

    def create(
        self, body: dict[str, Any], created_by: str, person_id: str | None = None
    ) -> OAuthClientRecord:
        values = self._fields(body, person_id)
        now = iso_now()
        registered = self._sim.oauth.register(
            values["name"], values["grant_type"], values["redirect_uris"], client_id=str(uuid.uuid4())
        )
        record = OAuthClientRecord(
            id=registered.id,
            secret=registered.secret,
            created_by=created_by,
            date_created=now,
            date_modified=now,
            **values,
        )
        with self._lock:
            self._clients[record.id] = record
            self._sync_tokens(record)
        logger.info("simulator OAuth client %r created (%s)", record.name, record.id)
        return record

    def get(self, client_id: str) -> OAuthClientRecord:
        with self._lock:
            record = self._clients.get(client_id)
        if record is None:
            raise not_found("OAuth client", client_id)
        return record

    def update(self, client_id: str, body: dict[str, Any], person_id: str | None = None) -> OAuthClientRecord:
        with self._lock:
            record = self.get(client_id)
            for key, value in self._fields(body, person_id).items():
                setattr(record, key, value)
            record.date_modified = iso_now()
            self._sync_tokens(record)
        return record

    def regenerate_secret(self, client_id: str) -> OAuthClientRecord:
        with self._lock:
            record = self.get(client_id)
            record.secret = new_secret()
            record.date_modified = iso_now()
            self._sync_tokens(record)
        logger.info("simulator OAuth client %r: secret regenerated", record.name)
        return record

    def delete(self, client_id: str) -> None:
        with self._lock:
            record = self._clients.pop(client_id, None)
            if record is None:
                raise not_found("OAuth client", client_id)
            self._sim.tokens.remove_client(client_id)
            registered = self._sim.oauth.get(client_id)
            if registered is not None:  # the registry has no removal: it can no longer do anything
                registered.permissions = frozenset()
                registered.secret = new_secret()

    def registry_documents(self) -> list[dict[str, Any]]:
        """The org's other clients (the simulator's own, the admin app's, setup's), as the API lists them."""
        with self._lock:
            mine = set(self._clients)
        docs = []
        for client in self._sim.oauth.all():
            if client.id in mine:
                continue
            doc: dict[str, Any] = {
                "id": client.id,
                "name": client.name,
                "authorizedGrantType": client.grant_type,
                "accessTokenValiditySeconds": int(client.token_ttl_s or 86400),
                "registeredRedirectUri": list(client.redirect_uris),
                "state": "active",
                "selfUri": f"{API}/oauth/clients/{client.id}",
            }
            if client.description:
                doc["description"] = client.description
            docs.append(doc)
        return docs

    def all(self) -> list[OAuthClientRecord]:
        with self._lock:
            return sorted(self._clients.values(), key=lambda c: c.name.lower())


def register(router: Router, sim: Simulator) -> None:
    store: OAuthClientStore = sim.oauth_clients

    def list_clients(req: Request) -> dict[str, Any]:
        clients = [c.document() for c in store.all()] + store.registry_documents()  # no paging: all at once
        return listing(clients, req.path, req.query, default_size=max(25, len(clients)))

    def post_client(req: Request) -> dict[str, Any]:
        subject = sim.subject_of(req)
        person = subject["id"] if subject["kind"] == "person" else None
        return store.create(req.json_object(), subject["id"], person).document(with_secret=True)

    def get_client(req: Request) -> dict[str, Any]:
        return store.get(req.params["clientId"]).document()

    def put_client(req: Request) -> dict[str, Any]:
        subject = sim.subject_of(req)
        person = subject["id"] if subject["kind"] == "person" else None
        return store.update(req.params["clientId"], req.json_object(), person).document()

    def delete_client(req: Request) -> Response:
        store.delete(req.params["clientId"])
        return Response(204, None)

    def post_secret(req: Request) -> dict[str, Any]:
        return store.regenerate_secret(req.params["clientId"]).document(with_secret=True)

    base = f"{API}/oauth/clients"
    router.add("GET", base, list_clients)
    router.add("POST", base, post_client)
    router.add("GET", base + "/{clientId}", get_client)
    router.add("PUT", base + "/{clientId}", put_client)
    router.add("DELETE", base + "/{clientId}", delete_client)
    router.add("POST", base + "/{clientId}/secret", post_secret)
