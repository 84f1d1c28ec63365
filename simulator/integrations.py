"""Integrations (`IntegrationsApi`): `GET/POST /api/v2/integrations`, `GET/PATCH/DELETE …/{id}`,
`GET/PUT …/{id}/config/current`.

Modelled on Genesys' documentation for installing a Client App
(developer.genesys.cloud/platform/integrations/client-apps/installing-app) and the Terraform
provider's `genesyscloud_integration` resource:

* `POST` takes only the integration type (`{"integrationType": {"id": "embedded-client-app"}}`); the
  new integration is `DISABLED`, named after its type, with configuration version 1;
* the configuration (`name`, `notes`, `properties`, `advanced`, `credentials`) is replaced by `PUT
  …/config/current`, which must carry the current `version` (409 otherwise) and increments it; the
  integration's name follows the configuration's name;
* the state changes only through `PATCH` with `intendedState` (`ENABLED`/`DISABLED`);
* an empty `notes` comes back as Genesys' storage placeholder ``node_dynamodb_empty_string`` (the
  provider strips it: `flattenIntegrationConfig`).
"""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.errors import ApiError, bad_request, not_found
from simulator.http_api import Request, Router
from simulator.paging import listing

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

API = "/api/v2"
EMPTY_NOTES = "node_dynamodb_empty_string"
TYPES: dict[str, dict[str, str]] = {
    "embedded-client-app": {
        "name": "Client Application",
        "description": "Embeds a third-party web application in Genesys Cloud",
        "provider": "clientapps",
        "category": "Client Apps",
    },
    "embedded-client-app-interaction-widget": {
        "name": "Interaction Widget",
        "description": "Embeds a third-party web application in the interaction panel",
        "provider": "clientapps",
        "category": "Client Apps",
    },
}


@dataclass
class IntegrationRecord:
    id: str
    type_id: str
    intended_state: str = "DISABLED"
    version: int = 1
    name: str = ""
    notes: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    advanced: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)

    def type_ref(self) -> dict[str, Any]:
        info = TYPES[self.type_id]
        return {
            "id": self.type_id,
            "name": info["name"],
            "description": info["description"],
            "provider": info["provider"],
            "category": info["category"],
            "selfUri": f"{API}/integrations/types/{self.type_id}",
        }

    def config_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "properties": copy.deepcopy(self.properties),
            "advanced": copy.deepcopy(self.advanced),
            "notes": self.notes or EMPTY_NOTES,
            "credentials": copy.deepcopy(self.credentials),
            "selfUri": f"{API}/integrations/{self.id}/config/current",
        }

    def document(self) -> dict[str, Any]:
        active = self.intended_state == "ENABLED"
        doc: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "integrationType": self.type_ref(),
            "intendedState": self.intended_state,
            "config": {"current": self.config_document()},
            "reportedState": {"code": "ACTIVE" if active else "INACTIVE"},
            "attributes": {},
            "selfUri": f"{API}/integrations/{self.id}",
        }
        if self.notes:
            doc["notes"] = self.notes
        return doc


class IntegrationStore:
    def __init__(self) -> None:
        self._items: dict[str, IntegrationRecord] = {}
        self._lock = threading.RLock()

    def create(self, body: dict[str, Any]) -> IntegrationRecord:
        type_id = (body.get("integrationType") or {}).get("id")
        if type_id not in TYPES:
            raise bad_request(f"Unknown integration type {type_id!r}")
        record = IntegrationRecord(str(uuid.uuid4()), type_id, name=TYPES[type_id]["name"])
        with self._lock:
            self._items[record.id] = record
        logger.info("simulator integration %s of type %s created", record.id, type_id)
        return record

    def get(self, integration_id: str) -> IntegrationRecord:
        with self._lock:
            record = self._items.get(integration_id)
        if record is None:
            raise not_found("Integration", integration_id)
        return record

    def all(self) -> list[IntegrationRecord]:
        with self._lock:
            return sorted(self._items.values(), key=lambda r: (r.name.lower(), r.id))

    def patch(self, integration_id: str, body: dict[str, Any]) -> IntegrationRecord:
        state = body.get("intendedState")
        if state not in (None, "ENABLED", "DISABLED"):
            raise bad_request("intendedState must be ENABLED or DISABLED")
        with self._lock:
            record = self.get(integration_id)
            if state:
                record.intended_state = state
        return record

    def delete(self, integration_id: str) -> IntegrationRecord:
        with self._lock:
            record = self._items.pop(integration_id, None)
        if record is None:
            raise not_found("Integration", integration_id)
        record.intended_state = "DELETED"
        return record

    def put_config(self, integration_id: str, body: dict[str, Any]) -> IntegrationRecord:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("The integration configuration needs a name")
        for key in ("properties", "advanced", "credentials"):
            if not isinstance(body.get(key, {}), dict):
                raise bad_request(f"{key} must be an object")
        properties = body.get("properties") or {}
        with self._lock:
            record = self.get(integration_id)
            if body.get("version") != record.version:
                raise ApiError(
                    409,
                    f"Version mismatch: the current configuration version is {record.version}",
                    code="version.mismatch",
                )
            if record.type_id.startswith("embedded-client-app") and not str(properties.get("url", "")):
                raise bad_request("A client application needs the property 'url'")
            record.name = name.strip()
            notes = str(body.get("notes") or "")
            record.notes = "" if notes == EMPTY_NOTES else notes
            record.properties = copy.deepcopy(properties)
            record.advanced = copy.deepcopy(body.get("advanced") or {})
            record.credentials = copy.deepcopy(body.get("credentials") or {})
            record.version += 1
        return record


def register(router: Router, sim: Simulator) -> None:
    store: IntegrationStore = sim.integrations

    def list_integrations(req: Request) -> dict[str, Any]:
        return listing([r.document() for r in store.all()], req.path, req.query)

    def post_integration(req: Request) -> dict[str, Any]:
        return store.create(req.json_object()).document()

    def get_integration(req: Request) -> dict[str, Any]:
        return store.get(req.params["integrationId"]).document()

    def patch_integration(req: Request) -> dict[str, Any]:
        return store.patch(req.params["integrationId"], req.json_object()).document()

    def delete_integration(req: Request) -> dict[str, Any]:
        return store.delete(req.params["integrationId"]).document()

    def get_config(req: Request) -> dict[str, Any]:
        return store.get(req.params["integrationId"]).config_document()

    def put_config(req: Request) -> dict[str, Any]:
        return store.put_config(req.params["integrationId"], req.json_object()).config_document()

    base = f"{API}/integrations"
    router.add("GET", base, list_integrations)
    router.add("POST", base, post_integration)
    router.add("GET", base + "/{integrationId}", get_integration)
    router.add("PATCH", base + "/{integrationId}", patch_integration)
    router.add("DELETE", base + "/{integrationId}", delete_integration)
    router.add("GET", base + "/{integrationId}/config/current", get_config)
    router.add("PUT", base + "/{integrationId}/config/current", put_config)
