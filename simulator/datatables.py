"""Architect data tables: schema, rows keyed by `key`, the CRUD rules of the real API (SDK ArchitectApi; docs/genesys.md)."""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import ApiError, bad_request, not_found

logger = logging.getLogger(__name__)

CONFIG_TABLE_NAME = "CallExport Configuration"

# Limits Genesys documents for Architect data tables (help.mypurecloud.com "Work with data tables" and
# "Create a data table"); the simulator refuses what goes beyond them, as the platform does.
MAX_TABLES = 200  # "The number of data tables allowed in a single organization is 200"
MAX_ROWS = 5000  # "The number of data rows allowed in a single table is 5000"
MAX_FIELDS = 50  # "The number of fields allowed in a single table is 50" (counted with the key here)
MAX_KEY_CHARS = 256  # "The number of characters allowed in a single reference key is 256"
MAX_NAME_CHARS = 256  # "Table names cannot be longer than 256 characters"
# Not documented: the longest value of a string field. callexport assumes the most restrictive value it
# considers plausible (docs/genesys.md); the simulator enforces it so that the storage layout is
# proven to work under it (profiles/table_layout.py CELL_LIMIT must not exceed it).
MAX_STRING_CHARS = 1000

_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def string_schema(columns: dict[str, str]) -> dict[str, Any]:
    """A data table schema with the `key` column and the given extra columns (name -> type)."""
    props: dict[str, Any] = {
        "key": {
            "title": "key",
            "type": "string",
            "$id": "/properties/key",
            "displayOrder": 0,
            "minLength": 1,
            "maxLength": 256,
        }
    }
    for i, (name, typ) in enumerate(columns.items(), start=1):
        props[name] = {"title": name, "type": typ, "$id": f"/properties/{name}", "displayOrder": i}
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "additionalProperties": False,
        "required": ["key"],
        "properties": props,
    }


@dataclass
class DataTable:
    id: str
    name: str
    description: str
    schema: dict[str, Any]
    division: dict[str, Any]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def document(self, expand_schema: bool = True) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "division": self.division,
            "description": self.description,
            "selfUri": f"/api/v2/flows/datatables/{self.id}",
        }
        if expand_schema:
            doc["schema"] = copy.deepcopy(self.schema)
        return doc


