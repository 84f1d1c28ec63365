"""Export status written back to Genesys Cloud, once per conversation: participant attributes and one
conversation custom-attributes record.

**Participant attributes** go on the customer participant (it persists across transfers), one key per
field, ``callexport.<profile>.<kind>.status|timestamp|root|files`` (the duplicate-export check reads
``...status``). Genesys documents a 256-character limit on a participant-data value (Architect "Set
Participant Data": 256 characters per value, 50 attributes per bot session); no other limit is
documented for the REST API, so every value is cut to 256 characters and one write carries at most
`MAX_STATUS_ATTRIBUTES` keys and `MAX_ATTRIBUTE_CHARS` characters: when a conversation has more
profiles than that, the ``files``, then ``root``, then ``timestamp`` keys are left out (logged), never
a ``status``.

**Conversation custom attributes** (schema "CallExport Export Status"): one record per conversation,
its id derived from the conversation id (a retry replaces the same record), carrying every profile's
and kind's status in eight fields. The schema is built the way Genesys builds data schemas: each
property named with its core-type suffix (``_text``, ``_longtext``, ``_datetime``, ``_integer``),
defined by ``allOf: [{"$ref": "#/definitions/<coretype>"}]``, with a title and, for text, length
bounds; the bounds are fitted to the limits the org's core types report
(``GET /api/v2/conversations/customattributes/schemas/coretypes``). Values are cut to those bounds.

If the schema cannot be created, participant attributes are still written; `SchemaRetry` decides when
to try again (`reliability.backoff.API`) and logs each distinct cause once.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from export.output_plan import STATUS_PREFIX, status_key
from reliability.backoff import API, REPEAT_WARNING_S, Backoff

logger = logging.getLogger(__name__)

SCHEMA_TITLE = "CallExport Export Status"
SCHEMA_DESCRIPTION = (
    "Export status written by the callexport service: every profile and kind of a conversation."
)
MAX_VALUE = 256
MAX_STATUS_ATTRIBUTES = 40
MAX_ATTRIBUTE_CHARS = 8000
_NAMESPACE = uuid.UUID("7a3f0c52-8f36-4a43-9d3a-3d1f4a0c2e11")
_FIELDS = ("status", "timestamp", "root", "files")
_DROP_ORDER = ("files", "root", "timestamp")

# property name -> (core type, title, wanted maxLength or None)
RECORD_FIELDS: dict[str, tuple[str, str, int | None]] = {
    "exportStatus_text": ("text", "Export status", 50),
    "exportedAt_datetime": ("datetime", "Exported at", None),
    "exportProfiles_text": ("text", "Export profiles", 100),
    "exportStatuses_longtext": ("longtext", "Status per profile and kind", 1000),
    "exportRoots_longtext": ("longtext", "Export root per profile", 1000),
    "exportFiles_longtext": ("longtext", "Files per profile and kind", 1000),
    "exportFileCount_integer": ("integer", "Number of files written", None),
    "exportDetail_longtext": ("longtext", "Why an export failed or was skipped", 1000),
}
FALLBACK_LIMITS = {"text": 100, "longtext": 1000}
"""Length bounds used when the org does not report its core types: the values Genesys' own Terraform
workitem-schema example uses (text 100, longtext 1000)."""


@dataclass(frozen=True)
class KindStatus:
    """The export status of one (profile, kind) of a conversation."""

    profile: str
    kind: str
    status: str  # "exported" | "failed" | "skipped" | "pending"
    root: str
    files: tuple[str, ...] = ()
    detail: str = ""


def iso_ms(when: datetime) -> str:
    """``YYYY-MM-DDTHH:mm:ss.sssZ`` (the datetime core type's format)."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def fit(value: str, limit: int = MAX_VALUE) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def file_list(files: Sequence[str], limit: int = MAX_VALUE, sep: str = ";") -> str:
    """Names joined by ``sep``; when too long, as many as fit plus '(+N more)'."""
    shown: list[str] = []
    for index, name in enumerate(files):
        rest = len(files) - index - 1
        candidate = sep.join([*shown, name])
        suffix = f"{sep}(+{rest} more)" if rest else ""
        if len(candidate + suffix) > limit:
            more = f"(+{len(files) - index} more)"
            return fit(sep.join(shown) + sep + more if shown else more, limit)
        shown.append(name)
    return sep.join(shown)


# -- participant attributes ----------------------------------------------------------------------
def participant_attributes(statuses: Iterable[KindStatus], when: datetime) -> dict[str, str]:
    """One PATCH body's attributes carrying every profile's and kind's status, within the limits."""
    stamp = iso_ms(when)
    rows = list(statuses)
    values: dict[str, dict[str, str]] = {}
    for s in rows:
        values[f"{s.profile}\0{s.kind}"] = {
            "status": fit(s.status),
            "timestamp": stamp,
            "root": fit(s.root),
            "files": file_list(s.files),
        }
    keep = set(_FIELDS)

    def build() -> dict[str, str]:
        out: dict[str, str] = {}
        for s in rows:
            for name in _FIELDS:
                if name in keep:
                    out[status_key(s.profile, s.kind, name)] = values[f"{s.profile}\0{s.kind}"][name]
        return out

    attrs = build()
    dropped: list[str] = []
    for name in _DROP_ORDER:
        if len(attrs) <= MAX_STATUS_ATTRIBUTES and _chars(attrs) <= MAX_ATTRIBUTE_CHARS:
            break
        keep.discard(name)
        dropped.append(name)
        attrs = build()
    if len(attrs) > MAX_STATUS_ATTRIBUTES or _chars(attrs) > MAX_ATTRIBUTE_CHARS:
        kept = dict(list(attrs.items())[:MAX_STATUS_ATTRIBUTES])
        while kept and _chars(kept) > MAX_ATTRIBUTE_CHARS:
            kept.popitem()
        logger.warning(
            "export status of %d profile/kind pairs does not fit Genesys' participant data limits; "
            "%d status attribute(s) left out (the custom attributes record carries them all)",
            len(rows),
            len(attrs) - len(kept),
        )
        attrs = kept
    elif dropped:
        logger.info(
            "export status of %d profile/kind pairs: participant attributes %s left out to stay within "
            "Genesys' limits",
            len(rows),
            ", ".join(dropped),
        )
    return attrs


def _chars(attrs: dict[str, str]) -> int:
    return sum(len(k) + len(v) for k, v in attrs.items())


_KEY = re.compile(
    rf"^{re.escape(STATUS_PREFIX)}\.(?P<profile>.+)\.(?P<kind>[^.]+)\.(?P<field>{'|'.join(_FIELDS)})$"
)


def statuses_from_attributes(attributes: dict[str, str]) -> list[KindStatus]:
    """The statuses earlier write-backs left in participant attributes (inverse of
    `participant_attributes`, files as far as they were kept)."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for key, value in attributes.items():
        m = _KEY.match(key)
        if m:
            found.setdefault((m["profile"], m["kind"]), {})[m["field"]] = str(value)
    out = []
    for (profile, kind), fields in sorted(found.items()):
        if "status" not in fields:
            continue
        files = tuple(f for f in fields.get("files", "").split(";") if f and not f.startswith("(+"))
        out.append(KindStatus(profile, kind, fields["status"], fields.get("root", ""), files))
    return out


# -- the custom attributes schema ----------------------------------------------------------------
def coretype_limits(coretypes: Sequence[dict[str, Any]] | None) -> dict[str, int]:
    """Largest ``maxLength`` each text-like core type allows (from `Coretype.validationLimits`)."""
    limits = dict(FALLBACK_LIMITS)
    for ct in coretypes or []:
        name = ct.get("name")
        bound = ((ct.get("validationLimits") or {}).get("maxLength") or {}).get("max")
        if isinstance(name, str) and isinstance(bound, int) and bound > 0:
            limits[name] = bound
    return limits


def schema_document(coretypes: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The `ConversationJsonSchemaRequest` of the export-status schema, built from core types."""
    limits = coretype_limits(coretypes)
    available = {str(ct.get("name")) for ct in coretypes or [] if ct.get("name")} or None
    properties: dict[str, Any] = {}
    for name, (core, title, wanted) in RECORD_FIELDS.items():
        if available is not None and core not in available:
            raise SchemaUnsupported(
                f"the org offers no {core!r} core type for {name} (has {sorted(available)})"
            )
        prop: dict[str, Any] = {"allOf": [{"$ref": f"#/definitions/{core}"}], "title": title}
        if wanted is not None:
            prop["minLength"] = 0
            prop["maxLength"] = min(wanted, limits.get(core, wanted))
        if core == "integer":
            prop["minimum"], prop["maximum"] = 0, 1_000_000
        properties[name] = prop
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": SCHEMA_TITLE,
        "description": SCHEMA_DESCRIPTION,
        "required": [],
        "properties": properties,
    }


