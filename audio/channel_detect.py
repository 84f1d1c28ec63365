"""Which channel of a recording carries the agent side and which the customer: detected, not assumed.

Nothing public says which channel of a Genesys Cloud dual-channel recording is the customer (see
`audio.channels`), and seed 003 (Genesys' "Call recording" overview) says each recording holds the whole
call from one side's perspective: a trunk-side recording from the customer's, a station-side one from the
agent's; a recording that is not dual-channel therefore has both parties on its one channel. An
agent-only file made on a wrong guess would carry the customer's voice, so a one-side export (agent
only, customer only, per-participant segment files) asks this module, which correlates each channel's
speech-band activity with what the conversation says was heard when:

* **internal-only audio** from the analytics details: IVR prompts (`ivr` segments of the IVR
  participant), queue audio (the ACD participant's `interact` segment, the queue wait) and hold audio
  (agents' `hold` segments, when the hold is in the media), minus any stretch where an agent talks;
  the channel carrying the internal side is busy there, a customer-only channel is at its noise floor;
* **the transcript's speaker times**, when the caller has them (STA phrases with `participantPurpose`
  internal/external): each side's solo phrases;
* **leak**: during the agents' `interact` segments, how often the channel taken for one side is busy
  while the other side's channel is (two channels of one party, or one channel carrying both, are busy
  together; two parties mostly take turns).

A channel "carries" a side when it is busy for at least `CARRIES_MIN_FRACTION` of that side's solo
stretches and "lacks" it below `LACKS_MAX_FRACTION`, judged only on `MIN_EVIDENCE_S` or more of audio
that the channel really has (digital silence, such as the padding of a merged mono pair, is no data).
The layout is decided when the evidence points one way and nothing contradicts it, and the chosen
channels pass the leak test; otherwise `ChannelLayoutError` refuses the one-side export, naming the
conversation, the recording and the evidence. Exports that keep every channel never need this.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from audio.analysis import LevelMeter
from audio.decode import Source, read_blocks
from audio.errors import ChannelLayoutError
from audio.parameters import (
    TRIM_FLOOR_PERCENTILE,
    TRIM_MARGIN_OVER_FLOOR_DB,
    TRIM_MAX_THRESHOLD_DBFS,
    TRIM_MIN_THRESHOLD_DBFS,
)
from audio.segments import epoch_ms, wall_span_to_media
from audio.timemap import MediaClock
from audio.tracks import source_sides

logger = logging.getLogger(__name__)

MIN_EVIDENCE_S = 3.0
"""Seconds of solo audio (with data on the channel) below which a kind of evidence says nothing."""

CARRIES_MIN_FRACTION = 0.30
"""Busy fraction above which a channel carries a side: speech is busy ~50-80 % of a phrase, IVR
prompts ~60 % of the IVR, music nearly all the time."""

LACKS_MAX_FRACTION = 0.08
"""Busy fraction below which a channel lacks a side: a noise floor crosses the activity threshold in
well under 1 % of frames; a little cross-talk or a cough stays below 8 %."""

LEAK_MAX = 0.50
"""Largest share of the other side's busy frames during which the chosen channel may also be busy. Two
parties on their own channels overlap in ~5-25 % of the time one of them speaks; one party on both
channels (or a channel carrying the whole call) overlaps ~90-100 %."""

LEAK_MIN_ACTIVE_S = 2.0
"""The leak test needs this much busy audio of the other side; with less there is little to leak."""

DIGITAL_SILENCE_DBFS = -100.0
"""Frames below this level hold no recorded sound at all (padding, not a noise floor)."""

EDGE_GUARD_S = 0.3
"""Trimmed from each end of an evidence stretch (segment edges and speech onsets are not exact)."""

_SIDE_NAMES = {"internal": "agent/IVR (internal)", "external": "customer (external)"}


@dataclass(frozen=True)
class Finding:
    """One kind of evidence about one side: how busy each channel is during that side's solo audio."""

    what: str
    side: str
    seconds: tuple[float, ...]
    busy: tuple[float, ...]

    def verdict(self, channel: int) -> str:
        """'carries', 'lacks' or '' (no say) for one channel."""
        if self.seconds[channel] < MIN_EVIDENCE_S:
            return ""
        if self.busy[channel] >= CARRIES_MIN_FRACTION:
            return "carries"
        if self.busy[channel] <= LACKS_MAX_FRACTION:
            return "lacks"
        return ""

    def describe(self) -> str:
        parts = ", ".join(
            f"channel {c} busy {b:.0%} of {s:.1f} s"
            for c, (b, s) in enumerate(zip(self.busy, self.seconds, strict=True))
        )
        return f"{self.what}: {parts}"


