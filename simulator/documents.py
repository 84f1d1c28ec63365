"""Truth (`simulator.model.Call`, `simulator.org.Org`) -> Genesys Cloud JSON documents.

Every function returns plain `dict`s exactly as the REST API and the notification service send
them: camelCase keys, ISO-8601 UTC strings (`2026-03-24T14:30:22.123Z`) where the API has
`datetime`/string times, epoch milliseconds where it has numbers, and no `null` values (Genesys
leaves absent fields out). Shapes follow the SDK models named in each docstring; the simulator's
fidelity tests deserialise every document through `PureCloudPlatformClientV2` to prove it.

Documents can be rendered "as at" an instant (`at_ms`): the conversation, the queue events and the
analytics details then show the call as it looked at that moment (participants not yet joined
are absent, the agent's `wrapup` appears only once it is submitted).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Any

from simulator.model import WRAPUP_TIMEOUT_CODE, Call, Participant, Recording, Segment
from simulator.org import Flow, Org, Queue, RetentionPolicy, User
from simulator.policies import retention_dates

logger = logging.getLogger(__name__)

API = "/api/v2"
SHAPES = ("conversations", "calls")
"""Queue topic shapes: `v2.routing.queues.{id}.conversations` and `...conversations.calls`."""

# analytics disconnect type (camelCase) -> conversation/event disconnect type (dotted)
_DOTTED_DISCONNECT = {
    "client": "client",
    "peer": "peer",
    "endpoint": "endpoint",
    "system": "system",
    "timeout": "timeout",
    "transfer": "transfer",
    "consultTransfer": "transfer.consult",
    "conferenceTransfer": "transfer.conference",
    "forwardTransfer": "transfer.forward",
    "noAnswerTransfer": "transfer.noanswer",
    "notAvailableTransfer": "transfer.notavailable",
    "transportFailure": "transport.failure",
    "error": "error",
    "other": "other",
}

# segment type in the truth -> call state while in it
_STATE_OF_SEGMENT = {
    "alert": "alerting",
    "dialing": "dialing",
    "contacting": "contacting",
}


def iso(ms: int | float) -> str:
    """Epoch milliseconds -> `2026-03-24T14:30:22.123Z`."""
    ms = int(ms)
    secs, frac = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:03d}Z"


def _uuid_from(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts)))


def _division(org: Org) -> dict:
    return {
        "id": org.division_id,
        "name": org.division_name,
        "selfUri": f"{API}/authorization/divisions/{org.division_id}",
    }


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _tel(number: str) -> str:
    return number if number.startswith(("tel:", "sip:")) else f"tel:{number}"


# ---------------------------------------------------------------------------------------------
# routing / users / flows / policies
# ---------------------------------------------------------------------------------------------


def queue(q: Queue, org: Org | None = None) -> dict:
    """`Queue` (GET /api/v2/routing/queues/{id}, element of `QueueEntityListing`)."""
    doc = {
        "id": q.id,
        "name": q.name,
        "description": q.description or None,
        "dateCreated": q.date_created,
        "dateModified": q.date_modified,
        "memberCount": q.member_count,
        "userMemberCount": q.member_count,
        "joinedMemberCount": q.joined_member_count,
        "mediaSettings": {
            "call": {
                "enableAutoAnswer": False,
                "alertingTimeoutSeconds": 8,
                "serviceLevel": {"percentage": 0.8, "durationMs": 20000},
            }
        },
        "acwSettings": {"wrapupPrompt": q.acw_wrapup_prompt, "timeoutMs": q.acw_timeout_ms},
        "skillEvaluationMethod": "ALL",
        "enableTranscription": q.enable_transcription,
        "enableAudioMonitoring": False,
        "enableManualAssignment": False,
        "suppressInQueueCallRecording": q.suppress_in_queue_call_recording,
        "selfUri": f"{API}/routing/queues/{q.id}",
    }
    if org is not None:
        doc["division"] = _division(org)
    return _drop_none(doc)


def user(u: User, org: Org | None = None) -> dict:
    """`User` (GET /api/v2/users/{id})."""
    doc = {
        "id": u.id,
        "name": u.name,
        "email": u.email,
        "username": u.username,
        "state": "active",
        "title": u.title,
        "department": u.department,
        "version": 1,
        "acdAutoAnswer": False,
        "selfUri": f"{API}/users/{u.id}",
    }
    if org is not None:
        doc["division"] = _division(org)
    return doc


def user_ref(u: User) -> dict:
    """The short `User` reference used inside recordings and policies."""
    return {"id": u.id, "name": u.name, "selfUri": f"{API}/users/{u.id}"}


def flow(f: Flow, org: Org | None = None) -> dict:
    """`Flow` (GET /api/v2/flows/{id})."""
    doc = {
        "id": f.id,
        "name": f.name,
        "type": f.type,
        "active": True,
        "system": False,
        "deleted": False,
        "selfUri": f"{API}/flows/{f.id}",
    }
    if org is not None:
        doc["division"] = _division(org)
    return doc


def wrapup_code(code_id: str, org: Org) -> dict:
    """`WrapupCode` (GET /api/v2/routing/wrapupcodes/{id})."""
    code = org.wrapup_code_by_id(code_id)
    return {"id": code.id, "name": code.name, "selfUri": f"{API}/routing/wrapupcodes/{code.id}"}


def retention_policy(policy: RetentionPolicy, org: Org) -> dict:
    """`Policy` (GET /api/v2/recording/mediaretentionpolicies/{id}): its call part
    (`mediaPolicies.callPolicy`, `CallMediaPolicyConditions`), with only the conditions that are set."""
    retention: dict[str, Any] = {}
    if policy.archive_days is not None:
        retention["archiveRetention"] = {"days": policy.archive_days, "storageMedium": "CLOUDARCHIVE"}
    if policy.delete_days is not None:
        retention["deleteRetention"] = {"days": policy.delete_days}
    conditions: dict[str, Any] = {}
    if policy.user_ids:
        conditions["forUsers"] = [user_ref(org.user_by_id(uid)) for uid in policy.user_ids]
    if policy.date_ranges:
        conditions["dateRanges"] = list(policy.date_ranges)
    if policy.queue_ids:
        conditions["forQueues"] = [
            {"id": q.id, "name": q.name, "selfUri": f"{API}/routing/queues/{q.id}"}
            for q in (org.queue_by_id(qid) for qid in policy.queue_ids)
        ]
    if policy.wrapup_code_ids:
        conditions["wrapupCodes"] = [wrapup_code(cid, org) for cid in policy.wrapup_code_ids]
    if policy.languages:
        conditions["languages"] = [
            {"id": lang.id, "name": lang.name, "selfUri": f"{API}/routing/languages/{lang.id}"}
            for lang in policy.languages
        ]
    if policy.time_slots:
        conditions["timeAllowed"] = {
            "timeSlots": [{"startTime": a, "stopTime": b, "day": day} for day, a, b in policy.time_slots],
            "timeZoneId": policy.time_zone,
            "empty": False,
        }
    if policy.directions:
        conditions["directions"] = list(policy.directions)
    if policy.duration:
        mode, value = policy.duration
        conditions["duration"] = {
            "durationTarget": "DURATION_RANGE" if mode == "Between" else "DURATION",
            "durationRange": value,
            "durationMode": mode,
        }
    actions: dict[str, Any] = {"retainRecording": True, "deleteRecording": False, "alwaysDelete": False}
    if retention:
        actions["retentionDuration"] = retention
    return {
        "id": policy.id,
        "name": policy.name,
        "description": policy.description,
        "enabled": policy.enabled,
        "order": org.policies.index(policy) + 1,
        "createdDate": "2025-02-01T08:00:00.000Z",
        "modifiedDate": "2025-05-20T08:00:00.000Z",
        "mediaPolicies": {"callPolicy": {"conditions": conditions, "actions": actions}},
        "selfUri": f"{API}/recording/mediaretentionpolicies/{policy.id}",
    }


# ---------------------------------------------------------------------------------------------
# analytics details
# ---------------------------------------------------------------------------------------------


def _peer_session(call: Call, p: Participant) -> str | None:
    cust = call.customer()
    return None if p is cust else cust.communication_id


def _metrics(p: Participant, end_ms: int) -> list[dict]:
    out = []

    def add(name: str, value: int, at: int) -> None:
        if value > 0:
            out.append({"name": name, "value": int(value), "emitDate": iso(at)})

    spans = {t: sum(b - a for a, b in p.spans(t)) for t in ("alert", "interact", "hold", "wrapup", "ivr")}
    if p.purpose in ("customer", "external"):
        add("nConnected", 1, p.connected_ms or p.start_ms)
        add("tConnected", p.end_ms - (p.connected_ms or p.start_ms), p.end_ms)
    elif p.purpose == "agent":
        alert = p.spans("alert")
        if alert:
            add("tAlert", spans["alert"], alert[-1][1])
            add("tAnswered", spans["alert"], alert[-1][1])
        add("tTalk", spans["interact"], p.end_ms)
        add("tTalkComplete", spans["interact"], p.end_ms)
        add("tHeld", spans["hold"], p.end_ms)
        add("tAcw", spans["wrapup"], p.wrapup_submitted_ms or p.end_ms)
        add("tHandle", spans["interact"] + spans["hold"] + spans["wrapup"], p.wrapup_submitted_ms or p.end_ms)
    elif p.purpose == "acd":
        add("nOffered", 1, p.start_ms)
        add("tAcd", p.end_ms - p.start_ms, p.end_ms)
    elif p.purpose == "ivr":
        add("nFlow", 1, p.start_ms)
        add("tIvr", spans["ivr"], p.end_ms)
        add("tFlow", spans["ivr"], p.end_ms)
        add("tFlowExit", spans["ivr"], p.end_ms)
    return out


def _analytics_segment(s: Segment) -> dict:
    doc: dict[str, Any] = {
        "conference": s.conference,
        "segmentStart": iso(s.start_ms),
        "segmentEnd": iso(s.end_ms),
        "segmentType": s.segment_type,
    }
    if s.queue_id:
        doc["queueId"] = s.queue_id
    if s.disconnect_type:
        doc["disconnectType"] = s.disconnect_type
    if s.wrap_up_code:
        doc["wrapUpCode"] = s.wrap_up_code
    if s.disconnect_type in ("endpoint", "peer", "client") and s.segment_type != "alert":
        doc["q850ResponseCodes"] = [16]  # normal call clearing
    return doc


def analytics_details(call: Call, org: Org, at_ms: int | None = None) -> dict:
    """`AnalyticsConversationWithoutAttributes` (GET /api/v2/analytics/conversations/{id}/details).

    With `at_ms`, what analytics knows at that instant: open segments without `segmentEnd`,
    wrap-up segments only once submitted, and `conversationEnd` only once the last segment
    (after-call work included, as in real data) has ended.
    """
    at = call.last_event_ms() if at_ms is None else at_ms
    participants = []
    for p in call.participants:
        if p.start_ms > at:
            continue
        segments = []
        for s in p.segments:
            if s.start_ms > at:
                continue
            if s.segment_type == "wrapup" and s.end_ms > at:
                continue  # the wrap-up segment is written when ACW ends
            seg = _analytics_segment(s)
            if s.segment_type == "wrapup" and p.disconnect_type:
                seg["disconnectType"] = p.disconnect_type  # analytics repeats how the agent left
            if s.end_ms > at:
                del seg["segmentEnd"]
                seg.pop("disconnectType", None)
            segments.append(seg)
        session: dict[str, Any] = {
            "sessionId": p.communication_id,
            "mediaType": "voice",
            "direction": p.direction,
            "ani": _tel(p.ani or call.ani),
            "dnis": _tel(p.dnis or call.dnis),
            "provider": "Edge",
            "edgeId": _uuid_from("edge", org.id),
            "protocolCallId": _uuid_from("sip", p.communication_id),
            "sessionDnis": _tel(p.dnis or call.dnis),
        }
        customer = call.customer()
        if p is customer:
            session["remoteNameDisplayable"] = customer.ani.lstrip("+") if p.purpose == "customer" else p.name
        elif p.purpose == "acd" and p.queue_id:
            session["remoteNameDisplayable"] = org.queue_by_id(p.queue_id).name
        if p is not customer:
            session["remote"] = customer.ani.lstrip("+")
        peer = _peer_session(call, p)
        if peer:
            session["peerId"] = peer
        if p.purpose in ("customer", "external", "agent") and call.recordings:
            session["recording"] = True
        first_agent = next((a for a in call.agents() if a.start_ms <= at), None)
        if (
            p.purpose in ("customer", "acd", "agent")
            and first_agent is not None
            and call.direction == "inbound"
        ):
            session["requestedRoutings"] = ["Standard"]
            session["usedRouting"] = "Standard"
            session["selectedAgentId"] = first_agent.user_id
        if p.purpose == "acd":
            session["flowInType"] = "ivr"
            inqueue = next((f for f in org.flows if f.type == "INQUEUECALL"), None)
            if inqueue is not None:
                session["flow"] = {
                    "flowId": inqueue.id,
                    "flowName": inqueue.name,
                    "flowType": inqueue.type,
                    "flowVersion": "3.0",
                    "startingLanguage": "en-us",
                }
        if p.purpose in ("customer", "external", "agent", "ivr", "acd") and p.end_ms <= at:
            session["mediaEndpointStats"] = [
                {
                    "codecs": ["audio/opus"],
                    "eventTime": iso(p.end_ms),
                    "maxLatencyMs": 30 + (p.start_ms % 40),
                    "minMos": 4.87,
                    "minRFactor": 92.45,
                    "receivedPackets": max(1, (p.end_ms - p.start_ms) // 20),
                }
            ]
        if p.purpose == "ivr" and p.flow_id:
            f = org.flow_by_id(p.flow_id)
            session["flow"] = {
                "flowId": f.id,
                "flowName": f.name,
                "flowType": f.type,
                "flowVersion": "12.0",
                "entryType": "dnis",
                "entryReason": _tel(call.dnis),
                "exitReason": "TRANSFER" if len(call.participants) > 2 else "DISCONNECT",
                "transferType": "ACD" if len(call.participants) > 2 else None,
                "startingLanguage": "en-us",
                "endingLanguage": "en-us",
            }
            session["flow"] = _drop_none(session["flow"])
        if p.end_ms <= at:
            metrics = _metrics(p, at)
            if metrics:
                session["metrics"] = metrics
        session["segments"] = segments
        part: dict[str, Any] = {
            "participantId": p.participant_id,
            "participantName": p.name,
            "purpose": p.purpose,
            "sessions": [_drop_none(session)],
        }
        if p.user_id:
            part["userId"] = p.user_id
        participants.append(part)
    doc: dict[str, Any] = {
        "conversationId": call.conversation_id,
        "conversationStart": iso(call.start_ms),
        "originatingDirection": call.direction,
        "divisionIds": [call.division_id],
        "participants": participants,
    }
    if at >= call.end_ms:
        doc["mediaStatsMinConversationMos"] = 4.87
        doc["mediaStatsMinConversationRFactor"] = 92.45
    if at >= call.last_event_ms():
        # Analytics ends the conversation when the last segment ends: after-call work included.
        doc["conversationEnd"] = iso(call.last_event_ms())
    return doc


# ---------------------------------------------------------------------------------------------
# live state at an instant (shared by the REST conversation and both event shapes)
# ---------------------------------------------------------------------------------------------


def _call_state(p: Participant, at: int) -> tuple[str, Segment | None]:
    if at >= p.end_ms:
        return "disconnected", None
    seg = p.segment_at(at)
    if seg is None:
        return "connected", None
    return _STATE_OF_SEGMENT.get(seg.segment_type, "connected"), seg


def _wrapup_state(p: Participant, at: int) -> tuple[bool, str]:
    """(submitted, afterCallWork.state)."""
    submitted = p.wrapup_submitted_ms is not None and p.wrapup_submitted_ms <= at
    if p.purpose != "agent":
        return False, "notApplicable"
    if submitted:
        return True, "complete"
    if at < p.end_ms:
        return False, "unknown"
    if p.wrapup_required or p.wrapup_submitted_ms is not None:
        return False, "pending"
    return False, "skipped"


def _wrapup_code_name(code: str, org: Org) -> str:
    if code == WRAPUP_TIMEOUT_CODE:
        return WRAPUP_TIMEOUT_CODE
    return org.wrapup_code_by_id(code).name


def _visible(call: Call, at: int) -> list[Participant]:
    return [p for p in call.participants if p.start_ms <= at]


def _connected_ms(p: Participant, at: int) -> int | None:
    c = p.connected_ms
    return c if c is not None and c <= at else None


def _hold_start(seg: Segment | None) -> int | None:
    return seg.start_ms if seg is not None and seg.segment_type == "hold" else None


def _addresses(call: Call, p: Participant) -> tuple[dict, dict]:
    cust = call.customer()
    mine = p.address
    org_number = call.dnis if call.direction == "inbound" else call.ani
    other = cust.address if p is not cust else _tel(org_number)
    return (
        {
            "name": p.name,
            "nameRaw": p.name,
            "addressNormalized": mine,
            "addressRaw": mine,
            "addressDisplayable": mine,
        },
        {"addressNormalized": other, "addressRaw": other, "addressDisplayable": other},
    )


def _recording_flag(call: Call, p: Participant) -> bool:
    return bool(call.recordings) and p.purpose in ("customer", "external", "agent")


def _initial_state(p: Participant) -> str:
    first = p.segments[0].segment_type
    return _STATE_OF_SEGMENT.get(first, "connected" if p.purpose != "agent" else "alerting")


def _rest_segments(p: Participant, at: int) -> list[dict]:
    """REST call segments: `type` capitalised, `howEnded` the next segment's type or `Disconnect`."""
    media = [s for s in p.segments if s.segment_type != "wrapup" and s.start_ms <= at]
    out = []
    for i, s in enumerate(media):
        d = {"startTime": iso(s.start_ms), "type": _rest_segment_type(s.segment_type)}
        if s.end_ms <= at:
            d["endTime"] = iso(s.end_ms)
            nxt = media[i + 1] if i + 1 < len(media) else None
            if nxt is not None and nxt.start_ms <= s.end_ms and not s.disconnect_type:
                d["howEnded"] = _rest_segment_type(nxt.segment_type)
            else:
                d["howEnded"] = "Disconnect"
                d["disconnectType"] = _DOTTED_DISCONNECT.get(s.disconnect_type or "client", "other")
        out.append(d)
    return out


