"""``python run.py credentials set | show | delete | test``.

``set`` prompts for the secret with getpass (no echo) and never accepts it as a command-line argument
(it would land in the shell history and the process list). Without a terminal (automation), getpass
reads one line from standard input: ``printf '%s\\n' "$SECRET" | python run.py credentials set --client-id ID``.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genesys.credentials import (
    WRITABLE,
    CredentialError,
    Credentials,
    CredentialStore,
    mask_secret,
)

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

DEFAULT_SETTINGS = Path("callexport.toml")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING_PERMISSIONS = 0, 1, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="service settings file (last-resort store, and the API host for `test`; "
        "default $CALLEXPORT_SETTINGS or ./callexport.toml)",
    )
    sub = parser.add_subparsers(dest="credentials_command", metavar="SUBCOMMAND", required=True)
    set_ = sub.add_parser(
        "set", parents=[common], help="store the OAuth client id and secret (secret is prompted)"
    )
    set_.add_argument("--client-id", help="OAuth client id (prompted when omitted)")
    set_.add_argument(
        "--store", choices=WRITABLE, help="force a store (default: the most secure one available)"
    )
    sub.add_parser(
        "show", parents=[common], help="show the client id, the masked secret and where it is stored"
    )
    sub.add_parser("delete", parents=[common], help="remove the stored credentials from every store")
    test = sub.add_parser(
        "test",
        parents=[common],
        help="get a token, show the organisation and the permissions missing for export",
    )
    test.add_argument("--api-url", help="Genesys Cloud API host (default: from the settings, else us-east-1)")
    test.add_argument("--login-url", help="OAuth login host (default: derived from the API host)")


def main(args: argparse.Namespace) -> int:
    handlers = {"set": _set, "show": _show, "delete": _delete, "test": _test}
    return handlers[args.credentials_command](args)


def settings_path(args: argparse.Namespace) -> Path:
    """``--settings``, else ``$CALLEXPORT_SETTINGS``, else ``callexport.toml`` (as the service does)."""
    return args.settings or Path(os.environ.get("CALLEXPORT_SETTINGS") or DEFAULT_SETTINGS)


def _store(args: argparse.Namespace) -> CredentialStore:
    return CredentialStore(settings_path(args))


def _set(args: argparse.Namespace) -> int:
    client_id = args.client_id
    if not client_id:
        try:
            client_id = input("OAuth client id: ").strip()
        except EOFError:
            client_id = ""
    if not client_id:
        print("error: the client id is empty", file=sys.stderr)
        return EXIT_USAGE
    try:
        secret = getpass.getpass("OAuth client secret (not shown): ")
    except (EOFError, KeyboardInterrupt):
        print("\nerror: no secret entered", file=sys.stderr)
        return EXIT_USAGE
    secret = secret.strip()
    if not secret:
        print("error: the client secret is empty", file=sys.stderr)
        return EXIT_USAGE
    try:
        where = _store(args).save(client_id, secret, target=args.store)
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"saved the credentials of client id {client_id} to {where}")
    if "settings file" in where:
        print(
            "warning: the settings file is the last-resort store; restrict its access to the service account"
        )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    try:
        creds = _store(args).load()
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"client id:     {creds.client_id}")
    print(f"client secret: {mask_secret(creds.client_secret)}")
    print(f"stored in:     {creds.source}")
    return EXIT_OK


def _delete(args: argparse.Namespace) -> int:
    removed = _store(args).delete()
    if not removed:
        print("no stored credentials found")
        return EXIT_OK
    for where in removed:
        print(f"removed from {where}")
    return EXIT_OK


# ------------------------------------------------------------------------------------ test


@dataclass(frozen=True)
class Probe:
    area: str
    method: str
    path: str  # {id} is replaced with a random id: 404 then means "allowed, not found"


PROBE_ID = "{id}"
PROBES = (
    Probe("recordings", "GET", "/api/v2/conversations/{id}/recordings"),
    Probe("analytics", "GET", "/api/v2/analytics/conversations/{id}/details"),
    Probe(
        "transcripts",
        "GET",
        "/api/v2/speechandtextanalytics/conversations/{id}/communications/{id}/transcripturl",
    ),
    Probe("attributes", "GET", "/api/v2/conversations/{id}"),
    Probe("custom attributes", "GET", "/api/v2/conversations/customattributes/schemas"),
    Probe("data tables", "GET", "/api/v2/flows/datatables?pageSize=1"),
    Probe("queues", "GET", "/api/v2/routing/queues?pageSize=1"),
    Probe("users", "GET", "/api/v2/users?pageSize=1"),
    Probe("notifications", "GET", "/api/v2/notifications/channels"),
)


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    status: int  # 0: no response
    allowed: bool | None  # None: could not tell (5xx, connection error)
    message: str


def run_probes(
    api_url: str, authorization: str, session: requests.Session | None = None
) -> list[ProbeResult]:
    """Call each probe once with the token; 403 means a missing permission, 404 means allowed."""
    import requests  # noqa: PLC0415

    session = session or requests.Session()
    probe_id = str(uuid.uuid4())
    results = []
    for probe in PROBES:
        url = api_url.rstrip("/") + probe.path.replace(PROBE_ID, probe_id)
        try:
            response = session.request(
                probe.method,
                url,
                headers={"Authorization": authorization, "Accept": "application/json"},
                timeout=30,
            )
        except requests.RequestException as exc:
            results.append(ProbeResult(probe, 0, None, type(exc).__name__))
            continue
        message = ""
        try:
            body = response.json()
            if isinstance(body, dict):
                message = str(body.get("message") or "")[:200]
        except ValueError:
            pass
        status = response.status_code
        allowed: bool | None
        if status in (401, 403):
            allowed = False
        elif status == 429 or status >= 500:
            allowed = None
        else:
            allowed = True  # 2xx, or 404 for the random probe id: the permission check passed
        results.append(ProbeResult(probe, status, allowed, message))
    return results


def _api_url(args: argparse.Namespace) -> tuple[str, str | None]:
    if args.api_url:
        return args.api_url, args.login_url
    try:
        from service.settings import load_settings  # noqa: PLC0415

        settings = load_settings(settings_path(args))
        return settings.api_url, args.login_url or settings.login_url
    except (ImportError, ValueError) as exc:
        logger.debug("settings not read: %s", exc)
        return "https://api.mypurecloud.com", args.login_url


def _test(args: argparse.Namespace) -> int:
    try:
        creds: Credentials = _store(args).load()
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    api_url, login_url = _api_url(args)
    from genesys.auth import TokenProvider  # noqa: PLC0415
    from genesys.config import ClientConfig  # noqa: PLC0415
    from genesys.errors import GenesysError  # noqa: PLC0415
    from genesys.rest import GenesysClient  # noqa: PLC0415

    config = ClientConfig(
        api_url=api_url,
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        login_url=login_url,
        max_retries=1,
    )
    print(f"client id:     {creds.client_id} (from {creds.source})")
    print(f"API host:      {config.api_url}")
    tokens = TokenProvider(config, max_attempts=1)
    try:
        authorization = tokens.authorization()
    except GenesysError as exc:
        print(f"token:         FAILED: {exc}")
        return EXIT_FAILED
    print(f"token:         ok (from {config.token_url})")
    with GenesysClient(config, token_provider=tokens) as client:
        try:
            org = client.get_organization()
            print(f"organization:  {org.get('name')} (id {org.get('id')})")
        except GenesysError as exc:
            print(f"organization:  not readable: {exc}")
    results = run_probes(config.api_url, authorization)
    print("permissions for export:")
    missing = []
    for result in results:
        if result.allowed is True:
            verdict = "ok"
        elif result.allowed is False:
            verdict = "MISSING"
            missing.append(result.probe.area)
        else:
            verdict = "unknown"
        detail = f"HTTP {result.status}" if result.status else "no response"
        if result.message and result.allowed is not True:
            detail += f": {result.message}"
        print(f"  {result.probe.area:<18} {verdict:<8} {result.probe.method} {result.probe.path} -> {detail}")
    if missing:
        print(f"missing permissions for: {', '.join(missing)}")
        return EXIT_MISSING_PERMISSIONS
    print("all export permissions present")
    return EXIT_OK
