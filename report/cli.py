"""`python run.py report --from DATE --to DATE [-o FILE.csv|FILE.json|FILE.html]`: account for every
call that ended in the interval (UTC days, both included) in a watched queue, per export profile.

Without `-o` a summary is printed. Exit codes: 0 the report was made (whatever it says), 1 Genesys Cloud
or the ledger failed while making it, 2 bad input (an interval reversed, in the future or beyond the
analytics retention, an unknown profile or queue, an output format other than csv/json/html, missing
settings or credentials: a precise message, and nothing is started), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genesys.rest import GenesysClient
    from ledger.store import Ledger
    from messages.config import ConfigSnapshot
    from service.settings import Settings

logger = logging.getLogger(__name__)

RETENTION_DAYS = 5 * 365
"""Genesys Cloud keeps conversation details searchable for up to 5 years (help.mypurecloud.com,
"Retention period for analytics data and recording"); an org may keep them less long."""
EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_interval_arguments(parser: argparse.ArgumentParser) -> None:
    """`--from DATE --to DATE`: the days of calls a report or a backfill covers."""
    parser.add_argument(
        "--from", dest="start", required=True, metavar="DATE", help="first day, YYYY-MM-DD (UTC)"
    )
    parser.add_argument(
        "--to", dest="end", required=True, metavar="DATE", help="last day, YYYY-MM-DD (UTC), included"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_interval_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="write FILE.csv, FILE.json or FILE.html (default: a summary)",
    )
    parser.add_argument(
        "--profile", action="append", default=[], metavar="NAME", help="only this profile (repeatable)"
    )
    parser.add_argument(
        "--queue", action="append", default=[], metavar="NAME", help="only this queue (repeatable)"
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


def parse_interval(start: str, end: str, *, today: date, retention_days: int) -> tuple[datetime, datetime]:
    """[first day 00:00 UTC, day after the last 00:00 UTC); `ValueError` with a precise message."""
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise ValueError(f"--from {start!r} is not a date (YYYY-MM-DD)") from None
    try:
        last = date.fromisoformat(end)
    except ValueError:
        raise ValueError(f"--to {end!r} is not a date (YYYY-MM-DD)") from None
    if last < first:
        raise ValueError(f"the interval is reversed: --from {first} is after --to {last}")
    if first > today:
        raise ValueError(f"the interval is in the future: --from {first} is after today ({today}, UTC)")
    if last > today:
        raise ValueError(f"the interval reaches into the future: --to {last} is after today ({today}, UTC)")
    oldest = today - timedelta(days=retention_days)
    if first < oldest:
        raise ValueError(
            f"--from {first} is beyond the analytics data retention ({retention_days} days: nothing before "
            f"{oldest} can be queried)"
        )
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    stop = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return begin, stop


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        start, end = parse_interval(
            args.start, args.end, today=datetime.now(UTC).date(), retention_days=args.retention_days
        )
    except ValueError as exc:
        return _input_error(str(exc))
    if args.output is not None:
        from report.render import FORMATS

        if args.output.suffix.lower().lstrip(".") not in FORMATS:
            return _input_error(f"-o {args.output}: the report is written as .csv, .json or .html")
        if args.output.exists() and args.output.is_dir():
            return _input_error(f"-o {args.output} is a directory")
    deps = _prepare(args.settings)
    if isinstance(deps, int):
        return deps
    client, snapshot, ledger, settings = deps
    from genesys.errors import BadRequest, GenesysError
    from report.collect import Collector, ReportInputError, ReportRequest

    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        collector = Collector(client, snapshot, ledger)
        request = ReportRequest(start, end, tuple(args.profile), tuple(args.queue))
        try:
            profiles = collector.select_profiles(request.profiles)
            collector.queue_ids(profiles, request.queues)
        except ReportInputError as exc:
            return _input_error(str(exc))
        try:
            report = collector.collect(request, api_url=settings.api_url, stop=stop)
        except ReportInputError as exc:
            return _input_error(str(exc))
        except BadRequest as exc:
            return _input_error(f"Genesys Cloud refused the interval: {exc}")
        except GenesysError as exc:
            if stop.is_set():
                print("report: interrupted", file=sys.stderr)
                return EXIT_INTERRUPTED
            logger.error("the report could not be made: %s", exc)
            return EXIT_FAILED
        from report.render import to_text, write

        if args.output is not None:
            write(report, args.output)
            print(f"report written to {args.output}")
        sys.stdout.write(to_text(report))
        return EXIT_OK
    finally:
        signal.signal(signal.SIGINT, previous)
        client.close()
        if ledger is not None:
            ledger.close()


def _input_error(message: str) -> int:
    print(f"report: {message}", file=sys.stderr)
    return EXIT_INPUT


def _prepare(
    settings_path: Path | None,
) -> tuple[GenesysClient, ConfigSnapshot, Ledger | None, Settings] | int:
    """Settings, credentials, client, configuration snapshot and (when it exists) the ledger: the
    embedded SQLite file, or the shared PostgreSQL ledger `[service] ledger_url` names."""
    from service.command_setup import prepare_command

    prepared = prepare_command("report", settings_path)
    if isinstance(prepared, int):
        return prepared
    settings, client = prepared.settings, prepared.client
    ledger = None
    path = settings.state_dir / "ledger.sqlite3"
    if settings.ledger_url or path.exists():
        from ledger import LedgerUnavailable
        from service.ledger_open import open_ledger

        try:
            ledger = open_ledger(settings)
        except LedgerUnavailable as exc:
            client.close()
            return _input_error(str(exc))
    else:
        logger.warning(
            "no export ledger at %s: statuses come from what was written back to Genesys Cloud only", path
        )
    return client, prepared.snapshot, ledger, settings
