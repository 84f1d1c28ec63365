"""Optionally (``--install-service``): the service installed and started under NSSM or systemd, with
the settings file setup wrote (`service.install`, `service.nssm`, `service.systemd`)."""

from __future__ import annotations

import logging
import sys

from provisioning.plan import CREATE, OK, Context, Finding, Outcome
from service import nssm, systemd
from service.install import ServiceManagerError, manager_for_platform, spec_from_settings

logger = logging.getLogger(__name__)


class ServiceFailed(Exception):
    advice_is_message = True


class ServiceStep:
    key = "service"
    needs: tuple[str, ...] = ("settings",)
    title = "The service on this machine"

    def __init__(self, ctx: Context) -> None:
        pass

    def inspect(self, ctx: Context) -> Finding:
        if not ctx.options.install_service:
            return Finding(
                OK, "not installed by setup (--install-service, or later `python run.py service install`)"
            )
        try:
            manager = manager_for_platform(sys.platform)
            if manager == "nssm":
                state = nssm.status(nssm.find_nssm(ctx.options.nssm), "callexport")
                running = state == "SERVICE_RUNNING"
            else:
                state = systemd.status("callexport")
                running = state == "active"
        except ServiceManagerError as exc:
            raise ServiceFailed(str(exc)) from None
        if running:
            return Finding(OK, f"installed and running ({state}); a rerun of setup does not restart it")
        return Finding(
            CREATE, f"install and start the service with {manager} (now: {state})", data={"manager": manager}
        )

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        options = ctx.options
        try:
            spec = spec_from_settings(options.settings_path, account=options.service_account)
            if finding.data["manager"] == "nssm":
                tool = nssm.find_nssm(options.nssm)
                nssm.install(tool, spec)
                nssm.start(tool, spec.name)
                state = nssm.status(tool, spec.name)
            else:
                systemd.install(spec)
                state = systemd.status(spec.name)
        except ServiceManagerError as exc:
            raise ServiceFailed(str(exc)) from None
        return Outcome("created", f"installed and started the service ({state})")
