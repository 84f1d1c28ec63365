"""ExportSupervisor: one transient ExportActor per conversation that has work to do now.

* A finished conversation is written to the ledger *before* anything else happens to it, so a
  crash of any actor (or of the process) loses nothing: on start-up the ledger's unfinished jobs
  are queued again, and parked ones keep their wake-up times.
* At most `max_concurrent_exports` ExportActors run at once (live work before backfill, then in
  arrival order). A conversation that only waits (processing delay, analytics, a transcript, a share
  that cannot be written) is parked in the ledger and holds no slot; a timer wakes it when its time
  comes, and `run.py retry` wakes failed ones the same way while the service runs.
* While unlicensed, or before the first configuration snapshot, jobs are recorded and held.
* Several instances on one PostgreSQL ledger: every start is a claim (the ledger starts a job for one
  instance only, under a lease); besides the jobs it learns of itself, an instance with free slots
  claims queued jobs from the ledger (`FOR UPDATE SKIP LOCKED`), renews the leases of what it runs
  every third of `lease_seconds`, stops an export whose lease another instance took over, and hands
  jobs whose lease expired (their instance died) back to the queue, where any instance resumes them
  from their machine state and planned/written outputs. The same timer writes the heartbeat and keeps
  the leader lease (`ledger.cluster`); pruning runs on the leader only. On SQLite (one instance) the
  claims always succeed and nothing else changes.
* A crashed ExportActor is restarted with backoff and resumes from the ledger. Crashes, and starts
  that never ended cleanly (the process died with the export running), are counted in the ledger, so
  a conversation that keeps crashing is dead-lettered (`failed`, ERROR logged) even across restarts.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import itertools
import logging
import time
from pathlib import Path
from typing import Any

import pykka

from actors.base import BackgroundDone
from actors.export import ExportActor
from actors.supervisor import ChildSpec, RestartPolicy, Supervisor, schedule
from export.batch_sources import batchable, remove_batch_files
from export.pace import BudgetPace
from export.prefetch import MAX_IDS as PREFETCH_IDS
from export.prefetch import prefetch_backlog
from export.steps import with_priority
from genesys.ratelimit import Priority
from messages.config import ConfigChanged, LicenseChanged
from messages.intake import ConversationFinished, ExportRequested
from messages.lifecycle import Tick
from messages.pipeline import ExportDone
from reliability.backoff import Backoff

logger = logging.getLogger(__name__)

MAX_CRASHES = 3
BACKGROUND_PRIORITY = 5
"""Jobs of this priority or lower (reconciled, backfilled) leave a quarter of the slots to live calls."""
MAX_UNCLEAN_STARTS = 5
WAKE_CHECK_S = 0.25
PRUNE_EVERY_S = 6 * 3600.0


class ExportSupervisor(Supervisor):
    def __init__(self, *, deps: Any, **kwargs: Any) -> None:
        kwargs.setdefault("policy", RestartPolicy(max_restarts=1000, period_s=60, backoff=Backoff(0.5, 30.0)))
        super().__init__(**kwargs)
        self.deps = deps
        self.snapshot: Any = None  # the configuration with the license's limits applied
        self.raw_snapshot: Any = None
        self.limits: dict[str, Any] = {}
        self.limit_message = ""
        self.licensed: bool = deps.license_required is False
        self.license_reason = "no license check configured" if self.licensed else "license not checked yet"
        self.queue: list[tuple[int, int, str]] = []  # heap of (priority, arrival, conversation id)
        self.queued: set[str] = set()
        self.arrivals = itertools.count()
        self.running: set[str] = set()
        self.background: set[str] = set()  # running exports of background priority
        self.outcomes: dict[str, str] = {}
        self.draining = False
        self.next_prune = 0.0
        self.prefetching = False
        self.prefetched: set[str] = set()  # asked for in bulk already (found or not)
        self.pace = BudgetPace()  # while the API budget binds, live calls start after a bulk read
        cluster = getattr(deps, "cluster", None)
        self.cluster = cluster
        self.me: str = cluster.name if cluster is not None else "local"
        self.lease_s = float(getattr(deps.settings, "lease_s", 20.0))
        self.shared = bool(getattr(deps.ledger, "shared", False))
        self.next_beat = 0.0
        self.next_claim = 0.0
        # (monotonic time, API requests so far) at each beat of the last minute: requests per minute
        # over a sliding minute (a saturated limiter releases its window in bursts)
        self.rate_samples: collections.deque[tuple[float, int]] = collections.deque()
        # the ledger's database is away (PostgreSQL restarting, a network cut): what could not be
        # recorded waits here and is recorded when it is back
        self.ledger_down = False
        self.unrecorded_finishes: list[ConversationFinished] = []
        self.unrecorded_outcomes: dict[str, tuple[str, str | None]] = {}
        self.resume_pending = False  # the ledger was away when this supervisor started
        self.prefetch_held: set[str] = set()  # queued conversations whose bulk read runs (not started)
        self.batch_running = False  # ... and it includes a batch recording download
        # recordings a backlog's batch download brought (export/prefetch.py): removed when their export ends
        self.batch_dir = Path(getattr(deps.settings, "state_dir", Path("state"))) / "batch-recordings"

    def setup(self) -> None:
        super().setup()
        try:
            self._resume_unfinished()
        except Exception as exc:  # the ledger is away at start: resumed when it is back
            if not self._ledger_error(exc):
                raise
            self.resume_pending = True
        self._beat()
        if not self.resume_pending:
            try:
                self._prune()
            except Exception as exc:  # pruned on a later wake
                if not self._ledger_error(exc):
                    raise
        schedule(self.actor_ref, WAKE_CHECK_S, Tick("wake"))

    def _resume_unfinished(self) -> None:
        """Queue what the previous run (or this supervisor before a restart) left unfinished."""
        ledger = self.deps.ledger
        # backfill jobs belong to `run.py backfill` (it may be running now, beside this service): its next
        # run resumes them (actors/backfill_supervisor.py)
        resumed = [
            job
            for job in ledger.requeue_unfinished(owner=self.me if self.shared else None) + ledger.jobs("held")
            if job.source != "backfill"
        ]
        for job in resumed:
            self._enqueue(job.conversation_id, job.priority)
        parked = ledger.counts().get("parked", 0)
        if self.shared and (resumed or parked):
            logger.info(
                "Instance %s joins the shared ledger: %d export(s) waiting for a slot (this instance's "
                "unfinished ones among them), %d parked until their time",
                self.me,
                len(resumed),
                parked,
            )
        elif resumed or parked:
            logger.info(
                "Resuming %d export(s) left unfinished by the previous run; %d parked until their time",
                len(resumed),
                parked,
            )

    # -- messages --------------------------------------------------------------------------
    def handle_other(self, message: Any) -> Any:
        try:
            return self._handle(message)
        except Exception as exc:
            if not self._ledger_error(exc):
                raise
            if isinstance(message, ConversationFinished):
                self.unrecorded_finishes.append(message)  # recorded when the ledger is back
            return None

    def _ledger_error(self, exc: BaseException) -> bool:
        """A ledger call failed because its database is away: note it (once) and carry on; the timer
        tries again. False for any other error (a real crash)."""
        from ledger.db import unavailable

        if not unavailable(exc):
            return False
        if not self.ledger_down:
            logger.warning(
                "Export ledger unreachable (%s); exports wait and resume when it is back",
                str(exc).splitlines()[0][:300],
            )
        self.ledger_down = True
        return True

    def _ledger_back(self) -> None:
        """The ledger answers again: record what waited (each removed once recorded, so a new outage
        midway loses nothing), and queue again what the ledger has queued (a start interrupted by the
        outage left its job queued there)."""
        outcomes, finishes = len(self.unrecorded_outcomes), len(self.unrecorded_finishes)
        while self.unrecorded_outcomes:
            conversation_id, (state, reason) = next(iter(self.unrecorded_outcomes.items()))
            self.deps.ledger.set_state(conversation_id, state, reason, owner=self._owner())
            del self.unrecorded_outcomes[conversation_id]
        while self.unrecorded_finishes:
            self._finished(self.unrecorded_finishes[0])
            self.unrecorded_finishes.pop(0)
        if self.resume_pending:
            self._resume_unfinished()
            self.resume_pending = False
        for job in self.deps.ledger.jobs("queued"):
            if job.conversation_id not in self.running:
                self._enqueue(job.conversation_id, job.priority)
        self.ledger_down = False
        logger.info(
            "Export ledger reachable again: %d outcome(s) and %d finished call(s) recorded; exports resume",
            outcomes,
            finishes,
        )

    def _handle(self, message: Any) -> Any:
        if isinstance(message, ConversationFinished):
            self._finished(message)
        elif isinstance(message, ExportRequested):
            self._requested(message.conversation_id)
        elif isinstance(message, ConfigChanged):
            self.raw_snapshot = message.snapshot
            self._apply_limits()
            self._pump()
        elif isinstance(message, LicenseChanged):
            self._license(message)
        elif isinstance(message, ExportDone):
            self.outcomes[message.conversation_id] = message.outcome
        elif message == "drain":
            self.draining = True
            self.pace.stop()
            logger.info(
                "Export intake closed: %d running, %d waiting (they resume on the next start)",
                len(self.running),
                len(self.queue),
            )
        elif message == "status":
            return self.status()
        elif (
            isinstance(message, BackgroundDone)
            and isinstance(message.tag, tuple)
            and message.tag[0] == "prefetch"
        ):
            self._prefetched(message)
        elif isinstance(message, Tick) and message.name == "wake":
            self._wake()
            if not self._stopping:
                schedule(self.actor_ref, WAKE_CHECK_S, Tick("wake"))
        else:
            return super().handle_other(message)
        return None

    def status(self) -> dict[str, Any]:
        ledger = self.deps.ledger
        return {
            "running": len(self.running),
            "queued": len(self.queue),
            "budget_bound": self.pace.bound,
            "parked": ledger.parked_by_reason(),
            "licensed": self.licensed,
            "license_reason": self.license_reason,
            "config_version": getattr(self.snapshot, "version", None),
            "instance": self.me,
            "leader": self.cluster.is_leader if self.cluster is not None else True,
        }

    def _enqueue(self, conversation_id: str, priority: int = 0) -> None:
        if conversation_id in self.queued:
            return
        self.queued.add(conversation_id)
        self.pace.queued(conversation_id, time.monotonic(), self.queued)
        heapq.heappush(self.queue, (priority, next(self.arrivals), conversation_id))

    def _finished(self, message: ConversationFinished) -> None:
        state = "queued" if self.licensed else "held"
        # found by the reconciliation sweep (missed while events could not reach us): after live calls
        reconciled = message.reason == "reconciled"
        priority = BACKGROUND_PRIORITY if reconciled else 0
        if not self.deps.ledger.add_job(
            message.conversation_id,
            message.queue_ids,
            message.finished_at,
            state,
            event=message.event,
            source="reconciled" if reconciled else "live",
            priority=priority,
        ):
            logger.debug(
                "Conversation %s already known; ignoring the repeated finish", message.conversation_id
            )
            return
        if not self.licensed:
            logger.warning(
                "Conversation %s finished while unlicensed (%s); kept to export when a valid license arrives",
                message.conversation_id,
                self.license_reason,
            )
        self._enqueue(message.conversation_id, priority)
        self._pump()

    def _requested(self, conversation_id: str) -> None:
        state = "queued" if self.licensed else "held"
        if conversation_id in self.running:
            return
        if not self.deps.ledger.add_job(conversation_id, (), 0.0, state, source="operator"):
            self.deps.ledger.restart(conversation_id, state)
        self._enqueue(conversation_id)
        self._pump()

    def _wake(self) -> None:
        if time.monotonic() >= self.next_beat:
            self._beat()
        try:
            if self.ledger_down:
                self._ledger_back()
            self._wake_ledger()
        except Exception as exc:
            if not self._ledger_error(exc):
                raise

    def _wake_ledger(self) -> None:
        now = time.time()
        if now >= self.next_prune:
            self._prune()
        if self.draining:
            return
        for conversation_id in self.deps.ledger.due(now):
            job = self.deps.ledger.job(conversation_id)
            self._enqueue(conversation_id, job.priority if job else 0)
        self._pump()
        if self.shared:
            self._claim()

    # -- several instances: heartbeat, leader, leases, claims --------------------------------------
    def _beat(self) -> None:
        """Every third of the lease: heartbeat and leader lease; on a shared ledger, renew the leases
        of what runs here, stop what another instance took over and release expired leases."""
        self.next_beat = time.monotonic() + self.lease_s / 3
        if self.cluster is None:
            return
        client = self.deps.client
        requests = int(getattr(client, "request_count", 0) or 0)
        now = time.monotonic()
        self.rate_samples.append((now, requests))
        while len(self.rate_samples) > 2 and now - self.rate_samples[1][0] >= 60.0:
            self.rate_samples.popleft()
        first_at, first_count = self.rate_samples[0]
        per_minute = (requests - first_count) / max(1e-6, (now - first_at) / 60) if now > first_at else 0.0
        limiter = getattr(client, "limiter", None)
        try:
            self.cluster.beat(
                running=len(self.running),
                requests_per_minute=per_minute,
                budget=getattr(limiter, "per_minute", None),
            )
            if self.shared:
                self._renew_leases()
        except Exception as exc:  # the database is away: work goes on, the leases are renewed later
            logger.warning("Ledger unreachable for the heartbeat and lease renewal (%s); retrying", exc)
            self.cluster.lost()

    def _renew_leases(self) -> None:
        ledger = self.deps.ledger
        held = ledger.renew(self.me, lease_s=self.lease_s)
        for conversation_id in sorted(self.running - held):
            job = ledger.job(conversation_id)
            if job is not None and job.state == "queued" and job.lease_owner == self.me and not self.draining:
                # this instance stalled past its lease and the job was queued again, but nobody took
                # it: hold it again (its writes are fenced by the lease)
                if ledger.start(conversation_id, owner=self.me, lease_s=self.lease_s) is not None:
                    logger.info(
                        "Conversation %s: this instance's lease had expired but no instance took the "
                        "export over; it holds the lease again and goes on",
                        conversation_id,
                    )
                    continue
                job = ledger.job(conversation_id)
            if job is None or job.state != "running" or job.lease_owner in (None, self.me):
                continue  # parking or ending: not a lost lease
            logger.warning(
                "Conversation %s: instance %s took the export over (this instance's lease expired); "
                "stopping it here",
                conversation_id,
                job.lease_owner,
            )
            child_id = f"export:{conversation_id}"
            ref = self.child_ref(child_id)
            self.remove_child(child_id)
            self.running.discard(conversation_id)
            self.background.discard(conversation_id)
            self.outcomes.pop(conversation_id, None)
            if ref is not None:
                self.directory.unregister(child_id, ref)
                ref.stop(block=False)
        for conversation_id, owner in ledger.expire_leases():
            logger.info(
                "Conversation %s: the lease of instance %s expired (stopped or unreachable); its export "
                "is queued again to resume on any instance",
                conversation_id,
                owner or "?",
            )
            self.next_claim = 0.0

    def _claim(self) -> None:
        """Free slots take queued jobs from the shared ledger: the ones other instances recorded, woke
        or gave up (live work first; background work within its share of the slots)."""
        if self.draining or not self.licensed or self.snapshot is None or time.monotonic() < self.next_claim:
            return
        if self.pace.bound:
            return  # this instance's budget is spent: instances with room take the queued jobs
        slots = self.deps.settings.max_concurrent_exports
        free = slots - len(self.running)
        if free <= 0:
            return
        ledger = self.deps.ledger
        claimed = ledger.claim(
            self.me, free, lease_s=self.lease_s, below_priority=BACKGROUND_PRIORITY, exclude=self.running
        )
        background_slots = max(1, slots - max(1, slots // 4))
        room = min(free - len(claimed), background_slots - len(self.background))
        if room > 0:
            claimed += ledger.claim(self.me, room, lease_s=self.lease_s, exclude=self.running)
        # nothing waiting: look again in a second (a finished call recorded here starts at once anyway)
        self.next_claim = 0.0 if claimed else time.monotonic() + 1.0
        for job in claimed:
            self.queued.discard(job.conversation_id)
            self.pace.left_queue(job.conversation_id)
            self._launch(job)

    def _prune(self) -> None:
        self.next_prune = time.time() + PRUNE_EVERY_S
        if self.cluster is not None and not self.cluster.is_leader:
            return  # the leader prunes the shared ledger
        days = float(getattr(self.deps.settings, "prune_after_days", 90.0))
        removed = self.deps.ledger.prune(time.time() - days * 86400)
        if removed:
            logger.info("Ledger: forgot %d export(s) finished more than %.0f days ago", removed, days)

    def _apply_limits(self) -> None:
        """The license may cap the number of active profiles: the first N (in document order) apply."""
        snapshot = self.raw_snapshot
        if snapshot is None:
            return
        cap = self.limits.get("max_active_profiles")
        profiles = snapshot.config.profiles
        if cap is not None and len(profiles) > cap:
            kept, ignored = profiles[:cap], profiles[cap:]
            message = (
                f"the license allows {cap} active profile(s): exporting with "
                f"{', '.join(p.name for p in kept) or 'none'}; ignoring {', '.join(p.name for p in ignored)}"
            )
            if message != self.limit_message:
                logger.error("License limit: %s", message)
                self.limit_message = message
            snapshot = dataclasses.replace(
                snapshot, config=dataclasses.replace(snapshot.config, profiles=kept)
            )
        self.snapshot = snapshot

    def _license(self, message: LicenseChanged) -> None:
        was = self.licensed
        self.limits = dict(message.limits or {})
        self._apply_limits()
        self.licensed, self.license_reason = message.licensed, message.reason
        if message.licensed and not was:
            held = self.deps.ledger.jobs("held")
            for job in held:
                self.deps.ledger.set_state(job.conversation_id, "queued")
                self._enqueue(job.conversation_id, job.priority)
            if held:
                logger.info("Licensed again: exporting %d conversation(s) that finished meanwhile", len(held))
        self._pump()

    def _pump(self) -> None:
        if time.monotonic() >= self.next_beat:
            self._beat()  # also from here: a subclass with its own timer (backfill) renews its leases
        if self.draining or not self.licensed or self.snapshot is None:
            return
        ledger = self.deps.ledger
        slots = self.deps.settings.max_concurrent_exports
        # background work (found by reconciliation, backfilled) never takes the last slots: a live call
        # that ends meanwhile starts at once
        background_slots = max(1, slots - max(1, slots // 4))
        self._check_budget()
        deferred: list[tuple[int, int, str]] = []
        for_bulk = 0
        while self.queue and len(self.running) < slots:
            entry = heapq.heappop(self.queue)
            conversation_id = entry[2]
            if self._waits_for_bulk(entry):
                deferred.append(entry)
                for_bulk += 1
                if for_bulk > 2 * PREFETCH_IDS:
                    break  # the next bulk reads take them in this order: what follows waits for them
                continue
            if conversation_id in self.running or self._held_for_prefetch(entry):
                deferred.append(entry)  # its previous run is still stopping, or a batch is coming
                continue
            if entry[0] >= BACKGROUND_PRIORITY and len(self.background) >= background_slots:
                deferred.append(entry)
                break  # the heap is ordered: everything after this is background too
            try:
                job = ledger.job(conversation_id)
                started = (
                    None
                    if job is None or job.state in ("done", "failed", "parked")
                    else ledger.start(conversation_id, owner=self.me, lease_s=self.lease_s)
                )
            except Exception as exc:  # the ledger is away: the job waits in the queue (and the ledger)
                if not self._ledger_error(exc):
                    raise
                deferred.append(entry)
                break
            self.queued.discard(conversation_id)
            self.pace.left_queue(conversation_id)
            if job is None or job.state in ("done", "failed", "parked"):
                continue
            if started is None:
                logger.debug("Conversation %s: exported by instance %s", conversation_id, job.lease_owner)
                continue
            self._launch(started, background=entry[0] >= BACKGROUND_PRIORITY)
        for entry in deferred:
            heapq.heappush(self.queue, entry)
        self._maybe_prefetch()

    def _launch(self, job: Any, background: bool | None = None) -> None:
        """A job this instance just started (claimed): its ExportActor, unless it keeps dying."""
        conversation_id = job.conversation_id
        if job.unclean_starts > MAX_UNCLEAN_STARTS:
            self._dead_letter(
                conversation_id,
                f"the service stopped {job.unclean_starts - 1} times while exporting it",
            )
            return
        self.running.add(conversation_id)
        if job.priority >= BACKGROUND_PRIORITY if background is None else background:
            self.background.add(conversation_id)
        self.add_child(self._spec(job))

    def _maybe_prefetch(self) -> None:
        """A backlog: read the next waiting conversations' analytics details together (one request per
        100) so that their exports do not ask one by one (export/prefetch.py)."""
        threshold = int(getattr(self.deps.settings, "batch_threshold", 0) or 0)
        if self.prefetching or threshold <= 0 or not self.queue or self.snapshot is None:
            return
        if len(self.queue) < threshold and not self.pace.bound:
            return
        from export.planner import Planner

        entries = [e for e in sorted(self.queue) if e[2] not in self.prefetched][:PREFETCH_IDS]
        ids = [cid for _, _, cid in entries]
        if not ids or len(ids) < threshold and not self.pace.bulk_due(ids, time.monotonic()):
            return
        self.prefetched.update(ids)
        if len(self.prefetched) > 10_000:  # forget what left the queue
            self.prefetched = {cid for cid in self.prefetched if cid in self.queued}
        live = any(e[0] < BACKGROUND_PRIORITY for e in entries)
        planner = Planner(self.snapshot, self.deps.sequences, self.deps.ledger)
        batch = self._batchable()
        # they wait for slots anyway: not started one by one (each reading what the bulk read brings)
        # while it runs
        self.prefetch_held = set(ids)
        self.batch_running = batch
        self.prefetching = True
        self.pace.bulk_started(live, time.monotonic())
        self.run_in_background(
            with_priority,
            self.deps.client,
            Priority.LIVE if live else Priority.BACKGROUND,  # background work's read: within its share
            prefetch_backlog,
            self.deps.client,
            self.deps.ledger,
            ids,
            with_users=planner.needs_user_documents(),
            needs_attributes=planner.needs_participant_attributes(),
            batch_dir=self.batch_dir if batch else None,
            tag=("prefetch", len(ids)),
        )

    def _check_budget(self) -> None:
        """Whether the API budget sets the pace (`export.pace`): then queued live calls start only after
        a bulk read; one by one, each would spend requests the bulk read saves, and wait for the budget
        in its slot."""
        limiter = getattr(self.deps.client, "limiter", None)
        threshold = int(getattr(self.deps.settings, "batch_threshold", 0) or 0)
        changed = self.pace.update(limiter, enabled=threshold > 0)
        if changed and limiter is not None:
            logger.info(
                "The API budget (%s requests/min) sets the pace: waiting live calls (%d queued) start "
                "after bulk reads of their analytics details%s",
                limiter.per_minute,
                len(self.queue),
                " and recordings" if self.snapshot is not None and self._batchable() else "",
            )
        elif changed is False:
            logger.info(
                "The API budget has room again: exports start one by one (%d waiting)", len(self.queue)
            )

    def _batchable(self) -> bool:
        return batchable(self.snapshot.config.profiles)

    def _waits_for_bulk(self, entry: tuple[int, int, str]) -> bool:
        return self.pace.waits_for_bulk(
            live=entry[0] < BACKGROUND_PRIORITY,
            read_in_bulk=entry[2] in self.prefetched,
            now=time.monotonic(),
        )

    def _held_for_prefetch(self, entry: tuple[int, int, str]) -> bool:
        """While a backlog's bulk read runs, its conversations wait for it (one request instead of one
        each); during a batch download, so does background work (reconciled, backfilled) not in it yet:
        the next batch takes it. A live call that is not in the bulk read never waits."""
        if not self.prefetch_held:
            return False
        cid = entry[2]
        return cid in self.prefetch_held or (
            self.batch_running and entry[0] >= BACKGROUND_PRIORITY and cid not in self.prefetched
        )

    def _prefetched(self, done: Any) -> None:
        self.prefetching = False
        self.pace.bulk_ended()
        self.prefetch_held = set()
        self._pump()  # what the bulk read held; it also starts the next bulk read
        if done.error is not None:
            logger.warning(
                "Backlog: reading analytics details in bulk failed (%s); exports read their own", done.error
            )
            return
        read, downloaded = done.result or ([], [])
        if read:
            logger.info(
                "Backlog of %d: analytics details of %d conversation(s) read in one request%s",
                len(self.queue),
                len(read),
                f", recordings of {len(downloaded)} downloaded in one batch" if downloaded else "",
            )

    def _spec(self, job: Any) -> ChildSpec:
        outer = self

        def factory(sup: pykka.ActorRef[Any], child_id: str) -> pykka.ActorRef[Any]:
            # the current snapshot at (re)start time: a restarted export sees the newest profiles
            try:
                current = outer.deps.ledger.job(job.conversation_id) or job
            except Exception as exc:
                if not outer._ledger_error(exc):
                    raise
                current = job
            return ExportActor.start(
                supervisor=sup, child_id=child_id, job=current, snapshot=outer.snapshot, deps=outer.deps
            )

        return ChildSpec(f"export:{job.conversation_id}", factory, restart="transient")

    def _dead_letter(self, conversation_id: str, why: str) -> None:
        logger.error(
            "Conversation %s: giving up: %s (dead-lettered; `run.py retry --conversation %s` tries again)",
            conversation_id,
            why,
            conversation_id,
        )
        self.deps.ledger.set_state(conversation_id, "failed", why, owner=self._owner())

    def _owner(self) -> str | None:
        """On a shared ledger, outcomes are recorded only while this instance holds the job."""
        return self.me if self.shared else None

    # -- children ----------------------------------------------------------------------------
    def on_child_finished(self, child_id: str, crashed: bool, reason: str | None) -> None:
        conversation_id = child_id.split(":", 1)[1]
        self.running.discard(conversation_id)
        self.background.discard(conversation_id)
        outcome = self.outcomes.pop(conversation_id, "failed" if crashed else "done")
        if outcome != "parked":  # a parked export may still need its batch-downloaded file
            remove_batch_files(self.batch_dir, conversation_id)
            state = "failed" if outcome == "failed" else "done"
            try:
                self.deps.ledger.set_state(conversation_id, state, reason, owner=self._owner())
            except Exception as exc:
                if not self._ledger_error(exc):
                    raise
                self.unrecorded_outcomes[conversation_id] = (state, reason)
                return
        self._pump()

    def on_child_started(self, child_id: str, ref: pykka.ActorRef[Any], restarted: bool) -> None:
        if not restarted:
            return
        conversation_id = child_id.split(":", 1)[1]
        try:
            crashes = self.deps.ledger.record_crash(conversation_id, "the export crashed")
        except Exception as exc:  # the ledger is away (that is likely why it crashed): not counted
            if not self._ledger_error(exc):
                raise
            return
        if crashes >= MAX_CRASHES:
            self.remove_child(child_id)
            ref.stop(block=False)
            self.running.discard(conversation_id)
            self.background.discard(conversation_id)
            self._dead_letter(conversation_id, f"its export crashed {crashes} times")
            self._pump()
