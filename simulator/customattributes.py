"""Conversation custom attributes: schemas and per-conversation records with versions (§6.2)."""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.errors import ApiError, bad_request, not_found

logger = logging.getLogger(__name__)

LIMITS = {
    "minFieldNameCharacters": 1,
    "maxFieldNameCharacters": 100,
    "minFieldTitleCharacters": 1,
    "maxFieldTitleCharacters": 100,
    "minFieldDescriptionCharacters": 0,
    "maxFieldDescriptionCharacters": 512,
    "minSchemaNameCharacters": 1,
    "maxSchemaNameCharacters": 100,
    "minSchemaDescriptionCharacters": 0,
    "maxSchemaDescriptionCharacters": 512,
    "maxNumberOfSchemasPerOrg": 10,
    "maxNumberOfFieldsPerSchema": 50,
    "maxNumberOfFieldsPerOrg": 200,
}


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Schema:
    id: str
    version: int
    json_schema: dict[str, Any]
    date_created: str
    enabled: bool = True

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "enabled": self.enabled,
            "dateCreated": self.date_created,
            "jsonSchema": copy.deepcopy(self.json_schema),
            "selfUri": f"/api/v2/conversations/customattributes/schemas/{self.id}",
        }


@dataclass
class Record:
    id: str
    conversation_id: str
    schema_id: str
    schema_version: int
    divisions: list[Any]
    custom_attributes: dict[str, Any]
    timestamps: dict[str, str]
    version: int
    date_created: str
    date_modified: str
    history: list[dict[str, Any]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversationId": self.conversation_id,
            "divisions": copy.deepcopy(self.divisions),
            "schema": {
                "id": self.schema_id,
                "version": self.schema_version,
                "selfUri": f"/api/v2/conversations/customattributes/schemas/{self.schema_id}",
            },
            "customAttributes": copy.deepcopy(self.custom_attributes),
            "customAttributesTimestamps": dict(self.timestamps),
            "version": self.version,
            "dateCreated": self.date_created,
            "dateModified": self.date_modified,
            "selfUri": f"/api/v2/conversations/{self.conversation_id}/customattributes/{self.id}",
        }


class CustomAttributesStore:
    def __init__(self) -> None:
        self._schemas: dict[str, Schema] = {}
        self._records: dict[tuple[str, str], Record] = {}
        self._lock = threading.RLock()

    # -- schemas ------------------------------------------------------------------------
    def create_schema(self, body: dict[str, Any]) -> Schema:
        title = body.get("title")
        if not isinstance(title, str) or not (
            LIMITS["minSchemaNameCharacters"] <= len(title) <= LIMITS["maxSchemaNameCharacters"]
        ):
            raise bad_request("A schema needs a title of 1 to 100 characters")
        props = body.get("properties")
        if not isinstance(props, dict) or not props:
            raise bad_request("A schema needs at least one property")
        if len(props) > LIMITS["maxNumberOfFieldsPerSchema"]:
            raise bad_request(f"A schema may have at most {LIMITS['maxNumberOfFieldsPerSchema']} fields")
        with self._lock:
            if len(self._schemas) >= LIMITS["maxNumberOfSchemasPerOrg"]:
                raise bad_request(f"At most {LIMITS['maxNumberOfSchemasPerOrg']} schemas per org")
            schema = Schema(str(uuid.uuid4()), 1, copy.deepcopy(body), iso_now())
            self._schemas[schema.id] = schema
        logger.info("simulator custom attribute schema %s created (%s)", schema.id, title)
        return schema

    def schemas(self) -> list[Schema]:
        with self._lock:
            return list(self._schemas.values())

    def schema(self, schema_id: str) -> Schema:
        with self._lock:
            schema = self._schemas.get(schema_id)
        if schema is None:
            raise not_found("Schema", schema_id)
        return schema

    # -- records ------------------------------------------------------------------------
    def put(self, conversation_id: str, body: dict[str, Any]) -> Record:
        """Create or replace a record (PUT); `version`, when given, must match the stored one."""
        record_id, attrs = _record_fields(body)
        schema = self.schema(str(body.get("schemaId") or ""))
        _check_types(schema, attrs)
        now = iso_now()
        with self._lock:
            current = self._records.get((conversation_id, record_id))
            _check_version(current, body.get("version"))
            version = 1 if current is None else current.version + 1
            record = Record(
                record_id,
                conversation_id,
                schema.id,
                schema.version,
                list(body.get("divisions") or []),
                dict(attrs),
                dict.fromkeys(attrs, now),
                version,
                current.date_created if current else now,
                now,
            )
            self._records[(conversation_id, record_id)] = record
        logger.info(
            "simulator conversation %s custom attributes %s written (version %d)",
            conversation_id,
            record_id,
            version,
        )
        return record

    def patch(self, conversation_id: str, body: dict[str, Any]) -> Record:
        """Merge the given fields into an existing record (PATCH)."""
        record_id, attrs = _record_fields(body)
        now = iso_now()
        with self._lock:
            current = self._records.get((conversation_id, record_id))
            if current is None:
                raise not_found("Custom attributes", record_id)
            _check_version(current, body.get("version"))
            _check_types(self.schema(current.schema_id), attrs)
            current.custom_attributes.update(attrs)
            current.timestamps.update(dict.fromkeys(attrs, now))
            if "divisions" in body:
                current.divisions = list(body.get("divisions") or [])
            current.version += 1
            current.date_modified = now
            return current

    def records(self, conversation_id: str) -> list[Record]:
        with self._lock:
            return [r for (cid, _), r in self._records.items() if cid == conversation_id]

    def record(self, conversation_id: str, record_id: str) -> Record:
        with self._lock:
            record = self._records.get((conversation_id, record_id))
        if record is None:
            raise not_found("Custom attributes", record_id)
        return record

    def delete(self, conversation_id: str, record_id: str) -> None:
        with self._lock:
            if self._records.pop((conversation_id, record_id), None) is None:
                raise not_found("Custom attributes", record_id)


def _record_fields(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    record_id = body.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise bad_request("The custom attributes record needs an 'id'")
    attrs = body.get("customAttributes")
    if not isinstance(attrs, dict):
        raise bad_request("'customAttributes' must be an object")
    return record_id, attrs


def _check_version(current: Record | None, version: Any) -> None:
    if version is None:
        return
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad_request("'version' must be an integer")
    stored = 0 if current is None else current.version
    if version != stored:
        raise ApiError(409, f"Version mismatch: sent {version}, current is {stored}", code="version.mismatch")


_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def _check_types(schema: Schema, attrs: dict[str, Any]) -> None:
    props = schema.json_schema.get("properties") or {}
    for name, value in attrs.items():
        spec = props.get(name)
        if spec is None:
            raise bad_request(f"Attribute {name!r} is not defined by schema {schema.id}")
        typ = spec.get("type") if isinstance(spec, dict) else None
        expected = _JSON_TYPES.get(typ or "")
        if expected is not None and value is not None and not isinstance(value, expected):
            raise bad_request(f"Attribute {name!r} must be of type {typ}")
