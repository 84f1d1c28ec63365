"""Which tracks (channels) of a recording an export keeps: participant-track selection.

A profile's ParticipantPurposesToExport selects participants; their audio is on one side of the call
(`audio.channels.side_of_purpose`: the customer on the external side, agents, IVR, queue and the like
on the internal side) and each side on its own channel (`audio.channels.channel_of_side`). An export
keeps only the channels of the sides it selects:

* one file per participant segment: the channel of that participant's side (a mono file);
* a concatenated file with a purpose filter: the channels of the selected
  purposes' sides; mono when they are all on one side, stereo (as recorded) when they cover both;
* no purpose filter (and chapter export, which profiles never filter): every channel.

A mono recording carries one side only. Which one is read from its `mediaSubtype`, the convention the
service already uses to pair mono recordings (`export.output_plan.recording_groups`): `Trunk` is the
customer's line (external), `Station` the agent's phone (internal). A mono recording of another or
no subtype has an unknown side and is always kept whole: dropping audio on a guess would lose it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from audio.channels import EXTERNAL_CHANNEL, INTERNAL_CHANNEL, side_of_purpose

logger = logging.getLogger(__name__)

SIDES: tuple[str, ...] = ("external", "internal")
"""The two sides of a call, in the vocabulary of `audio.channels`."""

MONO_SIDE_OF_SUBTYPE: dict[str, str] = {"trunk": "external", "station": "internal"}
"""Side carried by a mono recording, by its `mediaSubtype` (lower case)."""


def source_sides(channels: int, recording: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The side each channel of a source carries, in channel order; "" where it is not known.

    Two or more channels follow `audio.channels` (channels beyond the two sides are ""); one channel is
    the side its recording's `mediaSubtype` says, or "" when that does not say.
    """
    if channels >= 2:
        sides = [""] * channels
        sides[EXTERNAL_CHANNEL] = "external"
        sides[INTERNAL_CHANNEL] = "internal"
        return tuple(sides)
    if channels == 1:
        subtype = str((recording or {}).get("mediaSubtype") or "").lower()
        return (MONO_SIDE_OF_SUBTYPE.get(subtype, ""),)
    return ()


def sides_of_purposes(purposes: Iterable[str]) -> frozenset[str]:
    """The call sides a set of participant purposes speaks on; empty purposes means both sides."""
    sides = frozenset(side_of_purpose(p) for p in purposes)
    return sides or frozenset(SIDES)


def select_tracks(sides: tuple[str, ...], wanted: Iterable[str]) -> tuple[int, ...]:
    """Channels (indices into `sides`) that carry one of the `wanted` sides, in channel order.

    A channel of unknown side ("") is kept whatever is wanted (a mono recording of unknown side is
    exported whole). An empty result means the source holds none of the wanted audio.
    """
    want = set(wanted)
    if sides and all(s == "" for s in sides):
        return tuple(range(len(sides)))
    return tuple(i for i, s in enumerate(sides) if s in want)