class DataTableStore:
    def __init__(self, division: dict[str, Any]) -> None:
        self._division = division
        self._tables: dict[str, DataTable] = {}
        self._lock = threading.RLock()

    def create(self, body: dict[str, Any], table_id: str | None = None) -> DataTable:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("A data table needs a name")
        _check_name(name)
        schema = body.get("schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            raise bad_request("A data table needs a schema with properties")
        key = schema["properties"].get("key")
        if not isinstance(key, dict) or key.get("type") != "string":
            raise bad_request("The schema must define the string key column 'key'")
        for col, spec in schema["properties"].items():
            if not isinstance(spec, dict) or spec.get("type") not in _TYPES:
                raise bad_request(f"Column {col!r} must have a type among {sorted(_TYPES)}")
        _check_fields(schema)
        schema = copy.deepcopy(schema)
        schema.setdefault("$schema", "http://json-schema.org/draft-04/schema#")
        schema.setdefault("type", "object")
        schema.setdefault("additionalProperties", False)
        schema.setdefault("required", ["key"])
        with self._lock:
            if len(self._tables) >= MAX_TABLES:
                raise bad_request(f"The organization already has {MAX_TABLES} data tables (the limit)")
            if any(t.name.lower() == name.lower() for t in self._tables.values()):
                raise ApiError(
                    409, f"A data table named {name!r} already exists", code="flows.datatables.duplicate.name"
                )
            table = DataTable(
                table_id or str(uuid.uuid4()),
                name,
                str(body.get("description") or ""),
                schema,
                dict(self._division),
            )
            self._tables[table.id] = table
        return table

    def all(self) -> list[DataTable]:
        with self._lock:
            return sorted(self._tables.values(), key=lambda t: t.name.lower())

    def get(self, table_id: str) -> DataTable:
        with self._lock:
            table = self._tables.get(table_id)
        if table is None:
            raise not_found("Data table", table_id)
        return table

    def update(self, table_id: str, body: dict[str, Any]) -> DataTable:
        with self._lock:
            table = self.get(table_id)
            if "name" in body and isinstance(body["name"], str):
                _check_name(body["name"])
                table.name = body["name"]
            if "description" in body:
                table.description = str(body.get("description") or "")
            if isinstance(body.get("schema"), dict):
                _check_fields(body["schema"])
                table.schema = copy.deepcopy(body["schema"])
            return table

    def delete(self, table_id: str, force: bool) -> None:
        with self._lock:
            table = self.get(table_id)
            if table.rows and not force:
                raise ApiError(
                    409, "The data table has rows; delete with force=true", code="flows.datatables.not.empty"
                )
            del self._tables[table_id]

    # -- rows ---------------------------------------------------------------------------
    def rows(self, table_id: str) -> list[dict[str, Any]]:
        table = self.get(table_id)
        with self._lock:
            return [copy.deepcopy(table.rows[k]) for k in sorted(table.rows)]

    def row(self, table_id: str, key: str) -> dict[str, Any]:
        table = self.get(table_id)
        with self._lock:
            row = table.rows.get(key)
            if row is None:
                raise ApiError(
                    404,
                    f"Row {key!r} not found in data table {table_id}",
                    code="flows.datatables.row.not.found",
                    entity_id=key,
                )
            return copy.deepcopy(row)

    def insert(self, table_id: str, row: dict[str, Any]) -> dict[str, Any]:
        table = self.get(table_id)
        clean = _validated(table, row)
        with self._lock:
            if clean["key"] in table.rows:
                raise ApiError(
                    409,
                    f"A row with key {clean['key']!r} already exists",
                    code="flows.datatables.row.duplicate.key",
                    entity_id=clean["key"],
                )
            _check_room(table)
            table.rows[clean["key"]] = clean
        logger.info("simulator data table %s: row %r inserted", table.name, clean["key"])
        return copy.deepcopy(clean)

    def replace(self, table_id: str, key: str, row: dict[str, Any]) -> dict[str, Any]:
        table = self.get(table_id)
        row = dict(row)
        if "key" in row and row["key"] != key:
            raise bad_request(f"The row key {row['key']!r} does not match the path key {key!r}")
        row["key"] = key
        clean = _validated(table, row)
        with self._lock:
            if key not in table.rows:
                raise ApiError(
                    404,
                    f"Row {key!r} not found in data table {table_id}",
                    code="flows.datatables.row.not.found",
                    entity_id=key,
                )
            table.rows[key] = clean
        logger.info("simulator data table %s: row %r replaced", table.name, key)
        return copy.deepcopy(clean)

    def set_row(self, table_id: str, row: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace (for scripting from tests)."""
        table = self.get(table_id)
        clean = _validated(table, row)
        with self._lock:
            if clean["key"] not in table.rows:
                _check_room(table)
            table.rows[clean["key"]] = clean
        return copy.deepcopy(clean)

    def delete_row(self, table_id: str, key: str) -> None:
        table = self.get(table_id)
        with self._lock:
            if table.rows.pop(key, None) is None:
                raise ApiError(
                    404,
                    f"Row {key!r} not found in data table {table_id}",
                    code="flows.datatables.row.not.found",
                    entity_id=key,
                )


def _check_name(name: str) -> None:
    if len(name) > MAX_NAME_CHARS:
        raise bad_request(f"A data table name is limited to {MAX_NAME_CHARS} characters")


def _check_fields(schema: dict[str, Any]) -> None:
    count = len(schema.get("properties") or {})
    if count > MAX_FIELDS:
        raise bad_request(f"A data table has at most {MAX_FIELDS} fields; this schema has {count}")


def _check_room(table: DataTable) -> None:
    if len(table.rows) >= MAX_ROWS:
        raise bad_request(f"Data table {table.name!r} already has {MAX_ROWS} rows (the limit)")


def _utf16_len(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _validated(table: DataTable, row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise bad_request("A data table row must be a JSON object")
    key = row.get("key")
    if not isinstance(key, str) or not key:
        raise bad_request("A data table row needs a non-empty string 'key'")
    if len(key) > MAX_KEY_CHARS:
        raise bad_request(f"A row key is limited to {MAX_KEY_CHARS} characters; this one has {len(key)}")
    props = table.schema.get("properties", {})
    clean: dict[str, Any] = {}
    for name, value in row.items():
        spec = props.get(name)
        if spec is None:
            raise bad_request(f"Column {name!r} is not in the schema of data table {table.name!r}")
        expected = _TYPES[spec["type"]]
        if value is not None and (
            not isinstance(value, expected)
            or (spec["type"] in ("integer", "number") and isinstance(value, bool))
        ):
            raise bad_request(f"Column {name!r} expects {spec['type']}, got {type(value).__name__}")
        if isinstance(value, str) and name != "key" and _utf16_len(value) > MAX_STRING_CHARS:
            raise bad_request(
                f"Column {name!r} holds {_utf16_len(value)} characters; a string field holds at most {MAX_STRING_CHARS}"
            )
        clean[name] = value
    for name, spec in props.items():
        if name not in clean and "default" in spec:
            clean[name] = spec["default"]
    return clean
