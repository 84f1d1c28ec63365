"""Callback conversations (`POST /api/v2/conversations/callbacks`): the REST conversation, the
queue conversation event, the analytics details and the `CreateCallbackResponse` (plain logic).

callexport uses a callback on its system queue as the configuration-change signal: the callback
produces a `v2.routing.queues.{id}.conversations` event on that queue's topic. The service then
disconnects it (`PATCH /api/v2/conversations/callbacks/{conversationId}` with ``state:
"disconnected"``), which ends every participant and publishes the final snapshot.

Callback communications carry the callback session fields of the SDK models (`Callback`,
`QueueConversationEventTopicCallback`, `AnalyticsSession`): ``callbackNumbers``,
``callbackUserName``, ``callbackScheduledTime`` (when given), ``scriptId`` (when given),
``skipEnabled``, ``timeoutSeconds``, ``externalCampaign``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from simulator.org import Org, Queue

logger = logging.getLogger(__name__)

CALLBACK_TIMEOUT_S = 60


@dataclass(frozen=True)
class CallbackDocuments:
    response: dict[str, Any]  # CreateCallbackResponse
    conversation: dict[str, Any]  # Conversation (GET /api/v2/conversations/{id})
    event: dict[str, Any]  # QueueConversationEventTopicConversation
    details: dict[str, Any]  # AnalyticsConversationWithoutAttributes
    disconnected: bool = False


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
    scheduled = body.get("callbackScheduledTime")
    script_id = body.get("scriptId")
    cust_id, acd_id = str(uuid.uuid4()), str(uuid.uuid4())
    cust_comm, acd_comm = str(uuid.uuid4()), str(uuid.uuid4())
    session_fields: dict[str, Any] = {
        "callbackNumbers": numbers,
        "callbackUserName": user_name,
        "skipEnabled": True,
        "timeoutSeconds": CALLBACK_TIMEOUT_S,
    }
    if scheduled:
        session_fields["callbackScheduledTime"] = str(scheduled)
    if script_id:
        session_fields["scriptId"] = str(script_id)

    def event_callback(comm: str, state: str) -> dict[str, Any]:
        return {
            "id": comm,
            "state": state,
            "direction": "outbound",
            "held": False,
            "externalCampaign": False,
            "provider": "PureCloud",
            "connectedTime": start,
            **session_fields,
        }

    def rest_callback(comm: str, state: str) -> dict[str, Any]:
        return {
            "id": comm,
            "state": state,
            "direction": "outbound",
            "externalCampaign": False,
            **session_fields,
        }

    parties = [
        (cust_id, "customer", user_name, None, data, cust_comm, "connected"),
        (acd_id, "acd", queue.name, queue.id, {}, acd_comm, "alerting"),
    ]
    event_participants, rest_participants, analytics = [], [], []
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
        segment: dict[str, Any] = {
            "segmentStart": start,
            "segmentType": "scheduled" if purpose == "customer" else "delay",
            "conference": False,
        }
        if queue_id:
            segment["queueId"] = queue_id
        analytics.append(
            {
                "participantId": pid,
                "participantName": name,
                "purpose": purpose,
                "sessions": [
                    {
                        "sessionId": comm,
                        "mediaType": "callback",
                        "direction": "outbound",
                        "provider": "PureCloud",
                        **session_fields,
                        "segments": [segment],
                    }
                ],
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
    details = {
        "conversationId": cid,
        "conversationStart": start,
        "originatingDirection": "outbound",
        "divisionIds": [org.division_id],
        "participants": analytics,
    }
    response = {
        "conversation": {"id": cid, "selfUri": f"/api/v2/conversations/{cid}"},
        "callbackIdentifiers": [{"type": "EXTERNAL", "id": cust_comm}],
    }
    return CallbackDocuments(response, conversation, event, details)


def disconnect(docs: CallbackDocuments, now_ms: int) -> CallbackDocuments:
    """Every participant of the callback disconnected at `now_ms` (what the PATCH does)."""
    end = _iso(now_ms)
    conversation = _copy(docs.conversation)
    event = _copy(docs.event)
    details = _copy(docs.details)
    conversation["endTime"] = end
    for doc in (conversation, event):
        for participant in doc["participants"]:
            participant["endTime"] = end
            for media in participant.get("callbacks") or []:
                media["state"] = "disconnected"
                media["disconnectType"] = "client"
                media["disconnectedTime"] = end
    details["conversationEnd"] = end
    for participant in details["participants"]:
        for session in participant["sessions"]:
            for segment in session["segments"]:
                segment["segmentEnd"] = end
                segment["disconnectType"] = "client"
    return replace(docs, conversation=conversation, event=event, details=details, disconnected=True)


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(doc)