@dataclass(frozen=True)
class Detection:
    """The outcome: the side of each channel, or None with the reason it could not be told."""

    sides: tuple[str, ...] | None
    reason: str
    findings: tuple[Finding, ...] = ()

    def describe(self) -> str:
        return "; ".join(f.describe() for f in self.findings) or "no evidence"


# ----------------------------------------------------------------------------------------------
# evidence spans (media seconds)
# ----------------------------------------------------------------------------------------------
Span = tuple[float, float]


def _merge(spans: Iterable[Span]) -> list[Span]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _subtract(spans: Iterable[Span], holes: Iterable[Span]) -> list[Span]:
    holes = _merge(holes)
    out: list[Span] = []
    for a, b in _merge(spans):
        pieces = [(a, b)]
        for h0, h1 in holes:
            nxt = []
            for x, y in pieces:
                if h1 <= x or h0 >= y:
                    nxt.append((x, y))
                    continue
                if x < h0:
                    nxt.append((x, h0))
                if h1 < y:
                    nxt.append((h1, y))
            pieces = nxt
        out += pieces
    return out


def _shrink(spans: Iterable[Span], guard: float) -> list[Span]:
    return [(a + guard, b - guard) for a, b in spans if b - a > 2 * guard]


def _segment_spans(details: Mapping[str, Any], clock: MediaClock, wanted: dict[str, set[str]]) -> list[Span]:
    """Media spans of the segments whose (participant purpose, segment type) is wanted."""
    out: list[Span] = []
    for participant in details.get("participants") or []:
        types = wanted.get(str(participant.get("purpose", "")).lower())
        if not types:
            continue
        for session in participant.get("sessions") or []:
            if str(session.get("mediaType", "voice")).lower() != "voice":
                continue
            for seg in session.get("segments") or []:
                if str(seg.get("segmentType", "")).lower() not in types:
                    continue
                if not seg.get("segmentStart") or not seg.get("segmentEnd"):
                    continue
                span = wall_span_to_media(clock, epoch_ms(seg["segmentStart"]), epoch_ms(seg["segmentEnd"]))
                if span is not None:
                    out.append(span)
    return _merge(out)


def internal_only_spans(details: Mapping[str, Any], clock: MediaClock) -> list[Span]:
    """IVR, queue wait and hold stretches in the media, minus any stretch where an agent talks."""
    internal = _segment_spans(
        details, clock, {"ivr": {"ivr"}, "acd": {"interact"}, "agent": {"hold"}, "user": {"hold"}}
    )
    talking = agent_talk_spans(details, clock)
    return _shrink(_subtract(internal, talking), EDGE_GUARD_S)


def agent_talk_spans(details: Mapping[str, Any], clock: MediaClock) -> list[Span]:
    """Media spans where an agent is connected and talking with the customer (`interact`)."""
    return _segment_spans(details, clock, {"agent": {"interact"}, "user": {"interact"}})


class SpokenPhrase(Protocol):
    """What channel detection reads of a transcript phrase (`transcripts.model.Phrase`)."""

    @property
    def purpose(self) -> str: ...
    @property
    def start_ms(self) -> int: ...
    @property
    def end_ms(self) -> int: ...


class PhraseSource(Protocol):
    """A transcript with phrases (`transcripts.model.TranscriptDocument`)."""

    @property
    def phrases(self) -> Sequence[SpokenPhrase]: ...


def speaker_spans(document: PhraseSource | None) -> list[tuple[str, int, int]]:
    """(side, start epoch ms, end epoch ms) of every transcript phrase with a known side.

    `document` is a `transcripts.model.TranscriptDocument` (anything with `.phrases` whose items have
    `purpose`, `start_ms` and `end_ms`)."""
    return [
        (p.purpose, int(p.start_ms), int(p.end_ms))
        for p in getattr(document, "phrases", ()) or ()
        if p.purpose in ("internal", "external")
    ]


def solo_speaker_spans(speakers: Sequence[tuple[str, int, int]], clock: MediaClock) -> dict[str, list[Span]]:
    """Per side, the media spans where only that side speaks (per the transcript)."""
    by_side: dict[str, list[Span]] = {"internal": [], "external": []}
    for side, start, end in speakers:
        span = wall_span_to_media(clock, start, end)
        if span is not None and side in by_side:
            by_side[side].append(span)
    return {
        side: _shrink(_subtract(spans, [(a - 0.2, b + 0.2) for a, b in by_side[_other(side)]]), 0.05)
        for side, spans in by_side.items()
    }


def _other(side: str) -> str:
    return "external" if side == "internal" else "internal"


