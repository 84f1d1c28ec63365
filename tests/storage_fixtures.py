"""Hand-written Genesys Cloud documents (shapes of the SDK models named in docs/architecture.md) for the
profiles and storage tests: the seed's example call (Jane Smith, +4791234567, queue Support)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

CONVERSATION_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
CUSTOMER_PID = "0f1e2d3c-0000-4000-8000-000000000001"
IVR_PID = "0f1e2d3c-0000-4000-8000-000000000002"
ACD_PID = "0f1e2d3c-0000-4000-8000-000000000003"
AGENT_PID = "0f1e2d3c-0000-4000-8000-000000000004"
COMMUNICATION_ID = "c0ffee00-1111-4222-8333-444455556666"
AGENT_SESSION = "c0ffee00-1111-4222-8333-777788889999"
QUEUE_ID = "5b0c7e6a-2f3d-4a5b-9c8d-7e6f5a4b3c2d"
QUEUE_SALES_ID = "9d8c7b6a-1111-2222-3333-444455556666"
AGENT_ID = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"
FLOW_ID = "e1d2c3b4-a5f6-4789-9abc-def012345678"
RECORDING_ID = "r3c0rd1n-9999-4888-8777-666655554444"
TRANSCRIPT_ID = "7r4n5cr1-0000-4111-8222-333344445555"

QUEUE_NAMES = {QUEUE_ID: "Support", QUEUE_SALES_ID: "Sales"}
USER_NAMES = {AGENT_ID: {"id": AGENT_ID, "name": "Jane Smith", "username": "jane.smith@example.com"}}

# Recording starts 2026-03-24 13:30:22.000 UTC = 14:30:22 at +01:00 (Oslo is still on CET: DST starts
# 2026-03-29).
RECORDING_START = datetime(2026, 3, 24, 13, 30, 22, tzinfo=UTC)
RECORDING_START_MS = int(RECORDING_START.timestamp() * 1000)

DETAILS: dict[str, Any] = {
    "conversationId": CONVERSATION_ID,
    "conversationStart": "2026-03-24T13:29:40.120Z",
    "conversationEnd": "2026-03-24T13:36:05.480Z",
    "originatingDirection": "inbound",
    "divisionIds": ["d1v1s10n-0000-0000-0000-000000000000"],
    "participants": [
        {
            "participantId": CUSTOMER_PID,
            "participantName": "Ola Nordmann",
            "purpose": "customer",
            "sessions": [
                {
                    "sessionId": COMMUNICATION_ID,
                    "mediaType": "voice",
                    "direction": "inbound",
                    "ani": "tel:+4791234567",
                    "dnis": "tel:+4722000000",
                    "recording": True,
                    "segments": [
                        {
                            "segmentStart": "2026-03-24T13:29:40.120Z",
                            "segmentEnd": "2026-03-24T13:36:05.480Z",
                            "segmentType": "interact",
                            "disconnectType": "endpoint",
                        }
                    ],
                }
            ],
        },
        {
            "participantId": IVR_PID,
            "participantName": "Main IVR",
            "purpose": "ivr",
            "sessions": [
                {
                    "sessionId": "5e551040-aaaa-4bbb-8ccc-000000000002",
                    "mediaType": "voice",
                    "direction": "inbound",
                    "ani": "tel:+4791234567",
                    "dnis": "tel:+4722000000",
                    "flow": {
                        "flowId": FLOW_ID,
                        "flowName": "Main IVR",
                        "flowType": "INBOUNDCALL",
                        "flowVersion": "12.0",
                    },
                    "segments": [
                        {
                            "segmentStart": "2026-03-24T13:29:40.300Z",
                            "segmentEnd": "2026-03-24T13:29:58.000Z",
                            "segmentType": "ivr",
                            "disconnectType": "transfer",
                        }
                    ],
                }
            ],
        },
        {
            "participantId": ACD_PID,
            "participantName": "Support",
            "purpose": "acd",
            "sessions": [
                {
                    "sessionId": "5e551040-aaaa-4bbb-8ccc-000000000003",
                    "mediaType": "voice",
                    "direction": "inbound",
                    "segments": [
                        {
                            "segmentStart": "2026-03-24T13:29:58.000Z",
                            "segmentEnd": "2026-03-24T13:30:20.000Z",
                            "segmentType": "delay",
                            "queueId": QUEUE_ID,
                        },
                        {
                            "segmentStart": "2026-03-24T13:30:20.000Z",
                            "segmentEnd": "2026-03-24T13:30:22.000Z",
                            "segmentType": "interact",
                            "queueId": QUEUE_ID,
                            "disconnectType": "transfer",
                        },
                    ],
                }
            ],
        },
        {
            "participantId": AGENT_PID,
            "participantName": "Jane Smith",
            "purpose": "agent",
            "userId": AGENT_ID,
            "sessions": [
                {
                    "sessionId": AGENT_SESSION,
                    "mediaType": "voice",
                    "direction": "inbound",
                    "recording": True,
                    "segments": [
                        {
                            "segmentStart": "2026-03-24T13:30:20.000Z",
                            "segmentEnd": "2026-03-24T13:30:22.000Z",
                            "segmentType": "alert",
                            "queueId": QUEUE_ID,
                        },
                        {
                            "segmentStart": "2026-03-24T13:30:22.000Z",
                            "segmentEnd": "2026-03-24T13:33:00.000Z",
                            "segmentType": "interact",
                            "queueId": QUEUE_ID,
                        },
                        {
                            "segmentStart": "2026-03-24T13:33:00.000Z",
                            "segmentEnd": "2026-03-24T13:34:10.000Z",
                            "segmentType": "hold",
                            "queueId": QUEUE_ID,
                        },
                        {
                            "segmentStart": "2026-03-24T13:34:10.000Z",
                            "segmentEnd": "2026-03-24T13:36:05.000Z",
                            "segmentType": "interact",
                            "queueId": QUEUE_ID,
                            "disconnectType": "peer",
                        },
                        {
                            "segmentStart": "2026-03-24T13:36:05.000Z",
                            "segmentEnd": "2026-03-24T13:36:40.000Z",
                            "segmentType": "wrapup",
                            "queueId": QUEUE_ID,
                            "wrapUpCode": "7fb334b0-0e9e-11e4-9191-0800200c9a66",
                        },
                    ],
                }
            ],
        },
    ],
}

CONVERSATION: dict[str, Any] = {
    "id": CONVERSATION_ID,
    "startTime": "2026-03-24T13:29:40.120Z",
    "endTime": "2026-03-24T13:36:05.480Z",
    "participants": [
        {
            "id": CUSTOMER_PID,
            "name": "Ola Nordmann",
            "purpose": "customer",
            "ani": "tel:+4791234567",
            "attributes": {"CRMTicketNumber": "TKT-98765", "Language": "nb-NO"},
            "calls": [{"id": COMMUNICATION_ID, "state": "disconnected", "direction": "inbound"}],
        },
        {"id": AGENT_PID, "name": "Jane Smith", "purpose": "agent", "userId": AGENT_ID, "attributes": {}},
    ],
}

RECORDING: dict[str, Any] = {
    "id": RECORDING_ID,
    "conversationId": CONVERSATION_ID,
    "startTime": "2026-03-24T13:30:22.000Z",
    "endTime": "2026-03-24T13:36:05.000Z",
    "media": "audio",
    "mediaSubtype": "Trunk",
    "mediaSubject": "Inbound call +4791234567",
    "fileState": "AVAILABLE",
    "sessionId": COMMUNICATION_ID,
    "annotations": [
        {
            "id": "a0000000-0000-4000-8000-000000000001",
            "name": "Hold",
            "type": "Hold",
            "reason": "Hold",
            "location": 158000,
            "durationMs": 70000,
        }
    ],
    "mediaUris": {"S": {"mediaUri": "https://example.invalid/r.wav"}},
    "users": [{"id": AGENT_ID, "name": "Jane Smith", "username": "jane.smith@example.com"}],
    "recordingFileRole": "CUSTOMER_EXPERIENCE",
}

TRANSCRIPT: dict[str, Any] = {
    "organizationId": "0rg00000-0000-4000-8000-000000000000",
    "conversationId": CONVERSATION_ID,
    "communicationId": COMMUNICATION_ID,
    "transcripts": [
        {
            "transcriptId": TRANSCRIPT_ID,
            "language": "en-US",
            "startTime": RECORDING_START_MS,
            "duration": {"milliseconds": 343000},
            "phrases": [],
        }
    ],
    "participants": [],
    "startTime": RECORDING_START_MS,
    "duration": {"milliseconds": 343000},
    "mediaType": "call",
    "conversationStartTime": RECORDING_START_MS - 41880,
}

POLICY: dict[str, Any] = {
    "id": "p0l1cy00-0000-4000-8000-000000000001",
    "name": "Keep Sales 7 years",
    "enabled": True,
    "mediaPolicies": {
        "callPolicy": {
            "conditions": {"forQueues": [{"id": QUEUE_SALES_ID, "name": "Sales"}]},
            "actions": {"retainRecording": True},
        }
    },
}


def details() -> dict[str, Any]:
    return copy.deepcopy(DETAILS)


def recording() -> dict[str, Any]:
    return copy.deepcopy(RECORDING)


def conversation() -> dict[str, Any]:
    return copy.deepcopy(CONVERSATION)


def transcript() -> dict[str, Any]:
    return copy.deepcopy(TRANSCRIPT)


def profile_doc(**overrides: Any) -> dict[str, Any]:
    """A valid profile document (the keys administrators write), with overrides."""
    doc: dict[str, Any] = {
        "Name": "Support archive",
        "Queues": ["Support"],
        "DestinationRoot": "\\\\srv\\share",
        "DirectoryStructureMode": "NoSubdirectory",
        "TimeZoneOffset": "+01:00",
    }
    doc.update(overrides)
    return doc
