"""The pieces the license gate combines, driven together with a real watcher thread and real files:
unlicensed -> conversations kept durably (the service's ledger, state `held`) -> a license dropped in ->
they come out for export."""

from __future__ import annotations

import datetime as dt
import queue
from pathlib import Path

from licensing_fixtures import new_keys, write_license

from ledger import Ledger
from licensing import DEFAULT_LICENSE_FILENAME
from licensing.evaluate import LicenseEvaluator
from licensing.hwid import format_hwid
from licensing.trusted_time import TrustedClock
from licensing.watch import LicenseFileWatcher

HWID = format_hwid(b"\x55" * 32)


def test_conversations_finished_while_unlicensed_are_released_when_a_license_arrives(tmp_path):
    private, public = new_keys()
    install = tmp_path / "install"
    install.mkdir()
    license_path = install / DEFAULT_LICENSE_FILENAME
    clock = TrustedClock(genesys_time=lambda: {"currentDate": "2027-03-01T09:00:00.000Z"}, ntp_servers=[])
    evaluator = LicenseEvaluator(
        license_path,
        clock=clock,
        hwid=HWID,
        api_url="https://api.mypurecloud.com",
        public_keys=public,
        demo_keys={},
    )
    mailbox: queue.Queue[list[Path]] = queue.Queue()  # stands in for the actor's mailbox
    exported: list[str] = []

    status, _ = evaluator.check()
    assert (status.state, status.reason, status.time_source) == ("unlicensed", "missing", "genesys")

    ledger = Ledger(tmp_path / "state" / "ledger.sqlite3")
    for i in range(3):
        ledger.add_job(f"conv-{i}", (f"queue-{i % 2}",), float(i), state="held")
    ledger.close()

    # a service restart while unlicensed: the list is still there
    pending = Ledger(tmp_path / "state" / "ledger.sqlite3")
    with LicenseFileWatcher(
        install, DEFAULT_LICENSE_FILENAME, mailbox.put, debounce_s=0.3, poll_interval_s=0.05
    ):
        write_license(license_path, private, hwid=HWID, expires=dt.date(2027, 12, 31))
        mailbox.get(timeout=5)  # the actor handles the message:
        status, changed = evaluator.check()
        assert changed and status.licensed
        for job in pending.jobs("held"):
            exported.append(job.conversation_id)  # queued for export
            pending.set_state(job.conversation_id, "queued")

        # the license is replaced by an expired one: unlicensed again, new conversations are kept
        write_license(license_path, private, hwid=HWID, expires=dt.date(2027, 2, 1))
        mailbox.get(timeout=5)
        status, changed = evaluator.check()
        assert changed and status.reason == "expired"
        pending.add_job("conv-late", ("queue-0",), 10.0, state="held")
    assert exported == ["conv-0", "conv-1", "conv-2"]
    assert [j.conversation_id for j in pending.jobs("held")] == ["conv-late"]
    pending.close()
