"""Export status written back to Genesys Cloud: participant attributes and a custom-attributes record.

Participant attributes go on the customer participant (it persists across transfers), one key per
field, `callexport.<profile>.<kind>.<field>`, values at most 256 characters as Genesys requires.
The Conversation Custom Attributes record (schema "CallExport Export Status") has one record per
(profile, kind) whose id is derived from the conversation, profile and kind, so a retry replaces
the same record instead of adding another (idempotent).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from export.output_plan import status_key

logger = logging.getLogger(__name__)

SCHEMA_TITLE = "CallExport Export Status"
MAX_VALUE = 256
_NAMESPACE = uuid.UUID("7a3f0c52-8f36-4a43-9d3a-3d1f4a0c2e11")

SCHEMA_DOCUMENT: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": SCHEMA_TITLE,
    "description": "Export status written by the callexport service, one record per profile and kind.",
    "required": ["exportProfile", "exportType", "exportStatus"],
    "properties": {
        "exportProfile": {"type": "string", "title": "Export profile"},
        "exportType": {"type": "string", "title": "Export type"},
        "exportStatus": {"type": "string", "title": "Export status"},
        "exportTimestamp": {"type": "string", "title": "Export timestamp"},
        "exportRootPath": {"type": "string", "title": "Export root path"},
        "exportFileNames": {"type": "string", "title": "Export file names"},
    },
}


def fit(value: str, limit: int = MAX_VALUE) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def file_list(files: tuple[str, ...] | list[str], limit: int = MAX_VALUE) -> str:
    """Semicolon-separated names; when too long, as many as fit plus '(+N more)'."""
    shown: list[str] = []
    for index, name in enumerate(files):
        rest = len(files) - index - 1
        candidate = ";".join([*shown, name])
        suffix = f";(+{rest} more)" if rest else ""
        if len(candidate + suffix) > limit:
            return fit(
                ";".join(shown) + f";(+{len(files) - index} more)" if shown else f"(+{len(files)} more)",
                limit,
            )
        shown.append(name)
    return ";".join(shown)


def participant_attributes(
    profile: str, kind: str, status: str, root: str, files: tuple[str, ...], when: datetime | None = None
) -> dict[str, str]:
    when = when or datetime.now(UTC)
    return {
        status_key(profile, kind, "status"): status,
        status_key(profile, kind, "timestamp"): when.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{when.microsecond // 1000:03d}Z",
        status_key(profile, kind, "root"): fit(root),
        status_key(profile, kind, "files"): file_list(files),
    }


def record_id(conversation_id: str, profile: str, kind: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{conversation_id}/{profile}/{kind}"))


def custom_attributes_record(profile: str, kind: str, attrs: dict[str, str]) -> dict[str, str]:
    return {
        "exportProfile": profile,
        "exportType": kind,
        "exportStatus": attrs[status_key(profile, kind, "status")],
        "exportTimestamp": attrs[status_key(profile, kind, "timestamp")],
        "exportRootPath": attrs[status_key(profile, kind, "root")],
        "exportFileNames": attrs[status_key(profile, kind, "files")],
    }


def write_status(client: Any, schema_id: str | None, request: Any) -> None:
    """Write one status to both places. Raises on failure (the actor retries)."""
    attrs = participant_attributes(request.profile, request.kind, request.status, request.root, request.files)
    if request.participant_id:
        client.patch_participant_attributes(request.conversation_id, request.participant_id, attrs)
    if schema_id:
        client.put_custom_attributes(
            request.conversation_id,
            record_id(request.conversation_id, request.profile, request.kind),
            schema_id,
            custom_attributes_record(request.profile, request.kind, attrs),
        )


def ensure_schema(client: Any) -> str:
    """The id of the export-status custom attributes schema, creating it on first use."""
    schema = client.ensure_custom_attribute_schema(
        SCHEMA_TITLE, SCHEMA_DOCUMENT["properties"], description=SCHEMA_DOCUMENT["description"]
    )
    return str(schema["id"])


@dataclass(frozen=True)
class KindStatus:
    """The export status of one profile and kind (audio or transcript) of a conversation."""

    profile: str
    kind: str  # "audio" | "transcript"
    status: str  # "exported" | "failed" | "skipped" | "pending"
    root: str
    files: tuple[str, ...] = ()
    detail: str = ""


def write_conversation_status(
    client: Any,
    schema_id: str | None,
    conversation_id: str,
    participant_id: str | None,
    statuses: tuple[KindStatus, ...] | list[KindStatus],
    when: datetime | None = None,
) -> None:
    """Write every profile's and kind's status of one conversation: one participant-attributes
    update carrying them all, and the custom-attributes records. Raises on failure (the export
    state machine retries)."""
    when = when or datetime.now(UTC)
    attrs: dict[str, str] = {}
    for s in statuses:
        attrs.update(participant_attributes(s.profile, s.kind, s.status, s.root, s.files, when))
    if participant_id and attrs:
        client.patch_participant_attributes(conversation_id, participant_id, attrs)
    if schema_id:
        for s in statuses:
            client.put_custom_attributes(
                conversation_id,
                record_id(conversation_id, s.profile, s.kind),
                schema_id,
                custom_attributes_record(s.profile, s.kind, attrs),
            )
