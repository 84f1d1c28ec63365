"""``python run.py setup``: provision the Genesys Cloud org, store the credentials, install the license
and (optionally) the service; idempotent, so running it again repairs what was deleted or changed.

Interactive by default (prompts with defaults, the plan, a confirmation, then each step with its
result). ``--non-interactive`` takes everything from options and/or ``--setup-file FILE`` (TOML, keys
as the options without ``--``, dashes as underscores); ``--dry-run`` prints the plan and changes
nothing. Secrets are never options: the admin client's secret comes from
``CALLEXPORT_ADMIN_CLIENT_SECRET`` or a hidden prompt.

Exit codes: 0 done (or nothing to change), 1 some steps failed or collided (the others are done),
2 unusable options or no sign-in.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import tomllib
import webbrowser
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from genesys.credentials import WRITABLE, CredentialStore
from provisioning import plan as planning
from provisioning.admin_client import AdminClient
from provisioning.check import CheckStep
from provisioning.client_app import DEFAULT_APP_URL, ClientAppStep
from provisioning.datatable import DataTableStep
from provisioning.license_step import LicenseStep
from provisioning.oauth_client import OAuthClientStep
from provisioning.plan import Context, Options, StepResult
from provisioning.queue import SystemQueueStep
from provisioning.regions import Region, UnknownRegion, names, resolve
from provisioning.role import RoleGrantStep, RoleStep
from provisioning.schema import SchemaStep
from provisioning.service_step import ServiceStep
from provisioning.settings_file import SettingsFileStep
from provisioning.signin import (
    DEFAULT_REDIRECT_URI,
    AdminSession,
    SignInError,
    sign_in_with_browser,
    sign_in_with_client,
    unreachable,
)

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ADMIN_SECRET_ENV = "CALLEXPORT_ADMIN_CLIENT_SECRET"
ADOPTABLE = ("role", "oauth-client", "datatable", "queue", "client-app")
STEP_TYPES = (
    SettingsFileStep,
    RoleStep,
    RoleGrantStep,
    OAuthClientStep,
    DataTableStep,
    SchemaStep,
    SystemQueueStep,
    ClientAppStep,
    CheckStep,
    LicenseStep,
    ServiceStep,
)
# option -> (Options field, prompt)
NAMES = {
    "role_name": "Role for the service",
    "client_name": "OAuth client for the service",
    "datatable": "Configuration Data Table",
    "datatable_row": "Its row",
    "datatable_column": "Its column",
    "system_queue": "System queue",
    "app_name": "Admin app (Client App) name",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--non-interactive", action="store_true", help="ask nothing: options and --setup-file only"
    )
    parser.add_argument("--dry-run", action="store_true", help="sign in, print the plan, change nothing")
    parser.add_argument("--yes", action="store_true", help="interactive: apply the plan without asking")
    parser.add_argument("--setup-file", type=Path, help="TOML file with the options (keys as below, _ for -)")
    parser.add_argument(
        "--settings", type=Path, help="the service's settings file to write (default ./callexport.toml)"
    )
    sign = parser.add_argument_group("sign-in")
    sign.add_argument("--region", help=f"Genesys Cloud region ({', '.join(names()[:4])}, …) or API URL")
    sign.add_argument("--login-url", help="OAuth login host, only if it cannot be derived from the API URL")
    sign.add_argument(
        "--browser-client-id",
        help="sign in in the browser with this Code Authorization (PKCE) OAuth client of your org",
    )
    sign.add_argument(
        "--redirect-uri", help=f"its registered loopback redirect URI (default {DEFAULT_REDIRECT_URI})"
    )
    sign.add_argument(
        "--admin-client-id",
        help=f"sign in as this admin OAuth client (client credentials; the secret from ${ADMIN_SECRET_ENV} or a prompt)",
    )
    names_group = parser.add_argument_group("names (defaults match the service's settings)")
    for key, text in NAMES.items():
        names_group.add_argument(
            f"--{key.replace('_', '-')}", help=f"{text} (default {getattr(Options(), key)!r})"
        )
    names_group.add_argument("--app-url", help=f"the admin app's HTTPS URL (default {DEFAULT_APP_URL})")
    names_group.add_argument(
        "--adopt",
        action="append",
        choices=ADOPTABLE,
        help="take over an existing object of that kind with our name that setup did not create (repeatable)",
    )
    start = parser.add_argument_group("starter profile (written only when the configuration row is missing)")
    start.add_argument(
        "--export-root", help="where its files go (with --export-queues the profile is active)"
    )
    start.add_argument("--export-queues", help="queues it exports, comma-separated")
    local = parser.add_argument_group("this machine")
    local.add_argument(
        "--store", choices=WRITABLE, help="force a credential store (default: the safest available)"
    )
    local.add_argument("--license-file", type=Path, help="install this license file (from the vendor)")
    local.add_argument(
        "--install-service", action="store_true", help="install and start the service (NSSM/systemd)"
    )
    local.add_argument("--service-account", help="the account the service runs as")
    local.add_argument("--nssm", help="Windows: path of nssm.exe")
    _ARGUMENT_KEYS.update(action.dest for action in parser._actions)


class UsageError(Exception):
    pass


# -------------------------------------------------------------------------------------- inputs


def _file_values(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"--setup-file {path}: {exc}") from None
    if any("secret" in k for k in values):
        raise UsageError(f"--setup-file {path}: secrets do not belong in a file; use ${ADMIN_SECRET_ENV}")
    unknown = sorted(k for k in values if k.replace("-", "_") not in _ARGUMENT_KEYS)
    if unknown:
        raise UsageError(f"--setup-file {path}: unknown keys {', '.join(unknown)}")
    return {k.replace("-", "_"): v for k, v in values.items()}


_ARGUMENT_KEYS: set[str] = set()


def _merged(args: argparse.Namespace) -> dict[str, Any]:
    values = _file_values(args.setup_file)
    for key, value in vars(args).items():
        if value not in (None, False, []):
            values[key] = value
    return values


class Prompter:
    """Questions with defaults on the terminal (interactive runs only)."""

    def __init__(self, interactive: bool, ask: Callable[[str], str] = input) -> None:
        self.interactive = interactive
        self.ask = ask

    def value(self, question: str, default: str = "", *, required: bool = False) -> str:
        if not self.interactive:
            if required and not default:
                raise UsageError(f"{question}: required with --non-interactive")
            return default
        while True:
            shown = f" [{default}]" if default else ""
            try:
                answer = self.ask(f"{question}{shown}: ").strip()
            except EOFError:
                raise UsageError(f"{question}: no answer (end of input)") from None
            if answer or default or not required:
                return answer or default
            print("  (an answer is needed)")

    def yes(self, question: str, default: bool) -> bool:
        if not self.interactive:
            return default
        answer = self.value(question + (" [Y/n]" if default else " [y/N]"), "").lower()
        return default if not answer else answer.startswith("y")


def _current_api_url(settings: Path) -> str:
    try:
        return str(
            tomllib.loads(settings.read_text(encoding="utf-8")).get("genesys", {}).get("api_url") or ""
        )
    except (OSError, tomllib.TOMLDecodeError):
        return ""


def gather(args: argparse.Namespace, prompter: Prompter) -> tuple[Options, dict[str, Any]]:
    values = _merged(args)
    settings = Path(values.get("settings") or os.environ.get("CALLEXPORT_SETTINGS") or "callexport.toml")
    region_text = values.get("region") or _current_api_url(settings) or "mypurecloud.com"
    if prompter.interactive and not values.get("region"):
        print(f"Genesys Cloud regions: {', '.join(names())} (or the API URL)")
        region_text = prompter.value("Region", region_text)
    elif not values.get("region") and not _current_api_url(settings):
        raise UsageError("--region is required with --non-interactive (a region name or the API URL)")
    options = Options(settings_path=settings)
    changes: dict[str, Any] = {}
    for key, question in NAMES.items():
        default = str(values.get(key) or getattr(options, key))
        changes[key] = (
            prompter.value(question, default) if prompter.interactive and key not in values else default
        )
    app_url = str(values.get("app_url") or DEFAULT_APP_URL)
    if prompter.interactive and "app_url" not in values:
        app_url = prompter.value(
            "Admin app URL (where the admin app is hosted; HTTPS for Genesys Cloud)", app_url
        )
    root = str(values.get("export_root") or "")
    queues = values.get("export_queues") or ""
    if prompter.interactive and "export_root" not in values:
        print("A starter profile is written if the configuration row does not exist yet.")
        root = prompter.value("  Its destination folder (empty: an inactive template)", root)
        if root and "export_queues" not in values:
            queues = prompter.value("  Queues it exports, comma-separated", str(queues))
    if isinstance(queues, str):
        queues = [q.strip() for q in queues.split(",") if q.strip()]
    license_file = values.get("license_file")
    if prompter.interactive and "license_file" not in values:
        license_file = prompter.value("License file from the vendor (empty: none yet)", "") or None
    install = bool(values.get("install_service"))
    if prompter.interactive and "install_service" not in values:
        install = prompter.yes("Install and start the service on this machine?", False)
    options = replace(
        options,
        app_url=app_url,
        export_root=root,
        export_queues=tuple(str(q) for q in queues),
        adopt=frozenset(values.get("adopt") or ()),
        credential_store=values.get("store"),
        license_file=Path(license_file) if license_file else None,
        install_service=install,
        service_account=values.get("service_account"),
        nssm=values.get("nssm"),
        **changes,
    )
    values["region"] = region_text
    return options, values


def sign_in(
    values: dict[str, Any], prompter: Prompter, *, open_url: Callable[[str], object] | None
) -> AdminSession:
    try:
        region = resolve(str(values["region"]), values.get("login_url"))
    except UnknownRegion as exc:
        raise UsageError(str(exc)) from None
    _check_reachable(region)
    admin_id, browser_id = values.get("admin_client_id"), values.get("browser_client_id")
    if not admin_id and not browser_id:
        if not prompter.interactive:
            raise UsageError(
                "--non-interactive needs --admin-client-id (with $CALLEXPORT_ADMIN_CLIENT_SECRET) or --browser-client-id"
            )
        method = prompter.value(
            "Sign in with the browser (b) or an admin OAuth client's credentials (c)?", "b"
        )
        if method.lower().startswith("c"):
            admin_id = prompter.value("Admin OAuth client id", required=True)
        else:
            browser_id = prompter.value(
                "OAuth client id for the browser sign-in (Code Authorization, PKCE)", required=True
            )
    if admin_id:
        secret = os.environ.get(ADMIN_SECRET_ENV, "")
        if not secret and prompter.interactive:
            secret = getpass.getpass("Admin OAuth client secret (not shown): ").strip()
        if not secret:
            raise UsageError(f"the admin client's secret: set ${ADMIN_SECRET_ENV}")
        return sign_in_with_client(region, str(admin_id), secret)
    return sign_in_with_browser(
        region,
        str(browser_id),
        redirect_uri=str(values.get("redirect_uri") or DEFAULT_REDIRECT_URI),
        open_url=open_url,
    )


def _check_reachable(region: Region) -> None:
    try:
        requests.get(region.login_url, timeout=10, allow_redirects=False)
    except requests.RequestException as exc:
        raise unreachable(region, type(exc).__name__) from None


# -------------------------------------------------------------------------------------- output

MARK = {
    "created": "[created]  ",
    "updated": "[fixed]    ",
    "unchanged": "[ok]       ",
    "planned": "",
    "collision": "[COLLISION]",
    "failed": "[FAILED]   ",
    "skipped": "[skipped]  ",
}


def print_plan(results: list[StepResult]) -> bool:
    """Print the plan; True when nothing needs to change."""
    print("\nPlan:")
    nothing = True
    for index, result in enumerate(results, start=1):
        finding = result.finding
        if finding is None:
            text = f"cannot tell: {result.outcome.message}"
            nothing = False
        else:
            verb = {"create": "CREATE", "update": "FIX", "ok": "ok", "collision": "COLLISION"}[finding.action]
            text = f"{verb}: {finding.summary}"
            if finding.action == planning.COLLISION:
                text += f"\n        what to do: {finding.data['advice']}"
            if finding.action != planning.OK:
                nothing = False
        print(f"  {index:>2}. {result.step.title}\n        {text}")
    return nothing


def print_result(result: StepResult) -> None:
    print(
        f"{MARK.get(result.outcome.status, result.outcome.status)} {result.step.title}: {result.outcome.message}"
    )


# ---------------------------------------------------------------------------------------- main


def main(args: argparse.Namespace, *, open_url: Callable[[str], object] | None = webbrowser.open) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    interactive = not args.non_interactive
    prompter = Prompter(interactive)
    try:
        options, values = gather(args, prompter)
        session = sign_in(values, prompter, open_url=open_url)
    except (UsageError, SignInError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with AdminClient(session) as client:
        if session.is_person:
            try:
                me = client.call(
                    "GET /api/v2/authorization/subjects/me",
                    client.authorization.get_authorization_subjects_me,
                )
                session.who = str(me.get("name") or me.get("id"))
            except Exception as exc:  # noqa: BLE001 - only for the greeting
                logger.debug("who am I: %s", exc)
        print(f"Signed in to {session.region.api_url} as {session.who or session.client_id}.")
        ctx = Context(
            options=options,
            client=client,
            session=session,
            credentials=CredentialStore(options.settings_path),
            dry_run=args.dry_run,
        )
        steps = [step_type(ctx) for step_type in STEP_TYPES]
        results = planning.inspect_all(steps, ctx)
        nothing = print_plan(results)
        if args.dry_run:
            print("\nDry run: nothing was changed.")
            return EXIT_OK
        if nothing:
            print("\nNothing to change: every object is as needed. Checking the result.")
        elif interactive and not args.yes and not prompter.yes("\nApply these changes?", True):
            print("Nothing was changed.")
            return EXIT_OK
        print()
        applied = planning.apply_all(steps, ctx, print_result)
    return summarize(applied)


def summarize(results: list[StepResult]) -> int:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.status] = counts.get(result.outcome.status, 0) + 1
    order = ("created", "updated", "unchanged", "collision", "failed", "skipped")
    print("\nSummary: " + ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s)))
    bad = counts.get("failed", 0) + counts.get("collision", 0) + counts.get("skipped", 0)
    if bad:
        print(
            "Some steps did not complete (see above); the others are done. Fix the cause and run setup again."
        )
        return EXIT_FAILED
    print(
        "Done. Run the service with `python run.py service` (or install it: `python run.py service install`)."
    )
    return EXIT_OK
