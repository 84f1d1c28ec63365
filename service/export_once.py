"""`python run.py export CONVERSATION_ID`: export one conversation now, through the same pipeline.

Uses the service's settings, credentials, configuration (Data Table) and ledger, but opens no
notification intake. Profiles the conversation was already exported for are not exported again
(the same idempotency as the service). Exit code 0 when the export finished without failures.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("conversation_id", help="the Genesys Cloud conversation id")
    parser.add_argument(
        "--settings", type=Path, default=None, help="settings file (default ./callexport.toml)"
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after this many seconds")


def main(args: argparse.Namespace) -> int:
    from messages.intake import ExportRequested
    from service.cli import prepare

    deps = prepare(args.settings, intake=False)
    if isinstance(deps, int):
        return deps
    return export_one(deps, args.conversation_id, args.timeout, ExportRequested)


def export_one(deps: object, conversation_id: str, timeout: float, request_type: type) -> int:
    from service.runtime import Service

    ledger = deps.ledger  # type: ignore[attr-defined]
    if not ledger.add_job(conversation_id, (), 0.0, source="operator"):
        ledger.restart(conversation_id)  # wait for this run's outcome, not a previous one
    service = Service(deps)  # type: ignore[arg-type]
    service.start()
    try:
        deadline = time.monotonic() + timeout
        while not deps.directory.tell("exports", request_type(conversation_id)):  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                logger.error("The export supervisor did not start")
                return 1
            time.sleep(0.05)
        while time.monotonic() < deadline:
            job = deps.ledger.job(conversation_id)  # type: ignore[attr-defined]
            if job is not None and job.state in ("done", "failed"):
                logger.info(
                    "Conversation %s: %s%s",
                    conversation_id,
                    job.state,
                    f" ({job.last_error})" if job.last_error else "",
                )
                return 0 if job.state == "done" else 1
            time.sleep(0.1)
        logger.error("Conversation %s: not finished after %.0f s", conversation_id, timeout)
        return 1
    finally:
        service.drain(30.0)
