"""Per-call variations of the real platform that the call truth (`simulator.model.Call`) does not
carry: what analytics says about recording, how legs end, screen recordings, dialer and callback
session fields, recording file states. Decided once per call when it is scheduled, from a generator
derived from the conversation id (so the seeded call sequence itself is unchanged), and applied to
the rendered documents by `simulator.views` and the recording routes.

* ``sessions[].recording``: Genesys' published analytics samples carry no ``recording`` flag at all.
  With ``recording_flag="mixed"`` (default) half of the recorded calls omit it and the other half say
  ``true``; calls without a recording say ``false`` (the only positive "not recorded" evidence).
  ``"absent"`` omits it everywhere, ``"present"`` always writes it.
* ACD and IVR legs end in the ``terminated`` call state in some calls (SDK call state enum), the
  talking parties in ``disconnected``.
* Screen recordings (``media: "screen"``, ``mediaSubtype: "Screen"``) exist in some agent calls; they
  answer 202 to audio format requests for ``screen_transcode_s``.
* Outbound calls are sometimes dialer (campaign) calls: the customer session carries
  ``outboundCampaignId``/``outboundContactId``/``outboundContactListId`` and the dialer's
  ``dispositionAnalyzer``/``dispositionName``, the agent session a ``scriptId``.
* Recording file states: DELETED, ERROR, RESTORING (then RESTORED) by configured fractions.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.model import Call

if TYPE_CHECKING:
    from simulator.state import LiveCall, SimConfig

logger = logging.getLogger(__name__)

API = "/api/v2"
RECORDED_PURPOSES = ("customer", "external", "agent")
TERMINATED_PURPOSES = ("acd", "ivr")


@dataclass(frozen=True)
class ScreenRecording:
    """An agent's screen recording of the call (not audio)."""

    recording_id: str
    user_id: str
    session_id: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Variations:
    fate: str  # AVAILABLE / ARCHIVED / DELETED / ERROR / RESTORING
    recording_flag: str  # present / absent
    terminated_legs: bool
    screen_recordings: tuple[ScreenRecording, ...]
    campaign: bool


def _rng(call: Call, what: str) -> random.Random:
    return random.Random(f"variation-{what}-{call.conversation_id}")


def decide(call: Call, cfg: SimConfig) -> Variations:
    """The variations of one call under the simulator's configuration (`SimConfig`)."""
    fate = "AVAILABLE"
    draw = _rng(call, "fate").random()
    for state, fraction in (
        ("DELETED", cfg.deleted_fraction),
        ("ERROR", cfg.error_fraction),
        ("RESTORING", cfg.restoring_fraction),
    ):
        if draw < fraction:
            fate = state
            break
        draw -= fraction
    mode = cfg.recording_flag
    if mode not in ("mixed", "absent", "present"):
        raise ValueError(f"recording_flag must be 'mixed', 'absent' or 'present', got {mode!r}")
    if mode == "mixed":
        flag = "absent" if call.recordings and _rng(call, "flag").random() < 0.5 else "present"
    else:
        flag = mode
    screens: list[ScreenRecording] = []
    rng = _rng(call, "screen")
    for agent in call.agents():
        if agent.user_id and rng.random() < cfg.screen_recording_fraction:
            start = agent.connected_ms or agent.start_ms
            screens.append(
                ScreenRecording(
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    agent.user_id,
                    agent.communication_id,
                    start,
                    agent.end_ms,
                )
            )
    return Variations(
        fate=fate,
        recording_flag=flag,
        terminated_legs=_rng(call, "terminated").random() < cfg.terminated_fraction,
        screen_recordings=tuple(screens),
        campaign=call.direction == "outbound" and _rng(call, "campaign").random() < 0.5,
    )


