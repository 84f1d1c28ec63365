"""A one-for-one supervisor on pykka, after Erlang/OTP's supervisor behaviour (docs/architecture.md).

* Children are started in spec order, stopped in reverse order.
* `permanent` children are always restarted, `transient` ones only after a crash, `temporary`
  ones never.
* Restarts back off exponentially with jitter, scheduled on a timer (never slept in a handler).
* More than `max_restarts` within `period_s` escalates: the supervisor stops its children and
  fails itself, which reports to its own parent; the root calls `on_escalate` instead.
* A watchdog tick catches children that died without reporting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pykka

from actors.base import Supervised
from actors.directory import Directory
from messages.lifecycle import ChildExited, Ping, RestartDue, Tick
from reliability.backoff import RESTART, Backoff

logger = logging.getLogger(__name__)

ChildFactory = Callable[[pykka.ActorRef[Any], str], pykka.ActorRef[Any]]


@dataclass(frozen=True)
class ChildSpec:
    child_id: str
    factory: ChildFactory
    restart: str = "permanent"  # permanent | transient | temporary


@dataclass
class _Child:
    spec: ChildSpec
    ref: pykka.ActorRef[Any] | None = None
    failures: int = 0
    started_at: float = 0.0
    restart_timer: threading.Timer | None = field(default=None, repr=False)


class EscalationError(RuntimeError):
    """A supervisor exceeded its restart intensity."""


@dataclass(frozen=True)
class RestartPolicy:
    """Restart intensity and backoff of a supervisor (the delays come from `reliability.backoff`)."""

    max_restarts: int = 5
    period_s: float = 60.0
    backoff: Backoff = RESTART
    reset_after_s: float = 30.0
    watchdog_s: float = 2.0
    ping_timeout_s: float = 30.0

    def delay(self, failures: int) -> float:
        return self.backoff.delay(failures)


class Supervisor(Supervised):
    """Base supervisor. Subclasses provide `child_specs()` and may override the hooks."""

    def __init__(
        self,
        *,
        supervisor: pykka.ActorRef[Any] | None,
        child_id: str,
        directory: Directory,
        policy: RestartPolicy | None = None,
        on_escalate: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.directory = directory
        self.policy = policy or RestartPolicy()
        self._on_escalate = on_escalate
        self._children: dict[str, _Child] = {}
        self._restarts: deque[float] = deque()
        self._watchdog: threading.Timer | None = None
        self._suspects: set[str] = set()  # urns seen dead on the last watchdog tick
        self._pings: dict[str, tuple[Any, float]] = {}  # urn -> (future of a Ping, sent at)
        self._stopping = False

    # -- subclass API ------------------------------------------------------------
    def child_specs(self) -> list[ChildSpec]:
        return []

    def on_child_started(self, child_id: str, ref: pykka.ActorRef[Any], restarted: bool) -> None:
        """Hook: a child (re)started."""

    def on_child_finished(self, child_id: str, crashed: bool, reason: str | None) -> None:
        """Hook: a child stopped for good (transient normal stop, temporary child, or given up)."""

    def handle_other(self, message: Any) -> Any:
        return super().handle(message)

    # -- lifecycle -----------------------------------------------------------------
    def setup(self) -> None:
        for spec in self.child_specs():
            self.add_child(spec)
        self._arm_watchdog()

    def teardown(self) -> None:
        self._stopping = True
        if self._watchdog:
            self._watchdog.cancel()
        self.stop_children()

    def stop_children(self, timeout: float = 30.0) -> None:
        for child in reversed(list(self._children.values())):
            if child.restart_timer:
                child.restart_timer.cancel()
            ref = child.ref
            child.ref = None
            if ref is not None:
                self.directory.unregister(child.spec.child_id, ref)
                try:
                    ref.stop(block=True, timeout=timeout)
                except pykka.Timeout:
                    logger.error(
                        "%s: child %s did not stop within %.0f s", self.child_id, child.spec.child_id, timeout
                    )
                except pykka.ActorDeadError:
                    pass

    def add_child(self, spec: ChildSpec) -> pykka.ActorRef[Any] | None:
        child = _Child(spec)
        self._children[spec.child_id] = child
        return self._start(child, restarted=False)

    def remove_child(self, child_id: str) -> None:
        child = self._children.pop(child_id, None)
        if child and child.restart_timer:
            child.restart_timer.cancel()

    def child_ref(self, child_id: str) -> pykka.ActorRef[Any] | None:
        child = self._children.get(child_id)
        return child.ref if child else None

    def children(self) -> list[str]:
        return list(self._children)

    # -- messages --------------------------------------------------------------------
    def handle(self, message: Any) -> Any:
        if isinstance(message, ChildExited):
            self._child_exited(message)
        elif isinstance(message, RestartDue):
            child = self._children.get(message.child_id)
            if child is not None and child.ref is None and not self._stopping:
                self._start(child, restarted=True)
        elif isinstance(message, Tick) and message.name == "watchdog":
            self._check_children()
            self._arm_watchdog()
        else:
            return self.handle_other(message)
        return None

    def _start(self, child: _Child, restarted: bool) -> pykka.ActorRef[Any] | None:
        child.restart_timer = None
        try:
            ref = child.spec.factory(self.actor_ref, child.spec.child_id)
        except Exception as exc:  # __init__ raised: counts as a crash
            logger.exception("%s: could not start %s", self.child_id, child.spec.child_id)
            self._crashed(child, f"{type(exc).__name__}: {exc}")
            return None
        child.ref = ref
        child.started_at = time.monotonic()
        self.directory.register(child.spec.child_id, ref)
        if restarted:
            logger.info("%s: restarted %s", self.child_id, child.spec.child_id)
        self.on_child_started(child.spec.child_id, ref, restarted)
        return ref

    def _child_exited(self, message: ChildExited) -> None:
        child = self._children.get(message.child_id)
        if child is None or child.ref is None or child.ref.actor_urn != message.urn:
            return  # a stale report from an instance we replaced or stopped on purpose
        self.directory.unregister(message.child_id, child.ref)
        child.ref = None
        if self._stopping:
            return
        if not message.crashed:
            if child.spec.restart == "permanent":
                logger.warning("%s: %s stopped unexpectedly; restarting", self.child_id, message.child_id)
                self._crashed(child, "stopped unexpectedly")
            else:
                self.remove_child(message.child_id)
                self.on_child_finished(message.child_id, False, None)
            return
        logger.error("%s: %s crashed: %s", self.child_id, message.child_id, message.reason)
        if child.spec.restart == "temporary":
            self.remove_child(message.child_id)
            self.on_child_finished(message.child_id, True, message.reason)
            return
        self._crashed(child, message.reason or "crashed")

    def _crashed(self, child: _Child, reason: str) -> None:
        now = time.monotonic()
        if child.started_at and now - child.started_at > self.policy.reset_after_s:
            child.failures = 0
        child.failures += 1
        self._restarts.append(now)
        while self._restarts and now - self._restarts[0] > self.policy.period_s:
            self._restarts.popleft()
        if len(self._restarts) > self.policy.max_restarts:
            self._escalate(
                f"{child.spec.child_id} failed {len(self._restarts)} times in {self.policy.period_s:.0f} s: {reason}"
            )
            return
        delay = self.policy.delay(child.failures)
        logger.warning(
            "%s: restarting %s in %.2f s (failure %d)",
            self.child_id,
            child.spec.child_id,
            delay,
            child.failures,
        )
        ref = self.actor_ref
        timer = threading.Timer(delay, _tell_quietly, args=(ref, RestartDue(child.spec.child_id)))
        timer.daemon = True
        child.restart_timer = timer
        timer.start()

    def _escalate(self, reason: str) -> None:
        logger.critical("%s: giving up: %s", self.child_id, reason)
        self._stopping = True
        self.stop_children(timeout=10)
        if self._on_escalate is not None:
            self._on_escalate(f"{self.child_id}: {reason}")
            self.stop()
        else:
            raise EscalationError(f"{self.child_id}: {reason}")

    def _ping_children(self) -> None:
        """Liveness: every child answers a Ping; one whose handler is stuck longer than the timeout
        is treated as crashed (replaced; its work resumes from the ledger or is re-sent)."""
        now = time.monotonic()
        live = set()
        for child in list(self._children.values()):
            ref = child.ref
            if ref is None or not ref.is_alive():
                continue
            live.add(ref.actor_urn)
            pending = self._pings.get(ref.actor_urn)
            if pending is None:
                try:
                    self._pings[ref.actor_urn] = (ref.ask(Ping(), block=False), now)
                except pykka.ActorDeadError:
                    pass
                continue
            future, sent = pending
            try:
                future.get(timeout=0)
                del self._pings[ref.actor_urn]
            except pykka.Timeout:
                if now - sent > self.policy.ping_timeout_s:
                    logger.error(
                        "%s: watchdog: %s has not answered a ping for %.0f s; replacing it",
                        self.child_id,
                        child.spec.child_id,
                        now - sent,
                    )
                    del self._pings[ref.actor_urn]
                    ref.stop(block=False)
                    self._child_exited(ChildExited(child.spec.child_id, ref.actor_urn, "not answering", True))
            except Exception:  # the ping itself failed (the actor stopped): the dead check handles it
                del self._pings[ref.actor_urn]
        for urn in set(self._pings) - live:
            del self._pings[urn]

    def _check_children(self) -> None:
        self._ping_children()
        # pykka marks an actor stopped *before* its on_stop runs (which then reports ChildExited), so a
        # child is only declared dead when it is still dead and unreported on the next watchdog tick.
        suspects: set[str] = set()
        for child in list(self._children.values()):
            ref = child.ref
            if ref is None or ref.is_alive():
                continue
            if ref.actor_urn in self._suspects:
                logger.error(
                    "%s: watchdog found %s dead without a report", self.child_id, child.spec.child_id
                )
                self._child_exited(
                    ChildExited(child.spec.child_id, ref.actor_urn, "died without report", True)
                )
            else:
                suspects.add(ref.actor_urn)
        self._suspects = suspects

    def _arm_watchdog(self) -> None:
        if self._stopping:
            return
        timer = threading.Timer(
            self.policy.watchdog_s, _tell_quietly, args=(self.actor_ref, Tick("watchdog"))
        )
        timer.daemon = True
        self._watchdog = timer
        timer.start()


def _tell_quietly(ref: pykka.ActorRef[Any], message: Any) -> None:
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        pass


def schedule(ref: pykka.ActorRef[Any], delay_s: float, message: Any) -> threading.Timer:
    """Deliver `message` to `ref` after `delay_s` seconds (a daemon timer; never sleeps in a handler)."""
    timer = threading.Timer(max(0.0, delay_s), _tell_quietly, args=(ref, message))
    timer.daemon = True
    timer.start()
    return timer
