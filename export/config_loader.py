"""Load the configuration document from its Architect Data Table row and resolve names to ids.

Blocking (network); the ConfigActor runs it in a helper thread. Raises `ConfigLoadError` with a
precise message when nothing usable could be loaded, so the actor keeps its last good snapshot.
Profiles that are individually invalid do not fail the load: they are reported in
`snapshot.errors` and skipped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import profiles
from genesys.notifications import MAX_CHANNELS, MAX_TOPICS_PER_CHANNEL
from messages.config import ConfigSnapshot
from profiles import policies, scoping, table_layout
from profiles.push import ConfigTarget

logger = logging.getLogger(__name__)

ConfigLocation = ConfigTarget
"""Where the configuration document lives (the service's frozen `Settings` provides it)."""


class ConfigLoadError(RuntimeError):
    """The configuration document could not be read or used at all."""


def read_document(client: Any, settings: ConfigLocation) -> str:
    """The configuration document from its data table row, in the storage layout of
    `profiles.table_layout` (the document in the cell, or a manifest naming parts rows)."""
    table = client.find_datatable(settings.datatable)
    if table is None:
        raise ConfigLoadError(f"data table {settings.datatable!r} not found")
    head = _config_cell(client, table["id"], settings)
    for attempt in (1, 2):
        try:
            manifest = table_layout.parse_manifest(head)
            if manifest is None:
                return head
            return _joined_parts(client, table["id"], settings, manifest)
        except table_layout.LayoutError as exc:
            if attempt == 2:
                raise ConfigLoadError(
                    f"data table {settings.datatable!r} row {settings.datatable_row!r}: {exc}"
                ) from exc
            # A save may have replaced the parts between our two reads: read the manifest again.
            again = _config_cell(client, table["id"], settings)
            if again == head:
                raise ConfigLoadError(
                    f"data table {settings.datatable!r} row {settings.datatable_row!r}: {exc}"
                ) from exc
            head = again
    raise AssertionError("unreachable")


def _config_cell(client: Any, table_id: str, settings: ConfigLocation) -> str:
    try:
        row = client.get_datatable_row(table_id, settings.datatable_row)
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


def _joined_parts(client: Any, table_id: str, settings: ConfigLocation, manifest: Any) -> str:
    try:
        rows = client.list_datatable_rows(table_id)
    except Exception as exc:
        raise ConfigLoadError(
            f"data table {settings.datatable!r}: reading the configuration parts: {exc}"
        ) from exc
    values = {
        str(r.get("key")): r.get(settings.datatable_column)
        for r in rows
        if isinstance(r.get(settings.datatable_column), str)
    }
    return table_layout.join(settings.datatable_row, manifest, values.get)


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
    system_queue_id = ids_by_lower_name.get(settings.system_queue.lower())
    retention, policy_queue_ids, policy_errors = _retention_policies(
        client, result.config, [q["id"] for q in queues if q["id"] != system_queue_id]
    )
    errors += policy_errors
    watched: dict[str, str] = {}
    missing: list[str] = []
    for name in sorted(scoping.watched_queue_names(result.config)):
        queue_id = ids_by_lower_name.get(name.lower())
        if queue_id:
            watched[name] = queue_id
        else:
            missing.append(name)
    for ids in policy_queue_ids.values():
        for queue_id in sorted(ids, key=lambda q: queue_names.get(q, q)):
            watched.setdefault(queue_names.get(queue_id, queue_id), queue_id)
    watched, over = _within_notification_limits(watched)
    if over:
        errors += (over,)
    if missing:
        errors += tuple(f"queue {name!r} named by a profile does not exist in the org" for name in missing)
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
        retention_policies=retention,
        system_queue_id=system_queue_id,
        errors=errors,
        transcribed_queue_ids=frozenset(q["id"] for q in queues if q.get("enableTranscription")),
        queue_acw={q["id"]: dict(q["acwSettings"]) for q in queues if isinstance(q.get("acwSettings"), dict)},
    )


def load_snapshot(client: Any, settings: ConfigLocation, version: int) -> ConfigSnapshot:
    return build_snapshot(client, settings, read_document(client, settings), version)


def _retention_policies(
    client: Any, config: Any, every_queue: list[str]
) -> tuple[dict[str, tuple[Any, ...]], dict[str, frozenset[str]], tuple[str, ...]]:
    """The retention policies the profiles name (`profiles.policies`), the queues each can select
    calls in, and errors (a named policy that does not exist; one that is disabled or has no call
    part). A policy without a queue condition can select calls in every queue of the org."""
    wanted = {p.lower(): p for p in scoping.watched_policy_names(config)}
    if not wanted:
        return {}, {}, ()
    found = policies.parse_policies(
        p for p in client.list_retention_policies() if str(p.get("name", "")).lower() in wanted
    )
    errors: list[str] = []
    by_lower = {name.lower(): name for name in found}
    for lower, name in sorted(wanted.items()):
        if lower not in by_lower:
            errors.append(f"retention policy {name!r} named by a profile does not exist in the org")
    queue_ids: dict[str, frozenset[str]] = {}
    for name, same_name in found.items():
        ids, everywhere = policies.watched_queue_ids(same_name, every_queue)
        queue_ids[name] = ids
        if not any(p.selects_calls for p in same_name):
            why = "is disabled" if not any(p.enabled for p in same_name) else "has no call conditions"
            errors.append(f"retention policy {name!r} {why}: it selects no call")
        elif everywhere:
            logger.info(
                "Retention policy %r has no queue condition: every queue of the org (%d) is watched for it",
                name,
                len(every_queue),
            )
    return found, queue_ids, tuple(errors)


MAX_WATCHED_QUEUES = MAX_CHANNELS * MAX_TOPICS_PER_CHANNEL - 1
"""Queues the notification channels can carry (one topic each; one topic is the system queue's)."""


def _within_notification_limits(watched: dict[str, str]) -> tuple[dict[str, str], str]:
    """At most MAX_WATCHED_QUEUES queues (the 20-channel x 1,000-topic limit), with an error naming
    how many are left out when there are more."""
    if len(watched) <= MAX_WATCHED_QUEUES:
        return watched, ""
    kept = dict(sorted(watched.items())[:MAX_WATCHED_QUEUES])
    return kept, (
        f"{len(watched)} queues to watch exceed the {MAX_WATCHED_QUEUES} that {MAX_CHANNELS} notification "
        f"channels of {MAX_TOPICS_PER_CHANNEL} topics carry; {len(watched) - MAX_WATCHED_QUEUES} queue(s) "
        "(last by name) are not watched"
    )
