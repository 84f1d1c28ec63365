"""The shared ledger seen from the command line: a database that cannot be used stops the service at
start-up (exit 2, the setting named, no password shown); `run.py status` lists the live instances."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ledger import LEADER, Ledger

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env_extra: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLEXPORT_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unreachable_database_stops_the_service_naming_the_setting_without_the_password(tmp_path):
    result = _run(
        ["service"],
        {
            "CALLEXPORT_LEDGER_URL": "postgresql://callexport:s3cret-pw@127.0.0.1:1/callexport",
            "CALLEXPORT_CLIENT_ID": "id",
            "CALLEXPORT_CLIENT_SECRET": "secret-of-the-client",
            "CALLEXPORT_STATE_DIR": str(tmp_path / "state"),
            "CALLEXPORT_LOG_DIR": str(tmp_path / "logs"),
            "CALLEXPORT_API_URL": "http://127.0.0.1:1",
            "CALLEXPORT_LICENSE_DIR": str(tmp_path),
        },
        tmp_path,
    )
    text = result.stdout + result.stderr + (tmp_path / "logs" / "callexport.log").read_text()
    assert result.returncode == 2, text
    assert "ledger_url" in text and "CALLEXPORT_LEDGER_URL" in text
    assert "s3cret-pw" not in text and "callexport:***@127.0.0.1:1" in text


def test_a_ledger_url_that_is_not_postgresql_is_a_settings_error(tmp_path):
    result = _run(["status"], {"CALLEXPORT_LEDGER_URL": "mysql://x@h/db"}, tmp_path)
    assert result.returncode == 2 and "ledger_url" in result.stderr


def test_status_lists_the_live_instances_and_the_leader(tmp_path, pg_url):
    ledger = Ledger(pg_url)
    ledger.heartbeat(
        "alpha", host="h1", pid=1, version="0.1.0", running=3, requests_per_minute=250, budget=300
    )
    ledger.heartbeat("beta", host="h2", pid=2, version="0.1.0", running=1)
    ledger.acquire_lease(LEADER, "beta", 30)
    env = {"CALLEXPORT_LEDGER_URL": pg_url, "CALLEXPORT_STATE_DIR": str(tmp_path / "state")}
    figures = json.loads(_run(["status", "--json"], env, tmp_path).stdout)
    assert [(i["name"], i["leader"], i["running"]) for i in figures["instances"]] == [
        ("alpha", False, 3),
        ("beta", True, 1),
    ]
    assert figures["orphaned_leases"] == 0
    text = _run(["status"], env, tmp_path).stdout
    assert (
        "instances    2 live" in text
        and "beta (leader)  host h2" in text
        and "250 of 300 requests/min" in text
    )
    ledger.close()


def test_instances_reading_different_profile_documents_are_refused(tmp_path, pg_url):
    import pytest

    from ledger import LedgerUnavailable
    from service.ledger_open import open_ledger
    from service.settings import Settings

    first = Settings(ledger_url=pg_url, instance_name="one", state_dir=tmp_path / "1")
    ledger = open_ledger(first, check_configuration=True)
    ledger.heartbeat("one", host="h", pid=1, version="0.1.0")
    other = Settings(
        ledger_url=pg_url, instance_name="two", state_dir=tmp_path / "2", datatable="Other table"
    )
    with pytest.raises(LedgerUnavailable, match="Other table.*one Data Table row|one Data Table row"):
        open_ledger(other, check_configuration=True)
    open_ledger(Settings(ledger_url=pg_url, instance_name="three"), check_configuration=True).close()
    ledger.leave("one")  # nobody runs with the old document any more: the new location is accepted
    open_ledger(other, check_configuration=True).close()
    ledger.close()


def test_the_ledger_password_comes_from_the_environment_or_the_credential_store(
    tmp_path, monkeypatch, file_keyring
):
    from sqlalchemy.engine import make_url

    from ledger.db import redacted
    from service.ledger_open import ENV_LEDGER_PASSWORD, ledger_url
    from service.settings import Settings

    settings = Settings(ledger_url="postgresql://callexport@db.example:5432/callexport")
    assert make_url(ledger_url(settings, environ={})).password is None
    file_keyring.set_password("callexport", "ledger", "from-the-store")
    assert make_url(ledger_url(settings, environ={})).password == "from-the-store"
    url = ledger_url(settings, environ={ENV_LEDGER_PASSWORD: "from-the-env"})
    assert make_url(url).password == "from-the-env"
    assert "from-the-env" not in redacted(url) and "***" in redacted(url)
    in_url = Settings(ledger_url="postgresql://callexport:written-here@db.example/callexport")
    assert make_url(ledger_url(in_url, environ={ENV_LEDGER_PASSWORD: "x"})).password == "written-here"
    assert ledger_url(Settings(), environ={}) is None  # the embedded SQLite ledger


def test_an_instance_name_in_use_on_another_host_is_refused(pg_url):
    from ledger.cluster import Membership

    ledger = Ledger(pg_url)
    ledger.heartbeat("export-1", host="other-host", pid=7, version="0.1.0")
    clash = Membership(ledger, "export-1", lease_s=20, host="this-host").check_name()
    assert clash is not None and "other-host" in clash and "instance_name" in clash
    assert Membership(ledger, "export-1", lease_s=20, host="other-host").check_name() is None  # a restart
    assert Membership(ledger, "export-2", lease_s=20, host="this-host").check_name() is None
    ledger.close()
