"""ExportSupervisor: one transient ExportActor per finished conversation, bounded and ledger-backed.

* A finished conversation is written to the ledger *before* anything else happens to it, so a
  crash of any actor (or of the process) loses nothing: on start-up the ledger's unfinished jobs
  are queued again, in order.
* At most `max_concurrent_exports` ExportActors run at once; the rest wait in arrival order.
* While unlicensed, or before the first configuration snapshot, jobs are recorded and held.
* A crashed ExportActor is restarted with backoff and resumes from the ledger; a conversation
  whose export crashes `MAX_CRASHES` times is dead-lettered (state `failed`, ERROR logged) instead
  of crash-looping the service.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from typing import Any

import pykka

from actors.export import ExportActor
from actors.supervisor import ChildSpec, RestartPolicy, Supervisor
from messages.config import ConfigChanged, LicenseChanged
from messages.intake import ConversationFinished, ExportRequested
from messages.lifecycle import Tick
from messages.pipeline import ExportDone

logger = logging.getLogger(__name__)

MAX_CRASHES = 3


class ExportSupervisor(Supervisor):
    def __init__(self, *, deps: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "policy", RestartPolicy(max_restarts=1000, period_s=60, backoff_min_s=0.5, backoff_max_s=30)
        )
        super().__init__(**kwargs)
        self.deps = deps
        self.snapshot: Any = None  # the configuration with the license's limits applied
        self.raw_snapshot: Any = None
        self.limits: dict[str, Any] = {}
        self.limit_message = ""
        self.licensed: bool = deps.license_required is False
        self.license_reason = "no license check configured" if self.licensed else "license not checked yet"
        self.queue: deque[str] = deque()
        self.running: set[str] = set()
        self.crashes: dict[str, int] = {}
        self.outcomes: dict[str, str] = {}
        self.draining = False

    def setup(self) -> None:
        super().setup()
        for job in self.deps.ledger.requeue_unfinished():
            self.queue.append(job.conversation_id)
        for job in self.deps.ledger.jobs("held"):
            self.queue.append(job.conversation_id)
        if self.queue:
            logger.info("Resuming %d export(s) left unfinished by the previous run", len(self.queue))

    # -- messages --------------------------------------------------------------------------
    def handle_other(self, message: Any) -> Any:
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
            logger.info(
                "Export intake closed: %d running, %d waiting (they resume on the next start)",
                len(self.running),
                len(self.queue),
            )
        elif message == "status":
            return self.status()
        elif isinstance(message, Tick):
            self._pump()
        else:
            return super().handle_other(message)
        return None

    def status(self) -> dict[str, Any]:
        return {
            "running": len(self.running),
            "queued": len(self.queue),
            "licensed": self.licensed,
            "license_reason": self.license_reason,
            "config_version": getattr(self.snapshot, "version", None),
        }

    def _finished(self, message: ConversationFinished) -> None:
        state = "queued" if self.licensed else "held"
        if not self.deps.ledger.add_job(
            message.conversation_id, message.queue_ids, message.finished_at, state
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
        self.queue.append(message.conversation_id)
        self._pump()

    def _requested(self, conversation_id: str) -> None:
        if not self.deps.ledger.add_job(conversation_id, (), 0.0, "queued" if self.licensed else "held"):
            self.deps.ledger.set_state(conversation_id, "queued" if self.licensed else "held")
        if conversation_id not in self.queue and conversation_id not in self.running:
            self.queue.append(conversation_id)
        self._pump()

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
            if held:
                logger.info("Licensed again: exporting %d conversation(s) that finished meanwhile", len(held))
        self._pump()

    def _pump(self) -> None:
        if self.draining or not self.licensed or self.snapshot is None:
            return
        while self.queue and len(self.running) < self.deps.settings.max_concurrent_exports:
            conversation_id = self.queue.popleft()
            if conversation_id in self.running:
                continue
            job = self.deps.ledger.job(conversation_id)
            if job is None or job.state in ("done", "failed"):
                continue
            self.running.add(conversation_id)
            self.add_child(self._spec(job))

    def _spec(self, job: Any) -> ChildSpec:
        deps = self

        def factory(sup: pykka.ActorRef[Any], child_id: str) -> pykka.ActorRef[Any]:
            # the current snapshot at (re)start time: a restarted export sees the newest profiles
            current = deps.deps.ledger.job(job.conversation_id) or job
            return ExportActor.start(
                supervisor=sup, child_id=child_id, job=current, snapshot=deps.snapshot, deps=deps.deps
            )

        return ChildSpec(f"export:{job.conversation_id}", factory, restart="transient")

    # -- children ----------------------------------------------------------------------------
    def on_child_finished(self, child_id: str, crashed: bool, reason: str | None) -> None:
        conversation_id = child_id.split(":", 1)[1]
        self.running.discard(conversation_id)
        outcome = self.outcomes.pop(conversation_id, "failed" if crashed else "done")
        self.deps.ledger.set_state(conversation_id, "failed" if outcome == "failed" else "done", reason)
        self._pump()

    def on_child_started(self, child_id: str, ref: pykka.ActorRef[Any], restarted: bool) -> None:
        if not restarted:
            return
        conversation_id = child_id.split(":", 1)[1]
        self.crashes[conversation_id] = self.crashes.get(conversation_id, 0) + 1
        if self.crashes[conversation_id] >= MAX_CRASHES:
            logger.error(
                "Conversation %s: export crashed %d times; giving up (dead-lettered in the ledger)",
                conversation_id,
                self.crashes[conversation_id],
            )
            self.remove_child(child_id)
            ref.stop(block=False)
            self.running.discard(conversation_id)
            self.deps.ledger.set_state(conversation_id, "failed", "export crashed repeatedly")
            self._pump()
        else:
            self.deps.ledger.set_state(conversation_id, "running")
