"""The actions of `python run.py service install|uninstall|start|stop|status` on this platform."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from service import nssm, systemd
from service.install import ServiceManagerError, manager_for_platform, spec_from_settings

logger = logging.getLogger(__name__)


def settings_path(args: argparse.Namespace) -> Path:
    return Path(args.settings or os.environ.get("CALLEXPORT_SETTINGS") or "callexport.toml")


def manage(args: argparse.Namespace, platform: str | None = None) -> int:
    try:
        return _manage(args, manager_for_platform(platform))
    except ServiceManagerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _manage(args: argparse.Namespace, manager: str) -> int:
    action, name = args.action, args.name
    if manager == "nssm":
        if action == "install":
            spec = spec_from_settings(settings_path(args), account=args.account, name=name)
            if args.print_only:
                tool = args.nssm or "nssm"
                for command in nssm.install_commands(tool, spec):
                    print(" ".join(_shown(part) for part in command))
                return 0
            tool = nssm.find_nssm(args.nssm)
            nssm.install(tool, spec)
            nssm.start(tool, name)
            print(f"installed and started the Windows service {name!r} ({nssm.status(tool, name)})")
            return 0
        tool = nssm.find_nssm(args.nssm)
        if action == "status":
            state = nssm.status(tool, name)
            print(f"{name}: {state}")
            return 0 if state == "SERVICE_RUNNING" else 3
        {"uninstall": nssm.uninstall, "start": nssm.start, "stop": nssm.stop}[action](tool, name)
        print(f"{name}: {action} done")
        return 0
    if action == "install":
        spec = spec_from_settings(settings_path(args), account=args.account, name=name)
        if args.print_only:
            print(systemd.unit_text(spec), end="")
            return 0
        path = systemd.install(spec)
        print(f"installed {path}, enabled and started ({systemd.status(name)})")
        return 0
    if action == "status":
        state = systemd.status(name)
        print(f"{name}: {state}")
        return 0 if state == "active" else 3
    {"uninstall": systemd.uninstall, "start": systemd.start, "stop": systemd.stop}[action](name)
    print(f"{name}: {action} done")
    return 0


def _shown(part: str) -> str:
    return f'"{part}"' if (" " in part or not part) else part
