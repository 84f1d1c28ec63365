"""Authorization: organization roles with permission policies, the home division, role grants.

Routes (`AuthorizationApi`): `GET/POST /api/v2/authorization/roles`, `GET/PUT/DELETE …/roles/{roleId}`,
`PUT …/roles/{roleId}/users/add`, `GET /api/v2/authorization/divisions/home`,
`GET /api/v2/authorization/subjects/me`. Documents are the SDK's `DomainOrganizationRole`,
`OrganizationRoleEntityListing`, `AuthzDivision` and `AuthzSubject`.

Behaviour modelled on the platform: a role is found by name with the `name` filter (`*` wildcards),
names are unique (case-insensitive); a `PUT` replaces name, description and permission policies;
`permissions` in a role document is the flat list its policies grant. Who may do what is checked by
the server's permission rules, not here.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.errors import ApiError, bad_request, not_found
from simulator.http_api import Request, Response, Router
from simulator.paging import listing, name_matches

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

API = "/api/v2"


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


@dataclass
class Role:
    id: str
    name: str
    description: str
    policies: list[dict[str, Any]]
    user_ids: set[str] = field(default_factory=set)

    def permissions(self) -> list[str]:
        return sorted(
            f"{p['domain']}:{p['entityName']}:{action}" for p in self.policies for action in p["actionSet"]
        )

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "permissions": self.permissions(),
            "permissionPolicies": copy.deepcopy(self.policies),
            "userCount": len(self.user_ids),
            "default": False,
            "base": False,
            "selfUri": f"{API}/authorization/roles/{self.id}",
        }
        if self.description:  # Genesys leaves an empty description out
            doc["description"] = self.description
        return doc


def _policies(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("permissionPolicies")
    if raw is None:
        raw = []
        for permission in body.get("permissions") or []:
            parts = str(permission).split(":")
            if len(parts) != 3:
                raise bad_request(f"Invalid permission {permission!r}")
            raw.append({"domain": parts[0], "entityName": parts[1], "actionSet": [parts[2]]})
    if not isinstance(raw, list):
        raise bad_request("permissionPolicies must be a list")
    policies = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("Each permission policy must be an object")
        domain, entity, actions = item.get("domain"), item.get("entityName"), item.get("actionSet")
        if not isinstance(domain, str) or not isinstance(entity, str) or not domain or not entity:
            raise bad_request("A permission policy needs a domain and an entityName")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, str) and a for a in actions):
            raise bad_request(f"The permission policy {domain}:{entity} needs a non-empty actionSet")
        policies.append(
            {
                "domain": domain,
                "entityName": entity,
                "actionSet": sorted(set(actions)),
                "allowConditions": bool(item.get("allowConditions", False)),
            }
        )
    return policies


class AuthorizationStore:
    """Roles, the home division and who holds which role."""

    def __init__(self, division: dict[str, Any]) -> None:
        self.division = dict(division)
        self._roles: dict[str, Role] = {}
        self._lock = threading.RLock()
        self.listeners: list[
            Callable[[], None]
        ] = []  # called after a role's permissions change (OAuth client tokens)

    def _changed(self) -> None:
        for listener in self.listeners:
            listener()

    # -- roles ------------------------------------------------------------------------------
    def _check_name(self, name: Any, exclude: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise bad_request("A role needs a name")
        for role in self._roles.values():
            if role.id != exclude and role.name.lower() == name.strip().lower():
                raise ApiError(409, f"A role named {name!r} already exists", code="conflict")
        return name.strip()

    def create(self, body: dict[str, Any]) -> Role:
        with self._lock:
            name = self._check_name(body.get("name"))
            role = Role(str(uuid.uuid4()), name, str(body.get("description") or ""), _policies(body))
            self._roles[role.id] = role
        logger.info("simulator role %r created with %d permissions", name, len(role.permissions()))
        return role

    def get(self, role_id: str) -> Role:
        with self._lock:
            role = self._roles.get(role_id)
        if role is None:
            raise not_found("Role", role_id)
        return role

    def update(self, role_id: str, body: dict[str, Any]) -> Role:
        with self._lock:
            role = self.get(role_id)
            role.name = self._check_name(body.get("name", role.name), exclude=role_id)
            role.description = str(body.get("description") or "")
            role.policies = _policies(body)
        logger.info("simulator role %r updated (%d permissions)", role.name, len(role.permissions()))
        self._changed()
        return role

    def delete(self, role_id: str) -> None:
        with self._lock:
            if self._roles.pop(role_id, None) is None:
                raise not_found("Role", role_id)
        self._changed()

    def all(self) -> list[Role]:
        with self._lock:
            return sorted(self._roles.values(), key=lambda r: r.name.lower())

    def find(self, name: str) -> Role | None:
        with self._lock:
            return next((r for r in self._roles.values() if r.name.lower() == name.lower()), None)

    def add_users(self, role_id: str, user_ids: list[str]) -> list[str]:
        with self._lock:
            role = self.get(role_id)
            role.user_ids.update(user_ids)
        return list(user_ids)

    def roles_of(self, subject_id: str) -> list[Role]:
        with self._lock:
            return [r for r in self._roles.values() if subject_id in r.user_ids]


def register(router: Router, sim: Simulator) -> None:
    store: AuthorizationStore = sim.authz

    def list_roles(req: Request) -> dict[str, Any]:
        roles = store.all()
        name = req.arg("name")
        if name:
            roles = [r for r in roles if name_matches(name, r.name)]
        ids = [i for v in req.query.get("id", []) for i in v.split(",") if i]
        if ids:
            roles = [r for r in roles if r.id in ids]
        return listing([r.document() for r in roles], req.path, req.query)

    def post_role(req: Request) -> dict[str, Any]:
        return store.create(req.json_object()).document()

    def get_role(req: Request) -> dict[str, Any]:
        return store.get(req.params["roleId"]).document()

    def put_role(req: Request) -> dict[str, Any]:
        return store.update(req.params["roleId"], req.json_object()).document()

    def delete_role(req: Request) -> Response:
        store.delete(req.params["roleId"])
        return Response(204, None)

    def add_users(req: Request) -> Any:
        body = req.json()
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
            raise bad_request("The body must be a list of user ids")
        return store.add_users(req.params["roleId"], body)

    def home_division(req: Request) -> dict[str, Any]:
        return {**store.division, "description": "The home division", "homeDivision": True}

    def subjects_me(req: Request) -> dict[str, Any]:
        subject = sim.subject_of(req)
        grants = [
            {
                "subjectId": subject["id"],
                "division": dict(store.division),
                "role": {"id": r.id, "name": r.name, "selfUri": f"{API}/authorization/roles/{r.id}"},
            }
            for r in store.roles_of(subject["id"])
        ]
        return {
            "id": subject["id"],
            "name": subject["name"],
            "grants": grants,
            "version": 1,
            "selfUri": f"{API}/authorization/subjects/{subject['id']}",
        }

    base = f"{API}/authorization/roles"
    router.add("GET", base, list_roles)
    router.add("POST", base, post_role)
    router.add("GET", base + "/{roleId}", get_role)
    router.add("PUT", base + "/{roleId}", put_role)
    router.add("DELETE", base + "/{roleId}", delete_role)
    router.add("PUT", base + "/{roleId}/users/add", add_users)
    router.add("GET", f"{API}/authorization/divisions/home", home_division)
    router.add("GET", f"{API}/authorization/subjects/me", subjects_me)