class SchemaUnsupported(RuntimeError):
    """The org's schema service cannot hold the export-status schema as designed."""


_SCHEMA_BOUNDS: dict[str, dict[str, int]] = {}
"""schema id -> property -> maxLength, learnt by `ensure_schema` so records fit the schema in use."""


def _remember_bounds(schema_id: str, properties: dict[str, Any]) -> None:
    _SCHEMA_BOUNDS[schema_id] = {
        name: int(spec["maxLength"])
        for name, spec in properties.items()
        if isinstance(spec, dict) and isinstance(spec.get("maxLength"), int)
    }


class SchemaPending(RuntimeError):
    """The schema does not exist yet and this instance may not create it (another instance leads)."""


def ensure_schema(client: Any, may_create: bool = True) -> str:
    """The id of the export-status schema, creating it (from the org's core types) on first use.
    With several instances only the leader creates it (`may_create`); the others find it."""
    found = client.find_custom_attribute_schema(SCHEMA_TITLE)
    if found is not None:
        props = ((found.get("jsonSchema") or {}).get("properties")) or {}
        missing = sorted(set(RECORD_FIELDS) - set(props))
        if missing:
            raise SchemaUnsupported(
                f"the custom attributes schema {SCHEMA_TITLE!r} ({found.get('id')}) lacks the fields "
                f"{', '.join(missing)}: add them in Genesys Cloud (Orchestration > Conversation Schemas) "
                "or delete the schema so that callexport creates it again"
            )
        _remember_bounds(str(found["id"]), props)
        return str(found["id"])
    if not may_create:
        raise SchemaPending("not created yet: the leader instance creates it")
    try:
        coretypes = client.get_custom_attribute_coretypes()
    except Exception as exc:  # the schema can still be created with the documented bounds
        logger.info("could not read the custom attributes core types (%s); using default bounds", exc)
        coretypes = None
    document = schema_document(coretypes)
    logger.info("creating the conversation custom attributes schema %r", SCHEMA_TITLE)
    created = client.post_custom_attribute_schema(document)
    _remember_bounds(str(created["id"]), document["properties"])
    return str(created["id"])


