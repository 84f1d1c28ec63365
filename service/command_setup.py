"""What a one-shot command that reads Genesys Cloud needs before it starts (`report`, `backfill`):
the settings, the stored credentials, a client and the profile document, each failure turned into
a clear message and an exit code instead of a traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genesys.rest import GenesysClient
    from messages.config import ConfigSnapshot
    from service.settings import Settings

logger = logging.getLogger(__name__)

EXIT_FAILED, EXIT_INPUT = 1, 2


@dataclass(frozen=True)
class Prepared:
    settings: Settings
    client: GenesysClient
    snapshot: ConfigSnapshot


def input_error(command: str, message: str) -> int:
    """Bad input: the message on stderr, exit code 2, nothing started."""
    print(f"{command}: {message}", file=sys.stderr)
    return EXIT_INPUT


def prepare_command(
    command: str,
    settings_path: Path | None,
    make_client: Callable[[Settings, Any], GenesysClient] | None = None,
) -> Prepared | int:
    """Settings, credentials, a client (`make_client`, by default the service's) and the profile
    document; an exit code when one of them is not usable (2: the operator's input, 1: Genesys Cloud
    could not be reached)."""
    from service.settings import SettingsError, load_settings

    try:
        settings = load_settings(settings_path)
    except SettingsError as exc:
        return input_error(command, str(exc))
    from service.cli import load_credentials

    try:
        credentials = load_credentials(settings)
    except Exception as exc:
        return input_error(
            command, f"no usable Genesys Cloud credentials: {exc} (see `python run.py credentials set`)"
        )
    from export.config_loader import ConfigLoadError, load_snapshot
    from genesys.errors import GenesysError

    if make_client is None:
        from service.runtime import build_client

        make_client = build_client
    client = make_client(settings, credentials)
    try:
        snapshot = load_snapshot(client, settings, 0)
    except ConfigLoadError as exc:
        client.close()
        return input_error(command, f"the export profiles could not be loaded: {exc}")
    except GenesysError as exc:
        client.close()
        if not logging.getLogger().handlers:
            logging.basicConfig()
        logger.error("Genesys Cloud could not be reached: %s", exc)
        return EXIT_FAILED
    return Prepared(settings, client, snapshot)
