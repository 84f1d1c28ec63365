"""Which channel of a dual-channel Genesys Cloud recording holds which side of the call.

Genesys Cloud records trunk-side calls in two channels, one per party, but no public source says
which party is left and which is right (docs/genesys.md, Recordings). This module is
the single place where that mapping is decided; every other module asks it.

Decision: the external party (customer) is channel 0 (left) and the internal party (agent, IVR,
queue audio) is channel 1 (right). The transcript's `participantPurpose` uses the same two words
(`external`/`internal`), so a deployment that finds the opposite on its first real file flips
`EXTERNAL_CHANNEL` here, and audio and transcripts follow together.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

EXTERNAL_CHANNEL = 0
"""Channel index of the customer (external) side."""

INTERNAL_CHANNEL = 1 - EXTERNAL_CHANNEL
"""Channel index of the agent (internal) side: agents, IVR prompts, hold music."""

_SIDE_OF_PURPOSE = {
    "customer": "external",
    "external": "external",
    "agent": "internal",
    "user": "internal",
    "ivr": "internal",
    "acd": "internal",
    "workflow": "internal",
    "botflow": "internal",
    "voicemail": "internal",
}


def side_of_purpose(purpose: str) -> str:
    """'external' or 'internal' for a participant purpose (analytics or transcript vocabulary)."""
    return _SIDE_OF_PURPOSE.get(purpose.lower(), "internal")


def channel_of_side(side: str) -> int:
    """Channel index for 'external' or 'internal'."""
    if side == "external":
        return EXTERNAL_CHANNEL
    if side == "internal":
        return INTERNAL_CHANNEL
    raise ValueError(f"unknown call side {side!r}: expected 'external' or 'internal'")


def channel_of_purpose(purpose: str) -> int:
    return channel_of_side(side_of_purpose(purpose))
