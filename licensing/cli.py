"""``python run.py license hwid | status | issue | demo``."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from licensing import default_license_path
from licensing.evaluate import LicenseStatus, evaluate
from licensing.hwid import (
    HardwareIdUnavailable,
    InvalidHardwareId,
    hardware_id,
    hardware_id_with_sources,
    parse_hwid,
)
from licensing.trusted_time import DEFAULT_NTP_SERVERS, TrustedClock, TrustedTime, http_date_source

if TYPE_CHECKING:
    from service.settings import Settings

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="license_command", metavar="SUBCOMMAND", required=True)

    sub.add_parser("hwid", help="print this machine's hardware id (send it to the vendor)")

    status = sub.add_parser("status", help="licensee, hardware id match, expiry, trusted time source, state")
    status.add_argument(
        "--file", type=Path, help="license file (default: [license] directory/callexport.license)"
    )
    status.add_argument("--api-url", help="Genesys Cloud API host for trusted time (default: from settings)")
    status.add_argument("--settings", type=Path, help="service settings file (default: callexport.toml)")
    status.add_argument(
        "--ntp-server", action="append", help="NTP server (repeatable; default: from settings)"
    )

    issue = sub.add_parser("issue", help="VENDOR TOOL: sign a license with a private key")
    issue.add_argument(
        "--private-key", type=Path, required=True, help="the vendor's Ed25519 private key (PEM)"
    )
    issue.add_argument("--licensee", required=True, help="customer name printed in the license")
    issue.add_argument("--hwid", required=True, help="the customer's hardware id (run.py license hwid)")
    issue.add_argument("--expires", required=True, type=_date, help="last valid day, YYYY-MM-DD (UTC)")
    issue.add_argument("--issued", type=_date, help="issue date (default: today, UTC)")
    issue.add_argument("--max-active-profiles", type=_positive_int, help="limit: active export profiles")
    issue.add_argument("-o", "--output", type=Path, required=True, help="license file to write")
    issue.add_argument("--force", action="store_true", help="replace an existing output file")

    demo = sub.add_parser(
        "demo", help="write a DEMO license for this machine (works only with the simulator)"
    )
    demo.add_argument("-o", "--output", type=Path, help="license file (default: the install directory)")
    demo.add_argument("--days", type=_positive_int, default=30, help="validity in days (default 30)")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(args: argparse.Namespace) -> int:
    handlers = {"hwid": _hwid, "status": _status, "issue": _issue, "demo": _demo}
    return handlers[args.license_command](args)


def _hwid(args: argparse.Namespace) -> int:
    try:
        value, names = hardware_id_with_sources()
    except HardwareIdUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(value)
    print(f"(from: {', '.join(names)})", file=sys.stderr)
    return 0


def _settings(path: Path | None) -> Settings | None:  # service.settings is imported lazily
    try:
        from service.settings import load_settings  # noqa: PLC0415
    except ImportError:
        return None
    try:
        return load_settings(path)
    except ValueError as exc:
        print(f"warning: settings not read: {exc}", file=sys.stderr)
        return None


def _status(args: argparse.Namespace) -> int:
    settings = _settings(args.settings)
    api_url = args.api_url or (settings.api_url if settings else None)
    path = args.file or default_license_path(settings.license_dir if settings else None)
    ntp = tuple(args.ntp_server or (settings.ntp_servers if settings else DEFAULT_NTP_SERVERS))
    clock = TrustedClock(
        genesys_time=http_date_source(api_url, timeout_s=5) if api_url else None,
        ntp_servers=ntp,
        startup_grace_s=0,
    )
    now = clock.sync()
    try:
        this_hwid = hardware_id()
    except HardwareIdUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    status = evaluate(path, hwid=this_hwid, trusted_now=now, api_url=api_url, log=False)
    print(format_status(status, this_hwid, now, api_url))
    return 0 if status.licensed else 1


def format_status(status: LicenseStatus, this_hwid: str, now: TrustedTime, api_url: str | None) -> str:
    state = "licensed" if status.licensed else f"UNLICENSED (reason: {status.reason})"
    if status.hwid_match is None:
        match = "unknown (license not readable)"
    elif status.hwid_match:
        match = "yes"
    else:
        match = "NO"
    expiry = "-"
    if status.expiry is not None:
        expiry = f"{status.expiry} (last valid day, UTC)"
        left = status.seconds_until_expiry()
        if left is not None:
            expiry += f", {left / 86400:.1f} days left" if left > 0 else ", EXPIRED"
    when = now.utc.isoformat(timespec="seconds") if now.utc else "unknown"
    skew = f"{now.local_skew_s:+.0f} s (ignored)" if now.local_skew_s is not None else "-"
    limits = ", ".join(f"{k}={v}" for k, v in sorted(status.limits.items())) or "none"
    rows = [
        ("license file", status.license_path),
        ("state", state),
        ("detail", status.detail),
        ("licensee", status.licensee or "-"),
        ("demo license", "yes (simulator only)" if status.demo else "no"),
        ("hardware id", f"{this_hwid} (this machine)"),
        ("hardware id match", match),
        ("expiry", expiry),
        ("limits", limits),
        ("trusted time", f"{when} from {status.time_source}"),
        ("local clock offset", skew),
        ("API host", api_url or "-"),
    ]
    return "\n".join(f"{name + ':':<20} {value}" for name, value in rows)


def _issue(args: argparse.Namespace) -> int:
    from licensing.vendor import issue_license  # noqa: PLC0415 - the vendor tool stays out of the service

    try:
        hwid = parse_hwid(args.hwid)
    except InvalidHardwareId as exc:
        print(f"error: --hwid: {exc}", file=sys.stderr)
        return 2
    limits = {"max_active_profiles": args.max_active_profiles} if args.max_active_profiles else None
    try:
        issue_license(
            private_key_path=args.private_key,
            licensee=args.licensee,
            hardware_id=hwid,
            expires=args.expires,
            issued=args.issued,
            limits=limits,
            output=args.output,
            overwrite=args.force,
        )
    except (OSError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {args.licensee}, hardware id {hwid}, valid through {args.expires}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from licensing.demo import write_demo_license  # noqa: PLC0415

    path = args.output or default_license_path(None)
    write_demo_license(path, days=args.days)
    print(f"wrote a DEMO license to {path} (valid {args.days} days, only against the simulator)")
    return 0
