"""After provisioning: sign in with the stored credentials and probe every permission the export
needs, exactly as `python run.py credentials test` does (`genesys.credentials_cli.run_probes`).

Genesys Cloud may take a moment to apply a new role to a new client, so a missing permission is
probed again (`reliability.backoff.POLL`) for up to `PROPAGATION_WAIT_S` before it is reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from genesys.auth import TokenProvider
from genesys.config import ClientConfig
from genesys.credentials import CredentialError
from genesys.credentials_cli import run_probes
from genesys.errors import GenesysError
from provisioning.plan import OK, Context, Finding, Outcome
from reliability.backoff import POLL

logger = logging.getLogger(__name__)

PROPAGATION_WAIT_S = 60.0


class CheckFailed(Exception):
    """What the check found missing (the message says what to do)."""


def probe(ctx: Context, *, wait_s: float, sleep: Callable[[float], None] = time.sleep) -> str:
    try:
        creds = ctx.require_credentials().load()
    except CredentialError as exc:
        raise CheckFailed(f"no usable stored credentials: {exc}") from None
    region = ctx.require_session().region
    config = ClientConfig(region.api_url, creds.client_id, creds.client_secret, login_url=region.login_url)
    deadline = time.monotonic() + wait_s
    attempt = 0
    while True:
        attempt += 1
        provider = TokenProvider(config, max_attempts=2)
        try:
            authorization = provider.authorization()
            missing = [r for r in run_probes(config.api_url, authorization) if r.allowed is not True]
        except GenesysError as exc:
            missing, failure = [], str(exc)
        else:
            failure = ""
        finally:
            provider.close()
        if not missing and not failure:
            return (
                f"client {creds.client_id} (from {creds.source}) gets a token and has every export permission"
            )
        if time.monotonic() + POLL.base(attempt) > deadline:
            break
        sleep(POLL.delay(attempt))
    if failure:
        raise CheckFailed(f"the stored credentials of client {creds.client_id} get no token: {failure}")
    areas = ", ".join(
        f"{r.probe.area} ({r.probe.method} {r.probe.path}: HTTP {r.status or 'no response'})" for r in missing
    )
    raise CheckFailed(
        f"missing for export: {areas}. Run setup again to repair the role, or see docs/genesys.md "
        "(permissions) and `python run.py credentials test`"
    )


class CheckStep:
    key = "check"
    needs: tuple[str, ...] = ("oauth-client",)
    title = "Check: the service's credentials and permissions"

    def __init__(self, ctx: Context) -> None:
        pass

    def inspect(self, ctx: Context) -> Finding:
        if ctx.planning:
            return Finding(
                OK, "after the changes, sign in with the stored credentials and probe every permission"
            )
        return Finding(OK, probe(ctx, wait_s=PROPAGATION_WAIT_S))

    def apply(self, ctx: Context, finding: Finding) -> Outcome:  # never called: inspect is the check
        return Outcome("unchanged", finding.summary)