def _routing_data(p: Participant, org: Org, shape: str) -> dict | None:
    """`conversationRoutingData` of acd and agent participants."""
    if p.purpose not in ("acd", "agent") or not p.queue_id:
        return None
    data: dict[str, Any] = {"priority": 0, "skills": [], "scoredAgents": []}
    if p.purpose == "acd":
        ref: dict[str, Any] = {"id": p.queue_id}
        if shape == "rest":
            ref["selfUri"] = f"{API}/routing/queues/{p.queue_id}"
        data["queue"] = ref
    return data


_OTHER_MEDIA = (
    "callbacks",
    "chats",
    "cobrowsesessions",
    "emails",
    "messages",
    "screenshares",
    "socialExpressions",
    "videos",
)


def _rest_segment_type(t: str) -> str:
    return {
        "interact": "Interact",
        "hold": "Hold",
        "alert": "Alert",
        "ivr": "Ivr",
        "system": "System",
        "delay": "Delay",
    }.get(t, t.capitalize())


def conversation(call: Call, org: Org, at_ms: int | None = None) -> dict:
    """REST `Conversation` (GET /api/v2/conversations/{id}) as it is at `at_ms` (default: final)."""
    at = call.last_event_ms() if at_ms is None else at_ms
    participants = []
    for p in _visible(call, at):
        state, seg = _call_state(p, at)
        submitted, acw_state = _wrapup_state(p, at)
        self_addr, other_addr = _addresses(call, p)
        c: dict[str, Any] = {
            "state": state,
            "initialState": _initial_state(p),
            "id": p.communication_id,
            "direction": p.direction,
            "recording": _recording_flag(call, p),
            "recordingState": "active" if _recording_flag(call, p) and state != "disconnected" else "none",
            "muted": False,
            "confined": False,
            "held": seg is not None and seg.segment_type == "hold",
            "securePause": False,
            "segments": _rest_segments(p, at),
            "provider": "Edge",
            "self": self_addr,
            "other": other_addr,
        }
        peer = _peer_session(call, p)
        if peer:
            c["peerId"] = peer
        if p.purpose == "agent" and p.spans("alert"):
            c["startAlertingTime"] = iso(p.spans("alert")[0][0])
        if (h := _hold_start(seg)) is not None:
            c["startHoldTime"] = iso(h)
        if (cm := _connected_ms(p, at)) is not None:
            c["connectedTime"] = iso(cm)
        if state == "disconnected":
            c["disconnectedTime"] = iso(p.end_ms)
            c["disconnectType"] = _DOTTED_DISCONNECT.get(p.disconnect_type or "client", "other")
        if p.purpose == "agent":
            c["afterCallWorkRequired"] = p.wrapup_required
            if at >= p.end_ms:
                acw: dict[str, Any] = {"state": acw_state, "startTime": iso(p.end_ms)}
                if submitted:
                    acw["endTime"] = _wrapup_end_iso(p)
                c["afterCallWork"] = acw
        part: dict[str, Any] = {
            "id": p.participant_id,
            "startTime": iso(p.start_ms),
            "name": p.name,
            "purpose": p.purpose,
            "participantType": "External" if p.purpose in ("customer", "external") else "Internal",
            "address": p.address,
            "ani": _tel(p.ani or call.ani),
            "dnis": _tel(p.dnis or call.dnis),
            "wrapupRequired": p.wrapup_required,
            "attributes": dict(p.attributes),
            "calls": [c],
        }
        if (cm := _connected_ms(p, at)) is not None:
            part["connectedTime"] = iso(cm)
        if at >= p.end_ms:
            part["endTime"] = iso(p.end_ms)
        if p.user_id:
            part["userId"] = p.user_id
            part["userUri"] = f"{API}/users/{p.user_id}"
        queue_id = p.queue_id or _customer_queue(call, p, at)
        if queue_id:
            part["queueId"] = queue_id
            part["queueName"] = org.queue_by_id(queue_id).name
        routing = _routing_data(p, org, "rest")
        if routing:
            part["conversationRoutingData"] = routing
        for media in _OTHER_MEDIA:
            part[media] = []
        if p.consult_participant_id:
            part["consultParticipantId"] = p.consult_participant_id
        if p.purpose == "agent":
            part.update(_agent_acw_fields(p, at, submitted))
            if submitted:
                part["wrapup"] = _rest_wrapup(p, org)
            elif at >= p.end_ms and not p.wrapup_required and p.wrapup_submitted_ms is None:
                part["wrapupSkipped"] = True
        participants.append(part)
    doc: dict[str, Any] = {
        "id": call.conversation_id,
        "startTime": iso(call.start_ms),
        "address": _tel(call.dnis),
        "participants": participants,
        "recordingState": "ACTIVE" if call.recordings and at < call.end_ms else "NONE",
        "divisions": [{"division": _division(org), "entities": []}],
        "securePause": False,
        "selfUri": f"{API}/conversations/{call.conversation_id}",
    }
    if at >= call.end_ms:
        doc["endTime"] = iso(call.end_ms)
    return doc


