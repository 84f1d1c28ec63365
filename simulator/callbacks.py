"""Callback conversations (`POST /api/v2/conversations/callbacks`): the REST conversation, the
queue conversation event and the `CreateCallbackResponse` (plain logic).

callexport uses a callback on its system queue as the configuration-change signal: the callback
produces a `v2.routing.queues.{id}.conversations` event on that queue's topic.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulator.org import Org, Queue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackDocuments:
    response: dict[str, Any]  # CreateCallbackResponse
    conversation: dict[str, Any]  # Conversation (GET /api/v2/conversations/{id})
    event: dict[str, Any]  # QueueConversationEventTopicConversation


def _iso(epoch_ms: int) -> str:
    return (
        datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def callback_documents(org: Org, queue: Queue, body: dict[str, Any], now_ms: int) -> CallbackDocuments:
    """The documents of a new callback on `queue` created from a `CreateCallbackCommand` body."""
    cid = str(uuid.uuid4())
    start = _iso(now_ms)
    numbers = [str(n) for n in body.get("callbackNumbers") or []]
    user_name = str(body.get("callbackUserName") or "")
    data = {str(k): str(v) for k, v in (body.get("data") or {}).items()}
    cust_id, acd_id = str(uuid.uuid4()), str(uuid.uuid4())
    cust_comm, acd_comm = str(uuid.uuid4()), str(uuid.uuid4())

    def event_callback(comm: str, state: str) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": comm,
            "state": state,
            "direction": "outbound",
            "held": False,
            "callbackNumbers": numbers,
            "callbackUserName": user_name,
            "externalCampaign": False,
            "skipEnabled": True,
            "provider": "PureCloud",
            "connectedTime": start,
        }
        if body.get("scriptId"):
            doc["scriptId"] = str(body["scriptId"])
        return doc

    def rest_callback(comm: str, state: str) -> dict[str, Any]:
        return {
            "id": comm,
            "state": state,
            "direction": "outbound",
            "callbackNumbers": numbers,
            "callbackUserName": user_name,
        }

    parties = [
        (cust_id, "customer", user_name, None, data, cust_comm, "connected"),
        (acd_id, "acd", queue.name, queue.id, {}, acd_comm, "alerting"),
    ]
    event_participants, rest_participants = [], []
    for pid, purpose, name, queue_id, attrs, comm, state in parties:
        common: dict[str, Any] = {"id": pid, "purpose": purpose, "name": name}
        if queue_id:
            common["queueId"] = queue_id
        event_participants.append(
            {
                **common,
                "connectedTime": start,
                "attributes": dict(attrs),
                "wrapupRequired": False,
                "callbacks": [event_callback(comm, state)],
            }
        )
        rest_participants.append(
            {
                **common,
                "startTime": start,
                "attributes": dict(attrs),
                "wrapupRequired": False,
                "callbacks": [rest_callback(comm, state)],
            }
        )
    division = {"id": org.division_id, "selfUri": f"/api/v2/authorization/divisions/{org.division_id}"}
    event = {
        "id": cid,
        "maxParticipants": 2,
        "recordingState": "none",
        "participants": event_participants,
        "divisions": [{"division": {"id": org.division_id}, "entities": [{"id": cid}]}],
    }
    conversation = {
        "id": cid,
        "startTime": start,
        "divisions": [{"division": division, "entities": [{"id": cid}]}],
        "participants": rest_participants,
        "recordingState": "NONE",
        "selfUri": f"/api/v2/conversations/{cid}",
    }
    response = {
        "conversation": {"id": cid, "selfUri": f"/api/v2/conversations/{cid}"},
        "callbackIdentifiers": [{"type": "EXTERNAL", "id": cust_comm}],
    }
    return CallbackDocuments(response, conversation, event)
