"""ConfigActor: the configuration document from the Data Table row, hot-reloaded.

Loads in a helper thread, validates with `profiles`, and publishes an immutable `ConfigSnapshot`
to the NotificationActor (topics) and the ExportSupervisor (new exports). Reloads every
`ConfigReloadIntervalSeconds` and at once on a system-queue signal. A document that cannot be
used keeps the last good snapshot and logs exactly what is wrong.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pykka

from actors.base import BackgroundDone, Supervised
from actors.supervisor import schedule
from messages.config import ConfigChanged
from messages.intake import ReloadRequested
from messages.lifecycle import Tick

if TYPE_CHECKING:
    from actors.root import Deps

logger = logging.getLogger(__name__)

SUBSCRIBERS = ("notification", "exports")
RETRY_FIRST_LOAD_S = 10.0


class ConfigActor(Supervised):
    background_threads = 1

    def __init__(self, *, supervisor: pykka.ActorRef[Any] | None, child_id: str, deps: Deps) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.deps = deps
        self.snapshot: Any = deps.config_holder.get("snapshot")
        self.loading = False
        self.reload_again = False
        self.timer: Any = None
        self.version = getattr(self.snapshot, "version", 0)

    def setup(self) -> None:
        if self.snapshot is not None:  # a restarted ConfigActor republishes the last good snapshot
            self._publish(self.snapshot)
        self._load("start-up")

    def teardown(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def handle(self, message: Any) -> Any:
        if isinstance(message, ReloadRequested):
            self._load(message.reason)
        elif isinstance(message, Tick):
            self._load("reload interval")
        elif isinstance(message, BackgroundDone):
            self._loaded(message)
        elif message == "snapshot":
            return self.snapshot
        else:
            return super().handle(message)
        return None

    def _load(self, reason: str) -> None:
        if self.loading:
            self.reload_again = True
            return
        from export.config_loader import load_snapshot

        self.loading = True
        logger.debug("Loading configuration (%s)", reason)
        self.run_in_background(
            load_snapshot, self.deps.client, self.deps.settings, self.version + 1, tag=reason
        )

    def _loaded(self, done: BackgroundDone) -> None:
        self.loading = False
        if done.error is not None:
            if self.snapshot is None:
                logger.error(
                    "Configuration could not be loaded (%s): %s; retrying in %.0f s",
                    done.tag,
                    done.error,
                    RETRY_FIRST_LOAD_S,
                )
                self._arm(RETRY_FIRST_LOAD_S)
            else:
                logger.error(
                    "Configuration reload failed (%s): %s; keeping the last good configuration (version %d)",
                    done.tag,
                    done.error,
                    self.snapshot.version,
                )
                self._arm(self.snapshot.config.reload_interval_seconds)
        else:
            snapshot = done.result
            previous = set(self.snapshot.errors) if self.snapshot is not None else set()
            for error in snapshot.errors:
                if error not in previous:  # say it once, not on every reload
                    logger.error("Configuration: %s", error)
            changed = self.snapshot is None or _fingerprint(snapshot) != _fingerprint(self.snapshot)
            if changed:
                self.version = snapshot.version
                names = ", ".join(p.name for p in snapshot.config.profiles) or "none"
                logger.info(
                    "Configuration version %d loaded (%s): %d active profile(s): %s; %d queue(s) watched",
                    snapshot.version,
                    done.tag,
                    len(snapshot.config.profiles),
                    names,
                    len(snapshot.queue_ids),
                )
                self._publish(snapshot)
            self._arm(snapshot.config.reload_interval_seconds)
        if self.reload_again:
            self.reload_again = False
            self._load("signal during load")

    def _publish(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        self.deps.config_holder["snapshot"] = snapshot
        for name in SUBSCRIBERS:
            self.deps.directory.tell(name, ConfigChanged(snapshot))

    def _arm(self, seconds: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = schedule(self.actor_ref, max(1.0, float(seconds)), Tick("reload"))


def _fingerprint(snapshot: Any) -> tuple[Any, ...]:
    return (
        snapshot.config,
        tuple(sorted(snapshot.queue_ids.items())),
        snapshot.system_queue_id,
        tuple(sorted((k, tuple(sorted(v))) for k, v in snapshot.policy_queue_ids.items())),
        tuple(sorted(getattr(snapshot, "retention_policies", {}).items())),
    )
