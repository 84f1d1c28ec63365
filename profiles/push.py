"""``python run.py profiles push FILE``: validate a configuration document and make it live.

1. The document is validated exactly as the service validates it (``profiles.load_config``: the JSON
   Schema and every semantic rule). Any error refuses the push, and every error is printed.
2. It is written compactly to the configuration row of the Architect Data Table in the storage
   layout of ``profiles.table_layout`` (one cell, or parts rows and a manifest), creating the row when
   it is missing. Parts of earlier saves are deleted afterwards.
3. The system-queue signal: a callback on the system queue (as ``GenesysClient.create_callback``),
   which the running service sees on its WebSocket and reloads at once.

Blocking network code; used by the CLI (``profiles/cli.py``) and by tests against the simulator.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from profiles import table_layout
from profiles.loader import load_config
from profiles.model import ConfigError, ProfileError

if TYPE_CHECKING:
    from genesys.rest import GenesysClient

logger = logging.getLogger(__name__)


class ConfigTarget(Protocol):
    """Where the configuration lives (the service's ``Settings`` provides these)."""

    @property
    def datatable(self) -> str: ...
    @property
    def datatable_row(self) -> str: ...
    @property
    def datatable_column(self) -> str: ...
    @property
    def system_queue(self) -> str: ...


class PushRefused(Exception):
    """The document is invalid (``errors``) or cannot be stored; nothing was written."""

    def __init__(self, message: str, errors: list[ProfileError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class PushResult:
    profiles: int
    characters: int
    parts: int
    table_id: str
    signal_conversation_id: str | None
    signal_problem: str | None


class _ClientRows:
    """``table_layout.RowStore`` over the Platform API (``genesys.rest.GenesysClient``)."""

    def __init__(self, client: GenesysClient, table_id: str, column: str) -> None:
        self.client, self.table_id, self.column = client, table_id, column

    def keys(self) -> list[str]:
        return [str(r.get("key")) for r in self.client.list_datatable_rows(self.table_id)]

    def upsert(self, key: str, value: str) -> None:
        self.client.put_datatable_row(self.table_id, key, {self.column: value}, create_missing=True)

    def delete(self, key: str) -> None:
        self.client.delete_datatable_row(self.table_id, key)


def compact(document: dict[str, Any]) -> str:
    """The stored text: compact JSON (the app writes the same), non-ASCII kept as it is."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def validated(text: str | bytes) -> tuple[dict[str, Any], int]:
    """The parsed document and its number of profiles; raises PushRefused with every error."""
    logging.disable(logging.WARNING)
    try:
        result = load_config(text)
    except ConfigError as exc:
        raise PushRefused(f"unusable configuration: {exc}") from exc
    finally:
        logging.disable(logging.NOTSET)
    if result.errors:
        raise PushRefused(
            f"the document has {len(result.errors)} error(s); nothing was written", result.errors
        )
    raw = text.decode("utf-8-sig") if isinstance(text, bytes | bytearray) else text
    document = json.loads(raw)
    return document, len(document.get("Profiles") or [])


def push(
    client: GenesysClient, target: ConfigTarget, text: str | bytes, *, signal: bool = True
) -> PushResult:
    """Validate, store and signal (see the module docstring); raises PushRefused before writing."""
    document, count = validated(text)
    stored_text = compact(document)
    table = client.find_datatable(target.datatable)
    if table is None:
        raise PushRefused(
            f"data table {target.datatable!r} not found (create it, or set [configuration] datatable)"
        )
    try:
        stored = table_layout.store(
            _ClientRows(client, table["id"], target.datatable_column), target.datatable_row, stored_text
        )
    except table_layout.LayoutError as exc:
        raise PushRefused(str(exc)) from exc
    logger.info(
        "configuration pushed to data table %r row %r: %d profile(s), %d characters, %d part row(s)",
        target.datatable,
        target.datatable_row,
        count,
        len(stored_text),
        len(stored.parts),
    )
    conversation_id = problem = None
    if signal:
        conversation_id, problem = send_signal(client, target.system_queue)
    return PushResult(count, len(stored_text), len(stored.parts), table["id"], conversation_id, problem)


def send_signal(client: GenesysClient, system_queue: str) -> tuple[str | None, str | None]:
    """Create the callback on the system queue; (conversation id, None) or (None, the problem)."""
    queues = [
        q for q in client.find_queues(system_queue) if str(q.get("name", "")).lower() == system_queue.lower()
    ]
    if not queues:
        return None, (
            f"system queue {system_queue!r} not found: the service applies the new configuration at its next "
            "reload (ConfigReloadIntervalSeconds)"
        )
    response = client.create_callback(queues[0]["id"])
    conversation = (response or {}).get("conversation") or {}
    return conversation.get("id"), None