# -- analytics details ----------------------------------------------------------------------------
def apply_to_details(details: dict[str, Any], call: Call, live: LiveCall) -> dict[str, Any]:
    """The recording flag and dialer fields of this call, applied to its analytics details."""
    purposes = {p.participant_id: p.purpose for p in call.participants}
    campaign = getattr(live, "campaign", False)
    ids = _rng(call, "campaign-ids")
    campaign_ids = {
        "outboundCampaignId": str(uuid.UUID(int=ids.getrandbits(128), version=4)),
        "outboundContactListId": str(uuid.UUID(int=ids.getrandbits(128), version=4)),
        "outboundContactId": str(uuid.UUID(int=ids.getrandbits(128), version=4)),
    }
    for participant in details.get("participants") or []:
        purpose = purposes.get(participant.get("participantId"), participant.get("purpose"))
        for session in participant.get("sessions") or []:
            session.pop("recording", None)
            if live.recording_flag == "present" and purpose in RECORDED_PURPOSES:
                session["recording"] = bool(call.recordings)
            if campaign and purpose in ("customer", "external"):
                session.update(campaign_ids)
                session["dispositionAnalyzer"] = "speech.person"
                session["dispositionName"] = "disposition.classification.callable.person"
            elif campaign and purpose == "agent":
                session.update(campaign_ids)
                session["scriptId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"script-{call.conversation_id}"))
                session["skipEnabled"] = True
                session["timeoutSeconds"] = 30
    return details


# -- screen recording state on the conversation ------------------------------------------------------
def apply_screen_state(doc: dict[str, Any], call: Call, live: LiveCall, at_ms: int) -> dict[str, Any]:
    """An agent whose screen is recorded carries `screenRecordingState` (SDK `Participant` and
    `QueueConversationEventTopicParticipant`: requested/active/paused/stopped/error/timeout):
    "active" while the screen recording runs, "stopped" after it."""
    screens = {sr.user_id: sr for sr in getattr(live, "screen_recordings", ()) or ()}
    if not screens:
        return doc
    users = {p.participant_id: p.user_id for p in call.participants}
    for participant in doc.get("participants") or []:
        sr = screens.get(users.get(participant.get("id")) or "")
        if sr is not None and at_ms >= sr.start_ms:
            participant["screenRecordingState"] = "active" if at_ms < sr.end_ms else "stopped"
    return doc


# -- terminated legs -------------------------------------------------------------------------------
def apply_terminated(doc: dict[str, Any], call: Call, live: Any) -> dict[str, Any]:
    """ACD/IVR legs that ended show the ``terminated`` call state (REST and both event shapes)."""
    if not live.terminated_legs:
        return doc
    purposes = {p.participant_id: p.purpose for p in call.participants}
    for participant in doc.get("participants") or []:
        if purposes.get(participant.get("id")) not in TERMINATED_PURPOSES:
            continue
        if participant.get("state") == "disconnected":  # the flat .calls shape
            participant["state"] = "terminated"
        for media in participant.get("calls") or []:
            if isinstance(media, dict) and media.get("state") == "disconnected":
                media["state"] = "terminated"
    return doc


# -- screen recordings ------------------------------------------------------------------------------
def _screen_common(call: Call, sr: ScreenRecording, file_state: str) -> dict[str, Any]:
    return {
        "id": sr.recording_id,
        "name": f"{call.conversation_id}_screen_{sr.recording_id[:8]}",
        "conversationId": call.conversation_id,
        "startTime": _iso(sr.start_ms),
        "endTime": _iso(sr.end_ms),
        "media": "screen",
        "mediaSubtype": "Screen",
        "fileState": file_state,
        "maxAllowedRestorationsForOrg": 10000,
        "remainingRestorationsAllowedForOrg": 10000,
        "sessionId": sr.session_id,
    }


def screen_metadata(call: Call, sr: ScreenRecording, file_state: str) -> dict[str, Any]:
    """`RecordingMetadata` of a screen recording (``startTime`` only screen recordings carry)."""
    doc = _screen_common(call, sr, file_state)
    doc["region"] = "eu-west-1"
    doc["selfUri"] = f"{API}/conversations/{call.conversation_id}/recordingmetadata/{sr.recording_id}"
    return doc


def screen_recording(
    call: Call, sr: ScreenRecording, user: dict[str, Any], file_state: str, media_uri: str | None
) -> dict[str, Any]:
    """`Recording` of a screen recording; ``mediaUris`` keyed per screen (``"0"``) once ready."""
    doc = _screen_common(call, sr, file_state)
    doc["users"] = [user]
    doc["recordingFileRole"] = "CUSTOMER_EXPERIENCE"
    doc["estimatedTranscodeTimeMs"] = max(1000, (sr.end_ms - sr.start_ms) // 4)
    doc["selfUri"] = f"{API}/conversations/{call.conversation_id}/recordings/{sr.recording_id}"
    if media_uri:
        doc["mediaUris"] = {"0": {"mediaUri": media_uri}}
    return doc


def _iso(ms: int) -> str:
    from simulator.documents import iso

    return iso(ms)


def apply_to_live(live: LiveCall, cfg: SimConfig, *, history: bool) -> None:
    """Decide the variations of a newly scheduled call and record them on its `LiveCall`."""
    chosen = decide(live.call, cfg)
    live.fate = chosen.fate
    live.recording_flag = chosen.recording_flag
    live.terminated_legs = chosen.terminated_legs
    live.screen_recordings = chosen.screen_recordings
    live.campaign = chosen.campaign
    live.metadata_s = live.disconnect_s + (0.0 if history else cfg.metadata_delay_s)
    live.recordings_s = max(live.recordings_s, live.metadata_s)
    live.restored_s = live.recordings_s + cfg.restore_s
    live.transcript_s = max(live.transcript_s, live.recordings_s)
