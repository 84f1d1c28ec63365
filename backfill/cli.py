"""`python run.py backfill --from DATE --to DATE [--profile NAME]... [--queue NAME]... [--dry-run]`:
export every call that ended in the interval (UTC days, both included) and that an export profile
takes, through the same pipeline as live calls, exactly once per profile.

* Finding: the analytics details jobs for the part of the interval the data lake has settled, the
  synchronous query for the rest (`genesys.bulk.DetailsJobRunner`); the job results carry each
  conversation's details and participant attributes (with the status written back by any instance).
* Deciding: per conversation and selected profile, out of scope, already exported (the ledger's
  status or the written-back one), or to export (`backfill.plan.decide`).
* Exporting: the conversations to export become ledger jobs of source "backfill" (insert-if-absent:
  one the service already knows is left to it) holding the documents already read; the command runs
  the export actors in-process for its own jobs only (`actors.backfill_supervisor`), with its own
  limiter at `[backfill] budget_share` of the org's budget, so a running service keeps the rest.
* Progress: a bar on a terminal, log lines elsewhere; Ctrl+C stops cleanly (running exports finish
  within `shutdown_timeout_seconds`, the rest is handed back) and the same command resumes
  (`state_dir/backfill/<run>.json` and the ledger). A run that finished starts afresh when run again:
  what is exported is skipped, archived recordings (restored meanwhile) are tried again.

Exit codes: 0 done (every in-scope call exported or skipped with its reason), 1 some exports failed or
Genesys Cloud failed, 2 bad input (nothing started), 130 interrupted (run it again to resume).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import signal
import sys
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backfill.plan import RunState
    from genesys.rest import GenesysClient
    from ledger.store import Ledger
    from messages.config import ConfigSnapshot
    from service.settings import Settings

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
STALE_AFTER_S = 120.0
"""A backfill job left queued or running and not updated for this long belongs to a process that died."""
BACKFILL_TRANSCRIPT_WAIT_S = 300.0
"""A past call's transcript is there or will not come: backfill waits for one at most this long."""
LOG_FILE = "backfill.log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from report.cli import RETENTION_DAYS, add_interval_arguments

    add_interval_arguments(parser)
    parser.add_argument(
        "--profile", action="append", default=[], metavar="NAME", help="only this profile (repeatable)"
    )
    parser.add_argument(
        "--queue", action="append", default=[], metavar="NAME", help="only this queue (repeatable)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be exported (each file's path) and estimate requests, time and storage",
    )
    parser.add_argument(
        "--retention-days",
        type=int,
        default=RETENTION_DAYS,
        help=f"the org's analytics data retention in days (default {RETENTION_DAYS})",
    )
    parser.add_argument(
        "--settings", type=Path, default=None, help="settings file (default ./callexport.toml)"
    )


def _input_error(message: str) -> int:
    print(f"backfill: {message}", file=sys.stderr)
    return EXIT_INPUT


@dataclass
class Inputs:
    start: datetime
    end: datetime
    profiles: list[str]  # profile names (as the document spells them)
    queues: dict[str, str]  # queue id -> name
    queue_names: list[str]  # as given on the command line


def main(args: argparse.Namespace) -> int:
    from report.cli import parse_interval

    try:
        start, end = parse_interval(
            args.start,
            args.end,
            today=_utc_today(),
            retention_days=args.retention_days,
        )
    except ValueError as exc:
        return _input_error(str(exc))
    prepared = _prepare(args.settings)
    if isinstance(prepared, int):
        return prepared
    settings, client, snapshot = prepared
    from report.collect import Collector, ReportInputError

    try:
        collector = Collector(client, snapshot, None)
        profiles = collector.select_profiles(tuple(args.profile))
        queues = collector.queue_ids(profiles, tuple(args.queue))
        if not queues:
            raise ReportInputError("no queue to backfill: the selected profiles name no queue of the org")
    except ReportInputError as exc:
        client.close()
        return _input_error(str(exc))
    inputs = Inputs(start, end, [p.name for p in profiles], queues, list(args.queue))
    _configure_logging(settings, dry_run=args.dry_run)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            logger.warning("Second interrupt: exiting now")
            import os

            os._exit(EXIT_INTERRUPTED)
        logger.warning("Interrupted: stopping cleanly (the same command resumes); Ctrl+C again exits at once")
        stop.set()

    previous = signal.signal(signal.SIGINT, on_signal)
    previous_term = signal.signal(signal.SIGTERM, on_signal)
    try:
        if args.dry_run:
            from backfill.dry_run import dry_run

            return dry_run(settings, client, snapshot, inputs, stop)
        from backfill.runner import Backfill

        return Backfill(settings, client, snapshot, inputs, stop).run()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_backfill", False):
                logging.getLogger().removeHandler(handler)
                handler.close()


def _utc_today() -> Any:
    from datetime import UTC

    return datetime.now(UTC).date()


def backfill_client(settings: Settings, credentials: Any) -> GenesysClient:
    """A client with its own limiter: `budget_share` of the org's budget, all of it background work."""
    from genesys.config import ClientConfig
    from genesys.ratelimit import RateLimiter
    from genesys.rest import GenesysClient

    per_minute = max(1, int(settings.requests_per_minute * settings.backfill_budget_share))
    config = ClientConfig(
        api_url=settings.api_url,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        login_url=settings.login_url,
        requests_per_minute=per_minute,
    )
    return GenesysClient(config, limiter=RateLimiter(per_minute, background_share=1.0))


def backfill_settings(settings: Settings) -> Settings:
    per_minute = max(1, int(settings.requests_per_minute * settings.backfill_budget_share))
    return replace(
        settings,
        requests_per_minute=per_minute,
        transcript_wait_s=min(settings.transcript_wait_s, BACKFILL_TRANSCRIPT_WAIT_S),
        batch_threshold=0,
    )


def _prepare(settings_path: Path | None) -> tuple[Settings, GenesysClient, ConfigSnapshot] | int:
    from service.command_setup import prepare_command

    prepared = prepare_command("backfill", settings_path, backfill_client)
    if isinstance(prepared, int):
        return prepared
    return prepared.settings, prepared.client, prepared.snapshot


def _configure_logging(settings: Settings, *, dry_run: bool) -> None:
    """The backfill's own log file next to the service's (two processes never share a rotating file);
    on a terminal the console shows warnings only (the progress bar says the rest)."""
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "_backfill", False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    console.setLevel(logging.WARNING if sys.stderr.isatty() or dry_run else logging.INFO)
    console._backfill = True  # type: ignore[attr-defined]
    root.addHandler(console)
    if settings.log_dir is not None:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            settings.log_dir / LOG_FILE, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        rotating.setFormatter(formatter)
        rotating._backfill = True  # type: ignore[attr-defined]
        root.addHandler(rotating)
    for noisy in ("urllib3", "websocket", "websockets", "PureCloudPlatformClientV2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def open_ledger(settings: Settings) -> Ledger:
    """The ledger the service uses (the SQLite file in the state directory, or `ledger_url`)."""
    from service.ledger_open import open_ledger as open_service_ledger

    return open_service_ledger(settings)


def load_state(settings: Settings, key: str, request: dict[str, Any]) -> tuple[Any, RunState]:
    from backfill.plan import RunState, StateFile

    file = StateFile(settings.state_dir / "backfill" / f"{key}.json")
    state = file.load()
    if state is None or state.complete:
        state = RunState(key, request)
    return file, state
