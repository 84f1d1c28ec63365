"""`python run.py retry`: export failed work again, while the service runs (no restart needed).

Matching jobs are set to wake at once in the ledger; the running service's scheduler picks them up
within a second (or the next start does). Written files and exported statuses still count, so only
what did not succeed is done again.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings", type=Path, default=None, help="settings file (default ./callexport.toml)"
    )
    parser.add_argument("--failed", action="store_true", help="every failed conversation (the default)")
    parser.add_argument(
        "--since", default=None, help="only conversations that ended since T (ISO date/time, or 30m, 12h, 7d)"
    )
    parser.add_argument("--conversation", default=None, help="only this conversation (failed or parked)")


def parse_since(text: str, now: float | None = None) -> float:
    """An ISO date/time (local time when it has no offset) or a relative age such as 12h."""
    now = time.time() if now is None else now
    match = _RELATIVE.match(text.strip().lower())
    if match:
        value, unit = float(match.group(1)), match.group(2)
        return now - value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f"--since {text!r}: not an ISO date/time or an age like 30m, 12h, 7d") from None


def main(args: argparse.Namespace) -> int:
    from ledger import LedgerTooNew, LedgerUnavailable
    from service.settings import SettingsError, ledger_location, load_settings

    try:
        settings = load_settings(args.settings)
        since = parse_since(args.since) if args.since else None
    except (SettingsError, ValueError) as exc:
        print(f"run.py retry: {exc}", file=sys.stderr)
        return 2
    location = ledger_location(settings)
    if not settings.ledger_url and not location.exists():
        print(f"run.py retry: no export ledger at {location}", file=sys.stderr)
        return 2
    try:
        from service.ledger_open import open_ledger

        ledger = open_ledger(settings)
    except (LedgerTooNew, LedgerUnavailable) as exc:
        print(f"run.py retry: {exc}", file=sys.stderr)
        return 2
    try:
        states = ("failed",) if args.failed or not args.conversation else ("failed", "parked")
        woken = ledger.retry(since=since, conversation_id=args.conversation, states=states)
    finally:
        ledger.close()
    if not woken:
        print("Nothing to retry.")
        return 1 if args.conversation else 0
    print(f"Re-queued {len(woken)} conversation(s); a running service picks them up within a second.")
    for conversation_id in woken[:20]:
        print(f"  {conversation_id}")
    if len(woken) > 20:
        print(f"  … and {len(woken) - 20} more")
    return 0
