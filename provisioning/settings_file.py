"""The service's settings file after setup: the region's hosts and the names setup used.

Only the keys setup owns are written (``[genesys] api_url``, ``login_url`` when it cannot be derived,
``[configuration]`` names); everything else in the file, comments included, is kept (tomlkit).
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import tomlkit

from genesys.config import login_url_for
from provisioning.plan import CREATE, OK, UPDATE, Context, Finding, Outcome

logger = logging.getLogger(__name__)


def wanted(ctx: Context) -> dict[str, dict[str, Any]]:
    region, options = ctx.require_session().region, ctx.options
    genesys: dict[str, Any] = {"api_url": region.api_url}
    if region.login_url.rstrip("/") != login_url_for(region.api_url):
        genesys["login_url"] = region.login_url
    return {
        "genesys": genesys,
        "configuration": {
            "datatable": options.datatable,
            "row": options.datatable_row,
            "column": options.datatable_column,
            "system_queue": options.system_queue,
        },
    }


def _read(path: Path) -> tomlkit.TOMLDocument:
    return tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()


class SettingsFileStep:
    key = "settings"
    needs: tuple[str, ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.title = f"Settings file {ctx.options.settings_path}"

    def inspect(self, ctx: Context) -> Finding:
        path = ctx.options.settings_path
        document = _read(path)
        changes = []
        for section, values in wanted(ctx).items():
            table = document.get(section) or {}
            for key, value in values.items():
                if table.get(key) != value:
                    changes.append(f"[{section}] {key} = {value!r}")
        if not changes:
            return Finding(OK, f"{path} has the region and the names")
        action = UPDATE if path.exists() else CREATE
        return Finding(action, f"write to {path}: " + ", ".join(changes), changes)

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        path = ctx.options.settings_path
        document = _read(path)
        for section, values in wanted(ctx).items():
            if section not in document:
                document[section] = tomlkit.table()
            for key, value in values.items():
                document[section][key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(path.name + ".tmp")
        temp.write_text(tomlkit.dumps(document), encoding="utf-8")
        if path.exists():  # keep the mode: the file may hold the last-resort [credentials] (0600)
            temp.chmod(stat.S_IMODE(path.stat().st_mode))
        temp.replace(path)
        return Outcome(
            "created" if finding.action == CREATE else "updated",
            f"wrote {', '.join(finding.changes)} to {path}",
        )
