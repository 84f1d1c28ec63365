"""`python run.py capture CONVERSATION_ID -o DIR [--with-media] [--redact]`.

Uses the service's settings and credentials, reads what the service reads for one conversation and
writes a capture directory (see `capture.layout` and docs/capture.md). Exit codes: 0 captured,
1 the conversation could not be captured (the reason is logged), 2 bad usage, settings or credentials.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from export.config_loader import ConfigLocation
    from genesys.rest import GenesysClient

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("conversation_id", help="the Genesys Cloud conversation id")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="capture directory to create (new or empty)"
    )
    parser.add_argument(
        "--with-media", action="store_true", help="also save the recordings' audio (WAV); off by default"
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        help="replace phone numbers, names, e-mail addresses and transcript words with placeholders",
    )
    parser.add_argument(
        "--settings", type=Path, default=None, help="settings file (default ./callexport.toml)"
    )
    parser.add_argument(
        "--recording-wait",
        type=float,
        default=600.0,
        help="seconds to wait for recordings that are still uploading or transcoding (default 600)",
    )
    parser.add_argument(
        "--transcript-wait",
        type=float,
        default=0.0,
        help="seconds to wait for a transcript that is not there yet (default 0: take what is there)",
    )


def main(args: argparse.Namespace) -> int:
    from service.logging_setup import configure_logging
    from service.settings import SettingsError, load_settings

    if args.redact and args.with_media:
        print(
            "capture: --redact cannot be combined with --with-media (the recordings carry the voices)",
            file=sys.stderr,
        )
        return 2
    out = Path(args.output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        print(f"capture: {out} exists and is not an empty directory; choose a new one", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.settings)
    except SettingsError as exc:
        print(f"capture: {exc}", file=sys.stderr)
        return 2
    configure_logging(None, settings.log_level)
    try:
        from service.cli import load_credentials

        credentials = load_credentials(settings)
    except Exception as exc:
        logger.error("No usable Genesys Cloud credentials: %s (see `python run.py credentials set`)", exc)
        return 2
    from service.runtime import build_client

    client = build_client(settings, credentials)
    try:
        return capture(client, settings, credentials.client_secret, args)
    finally:
        client.close()


def capture(
    client: GenesysClient, settings: ConfigLocation, client_secret: str, args: argparse.Namespace
) -> int:
    from capture.reads import CaptureFailed, ReadOptions, read_conversation
    from capture.recorder import CaptureWriteError, Recorder, write_capture

    cid = args.conversation_id
    options = ReadOptions(recording_wait_s=args.recording_wait, transcript_wait_s=args.transcript_wait)
    logger.info("Conversation %s: capturing what the service reads", cid)
    with tempfile.TemporaryDirectory(prefix="callexport-capture-") as work:
        recorder = Recorder(cid).attach(client)
        try:
            outcome = read_conversation(client, settings, cid, Path(work), options)
        except CaptureFailed as exc:
            logger.error("Conversation %s: not captured: %s", cid, exc)
            return 1
        finally:
            recorder.detach()
        docs = recorder.documents(profile_column=getattr(settings, "datatable_column", "Configuration"))
        docs.notes.extend(outcome.notes)
        secrets = [client_secret, _current_token(client)]
        api = urlsplit(str(getattr(settings, "api_url", "")))
        extra = {
            "apiHost": f"{api.scheme}://{api.netloc}",
            "configuration": {
                "datatable": getattr(settings, "datatable", None),
                "row": getattr(settings, "datatable_row", None),
                "column": getattr(settings, "datatable_column", None),
            },
        }
        try:
            written = write_capture(
                docs,
                Path(args.output),
                conversation_id=cid,
                with_media=args.with_media,
                redact=args.redact,
                secrets=secrets,
                manifest_extra=extra,
            )
        except CaptureWriteError as exc:
            logger.error("Conversation %s: capture not written: %s", cid, exc)
            return 1
    for note in docs.notes:
        logger.warning("Conversation %s: %s", cid, note)
    logger.info(
        "Conversation %s: captured %d document(s)%s%s into %s (%d API requests)",
        cid,
        len(docs.items),
        f", {len(docs.media)} recording(s) with audio" if args.with_media else "",
        ", redacted" if args.redact else "",
        written,
        len(docs.reads),
    )
    print(written)
    return 0


def _current_token(client: object) -> str:
    """The cached access token (to make sure no file contains it); no new request is made for it."""
    tokens = getattr(client, "tokens", None)
    token = getattr(tokens, "_token", None)
    return str(token) if token else ""
