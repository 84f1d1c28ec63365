"""`run.py backfill --dry-run`: what a backfill would export, each file's path (the preview of `run.py
profiles check`, from the analytics documents: one stand-in recording per call, as the preview does
without a recordings document), and an estimate of its API requests, time at the backfill's budget
and storage. Only the analytics requests that find the conversations are made; nothing is written."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from backfill.plan import RUN_OVERHEAD, attributes_of, decide, estimate, requests_per_call
from backfill.progress import summary
from export.batch_sources import batchable
from genesys.bulk import DetailsJobRunner, Ready, run_to_end
from genesys.recordings import recording_expected

if TYPE_CHECKING:
    from backfill.cli import Inputs
    from genesys.rest import GenesysClient
    from messages.config import ConfigSnapshot
    from service.settings import Settings

logger = logging.getLogger(__name__)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def dry_run(
    settings: Settings, client: GenesysClient, snapshot: ConfigSnapshot, inputs: Inputs, stop: threading.Event
) -> int:
    from backfill.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, open_ledger
    from backfill.plan import Counts, skip_label
    from backfill.runner import queue_filters
    from export.planner import Planner
    from profiles.preview import preview_files

    ledger = (
        open_ledger(settings)
        if settings.ledger_url or (settings.state_dir / "ledger.sqlite3").exists()
        else None
    )
    try:
        runner = DetailsJobRunner(
            client, inputs.start, inputs.end, segment_filters=queue_filters(sorted(inputs.queues))
        )
        found: list[dict[str, Any]] = []
        result = run_to_end(runner, stop=stop, on_items=found.extend)
        if not isinstance(result.outcome, Ready):
            if stop.is_set():
                print("backfill: interrupted", file=sys.stderr)
                return EXIT_INTERRUPTED
            logger.error("finding the conversations failed: %s", result.outcome.reason)
            return EXIT_FAILED
        by_name = {p.name: p for p in snapshot.config.profiles}
        counts = Counts(found=len(found))
        todo: list[tuple[dict[str, Any], list[Any]]] = []
        without_attributes = 0
        not_recorded = 0
        out = sys.stdout
        out.write(
            f"Backfill {inputs.start.date()}..{inputs.end.date()} (dry run): profiles "
            f"{', '.join(inputs.profiles)}; queues {', '.join(sorted(inputs.queues.values()))}\n"
        )
        for doc in sorted(
            found, key=lambda d: (d.get("conversationEnd") or "", d.get("conversationId") or "")
        ):
            decision = decide(doc, snapshot, inputs.profiles, set(inputs.queues), ledger)
            if decision.skip:
                counts.skipped[skip_label(decision.skip)] += 1
                if decision.skip != "out of scope":
                    counts.in_scope += 1
                continue
            counts.in_scope += 1
            if recording_expected(doc) is False:
                # analytics says no recording was made: the export only writes the status back
                counts.skipped["not recorded"] += 1
                not_recorded += 1
                out.write(f"{decision.conversation_id}  ended {doc.get('conversationEnd')}: not recorded\n")
                continue
            profiles = [by_name[name] for name in decision.profiles if name in by_name]
            todo.append((doc, profiles))
            if attributes_of(doc) is None:
                without_attributes += 1
            out.write(f"{decision.conversation_id}  ended {doc.get('conversationEnd')}\n")
            for profile in profiles:
                for planned in preview_files(profile, doc, None, queue_names=snapshot.queue_names):
                    out.write(f"    {profile.name}: {planned.kind}: {planned.path}\n")
        planner = Planner(snapshot, None, None)  # type: ignore[arg-type]
        per_call = requests_per_call(
            full_writeback=settings.backfill_writeback == "full",
            needs_conversation=False,
            transcripts=any(p.transcript_export_enabled for _, ps in todo for p in ps),
            batch=settings.backfill_downloads == "batch" and batchable(p for _, ps in todo for p in ps),
        )
        per_minute = max(1, int(settings.requests_per_minute * settings.backfill_budget_share))
        guess = estimate(todo, per_call=per_call, discovery_requests=runner.requests, per_minute=per_minute)
        extra = without_attributes + (
            len({d.get("conversationId") for d, _ in todo}) // 100 + 1
            if planner.needs_user_documents()
            else 0
        )
        requests = guess.requests + extra + not_recorded
        out.write(
            f"\n{summary(counts)}\n"
            f"to export: {guess.calls} call(s); about {requests} API request(s) "
            f"({runner.requests} to find them, {RUN_OVERHEAD} to start, {per_call:g} per call"
            + (
                f", {without_attributes} conversation(s) read for their attributes"
                if without_attributes
                else ""
            )
            + (f", 1 for each of {not_recorded} call(s) not recorded (its status)" if not_recorded else "")
            + f"); about {requests / per_minute:.1f} min at {per_minute} requests/min "
            f"({settings.backfill_budget_share:.0%} of {settings.requests_per_minute}); "
            f"at most about {_size(guess.bytes)} of audio (the calls' whole length)\n"
        )
        return EXIT_OK
    finally:
        if ledger is not None:
            ledger.close()
        client.close()
