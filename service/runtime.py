"""Build the service from its settings and run it until a signal; drain gracefully.

Shutdown order (tells that reach a pykka actor after its stop request are dropped, so producers stop
before consumers): intake stops first (no new conversations), running exports
get `shutdown_timeout_s` to finish (whatever does not finish stays in the ledger and resumes on
the next start), then everything stops in reverse start order. A second signal exits at once.
The root supervisor giving up makes `run()` return a non-zero exit code for the service manager.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

import pykka

from actors.directory import Directory
from actors.pipeline import DspRouter
from actors.root import Deps, RootSupervisor
from genesys.credentials import Credentials
from service.settings import Settings, dsp_worker_count

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ESCALATED = 70
EXIT_FORCED = 130


def build_client(settings: Settings, credentials: Credentials) -> Any:
    from genesys.config import ClientConfig
    from genesys.rest import GenesysClient

    config = ClientConfig(
        api_url=settings.api_url,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        login_url=settings.login_url,
        requests_per_minute=settings.requests_per_minute,
    )
    return GenesysClient(config)


def build_deps(
    settings: Settings, client: Any, *, license_checker: Any = None, on_file_written: Any = None
) -> Deps:
    from genesys.notifications import NotificationListener
    from storage.sequence import SequenceStore

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    work_root = settings.state_dir / "work"
    work_root.mkdir(parents=True, exist_ok=True)

    def listener_factory(on_event: Any, on_state: Any) -> Any:
        return NotificationListener(
            client, on_event=on_event, on_state=on_state, heartbeat_period_s=settings.heartbeat_s
        )

    from ledger import LedgerUnavailable
    from ledger.cluster import Membership
    from service.ledger_open import open_ledger
    from service.settings import instance_name

    ledger = open_ledger(settings, check_configuration=True)
    cluster = Membership(ledger, instance_name(settings), lease_s=settings.lease_s)
    clash = cluster.check_name()
    if clash is not None:
        ledger.close()
        raise LedgerUnavailable(clash)
    return Deps(
        settings=settings,
        client=client,
        ledger=ledger,
        directory=Directory(),
        dsp_router=DspRouter(dsp_worker_count(settings)),
        work_root=work_root,
        sequences=SequenceStore(settings.state_dir),
        listener_factory=listener_factory,
        license_checker=license_checker,
        on_file_written=on_file_written,
        cluster=cluster,
    )


class Service:
    """The running actor system plus what the main thread needs to supervise it."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.stop_requested = threading.Event()
        self.escalated: str | None = None
        self.root: pykka.ActorRef[Any] | None = None
        self.budget = BudgetMeter()

    def start(self) -> None:
        self.root = RootSupervisor.start(deps=self.deps, on_escalate=self._escalate)

    def _escalate(self, reason: str) -> None:
        self.escalated = reason
        self.stop_requested.set()

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in ("exports", "notification"):
            ref = self.deps.directory.get(name)
            if ref is None:
                result[name] = "down"
                continue
            try:
                answer = ref.ask("status", timeout=2)
                result.update(answer if isinstance(answer, dict) else {})
            except Exception as exc:  # status must never take the service down
                result[name] = f"no answer ({type(exc).__name__})"
        return result

    def drain(self, timeout_s: float) -> None:
        """Stop intake, let running exports finish within `timeout_s`, then stop everything."""
        directory = self.deps.directory
        directory.tell("notification", "close-intake")
        directory.tell("exports", "drain")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.status()
            if not status.get("running"):
                break
            time.sleep(0.2)
        else:
            logger.warning(
                "Shutdown: exports still running after %.0f s are left to resume on the next start", timeout_s
            )
        if self.root is not None:
            try:
                self.root.stop(block=True, timeout=max(5.0, deadline - time.monotonic() + 10))
            except pykka.Timeout:
                logger.error("Shutdown: actors did not stop in time")
        pykka.ActorRegistry.stop_all(block=True, timeout=10)
        close = getattr(self.deps.client, "close", None)
        if close is not None:
            close()  # interrupts retry waits still running in helper threads
        if self.deps.cluster is not None:
            self.deps.cluster.leave()
        self.deps.ledger.close()


