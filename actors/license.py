"""LicenseActor: whether the service may export, published to the ExportSupervisor.

With no license directory configured the service runs unlicensed-checks-off ("licensed", and the
log says so). Otherwise `deps.license_checker` (from `licensing`) evaluates the license file with
trusted time; a file watcher and a periodic re-check tell this actor when to evaluate again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pykka

from actors.base import BackgroundDone, Supervised
from actors.supervisor import schedule
from messages.config import LicenseChanged
from messages.lifecycle import Tick

if TYPE_CHECKING:
    from actors.root import Deps

logger = logging.getLogger(__name__)

RECHECK_S = 300.0


class LicenseActor(Supervised):
    background_threads = 1

    def __init__(self, *, supervisor: pykka.ActorRef[Any] | None, child_id: str, deps: Deps) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.deps = deps
        self.current: LicenseChanged | None = None
        self.watcher: Any = None
        self.checking = False

    def setup(self) -> None:
        checker = self.deps.license_checker
        if checker is None:
            logger.info("License check is not configured: the service runs licensed")
            self._publish(LicenseChanged(True, "no license check configured"))
            return
        ref = self.actor_ref
        self.watcher = checker.watch(lambda: _tell(ref, Tick("file-changed")))
        self._check("start-up")

    def teardown(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()

    def handle(self, message: Any) -> Any:
        if isinstance(message, Tick):
            self._check(message.name)
        elif isinstance(message, BackgroundDone):
            self._checked(message)
        elif message == "status":
            return self.current
        else:
            return super().handle(message)
        return None

    def _check(self, reason: str) -> None:
        if self.checking or self.deps.license_checker is None:
            return
        self.checking = True
        self.run_in_background(self.deps.license_checker.check, tag=reason)

    def _checked(self, done: BackgroundDone) -> None:
        self.checking = False
        if done.error is not None:
            logger.error("License check failed: %s", done.error)
            status = LicenseChanged(False, f"license check failed: {done.error}")
        else:
            status = done.result
        self._publish(status)
        if done.tag in ("start-up", "periodic"):  # one periodic timer chain; file changes add none
            delay = getattr(self.deps.license_checker, "next_check_delay_s", lambda: RECHECK_S)()
            schedule(self.actor_ref, delay, Tick("periodic"))

    def _publish(self, status: LicenseChanged) -> None:
        changed = self.current is None or (status.licensed, status.reason) != (
            self.current.licensed,
            self.current.reason,
        )
        self.current = status
        self.deps.license_holder["status"] = status
        if changed:
            if status.licensed:
                logger.info("License: licensed (%s)", status.reason)
            else:
                logger.error(
                    "License: NOT licensed (%s): exports are held until a valid license arrives",
                    status.reason,
                )
            self.deps.directory.tell("exports", status)


def _tell(ref: Any, message: Any) -> None:
    try:
        ref.tell(message)
    except Exception:
        pass
