"""`python run.py` / `python run.py service`: run the export service in the foreground."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from service.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)


ACTIONS = ("install", "uninstall", "start", "stop", "status")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=ACTIONS,
        help="manage the installed service (NSSM on Windows, systemd on Linux); "
        "without an action the service runs in the foreground",
    )
    parser.add_argument(
        "--account",
        help="install: the account the service runs as (Windows DOMAIN\\user, its password from "
        "CALLEXPORT_SERVICE_PASSWORD; Linux user, default callexport)",
    )
    parser.add_argument("--nssm", help="install (Windows): the path of nssm.exe (default: found on the PATH)")
    parser.add_argument("--name", default="callexport", help="the service's name (default callexport)")
    parser.add_argument(
        "--print",
        dest="print_only",
        action="store_true",
        help="install: print the NSSM commands or the systemd unit and change nothing",
    )
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="settings file (default: $CALLEXPORT_SETTINGS or ./callexport.toml)",
    )


def load_credentials(settings: Settings) -> Any:
    """Credentials from the environment, the credential manager, the registry or the settings file."""
    from genesys.credentials import CredentialStore

    store = CredentialStore(settings_path=settings.settings_file)
    return store.load()


INSTALL_DIR = Path(__file__).resolve().parent.parent


def license_checker_for(settings: Settings, client: Any) -> Any:
    """The service always runs the license check: the license file lives in `[license] directory`,
    by default the install directory (where run.py is)."""
    from service.license_check import LicenseChecker

    return LicenseChecker(
        settings.license_dir or INSTALL_DIR,
        api_url=settings.api_url,
        server_time=client.get_date,
        ntp_servers=settings.ntp_servers,
    )


def prepare(settings_path: Path | None, *, intake: bool = True) -> Any:
    """Settings, logging, credentials, client and actor dependencies for a command that runs the
    service's pipeline; an exit code (2) with the reason logged when something needed is missing."""
    from dataclasses import replace

    from service.logging_setup import configure_logging
    from service.runtime import build_client, build_deps

    try:
        settings = load_settings(settings_path)
    except SettingsError as exc:
        logging.basicConfig()
        logger.error("%s", exc)
        return 2
    log_file = configure_logging(settings.log_dir, settings.log_level)
    from service.ledger_open import describe
    from service.settings import instance_name

    logger.info(
        "callexport starting: API %s, state in %s, ledger %s, instance %s, log file %s",
        settings.api_url,
        settings.state_dir,
        describe(settings),
        instance_name(settings),
        log_file,
    )
    try:
        credentials = load_credentials(settings)
    except Exception as exc:
        logger.error("No usable Genesys Cloud credentials: %s (see `python run.py credentials set`)", exc)
        return 2
    client = build_client(settings, credentials)
    from ledger import LedgerTooNew, LedgerUnavailable

    try:
        deps = build_deps(settings, client, license_checker=license_checker_for(settings, client))
    except (LedgerUnavailable, LedgerTooNew) as exc:
        logger.error("The export ledger cannot be used: %s", exc)
        return 2
    if intake:
        return deps
    return replace(deps, listener_factory=None, cluster=transient_membership(deps.ledger, settings))


def transient_membership(ledger: Any, settings: Settings) -> Any:
    """A one-shot command next to a running service (`run.py export`, `run.py backfill`): an instance
    of its own (`<instance>~<pid>`) that never takes the leader role, so that on a shared ledger it
    never takes back (requeues) the service's work or its singletons; its claims hold leases like any
    instance's."""
    import os

    from ledger.cluster import Membership
    from service.settings import instance_name

    return Membership(
        ledger, f"{instance_name(settings)}~{os.getpid()}", lease_s=settings.lease_s, may_lead=False
    )


def main(args: argparse.Namespace) -> int:
    if getattr(args, "action", None):
        from service.manage import manage

        return manage(args)
    from service.runtime import Service, install_signal_handlers, run_until_stopped

    deps = prepare(args.settings)
    if isinstance(deps, int):
        return deps
    service = Service(deps)
    install_signal_handlers(service)
    service.start()
    return run_until_stopped(service, deps.settings.status_interval_s, deps.settings.shutdown_timeout_s)
