"""`python run.py status`: what the export ledger says, for an operator (the service may be running).

Counts per state (running, queued, parked by reason, held, failed, done today), the oldest waiting
conversation, every live instance on the ledger (name, host, version, running and parked work,
requests per minute, last heartbeat, which one leads; several on a shared PostgreSQL ledger) and,
with `--failed`, the failed ones with their causes. Reads the ledger only; it never changes anything.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger import Ledger

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings", type=Path, default=None, help="settings file (default ./callexport.toml)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--failed",
        type=int,
        nargs="?",
        const=20,
        default=0,
        metavar="N",
        help="list the N most recent failures",
    )


LIVE_WITHIN_S = 60.0
"""An instance whose last heartbeat is older than this is not listed as live."""


def gather(
    ledger: Ledger, now: float | None = None, failed: int = 0, live_within_s: float = LIVE_WITHIN_S
) -> dict[str, Any]:
    now = time.time() if now is None else now
    midnight = time.mktime(time.localtime(now)[:3] + (0, 0, 0, 0, 0, -1))
    counts = ledger.counts()
    finished_today = ledger.finished_since(midnight)
    oldest = ledger.oldest_waiting()
    figures: dict[str, Any] = {
        "running": counts.get("running", 0),
        "queued": counts.get("queued", 0),
        "parked": counts.get("parked", 0),
        "parked_by_reason": ledger.parked_by_reason(),
        "held": counts.get("held", 0),
        "failed": counts.get("failed", 0),
        "failed_today": finished_today.get("failed", 0),
        "done_today": finished_today.get("done", 0),
        "done": counts.get("done", 0),
        "oldest_waiting": None,
    }
    if oldest is not None:
        figures["oldest_waiting"] = {
            "conversation_id": oldest.conversation_id,
            "state": oldest.state,
            "reason": oldest.park_reason,
            "waiting_s": round(now - (oldest.created_at or now), 1),
            "wakes_in_s": None if oldest.wake_at is None else round(oldest.wake_at - now, 1),
        }
    figures["instances"] = [
        {
            "name": i.name,
            "host": i.host,
            "pid": i.pid,
            "version": i.version,
            "leader": i.leader,
            "running": i.running,
            "parked": i.parked,
            "requests_per_minute": round(i.requests_per_minute, 1),
            "budget": i.budget,
            "heartbeat_age_s": round(max(0.0, now - i.heartbeat_at), 1),
        }
        for i in ledger.instances(live_within=live_within_s)
    ]
    figures["shared"] = ledger.shared
    figures["orphaned_leases"] = len(ledger.orphaned_leases()) if ledger.shared else 0
    if failed:
        jobs = sorted(ledger.jobs("failed"), key=lambda j: j.done_at or 0.0, reverse=True)[:failed]
        figures["failures"] = [
            {"conversation_id": j.conversation_id, "cause": j.last_error or ""} for j in jobs
        ]
    return figures


def render(figures: dict[str, Any]) -> str:
    reasons = ", ".join(f"{r or 'waiting'}: {n}" for r, n in sorted(figures["parked_by_reason"].items()))
    lines = [
        f"running      {figures['running']}",
        f"queued       {figures['queued']}",
        f"parked       {figures['parked']}" + (f"  ({reasons})" if reasons else ""),
        f"held         {figures['held']}" + ("  (waiting for a valid license)" if figures["held"] else ""),
        f"failed       {figures['failed']}  ({figures['failed_today']} today)",
        f"done today   {figures['done_today']}  ({figures['done']} kept in the ledger)",
    ]
    oldest = figures["oldest_waiting"]
    if oldest:
        line = f"oldest waiting: {oldest['conversation_id']} ({oldest['state']}"
        if oldest["reason"]:
            line += f": {oldest['reason']}"
        line += f"), recorded {_ago(oldest['waiting_s'])} ago"
        if oldest["wakes_in_s"] is not None:
            line += f", wakes in {_ago(max(0.0, oldest['wakes_in_s']))}"
        lines.append(line)
    instances = figures.get("instances") or []
    if instances and (figures.get("shared") or len(instances) > 1):  # one SQLite instance: as before
        lines.append(f"instances    {len(instances)} live")
        for i in instances:
            budget = f" of {i['budget']}" if i.get("budget") else ""
            lines.append(
                f"  {i['name']}{' (leader)' if i['leader'] else ''}  host {i['host']}, version {i['version']}, "
                f"{i['running']} running, {i['parked']} parked, {i['requests_per_minute']:.0f}{budget} "
                f"requests/min, heartbeat {_ago(i['heartbeat_age_s'])} ago"
            )
    if figures.get("orphaned_leases"):
        lines.append(f"expired leases not taken over yet: {figures['orphaned_leases']}")
    for failure in figures.get("failures", []):
        lines.append(f"failed: {failure['conversation_id']}: {failure['cause']}")
    return "\n".join(lines)


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(args: argparse.Namespace) -> int:
    from ledger import LedgerTooNew, LedgerUnavailable
    from service.ledger_open import describe, open_ledger
    from service.settings import SettingsError, ledger_location, load_settings

    try:
        settings = load_settings(args.settings)
    except SettingsError as exc:
        print(f"run.py status: {exc}", file=sys.stderr)
        return 2
    location = ledger_location(settings)
    if not settings.ledger_url and not location.exists():
        print(f"No export ledger at {location}: the service has not run with this state directory yet.")
        return 0
    try:
        ledger = open_ledger(settings)
    except (LedgerTooNew, LedgerUnavailable) as exc:
        print(f"run.py status: {exc}", file=sys.stderr)
        return 2
    try:
        figures = gather(ledger, failed=args.failed)
    finally:
        ledger.close()
    where = describe(settings)
    print(json.dumps(figures, indent=2) if args.json else f"Export ledger {where}\n{render(figures)}")
    return 0
