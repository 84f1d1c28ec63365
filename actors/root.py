"""RootSupervisor and the dependencies every actor shares.

Children start in dependency order (config, license, pipeline, exports, notification: intake last)
and stop in reverse (intake first). A child that (re)starts is sent the current configuration and
license state, so nobody waits for the next reload. When the root gives up (restart intensity
exceeded) it calls `on_escalate`, which makes the process exit non-zero so that the service
manager (NSSM, systemd) restarts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pykka

from actors.config import ConfigActor
from actors.directory import Directory
from actors.export_supervisor import ExportSupervisor
from actors.license import LicenseActor
from actors.notification import NotificationActor
from actors.pipeline import DspRouter, PipelineSupervisor, pipeline_policy
from actors.supervisor import ChildSpec, RestartPolicy, Supervisor
from genesys.rest import GenesysClient
from ledger import Ledger
from ledger.cluster import Membership
from messages.config import ConfigChanged, ConfigSnapshot, LicenseChanged
from messages.pipeline import FileWritten
from storage.sequence import SequenceStore

logger = logging.getLogger(__name__)


class ServiceSettings(Protocol):
    """The settings the actors read (the service's frozen `Settings` provides them)."""

    @property
    def state_dir(self) -> Path: ...
    @property
    def max_concurrent_exports(self) -> int: ...
    @property
    def batch_threshold(self) -> int: ...
    @property
    def prune_after_days(self) -> float: ...
    @property
    def wrapup_timeout_s(self) -> float: ...
    @property
    def transcript_wait_s(self) -> float: ...
    @property
    def transcript_poll_max_s(self) -> float: ...
    @property
    def recording_wait_s(self) -> float: ...
    @property
    def no_recording_after_s(self) -> float: ...
    @property
    def recoverable_horizon_s(self) -> float: ...
    @property
    def reconcile_lookback_s(self) -> float: ...
    @property
    def reconcile_interval_s(self) -> float: ...
    @property
    def channel_layout(self) -> str: ...


class LicenseCheck(Protocol):
    """Evaluates the license file (service.license_check.LicenseChecker)."""

    def check(self) -> LicenseChanged: ...
    def watch(self, on_change: Callable[[], None]) -> Any: ...


ListenerFactory = Callable[..., Any]
"""Builds the notification listener: `factory(on_event=..., on_state=...)`."""


@dataclass
class Deps:
    """Shared, thread-safe collaborators (never actor refs: those are looked up by name)."""

    settings: ServiceSettings
    client: GenesysClient
    ledger: Ledger
    directory: Directory
    dsp_router: DspRouter
    work_root: Path
    sequences: SequenceStore
    listener_factory: ListenerFactory | None
    license_checker: LicenseCheck | None = None
    on_file_written: Callable[[FileWritten], None] | None = None
    cluster: Membership | None = None  # this instance among those sharing the ledger (heartbeat, leader)
    config_holder: dict[str, ConfigSnapshot] = field(default_factory=dict)
    license_holder: dict[str, LicenseChanged] = field(default_factory=dict)
    # the actor class of "exports" (None: ExportSupervisor); `run.py backfill` runs only its own jobs
    export_supervisor: type[ExportSupervisor] | None = None

    @property
    def license_required(self) -> bool:
        return self.license_checker is not None


class RootSupervisor(Supervisor):
    def __init__(
        self, *, deps: Deps, on_escalate: Callable[[str], None], policy: RestartPolicy | None = None
    ) -> None:
        super().__init__(
            supervisor=None,
            child_id="root",
            directory=deps.directory,
            policy=policy or RestartPolicy(max_restarts=5, period_s=60),
            on_escalate=on_escalate,
        )
        self.deps = deps

    def child_specs(self) -> list[ChildSpec]:
        d = self.deps
        return [
            ChildSpec("config", lambda sup, cid: ConfigActor.start(supervisor=sup, child_id=cid, deps=d)),
            ChildSpec("license", lambda sup, cid: LicenseActor.start(supervisor=sup, child_id=cid, deps=d)),
            ChildSpec(
                "pipeline",
                lambda sup, cid: PipelineSupervisor.start(
                    supervisor=sup, child_id=cid, directory=d.directory, deps=d, policy=pipeline_policy()
                ),
            ),
            ChildSpec(
                "exports",
                lambda sup, cid: (d.export_supervisor or ExportSupervisor).start(
                    supervisor=sup, child_id=cid, directory=d.directory, deps=d
                ),
            ),
            ChildSpec(
                "notification", lambda sup, cid: NotificationActor.start(supervisor=sup, child_id=cid, deps=d)
            ),
        ]

    def on_child_started(self, child_id: str, ref: pykka.ActorRef[Any], restarted: bool) -> None:
        snapshot = self.deps.config_holder.get("snapshot")
        status = self.deps.license_holder.get("status")
        try:
            if child_id in ("exports", "notification") and snapshot is not None:
                ref.tell(ConfigChanged(snapshot))
            if child_id == "exports" and status is not None:
                ref.tell(status)
        except pykka.ActorDeadError:
            pass
