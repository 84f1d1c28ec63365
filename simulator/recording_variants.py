"""Org-level recording settings that change a call's recordings, applied to a generated `Call`.

Two settings of a real org that the client must cope with, each a knob of the simulator (a fraction of
generated calls, or forced per injected call):

* **Hold recording** (trunk setting "Holds" under Optional Recording; Genesys Cloud help, "Call
  recording in Genesys Cloud overview"): `recorded` (the default here) keeps the hold in the media (hold
  music) and marks it with a hold annotation whose `absoluteDurationMs` equals its `durationMs`;
  `suppressed` cuts the hold from the trunk-side recording's media and marks it with a *pause*
  annotation of reason `Hold` (the SDK's `Annotation.reason`: "Reason for a pause annotation. Valid
  values: Hold, SecurePause, FlowOrQueue, Pause") whose `absoluteDurationMs` is 0. Station-side
  recordings do not support hold suppression (same article), so only `Trunk` recordings change.
* **IVR and queue recording** (Architect "Suppress recording for the entire flow", queue "Continue
  Voice Recording during Queue Wait"; same article): generated calls suppress them now and then (a
  `FlowOrQueue` pause); `recorded` keeps them in the media, `suppressed` cuts them from the trunk
  recording's start of the IVR to the agent's answer.
* **Channel layout** (which channel of a dual-channel recording carries whom; no public source says):
  `standard` (the customer on `audio.channels.EXTERNAL_CHANNEL`), `swapped` (the other way round), or
  `mixed` (each channel carries the whole call from its own perspective, as a recording that is not
  dual-channel does; see seed 003: "each recording holds the whole call from one side's perspective").
"""

from __future__ import annotations

import dataclasses
import logging
import random

from simulator.model import Call, Recording, RecordingGap

logger = logging.getLogger(__name__)

HOLD_RECORDING: tuple[str, ...] = ("recorded", "suppressed")
FLOW_QUEUE_RECORDING: tuple[str, ...] = ("recorded", "suppressed")
CHANNEL_LAYOUTS: tuple[str, ...] = ("standard", "swapped", "mixed")


def with_suppressed_holds(call: Call) -> Call:
    """The call as an org with hold recording turned off records it: holds cut from trunk recordings."""
    recordings = []
    for rec in call.recordings:
        if rec.subtype != "Trunk" or not rec.holds:
            recordings.append(rec)
            continue
        gaps = sorted(
            [*rec.gaps, *(RecordingGap(a, b - a, "Hold") for a, b in rec.holds)],
            key=lambda g: g.wall_start_ms,
        )
        for before, after in zip(gaps, gaps[1:], strict=False):
            if after.wall_start_ms < before.wall_end_ms:
                raise ValueError(
                    f"call {call.conversation_id} recording {rec.recording_id}: a hold overlaps a {before.reason} pause"
                )
        recordings.append(dataclasses.replace(rec, gaps=tuple(gaps), holds=()))
    return dataclasses.replace(call, recordings=tuple(recordings))


def with_flow_and_queue(call: Call, recording: str) -> Call:
    """The call with IVR and queue audio `recorded` in (or `suppressed` from) its trunk recordings."""
    if recording not in FLOW_QUEUE_RECORDING:
        raise ValueError(
            f"unknown IVR/queue recording {recording!r}: expected one of {', '.join(FLOW_QUEUE_RECORDING)}"
        )
    span = _flow_and_queue_span(call)
    recordings = []
    for rec in call.recordings:
        if rec.subtype != "Trunk" or rec.scope != "main":
            recordings.append(rec)
            continue
        gaps = [g for g in rec.gaps if g.reason != "FlowOrQueue"]
        if recording == "suppressed" and span is not None:
            a, b = max(span[0], rec.start_ms), min(span[1], rec.end_ms)
            if b > a:
                gaps.append(RecordingGap(a, b - a, "FlowOrQueue"))
        recordings.append(dataclasses.replace(rec, gaps=tuple(sorted(gaps, key=lambda g: g.wall_start_ms))))
    return dataclasses.replace(call, recordings=tuple(recordings))


def _flow_and_queue_span(call: Call) -> tuple[int, int] | None:
    """From the start of the IVR to the first agent's answer (what a FlowOrQueue pause covers)."""
    ivr = [
        s.start_ms
        for p in call.participants
        if p.purpose == "ivr"
        for s in p.segments
        if s.segment_type == "ivr"
    ]
    answer = [s.start_ms for p in call.agents() for s in p.segments if s.segment_type == "interact"]
    if not ivr or not answer or min(answer) <= min(ivr):
        return None
    return min(ivr), min(answer)


def with_channel_layout(call: Call, layout: str) -> Call:
    """The call with every recording laid out as `layout` (`standard`, `swapped`, `mixed`)."""
    if layout not in CHANNEL_LAYOUTS:
        raise ValueError(f"unknown channel layout {layout!r}: expected one of {', '.join(CHANNEL_LAYOUTS)}")
    recordings = tuple(_laid_out(rec, layout) for rec in call.recordings)
    return dataclasses.replace(call, recordings=recordings)


def _laid_out(rec: Recording, layout: str) -> Recording:
    if layout == "swapped" and rec.layout != "dual":
        return rec  # one channel: nothing to swap
    return dataclasses.replace(rec, channel_layout=layout)


def apply_variants(
    call: Call,
    rng: random.Random,
    *,
    hold_recording: str | None = None,
    channel_layout: str | None = None,
    flow_queue_recording: str | None = None,
    suppressed_hold_fraction: float = 0.0,
    swapped_channel_fraction: float = 0.0,
) -> Call:
    """`call` with the org settings applied: forced when given, else drawn with the fractions (IVR and
    queue recording: as generated)."""
    if hold_recording is None:
        hold_recording = "suppressed" if rng.random() < suppressed_hold_fraction else "recorded"
    if hold_recording not in HOLD_RECORDING:
        raise ValueError(
            f"unknown hold recording {hold_recording!r}: expected one of {', '.join(HOLD_RECORDING)}"
        )
    if channel_layout is None:
        channel_layout = "swapped" if rng.random() < swapped_channel_fraction else "standard"
    if flow_queue_recording is not None:
        call = with_flow_and_queue(call, flow_queue_recording)
    if hold_recording == "suppressed":
        call = with_suppressed_holds(call)
    if channel_layout != "standard":
        call = with_channel_layout(call, channel_layout)
    return call
