"""The documents as the API shows them at a given moment: the world's renderings
(`simulator.documents`) plus what was written at run time (participant attributes)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from simulator import documents, variations
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
    doc = documents.conversation(live.call, org, at_ms)
    doc = variations.apply_screen_state(doc, live.call, live, at_ms)
    return _overlay(variations.apply_terminated(doc, live.call, live), attributes)


def queue_event(
    live: LiveCall, org: Org, at_ms: int, shape: str, attributes: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The queue topic snapshot (`shape` "conversations" or "calls") at `at_ms`."""
    doc = documents.queue_event_body(live.call, org, at_ms, shape)
    doc = variations.apply_screen_state(doc, live.call, live, at_ms)
    return _overlay(variations.apply_terminated(doc, live.call, live), attributes)


def details(live: LiveCall, org: Org) -> dict[str, Any]:
    """The final analytics details document (rendered once per call, then served from cache)."""
    if live.details_cache is None:
        details = documents.analytics_details(live.call, org)
        live.details_cache = variations.apply_to_details(details, live.call, live)
    return copy.deepcopy(live.details_cache)
