"""The license's max_active_profiles limit: only the first N active profiles export."""

from __future__ import annotations

import logging

from actors.directory import Directory
from actors.export_supervisor import ExportSupervisor
from messages.config import ConfigChanged, ConfigSnapshot, LicenseChanged
from profiles import load_config
from service.settings import Settings


class _Deps:
    license_required = True
    ledger = None
    settings = Settings()


def _snapshot() -> ConfigSnapshot:
    profiles = [{"Name": n, "Queues": ["Sales"], "DestinationRoot": "/tmp/x"} for n in ("A", "B", "C")]
    result = load_config({"Profiles": profiles})
    assert not result.errors
    return ConfigSnapshot(version=1, config=result.config)


def test_license_caps_the_active_profiles_in_document_order(caplog):
    caplog.set_level(logging.ERROR)
    sup = ExportSupervisor(supervisor=None, child_id="exports", directory=Directory(), deps=_Deps())
    sup.handle_other(ConfigChanged(_snapshot()))
    assert [p.name for p in sup.snapshot.config.profiles] == ["A", "B", "C"]
    sup.handle_other(LicenseChanged(False, "x", {"max_active_profiles": 2}))
    assert [p.name for p in sup.snapshot.config.profiles] == ["A", "B"]
    assert "allows 2 active profile(s)" in caplog.text and "ignoring C" in caplog.text
    sup.handle_other(LicenseChanged(False, "x", {}))
    assert [p.name for p in sup.snapshot.config.profiles] == ["A", "B", "C"]
