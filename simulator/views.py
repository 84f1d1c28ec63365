"""The documents as the API shows them at a given moment: the world's renderings
(`simulator.documents`) plus what was written at run time (participant attributes)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from simulator import documents
from simulator.org import Org
from simulator.state import LiveCall

logger = logging.getLogger(__name__)


def _overlay(body: dict[str, Any], attributes: dict[str, dict[str, str]]) -> dict[str, Any]:
    if not attributes:
        return body
    for p in body.get("participants") or []:
        written = attributes.get(p.get("id") or p.get("participantId") or "")
        if written:
            merged = dict(p.get("attributes") or {})
            merged.update(written)
            p["attributes"] = merged
    return body


def conversation(
    live: LiveCall, org: Org, at_ms: int, attributes: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """`GET /api/v2/conversations/{id}` at `at_ms`, with the participant attributes written so far."""
    return _overlay(documents.conversation(live.call, org, at_ms), attributes)


def queue_event(
    live: LiveCall, org: Org, at_ms: int, shape: str, attributes: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The queue topic snapshot (`shape` "conversations" or "calls") at `at_ms`."""
    return _overlay(documents.queue_event_body(live.call, org, at_ms, shape), attributes)


def details(live: LiveCall, org: Org) -> dict[str, Any]:
    """The final analytics details document (rendered once per call, then served from cache)."""
    if live.details_cache is None:
        live.details_cache = documents.analytics_details(live.call, org)
    return copy.deepcopy(live.details_cache)
