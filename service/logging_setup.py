"""Logging for operators: console and a rotating log file, one format, secrets never logged."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_FILE = "callexport.log"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 10


def configure_logging(log_dir: Path | None, level: str = "INFO", console: bool = True) -> Path | None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "_callexport", False):
            root.removeHandler(handler)
    formatter = logging.Formatter(FORMAT)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream._callexport = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    path = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / LOG_FILE
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        rotating.setFormatter(formatter)
        rotating._callexport = True  # type: ignore[attr-defined]
        root.addHandler(rotating)
    # pykka logs exceptions returned to callers at INFO; third-party chatter stays at WARNING
    for noisy in ("urllib3", "websocket", "websockets", "PureCloudPlatformClientV2", "numba", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
