"""NotificationActor: the intake. Listens to queue events and decides when a call is finished.

The WebSocket runs in `genesys.notifications.NotificationListener`'s own thread, which `tell`s this
actor every event; this actor feeds them to the `ConversationTracker` (thread-free) and tells the
ExportSupervisor about every conversation that is over and wrapped up, exactly once. A dropped socket
or a 503 is a state of the listener with its own backoff, never a crash of this actor.

* **Wrap-up waits survive restarts.** Every conversation that is over but waits for an agent's
  wrap-up is kept in the ledger (``put_pending``/``drop_pending``); at start-up they are taken back
  with their wall-clock deadlines and their current state is read once from the REST conversation,
  so a wrap-up that happened while the service was down is seen, and an elapsed deadline exports at
  once. The queues' after-call-work settings (``snapshot.queue_acw``) bound the waits.
* **Configuration signals.** A conversation on the system queue asks the ConfigActor to reload, and
  its callback is disconnected (``PATCH /api/v2/conversations/callbacks/{id}``) so the queue stays
  clean.
* **Reconciliation** (`export.reconcile.sweep`): every ``reconcile_interval_s`` and after every
  (re)connect, the conversations that ended since the last sweep (persisted in
  ``state_dir/reconcile.json``, so the first sweep after a restart covers the whole gap) are asked
  for; the ones nobody exported yet are exported. With several instances on one ledger only the
  leader sweeps (``ledger.cluster``); every instance keeps its own channel and WebSocket, so intake
  survives the loss of any one of them (the ledger records each finished call once).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pykka

from actors.base import BackgroundDone, Supervised
from actors.supervisor import schedule
from messages.config import ConfigChanged
from messages.intake import ConversationFinished, ListenerStateChanged, NotificationReceived, ReloadRequested
from messages.lifecycle import Tick

logger = logging.getLogger(__name__)

POLL_S = 1.0
CURSOR_FILE = "reconcile.json"


def queue_topics(queue_ids: set[str] | frozenset[str]) -> list[str]:
    return sorted(f"v2.routing.queues.{queue_id}.conversations" for queue_id in queue_ids)


def refresh_conversations(
    client: Any, conversation_ids: list[str]
) -> list[tuple[str, dict[str, Any] | None]]:
    """The current REST conversation of each id (None when it could not be read): the state of the
    wrap-up waits the service took back after a restart."""
    out: list[tuple[str, dict[str, Any] | None]] = []
    for cid in conversation_ids:
        try:
            out.append((cid, client.get_conversation(cid)))
        except Exception as exc:  # the wait goes on from its persisted state
            logger.info("Conversation %s: current state not read after the restart (%s)", cid, exc)
            out.append((cid, None))
    return out


class NotificationActor(Supervised):
    background_threads = 2

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
        self.reconciling = False
        self.sweep_due = True  # at start-up, and after every (re)connect
        self.next_sweep = time.monotonic() + deps.settings.reconcile_interval_s
        self.cursor: Any = None
        self.unpersisted: tuple[dict[str, Any], set[str]] = ({}, set())
        # finished conversations neither the export supervisor (restarting) nor the ledger (away) took:
        # offered again on every poll, in order, until one of them does
        self.undelivered: list[ConversationFinished] = []

    def setup(self) -> None:
        from export.reconcile import SweepCursor
        from genesys.wrapup import ConversationTracker

        self.cursor = SweepCursor(Path(self.deps.settings.state_dir) / CURSOR_FILE)
        self.tracker = ConversationTracker(default_wrapup_timeout_s=self.deps.settings.wrapup_timeout_s)
        self._restore_pending()
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
            self._background_done(message)
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
            "waiting_for_wrapup": len(self.tracker.pending_ids()) if self.tracker else 0,
        }

    # -- wrap-up waits that survive a restart -------------------------------------------------------
    def _restore_pending(self) -> None:
        restored: list[str] = []
        for pending in self.deps.ledger.pending():
            try:
                self.tracker.restore_pending(pending.conversation_id, pending.state)
            except (ValueError, TypeError, KeyError) as exc:
                logger.warning(
                    "Conversation %s: a wrap-up wait could not be taken back (%s); the reconciliation "
                    "sweep will find it",
                    pending.conversation_id,
                    exc,
                )
                self.deps.ledger.drop_pending(pending.conversation_id)
                continue
            restored.append(pending.conversation_id)
        if restored:
            logger.info(
                "Notifications: %d conversation(s) still waiting for a wrap-up taken back after the restart",
                len(restored),
            )
            if self.deps.client is not None:
                self.run_in_background(refresh_conversations, self.deps.client, restored, tag=("refresh",))

    def _persist(self) -> None:
        updates, dropped = self.tracker.take_changes()
        # what an earlier attempt could not write (the ledger's database was away), older first
        updates = {**{k: v for k, v in self.unpersisted[0].items() if k not in dropped}, **updates}
        dropped = (self.unpersisted[1] - set(updates)) | set(dropped)
        try:
            for cid in list(updates):
                state, expires_at = updates[cid]
                self.deps.ledger.put_pending(cid, state, expires_at)
                del updates[cid]
            for cid in list(dropped):
                self.deps.ledger.drop_pending(cid)
                dropped.discard(cid)
        except Exception as exc:
            from ledger.db import unavailable

            if not unavailable(exc):
                raise
            if not self.unpersisted[0] and not self.unpersisted[1]:
                logger.warning(
                    "Notifications: wrap-up waits not saved (ledger unreachable); kept to save later"
                )
        self.unpersisted = (updates, set(dropped))

    # -- listener ---------------------------------------------------------------------------------
    def _listener_state(self, message: ListenerStateChanged) -> None:
        if message.state != self.state:
            logger.info(
                "Notifications: %s%s", message.state, f" ({message.detail})" if message.detail else ""
            )
        if message.state == "connected" and self.state != "connected":
            self.sweep_due = True  # events may have been lost while disconnected
        self.state, self.state_detail = message.state, message.detail
        if message.state == "connected":
            self._maybe_sweep()

    def _config(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        self.tracker.system_queue_id = snapshot.system_queue_id
        self.tracker.queue_acw = dict(getattr(snapshot, "queue_acw", None) or {})
        queue_ids = set(snapshot.watched_queue_ids())
        if snapshot.system_queue_id:
            queue_ids.add(snapshot.system_queue_id)
        self._maybe_sweep()
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
            self._config_signal(outcome)
        elif isinstance(outcome, Finished):
            self._finished(outcome)
        self._persist()

    def _config_signal(self, signal: Any) -> None:
        logger.info(
            "Configuration change signalled on the system queue (conversation %s)", signal.conversation_id
        )
        self.deps.directory.tell("config", ReloadRequested("system queue signal"))
        if signal.active and self.deps.client is not None:
            self.run_in_background(
                self.deps.client.disconnect_callback,
                signal.conversation_id,
                tag=("disconnect-callback", signal.conversation_id),
            )

    # -- timers -----------------------------------------------------------------------------------
    def _poll(self) -> None:
        while self.undelivered and self._deliver(self.undelivered[0]):
            self.undelivered.pop(0)
        if self.tracker is None or not self.intake_open:
            return
        if time.monotonic() >= self.next_sweep:
            self.sweep_due = True
        self._maybe_sweep()
        for outcome in self.tracker.poll():
            self._finished(outcome)
        self._persist()

    # -- reconciliation ---------------------------------------------------------------------------
    def _maybe_sweep(self) -> None:
        """Start a sweep when one is due, the socket is up, the configuration known and none runs."""
        if not self.sweep_due or self.reconciling or self.snapshot is None or not self.intake_open:
            return
        cluster = getattr(self.deps, "cluster", None)
        if cluster is not None and not cluster.is_leader:
            return  # several instances: the leader sweeps (it sweeps at once when the role moves here)
        if self.listener is not None and self.state != "connected":
            return  # after the reconnect, the sweep covers the gap
        from export.reconcile import sweep
        from export.steps import with_priority
        from genesys.ratelimit import Priority

        queue_ids = sorted(self.snapshot.watched_queue_ids())
        if not queue_ids:
            return
        settings = self.deps.settings
        since = self.cursor.next_since(datetime.now(UTC), settings.reconcile_lookback_s)
        self.reconciling = True
        self.sweep_due = False
        self.next_sweep = time.monotonic() + settings.reconcile_interval_s
        self.run_in_background(
            with_priority,
            self.deps.client,
            Priority.BACKGROUND,  # a safety net: never ahead of live exports in the budget
            sweep,
            self.deps.client,
            queue_ids,
            since,
            settings.wrapup_timeout_s,
            queue_acw=dict(getattr(self.snapshot, "queue_acw", None) or {}),
            tag=("reconcile", since),
        )

    def _background_done(self, done: BackgroundDone) -> None:
        kind = done.tag[0] if isinstance(done.tag, tuple) and done.tag else None
        if kind == "reconcile":
            self._reconciled(done)
        elif kind == "refresh":
            self._refreshed(done)
        elif kind == "disconnect-callback":
            if done.error is not None:
                logger.warning(
                    "Could not disconnect the configuration signal callback %s (%s); it stays in the "
                    "system queue (permission conversation:communication:disconnect needed)",
                    done.tag[1],
                    done.error,
                )
            else:
                logger.info("Configuration signal callback %s disconnected", done.tag[1])

    def _refreshed(self, done: BackgroundDone) -> None:
        from genesys.wrapup import Finished

        for _cid, conversation in done.result or []:
            if conversation is None:
                continue
            outcome = self.tracker.feed(conversation, now=None)
            if isinstance(outcome, Finished):
                self._finished(outcome)
        self._persist()

    def _reconciled(self, done: BackgroundDone) -> None:
        self.reconciling = False
        since = done.tag[1]
        if done.error is not None:
            logger.warning(
                "Notifications: could not check for conversations missed since %s: %s; trying again shortly",
                since.isoformat(timespec="seconds"),
                done.error,
            )
            self.sweep_due = True
            self.next_sweep = time.monotonic() + min(30.0, self.deps.settings.reconcile_interval_s)
            return
        result = done.result
        try:
            missed = [
                (cid, queues)
                for cid, queues in result.finished
                if self.deps.ledger.job(cid) is None and not self.tracker.is_reported(cid)
            ]
        except Exception as exc:
            from ledger.db import unavailable

            if not unavailable(exc):
                raise
            logger.warning(
                "Notifications: reconciliation results not checked (ledger unreachable); again shortly"
            )
            self.sweep_due = True  # the cursor was not moved: the next sweep covers the same window
            self.next_sweep = time.monotonic() + min(30.0, self.deps.settings.reconcile_interval_s)
            return
        try:
            self.cursor.save(result.resume_from)
        except OSError as exc:
            logger.warning("Notifications: could not save the reconciliation cursor: %s", exc)
        logger.debug(
            "Notifications: reconciliation %s..%s: %d request(s), %d finished",
            *(w.isoformat(timespec="seconds") for w in result.window or (since, since)),
            result.queries,
            len(result.finished),
        )
        if missed:
            logger.info(
                "Notifications: %d conversation(s) finished while events could not reach us; exporting them",
                len(missed),
            )
        for conversation_id, queue_ids in missed:
            self.tracker.mark_reported([conversation_id])
            self._send_finished(ConversationFinished(conversation_id, queue_ids, time.time(), "reconciled"))
        self._persist()

    def _finished(self, outcome: Any) -> None:
        logger.info("Conversation %s is over (%s)", outcome.conversation_id, outcome.reason)
        self._send_finished(
            ConversationFinished(
                outcome.conversation_id,
                tuple(sorted(outcome.queue_ids)),
                time.time(),
                outcome.reason,
                event=getattr(outcome, "snapshot", None) or None,
            )
        )

    def _send_finished(self, message: ConversationFinished) -> None:
        if self.undelivered or not self._deliver(message):
            self.undelivered.append(message)  # after those waiting before it

    def _deliver(self, message: ConversationFinished) -> bool:
        """Hand a finished conversation to the export supervisor or, while it restarts, to the ledger
        (its inbox); False when neither can take it now (the ledger is away too)."""
        if self.deps.directory.tell("exports", message):
            return True
        try:
            self.deps.ledger.add_job(
                message.conversation_id, message.queue_ids, message.finished_at, event=message.event
            )
        except Exception as exc:
            from ledger.db import unavailable

            if not unavailable(exc):
                raise
            if not self.undelivered:
                logger.warning(
                    "Conversation %s: the export supervisor restarts and the ledger is unreachable; "
                    "kept here until one of them takes it",
                    message.conversation_id,
                )
            return False
        logger.warning(
            "Conversation %s recorded in the ledger while the export supervisor restarts",
            message.conversation_id,
        )
        return True


def _tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        pass
