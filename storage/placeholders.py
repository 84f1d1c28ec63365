"""The placeholder vocabulary of file-name and path templates (the product's own names).

Each placeholder has a type (``text``, ``time`` or ``number``), a description and a fallback used when a
call has no value for it: text falls back to ``MISSING_TEXT``; a timestamp falls back to another
timestamp (ending at ``Conversation.StartTime``, which every call has). ``docs/storage.md`` lists this
table and a test keeps the two in step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

MISSING_TEXT = "unknown"
ATTRIBUTE_PREFIX = "CustomerCall.Attribute."


@dataclass(frozen=True)
class PlaceholderSpec:
    name: str
    type: str  # "text" | "time" | "number"
    description: str
    fallback: str | None = None  # for "time": the placeholder used when this one has no value


_SPECS = [
    PlaceholderSpec("Conversation.Id", "text", "conversation id (GUID)"),
    PlaceholderSpec("Conversation.StartTime", "time", "conversation start (`conversationStart`)"),
    PlaceholderSpec(
        "Conversation.EndTime", "time", "conversation end (`conversationEnd`)", "Conversation.StartTime"
    ),
    PlaceholderSpec("Agent.Name", "text", "the agent's name (user lookup, else `participantName`)"),
    PlaceholderSpec("Agent.Id", "text", "the agent's user id"),
    PlaceholderSpec("Agent.Username", "text", "the agent's username (user lookup)"),
    PlaceholderSpec(
        "Agent.ConnectTime", "time", "start of the agent's first `interact` segment", "Conversation.StartTime"
    ),
    PlaceholderSpec("Customer.Name", "text", "the customer participant's name (`participantName`)"),
    PlaceholderSpec("Customer.Id", "text", "the customer participant id"),
    PlaceholderSpec(
        "Customer.ConnectTime", "time", "start of the customer's first segment", "Conversation.StartTime"
    ),
    PlaceholderSpec("Acd.Name", "text", "the queue's name (queue lookup)"),
    PlaceholderSpec(
        "Acd.Id", "text", "the queue id (`queueId` of the agent's or the ACD participant's segments)"
    ),
    PlaceholderSpec(
        "Acd.ConnectTime", "time", "start of the ACD participant's first segment", "Conversation.StartTime"
    ),
    PlaceholderSpec("Ivr.Name", "text", "the IVR flow's name (`flow.flowName` or flow lookup)"),
    PlaceholderSpec("Ivr.Id", "text", "the IVR flow id (`flow.flowId`)"),
    PlaceholderSpec(
        "Ivr.ConnectTime", "time", "start of the IVR participant's first segment", "Conversation.StartTime"
    ),
    PlaceholderSpec(
        "CustomerCall.Direction", "text", "`inbound` or `outbound` (the customer session's direction)"
    ),
    PlaceholderSpec(
        "CustomerCall.Other.Name",
        "text",
        "the customer's number (the other party of the customer call): ANI for inbound, DNIS for outbound, "
        "without `tel:`/`sip:`",
    ),
    PlaceholderSpec("Recording.Id", "text", "recording id"),
    PlaceholderSpec("Recording.StartTime", "time", "recording start (`startTime`)", "Conversation.StartTime"),
    PlaceholderSpec("Recording.EndTime", "time", "recording end (`endTime`)", "Conversation.EndTime"),
    PlaceholderSpec("Recording.MediaSubtype", "text", "`Trunk`, `Station`, `Consult`, ..."),
    PlaceholderSpec("Recording.MediaSubject", "text", "the recording's `mediaSubject`"),
    PlaceholderSpec("Recording.User.Name", "text", "name of the recording's first user"),
    PlaceholderSpec("Recording.User.Username", "text", "username of the recording's first user"),
    PlaceholderSpec("Transcript.Id", "text", "the STA transcript id (`transcripts[0].transcriptId`)"),
    PlaceholderSpec(
        "Transcript.StartTime", "time", "transcript start (`startTime`, epoch ms)", "Recording.StartTime"
    ),
    PlaceholderSpec("Transcript.CommunicationId", "text", "the communication the transcript belongs to"),
    PlaceholderSpec(
        "FileExtension", "text", "extension of the output file without the dot (`wav`, `srt`, ...)"
    ),
    PlaceholderSpec("FormatName", "text", "the output format's name (`WAV`, `MP3`, `SRT`, ...)"),
    PlaceholderSpec("Profile.Name", "text", "the export profile's name"),
    PlaceholderSpec("MachineName", "text", "this computer's host name"),
    PlaceholderSpec("Now", "time", "the current date and time (once per file)"),
    PlaceholderSpec("NewGuid", "text", "a new random GUID (once per file)"),
    PlaceholderSpec("RandomNumber", "number", "a random number 0..999999 (once per file)"),
    PlaceholderSpec(
        "SequenceNumber", "number", "the profile's next sequence number, persisted across restarts"
    ),
]

PLACEHOLDERS: dict[str, PlaceholderSpec] = {spec.name: spec for spec in _SPECS}


def placeholder_type(name: str) -> str | None:
    """The type of a known placeholder (``CustomerCall.Attribute.<Key>`` is text); None if unknown."""
    spec = PLACEHOLDERS.get(name)
    if spec is not None:
        return spec.type
    if name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
        return "text"
    return None
