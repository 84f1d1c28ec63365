"""RootSupervisor and the dependencies every actor shares.

Children start in dependency order (config, license, pipeline, exports, notification: intake last)
and stop in reverse (intake first). A child that (re)starts is sent the current configuration and
license state, so nobody waits for the next reload. When the root gives up (restart intensity
exceeded) it calls `on_escalate`, which makes the process exit non-zero so that the service
manager (NSSM, systemd) restarts it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pykka

from actors.config import ConfigActor
from actors.directory import Directory
from actors.export_supervisor import ExportSupervisor
from actors.license import LicenseActor
from actors.notification import NotificationActor
from actors.pipeline import DspRouter, PipelineSupervisor, pipeline_policy
from actors.supervisor import ChildSpec, RestartPolicy, Supervisor
from messages.config import ConfigChanged

logger = logging.getLogger(__name__)


@dataclass
class Deps:
    """Shared, thread-safe collaborators (never actor refs: those are looked up by name)."""

    settings: Any
    client: Any
    ledger: Any
    directory: Directory
    dsp_router: DspRouter
    work_root: Path
    sequences: Any
    listener_factory: Any
    license_checker: Any = None
    on_file_written: Any = None
    config_holder: dict[str, Any] = field(default_factory=dict)
    license_holder: dict[str, Any] = field(default_factory=dict)

    @property
    def license_required(self) -> bool:
        return self.license_checker is not None


class RootSupervisor(Supervisor):
    def __init__(self, *, deps: Deps, on_escalate: Any, policy: RestartPolicy | None = None) -> None:
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
                lambda sup, cid: ExportSupervisor.start(
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
