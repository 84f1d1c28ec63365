"""Arrange Genesys' own published sample documents as capture directories (run once; tests check it).

    python tests/captures/build_fixtures.py

Each fixture keeps the published document verbatim under ``source/`` and writes the capture files
around it. Everything that is not published is *arranged* here, minimal and consistent with the
published document, and says so in the manifest (``origin`` of every file, ``source`` section):

* ``devtools-voice-2016``: the voice conversation of the example result that Genesys' Developer
  Tools "Analytics Query Builder" shipped (MyPureCloud/developer-tools, 2016): an internal user
  calls a DID, IVR, queue "JATest Queue", a first agent alert that fails (errorCode), the same agent
  answers on a second participant, wrap-up code by id. The 2016 document predates
  ``conversationEnd``; ``details.json`` adds it (the last segment end, after-call work included,
  as analytics reports it today) and is otherwise the published text's values unchanged.
* ``tutorial-voice-transcript``: the STA transcript of Genesys' Developer Center voice-transcript
  tutorial (MyPureCloud/developercenter-tutorials), byte for byte, trailing comma included. The
  analytics details, conversation and recording are arranged from the transcript's own
  ``participants`` (purposes, queue, user, ani/dnis, start and end times) and ``startTime``.

The re-run is deterministic (`test_capture_fixtures.py` checks the committed files match it).
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from capture import layout  # noqa: E402

NAMESPACE = uuid.UUID("3f6c2f1e-7a55-4a0e-9d7f-0c1e6b2f4a11")
ARRANGED_AT = "2026-12-05T00:00:00.000Z"
SAMPLE_RATE = 8000
TOOL = {"name": "callexport", "version": "0.1.0", "command": "tests/captures/build_fixtures.py"}


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def arranged_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


# -- documents arranged around a published one ------------------------------------------------------
def rest_conversation(details: dict[str, Any], wrapup_names: dict[str, str]) -> dict[str, Any]:
    """A REST `Conversation` consistent with analytics details (ids, purposes, times, queues)."""
    cid = details["conversationId"]
    participants = []
    for p in details["participants"]:
        sessions = [s for s in p.get("sessions") or [] if s.get("mediaType") == "voice"]
        segments = [seg for s in sessions for seg in s.get("segments") or []]
        if not sessions or not segments:
            continue
        session = sessions[0]
        media = [seg for seg in segments if seg.get("segmentType") != "wrapup"] or segments
        start, end = min(ms(s["segmentStart"]) for s in media), max(ms(s["segmentEnd"]) for s in media)
        interact = [seg for seg in media if seg.get("segmentType") == "interact"]
        disconnect = media[-1].get("disconnectType") or "client"
        call: dict[str, Any] = {
            "state": "disconnected",
            "id": session["sessionId"],
            "direction": session.get("direction") or "inbound",
            "recording": bool(session.get("recording", True)),
            "recordingState": "none",
            "muted": False,
            "confined": False,
            "held": False,
            "securePause": False,
            "disconnectType": disconnect,
            "disconnectedTime": iso(end),
            "provider": "Edge",
        }
        if interact:
            call["connectedTime"] = interact[0]["segmentStart"]
        part: dict[str, Any] = {
            "id": p["participantId"],
            "startTime": iso(start),
            "endTime": iso(end),
            "purpose": p["purpose"],
            "participantType": "External" if p["purpose"] in ("customer", "external") else "Internal",
            "attributes": {},
            "calls": [call],
        }
        if p.get("participantName"):
            part["name"] = p["participantName"]
        for key in ("ani", "dnis"):
            if session.get(key):
                part[key] = session[key]
        if p.get("userId"):
            part["userId"] = p["userId"]
        queue = next((seg["queueId"] for seg in segments if seg.get("queueId")), None)
        if queue:
            part["queueId"] = queue
        code = next((seg["wrapUpCode"] for seg in segments if seg.get("wrapUpCode")), None)
        if code:
            part["wrapupRequired"] = True
            part["wrapup"] = {"code": code, "name": wrapup_names.get(code, code)}
        participants.append(part)
    return {
        "id": cid,
        "startTime": details["conversationStart"],
        "endTime": details["conversationEnd"],
        "participants": participants,
        "recordingState": "NONE",
        "state": "disconnected",
        "securePause": False,
        "selfUri": f"/api/v2/conversations/{cid}",
    }


def recording_documents(
    cid: str, recording_id: str, session_id: str, start_ms: int, end_ms: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(RecordingMetadata, Recording) of one stereo call recording."""
    common = {
        "id": recording_id,
        "conversationId": cid,
        "startTime": iso(start_ms),
        "endTime": iso(end_ms),
        "media": "audio",
        "mediaSubtype": "Trunk",
        "annotations": [],
        "fileState": "AVAILABLE",
        "sessionId": session_id,
        "selfUri": f"/api/v2/conversations/{cid}/recordings/{recording_id}",
    }
    metadata = dict(common)
    recording = dict(common)
    recording["outputDurationMs"] = end_ms - start_ms
    return metadata, recording


