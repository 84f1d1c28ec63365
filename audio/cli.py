"""`python run.py audio ...`: run the service's audio engine on a file, for operators and diagnosis.

    python run.py audio convert INPUT --format MP3 [--trim] [--denoise] [--normalize]
                                [--segments PLAN.json] [--concatenate] [--chapters]
                                [--channel-layout auto|default|swapped] [--details DETAILS.json]
                                [--transcript TRANSCRIPT.json] -o OUTPUT
    python run.py audio plan --details DETAILS.json --recording RECORDING.json [--purpose agent]
                             [--segment-type interact] [-o PLAN.json]
    python run.py audio merge EXTERNAL INTERNAL --external-start-ms N --internal-start-ms N -o OUTPUT.wav

`convert` runs exactly `audio.export.export_recording`. With --segments it exports the plan's
segments (one file each, or concatenated with --concatenate, or as chapters with --chapters); OUTPUT
is then a file name whose stem is extended with each segment's ordinal, participant and type.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from audio.errors import AudioError
from audio.options import CHANNEL_LAYOUTS, FORMATS, AudioOptions

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    conv = sub.add_parser("convert", help="decode, process and encode one recording")
    conv.add_argument("input", type=Path)
    conv.add_argument("--format", required=True, type=str.upper, choices=FORMATS)
    conv.add_argument("--trim", action="store_true", help="trim head and tail silence")
    conv.add_argument("--denoise", action="store_true", help="band filter + spectral noise reduction")
    conv.add_argument("--normalize", action="store_true", help="EBU R128 loudness normalisation (-23 LUFS)")
    conv.add_argument("--segments", type=Path, help="segment plan JSON (from `audio plan`)")
    conv.add_argument("--concatenate", action="store_true", help="join the plan's segments into one file")
    conv.add_argument("--chapters", action="store_true", help="whole recording, one chapter per segment")
    conv.add_argument(
        "--channel-layout",
        choices=CHANNEL_LAYOUTS,
        default="auto",
        help="which channel is the agent's: detect it (auto, refuses a one-side export it cannot tell), "
        "the default (customer on channel 0), or swapped",
    )
    conv.add_argument(
        "--details",
        type=Path,
        help="analytics conversation details JSON (evidence for --channel-layout auto)",
    )
    conv.add_argument(
        "--transcript", type=Path, help="STA transcript JSON: its speaker times are evidence for auto"
    )
    conv.add_argument("-o", "--output", type=Path, required=True)
    plan = sub.add_parser("plan", help="compute a segment plan from details + recording JSON")
    plan.add_argument("--details", type=Path, required=True, help="analytics conversation details JSON")
    plan.add_argument(
        "--recording", type=Path, required=True, help="one Recording JSON (or a list: the first)"
    )
    plan.add_argument("--purpose", action="append", default=[], help="ParticipantPurposesToExport (repeat)")
    plan.add_argument("--segment-type", action="append", default=[], help="CallSegmentsToExport (repeat)")
    plan.add_argument("-o", "--output", type=Path, help="write the plan here (default: stdout)")
    merge = sub.add_parser("merge", help="merge two mono recordings into one stereo WAV")
    merge.add_argument("external", type=Path)
    merge.add_argument("internal", type=Path)
    merge.add_argument("--external-start-ms", type=int, default=0)
    merge.add_argument("--internal-start-ms", type=int, default=0)
    merge.add_argument("-o", "--output", type=Path, required=True)


def main(args: argparse.Namespace) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.action == "convert":
            return _convert(args)
        if args.action == "plan":
            return _plan(args)
        if args.action == "merge":
            from audio.stereo import merge_mono

            merge_mono(
                args.external,
                args.internal,
                external_start_ms=args.external_start_ms,
                internal_start_ms=args.internal_start_ms,
                dest=args.output,
            )
            print(args.output)
            return 0
    except (AudioError, ValueError, OSError) as exc:
        print(f"audio {args.action}: {exc}", file=sys.stderr)
        return 1
    return 2


def _convert(args: argparse.Namespace) -> int:
    from audio.export import export_recording
    from audio.segments import SegmentPlan

    plan = SegmentPlan.load(args.segments) if args.segments else None
    purposes: tuple[str, ...] = ()
    if plan is not None and not args.chapters:
        # The plan is already filtered; any non-empty filter selects "export the plan's segments".
        purposes = tuple(sorted({s.purpose for s in plan.segments})) or ("none",)
    options = AudioOptions(
        format=args.format,
        trim_silence=args.trim,
        reduce_noise=args.denoise,
        normalize_loudness=args.normalize,
        purposes=purposes,
        concatenate=args.concatenate,
        chapters=args.chapters,
        channel_layout=args.channel_layout,
    )
    details = json.loads(args.details.read_text(encoding="utf-8")) if args.details else None
    speakers = None
    if args.transcript:
        from audio.channel_detect import speaker_spans
        from transcripts.parse import load_transcript

        speakers = speaker_spans(load_transcript(args.transcript.read_bytes()))
    recording = {"id": args.output.stem}
    if plan is not None:
        recording["conversationId"] = plan.conversation_id
    args.output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=args.output.parent))
    try:
        outputs = export_recording(
            args.input, recording, details, options, work, plan=plan, speakers=speakers
        )
        if not outputs:
            print("nothing to export: the segment plan selects no audio", file=sys.stderr)
            return 1
        for i, out in enumerate(outputs):
            if len(outputs) == 1:
                dest = args.output
            else:
                seg = out.segment
                suffix = (
                    f"_{seg.ordinal:03d}_{seg.participant_name or seg.purpose}_{seg.segment_type}"
                    if seg
                    else f"_{i}"
                )
                dest = args.output.with_name(f"{args.output.stem}{suffix}{args.output.suffix}")
            shutil.move(str(out.path), dest)
            line = {"file": str(dest), "format": out.format, "duration_s": round(out.duration_s, 3)}
            if out.chapters:
                line["chapters"] = [[t, round(a, 3), round(b, 3)] for t, a, b in out.chapters]
            line.update({k: (round(v, 2) if isinstance(v, float) else v) for k, v in out.stats.items()})
            print(json.dumps(line))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _plan(args: argparse.Namespace) -> int:
    from audio.segments import plan_segments

    details = json.loads(args.details.read_text(encoding="utf-8"))
    recording = json.loads(args.recording.read_text(encoding="utf-8"))
    if isinstance(recording, list):
        recording = recording[0]
    plan = plan_segments(details, recording, purposes=args.purpose, segment_types=args.segment_type)
    text = plan.to_json()
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"{len(plan.segments)} segments -> {args.output}")
    else:
        print(text)
    return 0
