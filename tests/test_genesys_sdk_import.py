"""The official SDK is imported without its recursive watch of the home folder (genesys/sdk.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import threading
import genesys.rest
import PureCloudPlatformClientV2 as sdk
from genesys.sdk import config_watch_disabled
watchers = [t for t in threading.enumerate() if type(t).__module__.startswith("watchdog")]
print(config_watch_disabled(), len(watchers), sdk.Configuration() is sdk.configuration)
import watchdog.observers
print(watchdog.observers.Observer.__module__.startswith("watchdog"))
"""


def test_importing_the_client_starts_no_file_watcher_and_leaves_watchdog_whole(tmp_path):
    """A fresh process whose home folder holds many folders (as a service account's does): importing
    the client starts no watchdog thread, and watchdog's own Observer is the real one afterwards."""
    home = tmp_path / "home"
    for i in range(50):
        (home / f"d{i}" / "sub").mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["True", "0", "True", "True"]
