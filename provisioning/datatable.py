"""The configuration Data Table and its row (the profile document).

`ArchitectApi`: `GET/POST /api/v2/flows/datatables` (`DataTable` with a JSON-schema of its columns:
the string ``key`` plus one string column holding the document), `PUT …/{id}` (columns added),
`GET/POST …/{id}/rows`. As the Terraform provider's `genesyscloud_architect_datatable` and
`genesyscloud_architect_datatable_row`.

The row is created with a starter document when it is missing; an existing document is always kept
(setup never overwrites an administrator's profiles). How the document is laid out in the table lives
in `ensure_configuration_table` alone, so that a change of layout (several rows or columns because of
the cell length limit) is one function to follow.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from genesys.errors import NotFound
from profiles.loader import load_config
from provisioning.plan import CREATE, OK, UPDATE, Context, Finding, Outcome, collision, is_ours, with_marker

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "The callexport export profiles (a JSON document in one row), edited with the callexport admin app."
)
KEY_COLUMN = {
    "title": "key",
    "type": "string",
    "$id": "/properties/key",
    "displayOrder": 0,
    "minLength": 1,
    "maxLength": 256,
}


def starter_document(export_root: str, queues: tuple[str, ...]) -> dict[str, Any]:
    """A valid profile document with one profile: active when a destination and queues are given,
    otherwise an inactive template to edit in the admin app."""
    default_root = "C:\\callexport\\exports" if os.name == "nt" else "/srv/callexport/exports"
    profile: dict[str, Any] = {
        "Name": "Archive",
        "Active": bool(export_root and queues),
        "Queues": list(queues),
        "DestinationRoot": export_root or default_root,
        "DirectoryStructureMode": "Hierarchical",
        "Interval": "1d",
        "AudioFormat": "WAV",
        "AudioFileTemplate": "{Recording.StartTime|Format(yyyyMMdd_HHmmss)}_{Conversation.Id}.{FileExtension}",
        "TranscriptExportEnabled": True,
        "TranscriptFormat": "RAW",
    }
    document = {"ConfigReloadIntervalSeconds": 300, "Profiles": [profile]}
    result = load_config(document)
    if result.errors:  # a bug here, not the administrator's fault
        raise ValueError(f"the starter profile document is invalid: {result.errors}")
    return document


def column_schema(column: str) -> dict[str, Any]:
    return {"title": column, "type": "string", "$id": f"/properties/{column}", "displayOrder": 1}


def table_schema(column: str) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "additionalProperties": False,
        "required": ["key"],
        "properties": {"key": KEY_COLUMN, column: column_schema(column)},
    }


def find_table(ctx: Context, name: str) -> dict[str, Any] | None:
    client = ctx.require_client()
    tables = client.all_pages(
        "GET /api/v2/flows/datatables",
        lambda page: client.architect.get_flows_datatables(
            page_number=page, page_size=100, name=name, expand="schema"
        ),
    )
    return next((t for t in tables if str(t.get("name", "")).lower() == name.lower()), None)


def read_row(ctx: Context, table_id: str, key: str) -> dict[str, Any] | None:
    client = ctx.require_client()
    try:
        return client.get_datatable_row(table_id, key)
    except NotFound:
        return None


def ensure_configuration_table(
    ctx: Context, table: dict[str, Any] | None, *, write_row: bool, document: dict[str, Any]
) -> list[str]:
    """Create or fix the table (name, marker, document column) and write the starter document into
    a missing row. Returns what was done. The one place that knows the table's layout."""
    options = ctx.options
    done = []
    if table is None:
        client = ctx.require_client()
        body = {
            "name": options.datatable,
            "description": with_marker(DESCRIPTION),
            "schema": table_schema(options.datatable_column),
        }
        table = client.call(
            "POST /api/v2/flows/datatables", lambda: client.architect.post_flows_datatables(body)
        )
        done.append(f"created the data table {options.datatable!r}")
    else:
        schema = dict(table.get("schema") or table_schema(options.datatable_column))
        properties = dict(schema.get("properties") or {})
        fixes = []
        if (properties.get(options.datatable_column) or {}).get("type") != "string":
            properties[options.datatable_column] = column_schema(options.datatable_column)
            fixes.append(f"added the string column {options.datatable_column!r}")
        if not is_ours(table.get("description")):
            fixes.append("marked it as managed by callexport setup")
        if fixes:
            body = {
                "id": table["id"],
                "name": table["name"],
                "description": with_marker(str(table.get("description") or DESCRIPTION)),
                "schema": {**schema, "properties": properties},
            }
            table_id = table["id"]
            client = ctx.require_client()
            table = client.call(
                "PUT /api/v2/flows/datatables/{datatableId}",
                lambda: client.architect.put_flows_datatable(table_id, body=body),
            )
            done.append("data table: " + "; ".join(fixes))
    ctx.values["datatable_id"] = table["id"]
    if write_row:
        row = {"key": options.datatable_row, options.datatable_column: json.dumps(document, indent=2)}
        ctx.require_client().create_datatable_row(table["id"], row)
        done.append(f"wrote the starter profile document into row {options.datatable_row!r}")
    return done


class DataTableStep:
    key = "datatable"
    needs: tuple[str, ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.title = f"Data Table {ctx.options.datatable!r}, row {ctx.options.datatable_row!r}"

    def inspect(self, ctx: Context) -> Finding:
        options = ctx.options
        table = find_table(ctx, options.datatable)
        if table is None:
            return Finding(
                CREATE,
                f"create the data table {options.datatable!r} and its row {options.datatable_row!r} "
                "with a starter profile document",
                data={"write_row": True},
            )
        if not is_ours(table.get("description")) and self.key not in options.adopt:
            return collision("data table", options.datatable, "--datatable", self.key)
        ctx.values["datatable_id"] = table["id"]
        changes = []
        column = ((table.get("schema") or {}).get("properties") or {}).get(options.datatable_column)
        if (column or {}).get("type") != "string":
            changes.append(f"add the string column {options.datatable_column!r}")
        if not is_ours(table.get("description")):
            changes.append("mark it as managed by callexport setup (adopted)")
        row = read_row(ctx, table["id"], options.datatable_row)
        if row is None:
            changes.append(f"write a starter profile document into the missing row {options.datatable_row!r}")
        kept = ""
        if row is not None:
            kept = describe_document(row.get(options.datatable_column))
        if not changes:
            return Finding(
                OK,
                f"data table {options.datatable!r} is as needed; row {options.datatable_row!r} kept ({kept})",
                found=table,
            )
        return Finding(
            UPDATE,
            f"fix the data table {options.datatable!r}: " + "; ".join(changes),
            changes,
            found=table,
            data={"write_row": row is None},
        )

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        options = ctx.options
        document = starter_document(options.export_root, options.export_queues)
        done = ensure_configuration_table(
            ctx, finding.found, write_row=finding.data.get("write_row", False), document=document
        )
        return Outcome("created" if finding.action == CREATE else "updated", "; ".join(done))


def describe_document(text: Any) -> str:
    """A short account of an existing document (setup keeps it whatever it holds)."""
    if not isinstance(text, str) or not text.strip():
        return "empty: the service loads no profile until it is filled"
    try:
        result = load_config(text)
    except Exception as exc:  # noqa: BLE001 - any unusable document is reported, never changed
        return f"not a usable profile document ({exc}); fix it in the admin app"
    active = len(result.config.profiles) if result.config else 0
    return f"{active} active profile(s), {len(result.errors)} invalid"
