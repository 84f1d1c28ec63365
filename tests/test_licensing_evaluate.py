"""evaluate(): every reason, the demo-key rule, trusted time against a lying local clock."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from licensing_fixtures import FakeClock, new_keys, write_license

from licensing import keys
from licensing.evaluate import LicenseEvaluator, evaluate
from licensing.hwid import format_hwid
from licensing.trusted_time import TrustedClock, TrustedTime

HWID = format_hwid(b"\x11" * 32)
OTHER = format_hwid(b"\x22" * 32)
NOW = dt.datetime(2027, 6, 1, 12, tzinfo=dt.UTC)
SIM = "http://127.0.0.1:8765"


@pytest.fixture
def vendor():
    private, public = new_keys()
    return private, public


def _eval(path, public, *, now=NOW, hwid=HWID, api_url=SIM, demo_keys=None):
    return evaluate(
        path, public_keys=public, hwid=hwid, trusted_now=now, api_url=api_url, demo_keys=demo_keys or {}
    )


def test_valid_license(tmp_path, vendor, caplog):
    private, public = vendor
    path = tmp_path / "callexport.license"
    write_license(path, private, hwid=HWID, expires=dt.date(2027, 12, 31), limits={"max_active_profiles": 3})
    caplog.set_level(logging.INFO)
    status = _eval(path, public, api_url="https://api.mypurecloud.de")
    assert status.licensed and status.reason is None
    assert status.licensee == "Example Ltd" and status.expiry == dt.date(2027, 12, 31)
    assert status.hwid_match is True and status.max_active_profiles == 3
    assert status.time_source == "given"
    assert "licensed to 'Example Ltd' until 2027-12-31" in caplog.text


def test_missing_file(tmp_path, vendor, caplog):
    status = _eval(tmp_path / "callexport.license", vendor[1])
    assert (status.state, status.reason) == ("unlicensed", "missing")
    assert "UNLICENSED (reason=missing)" in caplog.text


def test_tampered_and_malformed_and_unknown_key(tmp_path, vendor):
    private, public = vendor
    path = tmp_path / "callexport.license"
    data = write_license(path, private, hwid=HWID)
    path.write_bytes(data.replace(b"Example Ltd", b"Example Inc"))
    assert _eval(path, public).reason == "tampered"
    path.write_bytes(data[: len(data) // 2])  # a half-written file
    assert _eval(path, public).reason == "malformed"
    write_license(path, new_keys()[0], hwid=HWID)
    assert _eval(path, public).reason == "unknown_key"


def test_wrong_hardware(tmp_path, vendor):
    private, public = vendor
    path = tmp_path / "callexport.license"
    write_license(path, private, hwid=OTHER)
    status = _eval(path, public)
    assert (status.reason, status.hwid_match) == ("wrong_hardware", False)
    assert OTHER in status.detail and HWID in status.detail


def test_expired_by_trusted_time_while_the_local_clock_says_otherwise(tmp_path, vendor):
    private, public = vendor
    path = tmp_path / "callexport.license"
    write_license(path, private, hwid=HWID, expires=dt.date(2027, 6, 30))
    # the local clock says 2027-06-01 (valid), Genesys Cloud says 2027-07-15 (expired)
    fake = FakeClock(wall=NOW.timestamp())
    clock = TrustedClock(
        genesys_time=lambda: "2027-07-15T08:00:00.000Z",
        ntp_servers=[],
        monotonic=fake.monotonic,
        wall_clock=fake.wall,
    )
    status = _eval(path, public, now=clock.sync())
    assert (status.reason, status.time_source) == ("expired", "genesys")
    assert "2027-07-15T08:00:00" in status.detail
    # the last day itself is still licensed, the next midnight is not
    assert _eval(path, public, now=dt.datetime(2027, 6, 30, 23, 59, tzinfo=dt.UTC)).licensed
    assert _eval(path, public, now=dt.datetime(2027, 7, 1, tzinfo=dt.UTC)).reason == "expired"


def test_clock_set_back_does_not_extend_the_license(tmp_path, vendor):
    private, public = vendor
    path = tmp_path / "callexport.license"
    write_license(path, private, hwid=HWID, expires=dt.date(2027, 6, 1))
    fake = FakeClock(wall=dt.datetime(2027, 6, 1, 23, 0, tzinfo=dt.UTC).timestamp())
    start_mono = fake.monotonic()

    def genesys() -> dt.datetime:  # the real server clock keeps running, whatever the local clock says
        return dt.datetime(2027, 6, 1, 23, 0, tzinfo=dt.UTC) + dt.timedelta(
            seconds=fake.monotonic() - start_mono
        )

    clock = TrustedClock(
        genesys_time=genesys,
        ntp_servers=[],
        monotonic=fake.monotonic,
        wall_clock=fake.wall,
    )
    evaluator = LicenseEvaluator(path, clock=clock, hwid=HWID, api_url=SIM, public_keys=public, demo_keys={})
    assert evaluator.check()[0].licensed
    # one hour passes; meanwhile someone sets the system clock back a year
    fake.advance(3600)
    fake.wall_value -= 365 * 86400
    status, changed = evaluator.check(sync=False)  # monotonic extrapolation alone
    assert changed and (status.state, status.reason) == ("unlicensed", "expired")
    # and a re-sync does not help either: Genesys time is what counts
    clock.sync()
    assert evaluator.check()[0].reason == "expired"


def test_time_unknown_after_grace(tmp_path, vendor):
    private, public = vendor
    path = tmp_path / "callexport.license"
    write_license(path, private, hwid=HWID)
    assert _eval(path, public, now=TrustedTime(None, "none", within_grace=True)).licensed
    status = _eval(path, public, now=TrustedTime(None, "none", within_grace=False))
    assert (status.state, status.reason, status.time_source) == ("unlicensed", "time_unknown", "none")
    assert _eval(path, public, now=None).reason == "time_unknown"


@pytest.mark.parametrize(
    ("api_url", "allowed"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://127.8.9.10", True),
        ("http://localhost:9000", True),
        ("http://[::1]:9000", True),
        ("https://api.mypurecloud.com", False),
        ("https://api.mypurecloud.ie", False),
        ("http://10.0.0.5:8080", False),
        ("http://localhost.example.com", False),
        (None, False),
    ],
)
def test_demo_key_only_for_loopback(tmp_path, api_url, allowed):
    path = tmp_path / "callexport.license"
    write_license(path, keys.load_demo_private_key(), hwid=HWID)
    status = evaluate(path, hwid=HWID, trusted_now=NOW, api_url=api_url)  # the built-in keys
    if allowed:
        assert status.licensed and status.demo
    else:
        assert (status.reason, status.demo) == ("demo_key_not_allowed", True)


def test_production_key_license_is_not_accepted_with_an_unrelated_key(tmp_path):
    # a license signed by some other key is never accepted by the built-in key set
    path = tmp_path / "callexport.license"
    write_license(path, new_keys()[0], hwid=HWID)
    assert evaluate(path, hwid=HWID, trusted_now=NOW, api_url=SIM).reason == "unknown_key"


def test_evaluator_logs_changes_only_and_schedules_the_expiry_check(tmp_path, vendor, caplog):
    private, public = vendor
    path = tmp_path / "callexport.license"
    write_license(path, private, hwid=HWID, expires=dt.date(2027, 6, 1))
    fake = FakeClock(wall=0)
    clock = TrustedClock(
        genesys_time=lambda: dt.datetime(2027, 6, 1, 23, 59, 0, tzinfo=dt.UTC),
        ntp_servers=[],
        monotonic=fake.monotonic,
        wall_clock=fake.wall,
    )
    evaluator = LicenseEvaluator(
        path, clock=clock, hwid=HWID, api_url=SIM, public_keys=public, demo_keys={}, recheck_interval_s=300
    )
    caplog.set_level(logging.INFO)
    assert evaluator.check()[1] is True
    assert evaluator.check()[1] is False
    assert caplog.text.count("licensed to") == 1
    assert caplog.text.count("0.0 days left; ask the vendor for a renewal") == 1  # once, not per check
    assert evaluator.next_check_delay_s() == pytest.approx(60.5)  # expiry in 60 s, re-check just after
    fake.advance(evaluator.next_check_delay_s())
    status, changed = evaluator.check()
    assert changed and status.reason == "expired"
    assert "license state changed: licensed -> unlicensed (reason=expired)" in caplog.text
