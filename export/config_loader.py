"""Load the configuration document from its Architect Data Table row and resolve names to ids.

Blocking (network); the ConfigActor runs it in a helper thread. Raises `ConfigLoadError` with a
precise message when nothing usable could be loaded, so the actor keeps its last good snapshot.
Profiles that are individually invalid do not fail the load: they are reported in
`snapshot.errors` and skipped.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import profiles
from messages.config import ConfigSnapshot
from profiles import scoping

logger = logging.getLogger(__name__)


class ConfigLocation(Protocol):
    """Where the configuration document lives (the service's `Settings` provides these)."""

    datatable: str
    datatable_row: str
    datatable_column: str
    system_queue: str


class ConfigLoadError(RuntimeError):
    """The configuration document could not be read or used at all."""


def read_document(client: Any, settings: ConfigLocation) -> str:
    table = client.find_datatable(settings.datatable)
    if table is None:
        raise ConfigLoadError(f"data table {settings.datatable!r} not found")
    try:
        row = client.get_datatable_row(table["id"], settings.datatable_row)
    except Exception as exc:
        raise ConfigLoadError(
            f"data table {settings.datatable!r} row {settings.datatable_row!r}: {exc}"
        ) from exc
    value = row.get(settings.datatable_column)
    if value is None:
        raise ConfigLoadError(
            f"data table {settings.datatable!r} row {settings.datatable_row!r} has no column {settings.datatable_column!r}"
        )
    return value if isinstance(value, str) else json.dumps(value)


def build_snapshot(client: Any, settings: ConfigLocation, document: str, version: int) -> ConfigSnapshot:
    try:
        result = profiles.load_config(document)
    except profiles.ConfigError as exc:
        raise ConfigLoadError(
            f"configuration document in {settings.datatable!r}/{settings.datatable_row!r}: {exc}"
        ) from exc
    errors = tuple(str(e) for e in result.errors)
    queues = client.find_queues()
    queue_names = {q["id"]: q["name"] for q in queues}
    ids_by_lower_name = {q["name"].lower(): q["id"] for q in queues}
    policy_queue_ids: dict[str, frozenset[str]] = {}
    wanted_policies = {p.lower() for p in scoping.watched_policy_names(result.config)}
    if wanted_policies:
        for policy in client.list_retention_policies():
            if policy.get("name", "").lower() in wanted_policies:
                policy_queue_ids[policy["name"]] = frozenset(_policy_queue_ids(policy))
    watched: dict[str, str] = {}
    missing: list[str] = []
    for name in sorted(scoping.watched_queue_names(result.config)):
        queue_id = ids_by_lower_name.get(name.lower())
        if queue_id:
            watched[name] = queue_id
        else:
            missing.append(name)
    for ids in policy_queue_ids.values():
        for queue_id in ids:
            watched.setdefault(queue_names.get(queue_id, queue_id), queue_id)
    if missing:
        errors += tuple(f"queue {name!r} named by a profile does not exist in the org" for name in missing)
    system_queue_id = ids_by_lower_name.get(settings.system_queue.lower())
    if system_queue_id is None:
        errors += (
            f"system queue {settings.system_queue!r} not found: configuration changes are picked up only "
            f"every ConfigReloadIntervalSeconds",
        )
    return ConfigSnapshot(
        version=version,
        config=result.config,
        queue_ids=watched,
        queue_names=queue_names,
        policy_queue_ids=policy_queue_ids,
        system_queue_id=system_queue_id,
        errors=errors,
        transcribed_queue_ids=frozenset(q["id"] for q in queues if q.get("enableTranscription")),
        queue_acw={q["id"]: dict(q["acwSettings"]) for q in queues if isinstance(q.get("acwSettings"), dict)},
    )


def load_snapshot(client: Any, settings: ConfigLocation, version: int) -> ConfigSnapshot:
    return build_snapshot(client, settings, read_document(client, settings), version)


def _policy_queue_ids(policy: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    media = policy.get("mediaPolicies") or {}
    for conditions in (
        (media.get("callPolicy") or {}).get("conditions") or {},
        policy.get("conditions") or {},
    ):
        for queue in conditions.get("forQueues") or []:
            if queue.get("id"):
                ids.append(queue["id"])
    return ids