def queue_doc(queue_id: str, name: str, transcription: bool) -> dict[str, Any]:
    return {
        "id": queue_id,
        "name": name,
        "enableTranscription": transcription,
        "selfUri": f"/api/v2/routing/queues/{queue_id}",
    }


def user_doc(user_id: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "name": name,
        "state": "active",
        "version": 1,
        "selfUri": f"/api/v2/users/{user_id}",
    }


def profile_text(queue: str, transcripts: bool) -> str:
    document = {
        "ConfigReloadIntervalSeconds": 300,
        "Profiles": [
            {
                "Name": "Fixture",
                "Active": True,
                "Queues": [queue],
                "DestinationRoot": "exports",
                "DirectoryStructureMode": "NoSubdirectory",
                "ProcessingDelaySeconds": 0,
                "AudioFormat": "WAV",
                "TranscriptExportEnabled": transcripts,
                "TranscriptFormat": "SRT",
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


# -- writing ----------------------------------------------------------------------------------------
class Fixture:
    def __init__(self, name: str, conversation_id: str, base: Path) -> None:
        self.source = HERE / name / "source"  # the published documents, committed verbatim
        self.root = base / name
        self.conversation_id = conversation_id
        self.files: list[dict[str, Any]] = []
        self.root.mkdir(parents=True, exist_ok=True)
        for child in self.root.iterdir():
            if child.name != "source":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        if self.root != HERE / name:
            shutil.copytree(self.source, self.root / "source", dirs_exist_ok=True)

    def add(self, kind: str, data: bytes | Any, origin: str, ident: str | None = None) -> None:
        raw = data if isinstance(data, bytes) else layout.json_bytes(data)
        rel = layout.file_name(kind, ident)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        entry: dict[str, Any] = {"file": rel, "kind": kind}
        if ident:
            entry["id"] = ident
        entry.update(origin=origin, bytes=len(raw), sha256=layout.sha256(raw))
        self.files.append(entry)

    def finish(self, source: dict[str, Any], media: list[dict[str, Any]], notes: list[str]) -> None:
        manifest = {
            "format": layout.FORMAT,
            "version": layout.VERSION,
            "conversationId": self.conversation_id,
            "capturedAt": ARRANGED_AT,
            "tool": TOOL,
            "redacted": False,
            "withMedia": False,
            "source": source,
            "notes": notes,
            "files": self.files,
            "media": media,
            "reads": [],
        }
        (self.root / layout.MANIFEST).write_bytes(layout.json_bytes(manifest))


def media_fact(recording_id: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    frames = (end_ms - start_ms) * SAMPLE_RATE // 1000
    return {
        "recordingId": recording_id,
        "formatId": "WAV",
        "channels": 2,
        "frames": frames,
        "sampleRate": SAMPLE_RATE,
        "durationMs": end_ms - start_ms,
        "origin": "arranged: the recording's span, 2 channels, 8 kHz (replay synthesises the audio)",
    }


def build_devtools_voice_2016(base: Path = HERE) -> Path:
    fixture = Fixture("devtools-voice-2016", "585f63eb-e0be-47b6-a1d0-c65ba586bef2", base)
    published_text = (fixture.source / "analytics-query-builder-conversation.json").read_text()
    details = json.loads(published_text)
    last = max(
        ms(seg["segmentEnd"]) for p in details["participants"] for s in p["sessions"] for seg in s["segments"]
    )
    arranged = {
        "conversationId": details["conversationId"],
        "conversationStart": details["conversationStart"],
    }
    arranged["conversationEnd"] = iso(last)
    arranged.update({k: v for k, v in details.items() if k not in arranged})
    cid = fixture.conversation_id
    fixture.add(
        "details",
        arranged,
        "published (conversationEnd added: the 2016 document predates the field; value = the last "
        "segmentEnd, after-call work included)",
    )
    code = "1ccb1c09-9495-4034-b377-b809f58d17da"
    code_name = "Published example wrap-up"
    fixture.add("conversation", rest_conversation(arranged, {code: code_name}), "arranged from details.json")
    user_session = details["participants"][0]["sessions"][0]
    recording_id = arranged_id(cid, "recording")
    start = ms(user_session["segments"][0]["segmentStart"])
    end = ms(user_session["segments"][-1]["segmentEnd"])
    metadata, recording = recording_documents(cid, recording_id, user_session["sessionId"], start, end)
    fixture.add("recording-metadata", [metadata], "arranged: one stereo recording of the caller's session")
    fixture.add("recordings", [recording], "arranged: the same recording (media URLs are never captured)")
    queue_id = "95c9d5f7-ad80-4572-857a-64d241cf4851"
    fixture.add(
        "queue",
        queue_doc(queue_id, "JATest Queue", transcription=False),
        "arranged: id from the details, name from the acd participant's participantName; speech "
        "analytics did not exist in 2016, so transcription is off",
        queue_id,
    )
    for user_id, name in (
        ("8c88c7f8-b6ba-4761-b2e5-4ae4425a3991", "Published Example Agent"),
        ("d787f85c-f472-4421-a108-89053a15704f", "Published Example Caller"),
    ):
        fixture.add("user", user_doc(user_id, name), "arranged: id from the details, invented name", user_id)
    fixture.add(
        "wrapup-code",
        {"id": code, "name": code_name, "selfUri": f"/api/v2/routing/wrapupcodes/{code}"},
        "arranged: id from the details, invented name",
        code,
    )
    fixture.add("profile", profile_text("JATest Queue", transcripts=True).encode(), "arranged")
    source = {
        "summary": "Genesys' published analytics-details example (voice), arranged as a capture",
        "published": [
            {
                "file": "source/analytics-query-builder-conversation.json",
                "repository": "MyPureCloud/developer-tools",
                "path": "app/controllers/analytics-query-builder.js",
                "commit": "fc85c40cfd3c8bac0b11f95aaa0b7d5f09408a02",
                "url": "https://github.com/MyPureCloud/developer-tools/blob/"
                "fc85c40cfd3c8bac0b11f95aaa0b7d5f09408a02/app/controllers/analytics-query-builder.js",
                "extract": "the example queryResult's conversations[6] (the first voice conversation), "
                "its text exactly as published",
                "license": "MIT (Genesys Cloud Services, Inc.)",
            }
        ],
    }
    notes = [
        "the caller is an internal user (purpose 'user'): there is no customer participant",
        "the first agent participant's alert failed (errorCode); the same agent answered as a second participant",
    ]
    fixture.finish(source, [media_fact(recording_id, start, end)], notes)
    return fixture.root


def build_tutorial_voice_transcript(base: Path = HERE) -> Path:
    fixture = Fixture("tutorial-voice-transcript", "12345abc-1234-123a-5678-abc123xyz", base)
    raw = (fixture.source / "transcript.json").read_bytes()
    # the published text is not strict JSON (trailing comma): read it the way the service does
    from transcripts.parse import decode_json

    transcript, _warnings = decode_json(raw)
    cid = transcript["conversationId"]
    comm = transcript["communicationId"]
    by_purpose = {p["participantPurpose"]: p for p in transcript["participants"]}
    customer = by_purpose["customer"]
    participants = []
    for purpose in ("customer", "ivr", "acd", "agent"):
        p = by_purpose[purpose]
        session_id = comm if purpose == "customer" else arranged_id(cid, purpose, "session")
        segment_type = {"ivr": "ivr"}.get(purpose, "interact")
        segment: dict[str, Any] = {
            "segmentStart": iso(p["startTimeMs"]),
            "segmentEnd": iso(p["endTimeMs"]),
            "segmentType": segment_type,
            "disconnectType": {"customer": "peer", "ivr": "transfer", "acd": "transfer"}.get(
                purpose, "client"
            ),
            "conference": False,
        }
        if p.get("queueId"):
            segment["queueId"] = p["queueId"]
        session: dict[str, Any] = {
            "mediaType": "voice",
            "sessionId": session_id,
            "direction": p["initialDirection"],
            "ani": p["ani"],
            "dnis": p["dnis"],
            "recording": purpose in ("customer", "agent"),
            "segments": [segment],
        }
        if p.get("flowId"):
            session["flow"] = {"flowId": p["flowId"]}
        part: dict[str, Any] = {
            "participantId": arranged_id(cid, purpose),
            "purpose": purpose,
            "sessions": [session],
        }
        if p.get("userId"):
            part["userId"] = p["userId"]
        participants.append(part)
    end = max(p["endTimeMs"] for p in transcript["participants"])
    details = {
        "conversationId": cid,
        "conversationStart": iso(transcript["conversationStartTime"]),
        "conversationEnd": iso(end),
        "originatingDirection": customer["initialDirection"],
        "divisionIds": [customer["divisionId"]],
        "participants": participants,
    }
    fixture.add("details", details, "arranged from the transcript's participants and times")
    fixture.add("conversation", rest_conversation(details, {}), "arranged from details.json")
    recording_id = arranged_id(cid, "recording")
    start = transcript["startTime"]
    metadata, recording = recording_documents(cid, recording_id, comm, start, customer["endTimeMs"])
    fixture.add(
        "recording-metadata", [metadata], "arranged: the recording the transcript follows (its startTime)"
    )
    fixture.add("recordings", [recording], "arranged: the same recording (media URLs are never captured)")
    fixture.add("transcript", raw, "published, byte for byte (not strict JSON: trailing comma)", comm)
    queue_id = customer["queueId"]
    fixture.add(
        "queue",
        queue_doc(queue_id, "Tutorial Queue", transcription=True),
        "arranged: invented name",
        queue_id,
    )
    agent_id = by_purpose["agent"]["userId"]
    fixture.add("user", user_doc(agent_id, "Tutorial Agent"), "arranged: invented name", agent_id)
    fixture.add("profile", profile_text("Tutorial Queue", transcripts=True).encode(), "arranged")
    source = {
        "summary": "Genesys' published STA transcript (voice-transcript tutorial), arranged as a capture",
        "published": [
            {
                "file": "source/transcript.json",
                "repository": "MyPureCloud/developercenter-tutorials",
                "path": "voice-transcript/nodejs/transcript.json",
                "commit": "60bbb754e4c79109604fe35a44e8a2d75b583258",
                "url": "https://github.com/MyPureCloud/developercenter-tutorials/blob/"
                "60bbb754e4c79109604fe35a44e8a2d75b583258/voice-transcript/nodejs/transcript.json",
                "extract": "the whole file, byte for byte (unchanged since commit 79a3d748, 2021-01-15)",
                "license": "MIT (Genesys Cloud Services, Inc.)",
            }
        ],
    }
    notes = [
        "the ids are the tutorial's placeholders (conversationId = communicationId = '12345abc-1234-123a-5678-abc123xyz')",
        "phrases run past the transcript's duration (42 s); the recording spans the customer's whole call",
    ]
    fixture.finish(source, [media_fact(recording_id, start, customer["endTimeMs"])], notes)
    return fixture.root


FIXTURES = {
    "devtools-voice-2016": build_devtools_voice_2016,
    "tutorial-voice-transcript": build_tutorial_voice_transcript,
}


if __name__ == "__main__":
    for build in FIXTURES.values():
        print(build())
