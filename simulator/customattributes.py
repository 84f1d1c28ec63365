"""Conversation custom attributes: schemas and per-conversation records with versions (SDK ConversationsApi custom attributes; docs/genesys.md)."""

from __future__ import annotations

import copy
import logging
import re
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


CORETYPES: dict[str, dict[str, Any]] = {
    # name -> JSON type, validation fields with their (min, max) bounds
    "boolean": {"type": "boolean", "limits": {}},
    "currency": {"type": "object", "limits": {}},
    "date": {"type": "string", "limits": {}},
    "datetime": {"type": "string", "limits": {}},
    "enum": {"type": "string", "limits": {}},
    "integer": {
        "type": "integer",
        "limits": {
            "minimum": (-9_007_199_254_740_991, 9_007_199_254_740_991),
            "maximum": (-9_007_199_254_740_991, 9_007_199_254_740_991),
        },
    },
    "number": {"type": "number", "limits": {"minimum": (-1e15, 1e15), "maximum": (-1e15, 1e15)}},
    "text": {"type": "string", "limits": {"minLength": (0, 100), "maxLength": (1, 100)}},
    "longtext": {"type": "string", "limits": {"minLength": (0, 1000), "maxLength": (1, 1000)}},
}
"""The core types conversation schemas are built from (nine, as Genesys' help lists for conversation
attributes); text bounds as Genesys' Terraform workitem-schema example uses them (text 100, longtext
1000). Served by ``GET .../schemas/coretypes`` as `Coretype` documents."""

_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
_FIELD_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


def coretype_document(name: str) -> dict[str, Any]:
    """`Coretype` (GET /api/v2/conversations/customattributes/schemas/coretypes/{coreTypeName})."""
    spec = CORETYPES[name]
    limits = {check: {"min": int(lo), "max": int(hi)} for check, (lo, hi) in spec["limits"].items()}
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"coretype/{name}")),
        "name": name,
        "version": 1,
        "dateCreated": "2025-01-01T00:00:00.000Z",
        "schema": {"title": name, "description": f"The {name} core type", "type": [spec["type"]]},
        "current": True,
        "validationFields": sorted(spec["limits"]) + (["enum"] if name == "enum" else []),
        "validationLimits": limits,
        "selfUri": f"/api/v2/conversations/customattributes/schemas/coretypes/{name}",
    }


def _core_of(spec: Any) -> str | None:
    """The core type a property is built from (``allOf: [{"$ref": "#/definitions/<name>"}]``)."""
    if not isinstance(spec, dict):
        return None
    all_of = spec.get("allOf")
    if not isinstance(all_of, list) or len(all_of) != 1 or not isinstance(all_of[0], dict):
        return None
    ref = all_of[0].get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
        return None
    name = ref[len("#/definitions/") :]
    return name if name in CORETYPES else None


