"""`python run.py transcript convert --format SRT INPUT.json [-o OUTPUT]`.

Converts a downloaded Genesys Cloud transcript document to one of the nine formats. Optional
`--details` (analytics conversation details JSON) supplies agent/customer names and IVR spans;
`--language` overrides the language tag. Errors go to stderr with exit code 1 (2 for usage).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from transcripts.errors import TranscriptError
from transcripts.formats import FORMATS, get_format
from transcripts.parse import load_transcript
from transcripts.render import render
from transcripts.speakers import SpeakerInfo

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    convert = sub.add_parser("convert", help="convert a transcript document to another format")
    convert.add_argument(
        "--format",
        "-f",
        required=True,
        type=str.upper,
        choices=list(FORMATS),
        help="output format: " + ", ".join(FORMATS),
    )
    convert.add_argument("input", metavar="INPUT.json", help="transcript document ('-' reads stdin)")
    convert.add_argument("-o", "--output", help="output file (default: stdout)")
    convert.add_argument(
        "--details", metavar="DETAILS.json", help="analytics conversation details: names and IVR spans"
    )
    convert.add_argument("--language", help="language tag to write (default: the document's)")
    convert.add_argument(
        "--conversation-id", help="conversation id to name in messages (default: the document's)"
    )
    sub.add_parser("formats", help="list the formats with their extensions")


def main(args: argparse.Namespace) -> int:
    if args.action == "formats":
        for fmt in FORMATS.values():
            print(f"{fmt.name:<7} {fmt.extension:<6} {fmt.content_type:<22} {fmt.description}")
        return 0
    try:
        data = sys.stdin.buffer.read() if args.input == "-" else Path(args.input).read_bytes()
    except OSError as exc:
        print(f"transcript: cannot read {args.input}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        doc = load_transcript(data, conversation_id=args.conversation_id)
        speakers = None
        if args.details:
            speakers = SpeakerInfo.from_details(_read_json(args.details))
        output = render(doc, get_format(args.format).name, speakers=speakers, language=args.language)
    except TranscriptError as exc:
        print(f"transcript: {args.input}: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"transcript: {exc}", file=sys.stderr)
        return 1
    for warning in doc.warnings:
        print(f"transcript: warning: {warning}", file=sys.stderr)
    if args.output:
        try:
            Path(args.output).write_bytes(output)
        except OSError as exc:
            print(f"transcript: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.buffer.flush()
    return 0


def _read_json(path: str) -> dict:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} is not a JSON object (expected analytics conversation details)")
    return value
