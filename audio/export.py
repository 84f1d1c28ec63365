"""One recording -> the finished audio files a profile asks for (the entry point of the DSP workers).

`export_recording` is a plain function of picklable arguments (paths, dicts, a frozen dataclass), keeps
no global state and starts no threads, so the service runs it in a process pool. Modes:

* whole recording (no filter);
* one file per matching participant segment (a purpose or segment-type filter, not concatenating);
* one concatenated file of the matching segments (`concatenate`; overlaps resolved, longest wins);
* the whole recording with one chapter per participant segment (`chapters`; MP3 and M4B).

Participant-track selection (`audio.tracks`): a segment file carries only the channel of its
participant's side (mono); a concatenated file carries the channels of the selected purposes' sides
(mono when they are all on one side). Without a purpose filter, and in chapter mode, every channel is
kept.

Every output carries its `ExportTimeline` (wall clock -> seconds in that file) for the transcripts and
`sides`, the call side each of its channels carries.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audio.chain import ChainResult, ChainSettings, run_chain
from audio.channel_detect import channel_sides
from audio.channels import side_of_purpose
from audio.decode import Source, open_source
from audio.encoders import Encoder, open_encoder, output_samplerate
from audio.errors import AudioEncodeError
from audio.options import CHAPTER_FORMATS, AudioOptions
from audio.segments import (
    PlannedSegment,
    SegmentPlan,
    chapter_spans,
    media_clock,
    plan_segments,
    resolve_overlaps,
)
from audio.timemap import ExportTimeline, MediaClock, TimeMap
from audio.tracks import SIDES, select_tracks, sides_of_purposes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioOutput:
    """A finished file in the work directory."""

    path: Path
    format: str
    duration_s: float
    timeline: ExportTimeline
    segment: PlannedSegment | None = None
    chapters: tuple[tuple[str, float, float], ...] = ()
    samplerate: int = 0
    channels: int = 0
    stats: dict = field(default_factory=dict)
    sides: tuple[str, ...] = ()
    """The call side ('external' = customer, 'internal' = agent/IVR) each channel of the file carries,
    in channel order; "" for a channel whose side is unknown (a mono recording of unknown subtype)."""

    def channel_of_side(self, side: str) -> int | None:
        """This file's channel index carrying `side`, or None when the file does not carry it."""
        return self.sides.index(side) if side in self.sides else None