def validate_schema_body(body: dict[str, Any]) -> None:
    """Reject what Genesys rejects: properties must be built from core types (``allOf`` + ``$ref``),
    named with their core type's suffix, titled, with validation fields within the core type's
    limits; plain JSON-Schema types (``{"type": "string"}``) are not a conversation schema."""
    schema_uri = body.get("$schema")
    if schema_uri is not None and schema_uri != "http://json-schema.org/draft-04/schema#":
        raise bad_request("'$schema' must be http://json-schema.org/draft-04/schema#")
    description = body.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > LIMITS["maxSchemaDescriptionCharacters"]
    ):
        raise bad_request("The schema description must be a string of at most 512 characters")
    props: dict[str, Any] = body["properties"]  # create_schema has checked it is a non-empty object
    for name, spec in props.items():
        core = _core_of(spec)
        if core is None:
            raise bad_request(
                f'Property {name!r} must be built from a core type: allOf [{{"$ref": "#/definitions/<type>"}}] '
                f"with one of {', '.join(sorted(CORETYPES))}"
            )
        if not (isinstance(name, str) and re.match(_FIELD_NAME, name)) or not name.endswith(f"_{core}"):
            raise bad_request(f"Property {name!r} must be named <name>_{core} (letters, digits, underscores)")
        if not LIMITS["minFieldNameCharacters"] <= len(name) <= LIMITS["maxFieldNameCharacters"]:
            raise bad_request(f"Property name {name!r} must have 1 to 100 characters")
        title = spec.get("title")
        if not isinstance(title, str) or not (
            LIMITS["minFieldTitleCharacters"] <= len(title) <= LIMITS["maxFieldTitleCharacters"]
        ):
            raise bad_request(f"Property {name!r} needs a title of 1 to 100 characters")
        allowed = {"allOf", "title", "description", *CORETYPES[core]["limits"]}
        if core == "enum":
            allowed |= {"enum", "_enumProperties"}
        extra = sorted(set(spec) - allowed)
        if extra:
            raise bad_request(f"Property {name!r} ({core}) does not accept {', '.join(extra)}")
        for check, (lo, hi) in CORETYPES[core]["limits"].items():
            value = spec.get(check)
            if value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool) or not lo <= value <= hi:
                raise bad_request(f"Property {name!r}: {check} must be between {lo} and {hi}")
        if "minLength" in spec and "maxLength" in spec and spec["minLength"] > spec["maxLength"]:
            raise bad_request(f"Property {name!r}: minLength is above maxLength")
        if core == "enum" and not (isinstance(spec.get("enum"), list) and spec["enum"]):
            raise bad_request(f"Property {name!r}: an enum needs its values")
    required = body.get("required") or []
    if not isinstance(required, list) or any(r not in props for r in required):
        raise bad_request("'required' may only name properties of the schema")


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
        validate_schema_body(body)
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
        _check_types(schema, attrs, replace=True)
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


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def _check_types(schema: Schema, attrs: dict[str, Any], *, replace: bool = False) -> None:
    """Every value against its property: core type, length and range bounds, formats."""
    props = schema.json_schema.get("properties") or {}
    if replace:
        missing = [r for r in schema.json_schema.get("required") or [] if r not in attrs]
        if missing:
            raise bad_request(f"Required attribute(s) missing: {', '.join(missing)}")
    for name, value in attrs.items():
        spec = props.get(name)
        if spec is None:
            raise bad_request(f"Attribute {name!r} is not defined by schema {schema.id}")
        if value is None:
            continue
        core = _core_of(spec) or ""
        typ = CORETYPES.get(core, {}).get("type")
        expected = _JSON_TYPES.get(typ or "")
        if expected is not None and (
            not isinstance(value, expected) or (typ != "boolean" and isinstance(value, bool))
        ):
            raise bad_request(f"Attribute {name!r} must be of type {typ} ({core})")
        if isinstance(value, str):
            if "maxLength" in spec and len(value) > spec["maxLength"]:
                raise bad_request(f"Attribute {name!r} is longer than {spec['maxLength']} characters")
            if "minLength" in spec and len(value) < spec["minLength"]:
                raise bad_request(f"Attribute {name!r} is shorter than {spec['minLength']} characters")
            if core == "datetime" and not re.match(_DATETIME, value):
                raise bad_request(f"Attribute {name!r} must be YYYY-MM-DDTHH:mm:ss.sssZ")
            if core == "date" and not re.match(_DATE, value):
                raise bad_request(f"Attribute {name!r} must be YYYY-MM-DD")
            if core == "enum" and value not in (spec.get("enum") or []):
                raise bad_request(f"Attribute {name!r} must be one of {spec.get('enum')}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in spec and value < spec["minimum"]:
                raise bad_request(f"Attribute {name!r} is below {spec['minimum']}")
            if "maximum" in spec and value > spec["maximum"]:
                raise bad_request(f"Attribute {name!r} is above {spec['maximum']}")