def _customer_queue(call: Call, p: Participant, at: int) -> str | None:
    """The queue the customer was routed to (shown on the customer once queued)."""
    if p.purpose != "customer":
        return None
    for s in p.segments:
        if s.queue_id and s.start_ms <= at:
            acd = next(
                (a for a in call.participants if a.purpose == "acd" and a.queue_id == s.queue_id), None
            )
            if acd is not None and acd.start_ms <= at:
                return s.queue_id
    return None


def _rest_wrapup(p: Participant, org: Org) -> dict:
    assert p.wrapup_code is not None and p.wrapup_submitted_ms is not None
    return {
        "code": p.wrapup_code,
        "name": _wrapup_code_name(p.wrapup_code, org),
        "durationSeconds": max(0, (p.wrapup_submitted_ms - p.end_ms) // 1000),
        "endTime": iso(p.wrapup_submitted_ms),
        "provisional": False,
    }


def _event_wrapup(p: Participant, org: Org) -> dict:
    """`QueueConversationEventTopicWrapup`: its ``code`` is "the user configured wrap up code name"
    (SDK docstring), unlike the REST `Wrapup` whose ``code`` is the id and ``name`` the name."""
    assert p.wrapup_code is not None and p.wrapup_submitted_ms is not None
    return {
        "code": _wrapup_code_name(p.wrapup_code, org),
        "notes": "",
        "tags": [],
        "durationSeconds": max(0, (p.wrapup_submitted_ms - p.end_ms) // 1000),
        "endTime": iso(p.wrapup_submitted_ms),
    }


def queue_event_body(call: Call, org: Org, at_ms: int, shape: str) -> dict:
    """Queue topic `eventBody` as the conversation looked at `at_ms`.

    `shape="conversations"`: `QueueConversationEventTopicConversation` (queue id on the
    participant, state in `calls[]`); `shape="calls"`: `QueueConversationCallEventTopicCallConversation`
    (flat participants, `queue.id`, `state`).
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown queue event shape {shape!r}; expected one of {SHAPES}")
    participants = []
    for p in _visible(call, at_ms):
        state, seg = _call_state(p, at_ms)
        submitted, acw_state = _wrapup_state(p, at_ms)
        self_addr, other_addr = _addresses(call, p)
        held = seg is not None and seg.segment_type == "hold"
        rec = _recording_flag(call, p)
        connected = _connected_ms(p, at_ms)
        if shape == "conversations":
            c: dict[str, Any] = {
                "id": p.communication_id,
                "state": state,
                "initialState": _initial_state(p),
                "recording": rec,
                "recordingState": "active" if rec and state != "disconnected" else "none",
                "muted": False,
                "confined": False,
                "held": held,
                "securePause": False,
                "direction": p.direction,
                "self": self_addr,
                "other": other_addr,
                "provider": "Edge",
            }
            peer = _peer_session(call, p)
            if peer:
                c["peerId"] = peer
            if (h := _hold_start(seg)) is not None:
                c["startHoldTime"] = iso(h)
            if connected is not None:
                c["connectedTime"] = iso(connected)
            if state == "disconnected":
                c["disconnectedTime"] = iso(p.end_ms)
                c["disconnectType"] = _DOTTED_DISCONNECT.get(p.disconnect_type or "client", "other")
                if p.purpose in ("customer", "external"):
                    c["disconnectReasons"] = [{"type": "q850", "code": 16, "phrase": "Normal call clearing"}]
            if p.purpose == "agent":
                c["afterCallWorkRequired"] = p.wrapup_required
                if at_ms >= p.end_ms:
                    acw = {"state": acw_state, "startTime": iso(p.end_ms)}
                    if submitted:
                        acw["endTime"] = _wrapup_end_iso(p)
                    c["afterCallWork"] = acw
                if submitted:
                    c["wrapup"] = _event_wrapup(p, org)
            part: dict[str, Any] = {
                "id": p.participant_id,
                "name": p.name,
                "purpose": p.purpose,
                "address": p.address,
                "wrapupRequired": p.wrapup_required,
                "wrapupExpected": p.wrapup_required,
                "mediaRoles": [],
                "attributes": dict(p.attributes),
                "calls": [c],
            }
            if connected is not None:
                part["connectedTime"] = iso(connected)
            if p.queue_id:
                part["queueId"] = p.queue_id
            if submitted:
                part["wrapup"] = _event_wrapup(p, org)
            for media in _OTHER_MEDIA:
                part[media] = []
        else:
            part = {
                "id": p.participant_id,
                "name": p.name,
                "address": p.address,
                "startTime": iso(p.start_ms),
                "purpose": p.purpose,
                "state": state,
                "initialState": _initial_state(p),
                "direction": p.direction,
                "held": held,
                "wrapupRequired": p.wrapup_required,
                "attributes": dict(p.attributes),
                "provider": "Edge",
                "muted": False,
                "confined": False,
                "recording": rec,
                "recordingState": "active" if rec and state != "disconnected" else "none",
                "securePause": False,
                "ani": _tel(p.ani or call.ani),
                "dnis": _tel(p.dnis or call.dnis),
                "mediaRoles": [],
            }
            peer = _peer_session(call, p)
            if peer:
                part["peer"] = peer
            if connected is not None:
                part["connectedTime"] = iso(connected)
            if (h := _hold_start(seg)) is not None:
                part["startHoldTime"] = iso(h)
            if state == "disconnected":
                part["disconnectType"] = _DOTTED_DISCONNECT.get(p.disconnect_type or "client", "other")
            if p.queue_id:
                part["queue"] = {"id": p.queue_id, "name": org.queue_by_id(p.queue_id).name}
            if p.user_id:
                part["user"] = {"id": p.user_id, "name": p.name}
            if p.purpose == "agent":
                part["wrapupSkipped"] = (
                    at_ms >= p.end_ms and not p.wrapup_required and p.wrapup_submitted_ms is None
                )
                if submitted:
                    part["wrapup"] = _event_wrapup(p, org)
        if at_ms >= p.end_ms:
            part["endTime"] = iso(p.end_ms)
        if p.user_id and shape == "conversations":
            part["userId"] = p.user_id
        if p.purpose == "agent":
            part.update(_agent_acw_fields(p, at_ms, submitted))
        if p.consult_participant_id:
            part["consultParticipantId"] = p.consult_participant_id
        routing = _routing_data(p, org, shape)
        if routing:
            part["conversationRoutingData"] = routing
        participants.append(part)
    recording_state = "active" if call.recordings and at_ms < call.end_ms else "none"
    division = {
        "division": {"id": org.division_id, "selfUri": f"{API}/authorization/divisions/{org.division_id}"},
        "entities": [],
    }
    doc: dict[str, Any] = {
        "id": call.conversation_id,
        "maxParticipants": max(len(call.participants), 2),
        "participants": participants,
        "recordingState": recording_state,
        "address": _tel(call.dnis),
        "securePause": False,
        "divisions": [division],
    }
    if shape == "conversations":
        doc["recentTransfers"] = []
    else:
        doc["name"] = ""
        doc["otherMediaUris"] = []
    return doc


def queue_entered_ms(call: Call, queue_id: str) -> int | None:
    """When the conversation first reached `queue_id` (None: never). A queue's topic carries
    the conversation's snapshots from that instant on."""
    starts = [
        s.start_ms
        for p in call.participants
        for s in p.segments
        if s.queue_id == queue_id and p.purpose in ("acd", "agent")
    ]
    return min(starts) if starts else None


def event_instants(call: Call, rng: random.Random, queue_id: str | None = None) -> list[int]:
    """Instants (epoch ms) of the snapshots to publish, in publication order.

    Every state change appears (joins, alerting, connect, holds, transfers, disconnects, each
    wrap-up submission). Like the real service, some snapshots are repeated and some stale ones
    are published after a later one; the last element is always the final state (the last wrap-up
    or the disconnect). With `queue_id`, only what that queue's topic publishes: the changes
    from the moment the conversation entered that queue (empty if it never did).
    """
    instants = sorted(
        {s.start_ms for p in call.participants for s in p.segments if s.segment_type != "wrapup"}
        | {p.end_ms for p in call.participants}
        | {p.wrapup_submitted_ms for p in call.participants if p.wrapup_submitted_ms is not None}
    )
    if queue_id is not None:
        entered = queue_entered_ms(call, queue_id)
        if entered is None:
            return []
        instants = [t for t in instants if t >= entered]
    published: list[int] = []
    for t in instants:
        published.append(t)
        r = rng.random()
        if r < 0.1:
            published.append(t)  # a repeated snapshot
        elif r < 0.18 and len(published) > 2:
            published.append(rng.choice(published[:-1]))  # a stale snapshot after a newer one
    final = instants[-1]
    if published[-1] != final:
        published.append(final)
    return published


# ---------------------------------------------------------------------------------------------
# recordings
# ---------------------------------------------------------------------------------------------


def _annotations(call: Call, rec: Recording, rng: random.Random | None) -> list[dict]:
    out = []
    pause_id = _uuid_from("pause", rec.recording_id)
    for g in rec.gaps:
        loc = g.wall_start_ms - rec.start_ms
        media = rec.wall_to_media_ms(g.wall_start_ms - 1)
        media_loc = 0 if media is None else media + 1
        out.append(
            {
                "id": pause_id,
                "name": "Pause",
                "type": "Pause",
                "location": loc,
                "durationMs": g.duration_ms,
                "absoluteLocation": media_loc,
                "absoluteDurationMs": 0,
                "recordingLocation": media_loc,
                "recordingDurationMs": 0,
                "realtimeLocation": loc,
                "reason": g.reason,
            }
        )
    for i, (h0, h1) in enumerate(rec.holds):
        spans = rec.wall_span_to_media(h0, h1)
        if not spans:
            continue
        media_loc = spans[0][0]
        media_dur = sum(b - a for a, b in spans)
        ann_id = (
            str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if rng
            else _uuid_from("hold", rec.recording_id, i)
        )
        out.append(
            {
                "id": ann_id,
                "name": "Hold",
                "type": "Hold",
                "location": h0 - rec.start_ms,
                "durationMs": h1 - h0,
                "absoluteLocation": media_loc,
                "absoluteDurationMs": media_dur,
                "recordingLocation": media_loc,
                "recordingDurationMs": media_dur,
                "realtimeLocation": h0 - rec.start_ms,
                "reason": "Hold",
            }
        )
    return sorted(out, key=lambda a: a["location"])


def _policy_dates(call: Call, org: Org) -> dict:
    """The recordings' deletion and archive dates set by the policy that applies and keeps longest."""
    delete_days, archive_days = retention_dates(call, org)
    dates: dict[str, str] = {}
    if delete_days is not None:
        dates["deleteDate"] = iso(call.end_ms + delete_days * 86_400_000)
    if archive_days is not None:
        dates["archiveDate"] = iso(call.end_ms + archive_days * 86_400_000)
        dates["archiveMedium"] = "CLOUDARCHIVE"
    return dates


def _recording_name(call: Call, rec: Recording) -> str:
    return f"{call.conversation_id}_{rec.subtype.lower()}_{rec.recording_id[:8]}"


def recording_metadata(
    call: Call, rec: Recording, org: Org | None = None, file_state: str = "AVAILABLE"
) -> dict:
    """`RecordingMetadata` (GET /api/v2/conversations/{id}/recordingmetadata[/{recordingId}])."""
    doc: dict[str, Any] = {
        "id": rec.recording_id,
        "name": _recording_name(call, rec),
        "conversationId": call.conversation_id,
        "endTime": iso(rec.end_ms),
        "media": "audio",
        "mediaSubtype": rec.subtype,
        "fileState": file_state,
        "maxAllowedRestorationsForOrg": 10000,
        "remainingRestorationsAllowedForOrg": 10000,
        "sessionId": rec.session_id,
        "region": "eu-west-1",
        "selfUri": f"{API}/conversations/{call.conversation_id}/recordingmetadata/{rec.recording_id}",
    }
    if file_state == "AVAILABLE":
        doc["annotations"] = [a for a in _annotations(call, rec, None) if a["reason"] != "Hold"]
    if org is not None:
        doc.update(_policy_dates(call, org))
    return doc


def recording(
    call: Call,
    rec: Recording,
    org: Org,
    *,
    format_id: str,
    media_uris: dict[str, str] | dict[str, dict] | None,
    file_state: str = "AVAILABLE",
    output_size: int | None = None,
    annotation_rng: random.Random | None = None,
) -> dict:
    """`Recording` (GET /api/v2/conversations/{id}/recordings[/{recordingId}]).

    `media_uris` maps a key (`"S"` for call audio) to a download URL (or to a ready `MediaResult`
    dict such as `{"mediaUri": url}`); `None` while transcoding
    (the document then has no `mediaUris`). Hold annotations get fresh random ids per request
    when `annotation_rng` is given (as the real API does), else stable ids.
    """
    duration = rec.media_duration_ms
    doc: dict[str, Any] = {
        "id": rec.recording_id,
        "name": _recording_name(call, rec),
        "conversationId": call.conversation_id,
        "startTime": iso(rec.start_ms),
        "endTime": iso(rec.end_ms),
        "media": "audio",
        "mediaSubtype": rec.subtype,
        "annotations": _annotations(call, rec, annotation_rng),
        "fileState": file_state,
        "estimatedTranscodeTimeMs": max(200, duration // 50),
        "maxAllowedRestorationsForOrg": 10000,
        "remainingRestorationsAllowedForOrg": 10000,
        "sessionId": rec.session_id,
        "users": [user(org.user_by_id(uid), org) for uid in rec.user_ids],
        "recordingFileRole": "CUSTOMER_EXPERIENCE",
        "creationTime": iso(rec.end_ms + 1_500),
        "originalRecordingStartTime": iso(rec.start_ms),
        "selfUri": f"{API}/conversations/{call.conversation_id}/recordings/{rec.recording_id}",
    }
    if format_id != "NONE":
        doc["outputDurationMs"] = duration
        doc["outputSizeInBytes"] = output_size if (output_size is not None and media_uris) else 0
    if media_uris:
        doc["mediaUris"] = {
            key: dict(url) if isinstance(url, dict) else {"mediaUri": url} for key, url in media_uris.items()
        }
        doc["actualTranscodeTimeMs"] = max(150, duration // 60)
    doc.update(_policy_dates(call, org))
    return doc


# ---------------------------------------------------------------------------------------------
# transcripts
# ---------------------------------------------------------------------------------------------


def transcript_communication_ids(call: Call) -> list[str]:
    """Communication ids that have an STA transcript (the customer's call, when transcribed)."""
    return list(call.transcript_ids) if call.transcript_available else []


def transcript_parts(call: Call, communication_id: str) -> list[Recording]:
    """The recordings a communication's transcript is made of, one transcript document each (what
    `TranscriptUrls.urls[]` lists): the main-scope Trunk recordings of that communication."""
    if communication_id not in transcript_communication_ids(call):
        return []
    trunks = [r for r in call.recordings if r.subtype == "Trunk" and r.scope == "main"]
    own = [r for r in trunks if r.session_id == communication_id]
    return sorted(own or trunks[:1], key=lambda r: r.start_ms)


def transcript_document(call: Call, org: Org, communication_id: str, part: int = 0) -> dict:
    """The STA transcript JSON behind a pre-signed transcript URL (docs/transcripts.md): part `part` of
    the communication's transcript (one per recording; the single-URL endpoint serves part 0)."""
    from simulator.transcript_synth import transcript_document as build

    parts = transcript_parts(call, communication_id)
    if not 0 <= part < len(parts):
        raise KeyError(
            f"call {call.conversation_id} has no transcript part {part} for communication {communication_id!r}"
        )
    return build(call, org, communication_id, parts[part], part)


def _wrapup_end_iso(p: Participant) -> str:
    """When the agent submitted the wrap-up (called only once it is submitted)."""
    assert p.wrapup_submitted_ms is not None
    return iso(p.wrapup_submitted_ms)


def _agent_acw_fields(p: Participant, at_ms: int, submitted: bool) -> dict[str, Any]:
    """An agent's wrap-up settings and after-call-work times, as both the REST conversation and the
    queue events show them at `at_ms`."""
    fields: dict[str, Any] = {"alertingTimeoutMs": 8000}
    if p.wrapup_prompt:
        fields["wrapupPrompt"] = p.wrapup_prompt
    if p.wrapup_timeout_ms:
        fields["wrapupTimeoutMs"] = p.wrapup_timeout_ms
    if at_ms >= p.end_ms:
        fields["startAcwTime"] = iso(p.end_ms)
    if submitted:
        fields["endAcwTime"] = _wrapup_end_iso(p)
    return fields