def _safe(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "unknown"


def _clock_of(recording: dict | None, media_duration_s: float | None = None) -> MediaClock:
    if recording and recording.get("startTime"):
        return media_clock(recording, media_duration_s=media_duration_s)
    return MediaClock(0)


def export_recording(
    source: Path,
    recording: dict,
    details: dict | None,
    options: AudioOptions,
    work_dir: Path,
    *,
    plan: SegmentPlan | None = None,
    speakers: Sequence[tuple[str, int, int]] | None = None,
) -> list[AudioOutput]:
    """Decode `source`, cut, process and encode it as `options` ask; write the files into `work_dir`.

    `plan` overrides the plan computed from `details` (the CLI's --segments file). `speakers` are the
    transcript's (side, start epoch ms, end epoch ms) phrase times when known
    (`audio.channel_detect.speaker_spans`): more evidence for the channel layout. Raises
    AudioDecodeError (naming the file and the cause) for input that cannot be decoded, and
    ChannelLayoutError when a one-side export is asked of a recording whose channels cannot be told
    apart (`options.channel_layout == "auto"`).
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    recording = recording or {}
    conversation = recording.get("conversationId") or (details or {}).get("conversationId") or "?"
    label = f"conversation {conversation} recording {recording.get('id', Path(source).stem)}"
    scratch = Path(tempfile.mkdtemp(prefix=".audio-", dir=work_dir))
    try:
        src = open_source(Path(source), scratch)
        if plan is None and (options.filtered or options.chapters):
            if details is not None and recording.get("startTime"):
                plan = plan_segments(
                    details,
                    recording,
                    purposes=options.purposes,
                    segment_types=options.segment_types,
                    media_duration_s=src.duration,
                )
            else:
                logger.warning("%s: no conversation details or recording start; no segment plan", label)
                plan = SegmentPlan(
                    str(conversation),
                    str(recording.get("id", "")),
                    _clock_of(recording, src.duration),
                    0.0,
                    (),
                )
        clock = plan.clock if plan is not None else _clock_of(recording, src.duration)
        stem = _safe(str(recording.get("id") or Path(source).stem))
        sides = channel_sides(
            src,
            recording,
            details,
            clock,
            layout=options.channel_layout,
            one_sided=_one_sided(options),
            label=label,
            speakers=speakers,
        )
        tracks = _Tracks(src, sides)
        return _export(tracks, clock, plan, options, work_dir, scratch, stem, label)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_SIDE_WORDS = {"external": "customer (external) side", "internal": "agent/IVR (internal) side"}


def _one_sided(options: AudioOptions) -> bool:
    """Whether the export keeps only some sides' channels (so which channel is whose matters)."""
    if options.chapters or not options.filtered:
        return False
    if options.concatenate:
        return sides_of_purposes(options.purposes) != frozenset(SIDES)
    return True  # one file per participant segment: each carries that participant's side only


class _Tracks:
    """The source and its views restricted to the channels of some call sides."""

    def __init__(self, src: Source, sides: tuple[str, ...]) -> None:
        self.src = src
        self.sides = sides

    @property
    def carried(self) -> str:
        """What the recording holds, for log lines."""
        known = [_SIDE_WORDS.get(s, s) for s in self.sides if s]
        return " and ".join(known) if known else "an unknown side"

    def view(self, wanted: frozenset[str]) -> tuple[Source, tuple[str, ...]] | None:
        """(source reading only the wanted sides' channels, their sides); None if it has none."""
        tracks = select_tracks(self.sides, wanted)
        if not tracks:
            return None
        return self.src.with_tracks(tracks), tuple(self.sides[t] for t in tracks)


def _export(
    tracks: _Tracks,
    clock: MediaClock,
    plan: SegmentPlan | None,
    options: AudioOptions,
    work_dir: Path,
    scratch: Path,
    stem: str,
    label: str,
) -> list[AudioOutput]:
    src, all_sides = tracks.src, tracks.sides
    duration = src.duration
    ext = options.extension
    settings = ChainSettings(
        options.format, options.trim_silence, options.reduce_noise, options.normalize_loudness
    )

    if options.chapters:
        segments: Sequence[PlannedSegment] = plan.segments if plan else ()
        if options.trim_silence:
            logger.warning(
                "%s: chapter export keeps the whole recording; silence trimming is not applied", label
            )
            settings = ChainSettings(options.format, False, options.reduce_noise, options.normalize_loudness)
        chapters = [(t, a, b) for t, a, b, _ in chapter_spans(segments, duration)]
        if options.format not in CHAPTER_FORMATS:
            logger.warning("%s: %s cannot carry chapters; exporting without them", label, options.format)
            chapters = []
        if not chapters:
            logger.info("%s: no participant segment lies in the recording; no chapters", label)
        out = _render(
            src,
            TimeMap.identity(duration),
            clock,
            settings,
            work_dir / f"{stem}{ext}",
            scratch,
            label,
            chapters,
            sides=all_sides,
        )
        logger.info(
            "%s: exported %s with %d chapters (%.1f s)", label, out.path.name, len(chapters), out.duration_s
        )
        return [out]

    wanted = sides_of_purposes(options.purposes)
    if not options.filtered:
        if options.concatenate:
            logger.info(
                "%s: concatenation needs a purpose or segment filter; exporting the whole recording", label
            )
        # No purpose filter: every channel, as recorded.
        out = _render(
            src, TimeMap.identity(duration), clock, settings, work_dir / f"{stem}{ext}", scratch, label,
            sides=all_sides,
        )  # fmt: skip
        logger.info("%s: exported %s (%.1f s)", label, out.path.name, out.duration_s)
        return [out]

    segments = [s for s in (plan.segments if plan else ()) if s.media_start < duration]
    if not segments:
        logger.info(
            "%s: no participant segment matches purposes=%s segment types=%s; nothing to export",
            label,
            list(options.purposes) or "all",
            list(options.segment_types) or "all",
        )
        return []

    if options.concatenate:
        view = tracks.view(wanted)
        if view is None:
            return _nothing_on_side(tracks, options, label)
        pieces = resolve_overlaps(segments)
        timemap = TimeMap.concatenation([(a, min(b, duration)) for _, a, b in pieces])
        out = _render(
            view[0], timemap, clock, settings, work_dir / f"{stem}_segments{ext}", scratch, label,
            sides=view[1],
        )  # fmt: skip
        logger.info(
            "%s: exported %d segments concatenated into %s (%.1f s, %s)",
            label,
            len(pieces),
            out.path.name,
            out.duration_s,
            _describe(out.sides),
        )
        return [out]

    outputs = []
    skipped: list[PlannedSegment] = []
    for seg in segments:
        view = tracks.view(frozenset({side_of_purpose(seg.purpose)}))
        if view is None:
            skipped.append(seg)
            continue
        name = (
            f"{stem}_{seg.ordinal:03d}_{_safe(seg.participant_name or seg.purpose)}_{seg.segment_type}{ext}"
        )
        timemap = TimeMap.concatenation([(seg.media_start, min(seg.media_end, duration))])
        outputs.append(
            _render(
                view[0],
                timemap,
                clock,
                settings,
                work_dir / name,
                scratch,
                label,
                segment=seg,
                sides=view[1],
            )  # fmt: skip
        )
    if skipped:
        logger.info(
            "%s: the recording holds only the %s; %d segment(s) of %s on the other side not exported",
            label,
            tracks.carried,
            len(skipped),
            ", ".join(sorted({s.purpose for s in skipped})),
        )
    if not outputs:
        logger.info(
            "%s: no segment of the selected participants is in this recording; nothing to export", label
        )
        return []
    logger.info("%s: exported %d segment files (each one participant's side)", label, len(outputs))
    return outputs


def _describe(sides: tuple[str, ...]) -> str:
    if len(sides) == 1:
        return f"mono, {sides[0] or 'unknown'} side"
    return "stereo, " + " + ".join(s or "?" for s in sides)


def _nothing_on_side(tracks: _Tracks, options: AudioOptions, label: str) -> list[AudioOutput]:
    logger.info(
        "%s: the recording holds only the %s; purposes %s speak on the other side; nothing to export",
        label,
        tracks.carried,
        list(options.purposes),
    )
    return []


def _render(
    src: Source,
    timemap: TimeMap,
    clock: MediaClock,
    settings: ChainSettings,
    dest: Path,
    scratch: Path,
    label: str,
    chapters: list[tuple[str, float, float]] | None = None,
    segment: PlannedSegment | None = None,
    *,
    sides: tuple[str, ...],
) -> AudioOutput:
    fmt = settings.fmt
    if dest.resolve() == src.original.resolve():
        dest = dest.with_name(f"{dest.stem}.export{dest.suffix}")  # never overwrite the input being read
    out_rate = output_samplerate(fmt, src.samplerate)
    if fmt == "MP3" and out_rate != src.samplerate:
        raise AudioEncodeError(f"{label}: MP3 cannot carry {src.samplerate} Hz audio")

    def open_output() -> Encoder:
        enc = open_encoder(
            fmt, dest, out_rate, src.channels, source_bitrate=src.bitrate, chapters=chapters or None,
            input_rate=src.samplerate,
        )  # fmt: skip
        enc.chapters = chapters or None
        return enc

    result: ChainResult = run_chain(src, timemap, settings, open_output, scratch, label)
    duration = result.frames / src.samplerate
    kept = tuple(
        (t, max(0.0, a), min(b, duration)) for t, a, b in (chapters or []) if min(b, duration) > max(0.0, a)
    )
    return AudioOutput(
        path=dest,
        format=fmt,
        duration_s=duration,
        timeline=ExportTimeline(clock, result.timemap),
        segment=segment,
        chapters=kept,
        samplerate=out_rate,
        channels=src.channels,
        stats={
            "trimmed_head_s": result.trimmed_head,
            "trimmed_tail_s": result.trimmed_tail,
            "input_lufs": result.input_lufs,
            "output_lufs": result.output_lufs,
            "gain_db": result.gain_db,
            "limited_samples": result.limited_samples,
            "noise_profile_s": result.noise_profile_s,
        },
        sides=sides,
    )
