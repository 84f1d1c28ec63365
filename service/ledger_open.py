"""Open the export ledger the settings name: the embedded SQLite file, or a shared PostgreSQL database.

The PostgreSQL URL (`[service] ledger_url` / `CALLEXPORT_LEDGER_URL`) is treated like the OAuth
secret: its password is never logged (messages show the URL with `***`), and it need not be in the
URL at all: without one it is read from `CALLEXPORT_LEDGER_PASSWORD`, else from the operating
system's credential store (service `callexport`, user `ledger`: `python -m keyring set callexport
ledger`). A database that cannot be reached or used raises `LedgerUnavailable` with a message that
names the setting, which stops the service at start-up with exit code 2.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from ledger import Ledger, LedgerUnavailable
from ledger.db import redacted
from service.settings import Settings, instance_name, ledger_location

logger = logging.getLogger(__name__)

ENV_LEDGER_PASSWORD = "CALLEXPORT_LEDGER_PASSWORD"
KEYRING_LEDGER_USER = "ledger"
SETTING = "[service] ledger_url / CALLEXPORT_LEDGER_URL"


def ledger_url(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """The full PostgreSQL URL (password filled in from the credential store when the URL has none),
    or None for the embedded SQLite ledger."""
    if not settings.ledger_url:
        return None
    from sqlalchemy.engine import make_url

    environ = os.environ if environ is None else environ
    try:
        url = make_url(settings.ledger_url)
    except Exception as exc:
        raise LedgerUnavailable(f"{SETTING}: not a database URL ({type(exc).__name__})") from exc
    if url.password is None:
        password = environ.get(ENV_LEDGER_PASSWORD) or _keyring_password()
        if password:
            url = url.set(password=password)
    return url.render_as_string(hide_password=False)


def _keyring_password() -> str | None:
    from genesys.credentials import KEYRING_SERVICE, secure_keyring_backend

    backend = secure_keyring_backend()
    if backend is None:
        return None
    try:
        return backend.get_password(KEYRING_SERVICE, KEYRING_LEDGER_USER)
    except Exception as exc:  # a locked or broken store: connect without a password
        logger.warning("Ledger password: the credential store could not be read (%s)", type(exc).__name__)
        return None


def describe(settings: Settings) -> str:
    """Where the ledger lives, for a log line (never a password)."""
    return redacted(settings.ledger_url) if settings.ledger_url else str(ledger_location(settings))


def open_ledger(settings: Settings, *, check_configuration: bool = False) -> Ledger:
    """The ledger the settings name. With `check_configuration` (the service), a shared ledger also
    makes sure every instance reads the same profile document: the first instance records its
    `[genesys] api_url` and `[configuration]` Data Table, row and column, and an instance set to
    another one while an instance with the recorded one is alive is refused (`LedgerUnavailable`,
    exit 2)."""
    url = ledger_url(settings)
    if url is None:
        return Ledger(ledger_location(settings))
    try:
        ledger = Ledger(url)
    except LedgerUnavailable as exc:
        raise LedgerUnavailable(f"{SETTING}: {exc}") from exc
    if check_configuration:
        mine = " | ".join(
            (settings.api_url, settings.datatable, settings.datatable_row, settings.datatable_column)
        )
        shared = ledger.agree("configuration", mine)
        others = [
            i for i in ledger.instances(live_within=settings.lease_s) if i.name != instance_name(settings)
        ]
        if shared != mine and not others:  # nobody runs with the old one: the configuration moved
            logger.warning(
                "Shared ledger: the profile document's location changes from %r to %r", shared, mine
            )
            shared = ledger.agree("configuration", mine, replace=True)
        if shared != mine:
            ledger.close()
            raise LedgerUnavailable(
                f"{SETTING}: the instances sharing this ledger read their profiles from "
                f"{shared!r} ([genesys] api_url | [configuration] datatable | row | column); this "
                f"instance is set to {mine!r}. All instances must read the one Data Table row."
            )
    return ledger