# ----------------------------------------------------------------------------------------------
# activity
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Activity:
    """Per 10 ms frame and channel: whether there is recorded sound at all, and whether it is busy."""

    data: np.ndarray  # (frames, channels) bool
    busy: np.ndarray  # (frames, channels) bool
    frame_s: float

    @classmethod
    def of(cls, source: Source) -> Activity:
        meter = LevelMeter(source.samplerate, source.channels)
        for block in read_blocks(source):
            meter.add(block.astype(np.float64))
        levels = meter.levels_db()
        data = levels > DIGITAL_SILENCE_DBFS
        busy = np.zeros_like(data)
        for ch in range(levels.shape[1]):
            recorded = levels[data[:, ch], ch]
            if not len(recorded):
                continue
            floor = float(np.percentile(recorded, TRIM_FLOOR_PERCENTILE))
            threshold = float(
                np.clip(floor + TRIM_MARGIN_OVER_FLOOR_DB, TRIM_MIN_THRESHOLD_DBFS, TRIM_MAX_THRESHOLD_DBFS)
            )
            busy[:, ch] = data[:, ch] & (levels[:, ch] > threshold)
        return cls(data, busy, meter.frame / source.samplerate)

    def mask(self, spans: Iterable[Span]) -> np.ndarray:
        m = np.zeros(len(self.data), dtype=bool)
        for a, b in spans:
            m[max(0, int(a / self.frame_s)) : max(0, int(b / self.frame_s))] = True
        return m

    def finding(self, what: str, side: str, spans: Iterable[Span]) -> Finding:
        m = self.mask(spans)
        seconds, busy = [], []
        for ch in range(self.data.shape[1]):
            have = m & self.data[:, ch]
            n = int(have.sum())
            seconds.append(n * self.frame_s)
            busy.append(float(self.busy[have, ch].mean()) if n else 0.0)
        return Finding(what, side, tuple(seconds), tuple(busy))

    def leak(self, channel: int, other: int, spans: Iterable[Span]) -> float | None:
        """Share of `other`'s busy frames (in the spans) during which `channel` is busy too; None when
        `other` is busy for less than LEAK_MIN_ACTIVE_S there."""
        m = self.mask(spans) & self.data[:, channel] & self.data[:, other] & self.busy[:, other]
        if m.sum() * self.frame_s < LEAK_MIN_ACTIVE_S:
            return None
        return float(self.busy[m, channel].mean())


# ----------------------------------------------------------------------------------------------
# decision
# ----------------------------------------------------------------------------------------------
def detect(
    activity: Activity,
    details: Mapping[str, Any] | None,
    clock: MediaClock,
    speakers: Sequence[tuple[str, int, int]] | None = None,
) -> Detection:
    """The side each channel carries ('internal', 'external'), or None with the reason."""
    channels = activity.data.shape[1]
    findings: list[Finding] = []
    if details:
        findings.append(
            activity.finding("IVR/queue/hold audio", "internal", internal_only_spans(details, clock))
        )
    if speakers:
        solo = solo_speaker_spans(speakers, clock)
        findings.append(activity.finding("transcript agent/IVR phrases", "internal", solo["internal"]))
        findings.append(activity.finding("transcript customer phrases", "external", solo["external"]))
    # per channel and side: what the evidence says ("carries"/"lacks"), contradictions noted
    says: list[dict[str, set[str]]] = [{"internal": set(), "external": set()} for _ in range(channels)]
    for f in findings:
        for ch in range(channels):
            verdict = f.verdict(ch)
            if verdict:
                says[ch][f.side].add(verdict)
    found = tuple(findings)
    for ch in range(channels):
        for side, verdicts in says[ch].items():
            if len(verdicts) > 1:
                return Detection(
                    None, f"the evidence contradicts itself about channel {ch} and the {side} side", found
                )
    if channels == 1:
        return _mono(says[0], found)
    if channels != 2:
        return Detection(None, f"a {channels}-channel recording (only 1 or 2 channels are known)", found)
    return _stereo(says, activity, details, clock, found)


def _mono(says: dict[str, set[str]], found: tuple[Finding, ...]) -> Detection:
    internal, external = says["internal"], says["external"]
    if "carries" in internal and "carries" in external:
        return Detection(("both",), "the single channel carries both parties", found)
    if "lacks" in internal and "lacks" in external:
        return Detection(None, "the single channel carries neither party", found)
    if ("carries" in internal and "lacks" in external) or ("lacks" in external and not internal):
        return Detection(("internal",), "the single channel carries only the agent/IVR side", found)
    if ("carries" in external and "lacks" in internal) or ("lacks" in internal and not external):
        return Detection(("external",), "the single channel carries only the customer side", found)
    if "carries" in internal or "carries" in external:
        side = "agent/IVR" if "carries" in internal else "customer"
        return Detection(
            None,
            f"the single channel carries the {side} side and nothing shows whether it also carries the other "
            "(a recording that is not dual-channel holds the whole call)",
            found,
        )
    return Detection(None, "no stretch of the call tells the parties apart on the single channel", found)


