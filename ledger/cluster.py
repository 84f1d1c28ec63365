"""This instance's membership of the instances that share one ledger: heartbeat and leader role.

Thread-free logic called from the ExportSupervisor's timer (every third of the lease): `beat()`
writes the heartbeat row (`run.py status` and the status line list the live instances from it) and
takes or keeps the `leader` lease. The leader is the one instance that runs what must run once (the
reconciliation sweep, pruning the ledger); when it dies its lease expires and another instance's next
beat takes the role: failover within `lease_s` plus one beat. A clean stop (`leave()`) hands the role
over at once. `is_leader` is read by other actors' threads (a plain bool: atomic in Python).

On the embedded SQLite ledger there is one instance: it is the leader without asking.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from ledger.migrations import app_version
from ledger.store import LEADER, Ledger

logger = logging.getLogger(__name__)


class Membership:
    def __init__(
        self,
        ledger: Ledger,
        name: str,
        *,
        lease_s: float = 20.0,
        host: str | None = None,
        may_lead: bool = True,
    ) -> None:
        self.ledger = ledger
        self.name = name
        self.may_lead = may_lead  # False: a one-shot command (export, backfill) next to the service
        self.lease_s = lease_s
        self.host = host or socket.gethostname()
        self.pid = os.getpid()
        self.version = app_version()
        self.started_at = time.time()
        self.is_leader = not ledger.shared
        self.became_leader_at: float | None = time.monotonic() if self.is_leader else None

    def check_name(self) -> str | None:
        """Why this instance's name cannot be used (another host heartbeats under it right now), or
        None. The same host may take its name back at once (a restart after a crash)."""
        if not self.ledger.shared:
            return None
        for other in self.ledger.instances(live_within=self.lease_s):
            if other.name == self.name and other.host != self.host:
                return (
                    f"instance name {self.name!r} is in use by host {other.host} (pid {other.pid}, heartbeat "
                    "within the lease): give every instance its own [service] instance_name / "
                    "CALLEXPORT_INSTANCE_NAME"
                )
        return None

    @property
    def beat_every_s(self) -> float:
        return self.lease_s / 3

    def beat(self, *, running: int = 0, requests_per_minute: float = 0.0, budget: int | None = None) -> bool:
        """Heartbeat and leader lease; True when this instance is the leader afterwards."""
        self.ledger.heartbeat(
            self.name,
            host=self.host,
            pid=self.pid,
            version=self.version,
            running=running,
            requests_per_minute=requests_per_minute,
            budget=budget,
            started_at=self.started_at,
        )
        if not self.ledger.shared:
            return True
        if not self.may_lead:
            return False
        leader = self.ledger.acquire_lease(LEADER, self.name, self.lease_s)
        if leader and not self.is_leader:
            self.became_leader_at = time.monotonic()
            logger.info(
                "Instance %s is now the leader (reconciliation sweep and ledger pruning run here)", self.name
            )
        elif self.is_leader and not leader:
            self.became_leader_at = None
            logger.warning(
                "Instance %s is no longer the leader (%s is)", self.name, self.ledger.lease_holder()
            )
        self.is_leader = leader
        return leader

    def lost(self) -> None:
        """The leader role cannot be confirmed (the database is unreachable): stop acting as leader."""
        if self.is_leader and self.ledger.shared:
            logger.warning(
                "Instance %s: leader role not confirmed (ledger unreachable); singletons pause", self.name
            )
            self.is_leader = False
            self.became_leader_at = None

    def leave(self) -> None:
        """A clean stop: marked stopped, the leader role handed over at once."""
        try:
            self.ledger.leave(self.name)
        except Exception as exc:  # the lease expires by itself
            logger.warning("Instance %s: could not sign off from the ledger: %s", self.name, exc)
        self.is_leader = not self.ledger.shared
