"""The license: this machine's hardware id, a license file installed from a given path, its status.

Reuses `licensing` (hardware id, evaluation with trusted time); the file goes where the service reads
it (`[license] directory` of the settings, else the install directory) and the service's file
watcher picks it up without a restart.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from licensing import default_license_path
from licensing.evaluate import evaluate
from licensing.hwid import HardwareIdUnavailable, hardware_id
from licensing.trusted_time import DEFAULT_NTP_SERVERS, TrustedClock, http_date_source
from provisioning.plan import CREATE, OK, UPDATE, Context, Finding, Outcome

logger = logging.getLogger(__name__)


class LicenseFailed(Exception):
    advice_is_message = True


def target_path(ctx: Context) -> Path:
    from service.settings import SettingsError, load_settings  # noqa: PLC0415

    try:
        settings = load_settings(ctx.options.settings_path if ctx.options.settings_path.exists() else None)
    except SettingsError:
        return default_license_path(None)
    return default_license_path(settings.license_dir)


def status_line(ctx: Context, path: Path, hwid: str) -> tuple[bool, str]:
    api_url = ctx.session.region.api_url if ctx.session else None
    clock = TrustedClock(
        genesys_time=http_date_source(api_url, timeout_s=5) if api_url else None,
        ntp_servers=DEFAULT_NTP_SERVERS,
        startup_grace_s=0,
    )
    now = clock.sync()
    status = evaluate(path, hwid=hwid, trusted_now=now, api_url=api_url, log=False)
    if status.licensed:
        return True, f"licensed to {status.licensee}, valid through {status.expiry}"
    return False, f"NOT licensed: {status.detail or status.reason}"


class LicenseStep:
    key = "license"
    needs: tuple[str, ...] = ()
    title = "License"

    def __init__(self, ctx: Context) -> None:
        pass

    def inspect(self, ctx: Context) -> Finding:
        try:
            hwid = hardware_id()
        except HardwareIdUnavailable as exc:
            raise LicenseFailed(f"this machine's hardware id cannot be read: {exc}") from None
        ctx.values["hwid"] = hwid
        path = target_path(ctx)
        source = ctx.options.license_file
        if source is not None:
            if not source.is_file():
                raise LicenseFailed(
                    f"the license file {source} does not exist; give the path of the file the vendor sent"
                )
            if not path.exists() or path.read_bytes() != source.read_bytes():
                action = UPDATE if path.exists() else CREATE
                return Finding(
                    action,
                    f"install the license {source} as {path} (hardware id {hwid})",
                    data={"path": path},
                )
        if ctx.planning:
            where = f"{path} exists" if path.exists() else f"no license at {path} yet"
            return Finding(OK, f"hardware id {hwid} (send it to the vendor); {where}")
        licensed, line = (
            status_line(ctx, path, hwid) if path.exists() else (False, f"no license file at {path}")
        )
        hint = (
            ""
            if licensed
            else f"; send the hardware id {hwid} to the vendor, then run setup --license-file FILE"
        )
        return Finding(OK, f"hardware id {hwid}; {line}{hint}")

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        path: Path = finding.data["path"]
        source = ctx.options.license_file
        assert source is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(path.name + ".tmp")
        shutil.copyfile(source, temp)
        temp.replace(path)  # one rename: the service's watcher never sees half a file
        licensed, line = status_line(ctx, path, ctx.values["hwid"])
        status = "created" if finding.action == CREATE else "updated"
        if not licensed:
            return Outcome("failed", f"installed {path}, but it is {line}")
        return Outcome(status, f"installed {path}: {line}")