def _stereo(
    says: list[dict[str, set[str]]],
    activity: Activity,
    details: Mapping[str, Any] | None,
    clock: MediaClock,
    found: tuple[Finding, ...],
) -> Detection:
    def points(internal: int) -> tuple[int, int]:
        """(evidence for, evidence against) channel `internal` being the internal side, the other the
        external side."""
        external = 1 - internal
        pro = [
            "carries" in says[internal]["internal"],
            "lacks" in says[external]["internal"],
            "carries" in says[external]["external"],
            "lacks" in says[internal]["external"],
        ]
        con = [
            "lacks" in says[internal]["internal"],
            "carries" in says[external]["internal"],
            "lacks" in says[external]["external"],
            "carries" in says[internal]["external"],
        ]
        return sum(pro), sum(con)

    for side in ("internal", "external"):
        if all("carries" in says[ch][side] for ch in (0, 1)):
            return Detection(
                None,
                f"both channels carry the {_SIDE_NAMES[side]} audio (each channel holds the whole call)",
                found,
            )
    options = {ch: points(ch) for ch in (0, 1)}
    usable = [ch for ch, (pro, con) in options.items() if pro and not con]
    if len(usable) != 1:
        if any(pro for pro, _ in options.values()):
            return Detection(None, "the evidence points both ways", found)
        return Detection(
            None,
            "no stretch of the call tells the channels apart (no IVR, queue or hold audio in the media and "
            "no transcript speaker times)",
            found,
        )
    internal = usable[0]
    external = 1 - internal
    talk = agent_talk_spans(details, clock) if details else [(0.0, len(activity.data) * activity.frame_s)]
    for chosen, other in ((internal, external), (external, internal)):
        leak = activity.leak(chosen, other, talk)
        if leak is not None and leak > LEAK_MAX:
            return Detection(
                None,
                f"channel {chosen} is busy during {leak:.0%} of channel {other}'s sound: it also carries the "
                f"{_SIDE_NAMES['external' if other == external else 'internal']} side",
                found,
            )
    sides = ["", ""]
    sides[internal], sides[external] = "internal", "external"
    return Detection(
        tuple(sides), f"channel {internal} carries the agent/IVR side, channel {external} the customer", found
    )


# ----------------------------------------------------------------------------------------------
# the export's entry point
# ----------------------------------------------------------------------------------------------
def swapped(sides: tuple[str, ...]) -> tuple[str, ...]:
    """A stereo layout with its two channels exchanged (other layouts unchanged)."""
    return (sides[1], sides[0], *sides[2:]) if len(sides) >= 2 else sides


def channel_sides(
    source: Source,
    recording: Mapping[str, Any],
    details: Mapping[str, Any] | None,
    clock: MediaClock,
    *,
    layout: str,
    one_sided: bool,
    label: str,
    speakers: Sequence[tuple[str, int, int]] | None = None,
) -> tuple[str, ...]:
    """The side each channel of `source` carries, for an export with `layout` (`AudioOptions`).

    `default` and `swapped` are taken as set. `auto` keeps the default labels when the export keeps every
    channel (nothing depends on them), and otherwise detects the layout, logs when it differs from the
    default, and raises `ChannelLayoutError` when it cannot be told or a channel carries both parties.
    """
    default = source_sides(source.channels, recording)
    if layout == "default":
        return default
    if layout == "swapped":
        return swapped(default)
    if not one_sided:
        return default
    detection = detect(Activity.of(source), details, clock, speakers)
    conversation = str(recording.get("conversationId") or (details or {}).get("conversationId") or "?")
    recording_id = str(recording.get("id") or source.original.stem)
    if detection.sides is None or "both" in detection.sides:
        logger.warning(
            "%s: channel layout not detected: %s (%s)", label, detection.reason, detection.describe()
        )
        raise ChannelLayoutError(conversation, recording_id, f"{detection.reason} ({detection.describe()})")
    if detection.sides != default:
        logger.warning(
            "%s: %s, unlike the default layout %s; exporting with the detected layout (%s)",
            label,
            detection.reason,
            _layout_words(default),
            detection.describe(),
        )
    else:
        logger.info("%s: channel layout confirmed: %s (%s)", label, detection.reason, detection.describe())
    return detection.sides


def _layout_words(sides: tuple[str, ...]) -> str:
    if not sides or all(not s for s in sides):
        return "(unknown)"
    return (
        "("
        + ", ".join(f"channel {i}: {_SIDE_NAMES.get(s, s or 'unknown')}" for i, s in enumerate(sides))
        + ")"
    )