@dataclass
class SchemaRetry:
    """When to try creating the schema again after a failure, and what to log.

    The WritebackActor calls `failed(error)` when `ensure_schema` raised and schedules a new attempt
    after the returned delay (`reliability.backoff.API`: 1 s doubling to 5 min); `succeeded()` when it
    worked. Each distinct cause is logged once at WARNING (and again at most every
    `REPEAT_WARNING_S`); repeats of the same cause at DEBUG."""

    backoff: Backoff = API
    attempts: int = 0
    last_cause: str | None = None
    last_warned: float = field(default=-1e18)

    def failed(self, error: BaseException | str, now: float | None = None) -> float:
        import time

        now = time.monotonic() if now is None else now
        self.attempts += 1
        delay = self.backoff.delay(self.attempts)
        cause = _cause(error)
        if cause != self.last_cause or now - self.last_warned >= REPEAT_WARNING_S:
            logger.warning(
                "Could not find or create the custom attributes schema %r (%s: %s); status goes to "
                "participant attributes only until it can; next attempt in %.0f s",
                SCHEMA_TITLE,
                type(error).__name__ if isinstance(error, BaseException) else "error",
                error,
                delay,
            )
            self.last_cause, self.last_warned = cause, now
        else:
            logger.debug(
                "custom attributes schema still unavailable (%s); next attempt in %.0f s", error, delay
            )
        return delay

    def succeeded(self) -> None:
        if self.attempts:
            logger.info("custom attributes schema %r is available again", SCHEMA_TITLE)
        self.attempts, self.last_cause = 0, None


def _cause(error: BaseException | str) -> str:
    """What makes two failures "the same cause" (not the correlation id of each response)."""
    status, code = getattr(error, "status", None), getattr(error, "code", None)
    if status is not None or code is not None:
        return f"{type(error).__name__}:{getattr(error, 'endpoint', '')}:{status}:{code}"
    return f"{type(error).__name__}:{error}"


# -- the record ------------------------------------------------------------------------------------
def record_id(conversation_id: str) -> str:
    """The id of a conversation's export-status record (the same on every retry)."""
    return str(uuid.uuid5(_NAMESPACE, f"{conversation_id}/export-status"))


def overall_status(statuses: Sequence[KindStatus]) -> str:
    values = {s.status for s in statuses}
    if not values:
        return "none"
    if len(values) == 1:
        return values.pop()
    if "failed" in values:
        return "failed" if values <= {"failed", "skipped"} else "partial"
    return "exported" if values <= {"exported", "skipped"} else "partial"