def install_signal_handlers(service: Service) -> None:
    count = {"n": 0}

    def on_signal(signum: int, _frame: Any) -> None:
        count["n"] += 1
        if count["n"] > 1:
            logger.warning("Second signal: exiting now")
            os._exit(EXIT_FORCED)
        logger.info(
            "Signal %s received: shutting down gracefully (send it again to exit at once)",
            signal.Signals(signum).name,
        )
        service.stop_requested.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if hasattr(signal, "SIGBREAK"):  # Windows: CTRL_BREAK_EVENT (NSSM's console stop)
        signal.signal(signal.SIGBREAK, on_signal)


def run_until_stopped(service: Service, status_interval_s: float, shutdown_timeout_s: float) -> int:
    """The main thread idles here (signals only reach the main thread) and logs a periodic status."""
    next_status = time.monotonic() + status_interval_s
    while not service.stop_requested.wait(0.5):
        if time.monotonic() >= next_status:
            log_status(service)
            next_status = time.monotonic() + status_interval_s
    service.drain(shutdown_timeout_s)
    if service.escalated:
        logger.critical("Service stopped because a supervisor gave up: %s", service.escalated)
        return EXIT_ESCALATED
    logger.info("Service stopped")
    return EXIT_OK


class BudgetMeter:
    """API requests per minute and per finished export since the last status line."""

    def __init__(self) -> None:
        self.at = time.monotonic()
        self.requests = 0
        self.finished = -1

    def sample(self, requests: int, finished: int) -> tuple[float, float | None]:
        now = time.monotonic()
        minutes = max(1e-6, (now - self.at) / 60)
        per_minute = (requests - self.requests) / minutes
        per_call = None
        if self.finished >= 0 and finished > self.finished:
            per_call = (requests - self.requests) / (finished - self.finished)
        self.at, self.requests, self.finished = now, requests, finished
        return per_minute, per_call


def log_status(service: Service) -> None:
    """The periodic status line: what runs, what waits and why, what failed, what got done today
    (the same figures as `run.py status`, read from the ledger), and the notification intake."""
    from service.status_cli import gather

    s = service.status()
    age = s.get("last_event_age_s")
    try:
        figures = gather(service.deps.ledger)
    except Exception as exc:  # the status line must never take the service down
        logger.warning("Status: the ledger could not be read: %s", exc)
        figures = {}
    parked = figures.get("parked_by_reason") or {}
    reasons = ", ".join(
        f"{reason or 'waiting'} {n}" for reason, n in sorted(parked.items(), key=lambda kv: -kv[1])
    )
    oldest = figures.get("oldest_waiting")
    client = service.deps.client
    finished = int(figures.get("done_today") or 0) + int(figures.get("failed_today") or 0)
    per_minute, per_call = service.budget.sample(int(getattr(client, "request_count", 0)), finished)
    limiter = getattr(client, "limiter", None)
    budget = (
        f"API {per_minute:.0f}/min of {limiter.per_minute}"
        + (f", {per_call:.1f} per exported call" if per_call is not None else "")
        + (", the budget sets the pace (exports start after bulk reads)" if s.get("budget_bound") else "")
        if limiter is not None
        else "API ?"
    )
    instances = figures.get("instances") or []
    members = (
        "; instances "
        + ", ".join(
            f"{i['name']}{'*' if i['leader'] else ''} ({i['running']} running, {i['parked']} parked, "
            f"{i['requests_per_minute']:.0f}/min)"
            for i in instances
        )
        if len(instances) > 1 or service.deps.ledger.shared
        else ""
    )
    logger.info(
        "Status: %s running, %s queued, %s parked%s, %s failed today, %s done today%s; %s; last event %s, "
        "WebSocket %s, %s%s",
        s.get("running", "?"),
        s.get("queued", "?"),
        figures.get("parked", "?"),
        f" ({reasons})" if reasons else "",
        figures.get("failed_today", "?"),
        figures.get("done_today", "?"),
        f"; oldest waiting {oldest['conversation_id']} ({oldest['waiting_s'] / 60:.0f} min)"
        if oldest
        else "",
        budget,
        "never" if age is None else f"{age:.0f} s ago",
        s.get("websocket", "?"),
        "licensed" if s.get("licensed") else f"NOT licensed ({s.get('license_reason')})",
        members,
    )
