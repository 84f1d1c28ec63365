"""The LicenseActor's collaborator: evaluates the license file with trusted time and watches it.

Wraps `licensing` (Ed25519-signed license, hardware id, Genesys server time then SNTP) in the two
calls the actor makes: `check()` (blocking: may ask Genesys Cloud for the time; run in a helper
thread) and `watch(callback)` (a debounced file watcher thread on the license directory).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from messages.config import LicenseChanged

logger = logging.getLogger(__name__)

LICENSE_FILE = "callexport.license"


class LicenseChecker:
    def __init__(
        self,
        directory: Path,
        *,
        api_url: str,
        server_time: Callable[[], Any] | None,
        ntp_servers: Sequence[str] = (),
    ) -> None:
        from licensing.evaluate import LicenseEvaluator
        from licensing.hwid import hardware_id
        from licensing.trusted_time import TrustedClock

        self.directory = Path(directory)
        self.path = self.directory / LICENSE_FILE
        clock = TrustedClock(genesys_time=server_time, ntp_servers=tuple(ntp_servers))
        self.evaluator = LicenseEvaluator(self.path, clock=clock, hwid=hardware_id(), api_url=api_url)

    def check(self) -> LicenseChanged:
        status, _ = self.evaluator.check()
        reason = status.log_line()
        return LicenseChanged(status.licensed, reason, dict(status.limits))

    def next_check_delay_s(self) -> float:
        return self.evaluator.next_check_delay_s()

    def watch(self, on_change: Callable[[], None]) -> Any:
        from licensing.watch import LicenseFileWatcher

        self.directory.mkdir(parents=True, exist_ok=True)
        return LicenseFileWatcher(
            self.directory, "*.license", lambda _paths: on_change(), debounce_s=1.0
        ).start()


def ensure_demo_license(directory: Path) -> Path:
    """Write a demo license for this machine unless a license file is already there."""
    from licensing.demo import write_demo_license

    path = Path(directory) / LICENSE_FILE
    if not path.exists():
        write_demo_license(path)
    return path
