"""The official Genesys Cloud SDK (``PureCloudPlatformClientV2``), imported without its config watcher.

When the package is imported, it creates its ``Configuration`` singleton
(``PureCloudPlatformClientV2/__init__.py``: ``configuration = Configuration()``). The constructor
starts a watchdog ``Observer`` that follows the SDK's own config file, ``~/.genesyscloudpython/config``
(``configuration.py``: ``live_reload_config = True``, ``_config_updater``). When that folder does not
exist, the watcher climbs to the nearest folder that does, which is the home folder itself, and
watches it **recursively**. With SDK 269.0.0 on a service account's home of 17,000 folders, that
took 3 s of CPU at every start and held an inotify watch on every folder for the process's life.

callexport never reads the SDK's config file (its settings are its own), so the SDK is imported here,
once, with a stand-in observer that watches nothing. Import the SDK only through this module. The
stand-in is in ``watchdog.observers`` only while the SDK imports (which binds it for good); that
first import happens in the main thread at start-up, and nothing of callexport uses watchdog (the
license folder is polled), so no other code can pick the stand-in up.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

PACKAGE = "PureCloudPlatformClientV2"


class _NoWatch:
    """Takes the place of watchdog's ``Observer`` in the SDK's ``Configuration`` only."""

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def join(self, timeout: float | None = None) -> None:
        return None

    def schedule(self, *args: Any, **kwargs: Any) -> None:
        return None

    def unschedule_all(self) -> None:
        return None


def _import_sdk() -> ModuleType:
    if PACKAGE in sys.modules:  # imported before, by code that went round this module
        if not config_watch_disabled():
            logger.warning("%s was imported before genesys.sdk: its config-file watcher runs", PACKAGE)
        return sys.modules[PACKAGE]
    import watchdog.observers as observers

    real = observers.Observer
    observers.Observer = _NoWatch  # type: ignore[assignment]  # the SDK binds it at its import
    try:
        import PureCloudPlatformClientV2
    finally:
        observers.Observer = real
    return PureCloudPlatformClientV2


def config_watch_disabled() -> bool:
    """Whether the SDK's configuration-file watcher is the stand-in (it watches nothing)."""
    configuration = sys.modules.get(f"{PACKAGE}.configuration")
    return configuration is not None and getattr(configuration, "Observer", None) is _NoWatch


sdk = _import_sdk()