def custom_attributes_record(
    conversation_id: str,
    statuses: Iterable[KindStatus],
    when: datetime,
    bounds: dict[str, int] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(record id, customAttributes) of the one record carrying every profile's and kind's status,
    each value within the schema's bounds (``bounds``: property -> maxLength of the schema in use;
    default: the bounds `schema_document` asks for)."""
    rows = sorted(statuses, key=lambda s: (s.profile, s.kind))
    limits = coretype_limits(None)

    def bound(name: str) -> int:
        if bounds and name in bounds:
            return bounds[name]
        core, _title, wanted = RECORD_FIELDS[name]
        return min(wanted or 1_000_000, limits.get(core, wanted or 1_000_000))

    profiles = sorted({s.profile for s in rows})
    roots: dict[str, str] = {}
    for s in rows:
        if s.root:
            roots.setdefault(s.profile, s.root)
    files = [f"{s.profile}/{s.kind}: {','.join(s.files)}" for s in rows if s.files]
    details = [f"{s.profile}/{s.kind}: {s.detail}" for s in rows if s.detail]
    attrs: dict[str, Any] = {
        "exportStatus_text": fit(overall_status(rows), bound("exportStatus_text")),
        "exportedAt_datetime": iso_ms(when),
        "exportProfiles_text": file_list(profiles, bound("exportProfiles_text"), ","),
        "exportStatuses_longtext": file_list(
            [f"{s.profile}/{s.kind}={s.status}" for s in rows], bound("exportStatuses_longtext"), "; "
        ),
        "exportRoots_longtext": file_list(
            [f"{p}={r}" for p, r in roots.items()], bound("exportRoots_longtext"), "; "
        ),
        "exportFiles_longtext": file_list(files, bound("exportFiles_longtext"), "; "),
        "exportFileCount_integer": sum(len(s.files) for s in rows),
        "exportDetail_longtext": file_list(details, bound("exportDetail_longtext"), "; "),
    }
    return record_id(conversation_id), attrs


# -- writing ----------------------------------------------------------------------------------------
def write_status(
    client: Any,
    schema_id: str | None,
    conversation_id: Any,
    participant_id: str | None = None,
    statuses: Iterable[KindStatus] | None = None,
    when: datetime | None = None,
) -> None:
    """Write every status of a conversation once: one participant-attributes PATCH (when the
    participant is known) and, when the schema exists, the conversation's custom-attributes record.
    Raises on failure (the caller retries; both writes are idempotent).

    Compatibility: ``write_status(client, schema_id, request)`` with a per-(profile, kind)
    ``WritebackRequest`` still works; it merges the new status with the ones earlier write-backs left
    in the participant attributes (one extra GET)."""
    if not isinstance(conversation_id, str):
        request = conversation_id
        _write_legacy(client, schema_id, request)
        return
    rows = list(statuses or [])
    when = when or datetime.now(UTC)
    if participant_id:
        client.patch_participant_attributes(
            conversation_id, participant_id, participant_attributes(rows, when)
        )
    if schema_id:
        rid, attrs = custom_attributes_record(conversation_id, rows, when, _SCHEMA_BOUNDS.get(schema_id))
        client.put_custom_attributes(conversation_id, rid, schema_id, attrs)


def _write_legacy(client: Any, schema_id: str | None, request: Any) -> None:
    new = KindStatus(
        request.profile,
        request.kind,
        request.status,
        request.root,
        tuple(request.files),
        getattr(request, "detail", "") or "",
    )
    earlier: list[KindStatus] = []
    try:
        conversation = client.get_conversation(request.conversation_id)
        for participant in conversation.get("participants") or []:
            if participant.get("id") == request.participant_id:
                earlier = statuses_from_attributes(participant.get("attributes") or {})
    except Exception as exc:  # the new status is still written
        logger.debug("conversation %s: earlier statuses not read (%s)", request.conversation_id, exc)
    merged = {(s.profile, s.kind): s for s in earlier}
    merged[(new.profile, new.kind)] = new
    when = datetime.now(UTC)
    if request.participant_id:
        client.patch_participant_attributes(
            request.conversation_id, request.participant_id, participant_attributes([new], when)
        )
    if schema_id:
        rid, attrs = custom_attributes_record(
            request.conversation_id, merged.values(), when, _SCHEMA_BOUNDS.get(schema_id)
        )
        client.put_custom_attributes(request.conversation_id, rid, schema_id, attrs)


def write_conversation_status(
    client: Any,
    schema_id: str | None,
    conversation_id: str,
    participant_id: str | None,
    statuses: Iterable[KindStatus],
    when: datetime | None = None,
) -> None:
    """The name the export pipeline calls: `write_status` for one conversation."""
    write_status(client, schema_id, conversation_id, participant_id, statuses, when)
