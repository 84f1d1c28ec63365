"""NotificationActor: the intake. Listens to queue events and decides when a call is finished.

The WebSocket runs in `genesys.notifications.NotificationListener`'s own thread, which `tell`s this
actor every event; this actor feeds them to the `ConversationTracker` (thread-free) and tells the
ExportSupervisor about every conversation that is over and wrapped up, exactly once. A
conversation on the system queue asks the ConfigActor to reload instead. A dropped socket or a
503 is a state of the listener with its own backoff, never a crash of this actor.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pykka

from actors.base import BackgroundDone, Supervised
from actors.supervisor import schedule
from messages.config import ConfigChanged
from messages.intake import ConversationFinished, ListenerStateChanged, NotificationReceived, ReloadRequested
from messages.lifecycle import Tick

logger = logging.getLogger(__name__)

POLL_S = 1.0


def queue_topics(queue_ids: set[str] | frozenset[str]) -> list[str]:
    return sorted(f"v2.routing.queues.{queue_id}.conversations" for queue_id in queue_ids)


class NotificationActor(Supervised):
    background_threads = 1

    def __init__(self, *, supervisor: Any, child_id: str, deps: Any) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.deps = deps
        self.listener: Any = None
        self.tracker: Any = None
        self.topics: list[str] = []
        self.state = "idle"
        self.state_detail = ""
        self.last_event_at: float | None = None
        self.events = 0
        self.intake_open = True
        self.listener_started = False
        self.snapshot: Any = None
        # the start of the current gap in notifications: at start-up, the reconcile look-back
        self.gap_start: datetime | None = datetime.now(UTC) - timedelta(
            seconds=deps.settings.reconcile_lookback_s
        )
        self.reconciling = False
        self.next_sweep = time.monotonic() + deps.settings.reconcile_interval_s

    def setup(self) -> None:
        from genesys.wrapup import ConversationTracker

        self.tracker = ConversationTracker(default_wrapup_timeout_s=self.deps.settings.wrapup_timeout_s)
        ref = self.actor_ref
        if self.deps.listener_factory is None:  # one-shot export: no intake
            self.intake_open = False
            return
        self.listener = self.deps.listener_factory(
            on_event=lambda topic, body: _tell(ref, NotificationReceived(topic, body)),
            on_state=lambda state, detail="": _tell(ref, ListenerStateChanged(state, detail)),
        )
        schedule(ref, POLL_S, Tick("poll"))

    def teardown(self) -> None:
        if self.listener is not None and self.listener_started:
            self.listener.stop()

    def handle(self, message: Any) -> Any:
        if isinstance(message, NotificationReceived):
            self._event(message)
        elif isinstance(message, ConfigChanged):
            self._config(message.snapshot)
        elif isinstance(message, ListenerStateChanged):
            self._listener_state(message)
        elif isinstance(message, BackgroundDone):
            self._reconciled(message)
        elif isinstance(message, Tick):
            self._poll()
            schedule(self.actor_ref, POLL_S, Tick("poll"))
        elif message == "close-intake":
            self.intake_open = False
            if self.listener is not None and self.listener_started:
                self.listener.stop()
                self.listener_started = False
            logger.info("Notifications: intake closed")
        elif message == "status":
            return self.status()
        else:
            return super().handle(message)
        return None

    def status(self) -> dict[str, Any]:
        age = None if self.last_event_at is None else time.monotonic() - self.last_event_at
        return {
            "websocket": self.state,
            "topics": len(self.topics),
            "events": self.events,
            "last_event_age_s": age,
        }

    def _listener_state(self, message: ListenerStateChanged) -> None:
        if message.state != self.state:
            logger.info(
                "Notifications: %s%s", message.state, f" ({message.detail})" if message.detail else ""
            )
        if message.state == "connected":
            self._reconcile()
        elif self.gap_start is None and self.intake_open:
            self.gap_start = datetime.now(UTC)
        self.state, self.state_detail = message.state, message.detail

    def _reconcile(self) -> None:
        """Ask analytics for conversations that finished during the gap (events were lost)."""
        if self.gap_start is None:
            return
        if self._sweep(self.gap_start - timedelta(seconds=60)):
            self.gap_start = None

    def _periodic_sweep(self) -> None:
        """A safety net: analytics lags events, and an event can be lost without a visible gap, so the
        trailing window is checked every `reconcile_interval_s` for wrapped-up calls we never saw."""
        if time.monotonic() < self.next_sweep:
            return
        self.next_sweep = time.monotonic() + self.deps.settings.reconcile_interval_s
        self._sweep(datetime.now(UTC) - timedelta(seconds=self.deps.settings.reconcile_window_s))

    def _sweep(self, since: datetime) -> bool:
        if self.reconciling or self.snapshot is None or not self.intake_open:
            return False
        from export.reconcile import finished_since

        self.reconciling = True
        queue_ids = sorted(self.snapshot.watched_queue_ids())
        self.run_in_background(
            finished_since,
            self.deps.client,
            queue_ids,
            since,
            self.deps.settings.wrapup_timeout_s,
            tag=("reconcile", since),
        )
        return True

    def _reconciled(self, done: BackgroundDone) -> None:
        self.reconciling = False
        since = done.tag[1]
        if done.error is not None:
            logger.warning(
                "Notifications: could not check for conversations missed since %s: %s; trying again shortly",
                since.isoformat(timespec="seconds"),
                done.error,
            )
            self.gap_start = since if self.gap_start is None else min(since, self.gap_start)
            return
        missed = [
            (cid, queues)
            for cid, queues in done.result
            if self.deps.ledger.job(cid) is None and not self.tracker.is_reported(cid)
        ]
        if missed:
            logger.info(
                "Notifications: %d conversation(s) finished while events could not reach us; exporting them",
                len(missed),
            )
        for conversation_id, queue_ids in missed:
            self._send_finished(ConversationFinished(conversation_id, queue_ids, time.time(), "reconciled"))

    def _config(self, snapshot: Any) -> None:
        first = self.snapshot is None
        self.snapshot = snapshot
        if first and self.state == "connected":
            self._reconcile()
        self.tracker.system_queue_id = snapshot.system_queue_id
        queue_ids = set(snapshot.watched_queue_ids())
        if snapshot.system_queue_id:
            queue_ids.add(snapshot.system_queue_id)
        topics = queue_topics(queue_ids)
        if topics == self.topics or not self.intake_open or self.listener is None:
            return
        added = sorted(set(topics) - set(self.topics))
        self.topics = topics
        logger.info(
            "Notifications: subscribing to %d queue topic(s)%s",
            len(topics),
            f" ({len(added)} new)" if added and len(added) != len(topics) else "",
        )
        try:  # non-blocking: the listener's threads create channels and subscribe
            if self.listener_started:
                self.listener.set_topics(topics)
            else:
                self.listener.start(topics)
                self.listener_started = True
        except (RuntimeError, ValueError) as exc:
            logger.error("Notifications: cannot subscribe to %d topic(s): %s", len(topics), exc)

    def _event(self, message: NotificationReceived) -> None:
        from genesys.wrapup import ConfigSignal, Finished

        self.events += 1
        self.last_event_at = time.monotonic()
        if not self.intake_open:
            return
        try:
            outcome = self.tracker.feed(message.body, topic=message.topic)
        except Exception:  # a malformed event affects only itself
            logger.exception("Notifications: could not interpret an event on %s; skipped", message.topic)
            return
        if isinstance(outcome, ConfigSignal):
            logger.info(
                "Configuration change signalled on the system queue (conversation %s)",
                outcome.conversation_id,
            )
            self.deps.directory.tell("config", ReloadRequested("system queue signal"))
        elif isinstance(outcome, Finished):
            self._finished(outcome)

    def _poll(self) -> None:
        if self.tracker is None or not self.intake_open:
            return
        if self.gap_start is not None and self.state == "connected":
            self._reconcile()  # a gap check that could not start at reconnect (a sweep was running)
        self._periodic_sweep()
        for outcome in self.tracker.poll():
            self._finished(outcome)

    def _finished(self, outcome: Any) -> None:
        logger.info("Conversation %s is over (%s)", outcome.conversation_id, outcome.reason)
        self._send_finished(
            ConversationFinished(
                outcome.conversation_id, tuple(sorted(outcome.queue_ids)), time.time(), outcome.reason
            )
        )

    def _send_finished(self, message: ConversationFinished) -> None:
        if not self.deps.directory.tell("exports", message):
            # the export supervisor is restarting: the ledger is its inbox, so record it there
            self.deps.ledger.add_job(message.conversation_id, message.queue_ids, message.finished_at)
            logger.warning(
                "Conversation %s recorded in the ledger while the export supervisor restarts",
                message.conversation_id,
            )


def _tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        pass
