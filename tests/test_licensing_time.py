"""Trusted time: a real SNTP exchange over UDP on 127.0.0.1, Genesys first, never the local clock."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from licensing_fixtures import FakeClock, SntpResponder

from licensing.sntp import SntpError, sntp_query, split_server
from licensing.trusted_time import TrustedClock, parse_server_date

SERVER_TIME = dt.datetime(2031, 6, 1, 12, 0, tzinfo=dt.UTC).timestamp()


def _server_clock():
    start = time.monotonic()
    return lambda: SERVER_TIME + (time.monotonic() - start)


def test_sntp_against_a_local_udp_server():
    with SntpResponder(_server_clock()) as server:
        result = sntp_query(server.address, timeout_s=2)
    assert abs(result.unix_time - SERVER_TIME) < 1.0  # not the local clock (2026), the server's (2031)
    assert result.stratum == 2
    assert 0 <= result.round_trip_s < 1
    assert server.requests == 1


def test_sntp_ignores_a_stray_reply_and_takes_the_real_one():
    with SntpResponder(_server_clock(), mode="stray_first") as server:
        result = sntp_query(server.address, timeout_s=2)
    assert abs(result.unix_time - SERVER_TIME) < 1.0


@pytest.mark.parametrize(
    ("mode", "message"),
    [("kiss", "kiss-o'-death 'RATE'"), ("silent", "no answer"), ("client_mode", "mode 3")],
)
def test_sntp_rejects_untrustworthy_answers(mode, message):
    with SntpResponder(_server_clock(), mode=mode) as server:
        with pytest.raises(SntpError, match=message):
            sntp_query(server.address, timeout_s=0.3)


def test_split_server_forms():
    assert split_server("pool.ntp.org") == ("pool.ntp.org", 123)
    assert split_server("127.0.0.1:9123") == ("127.0.0.1", 9123)
    assert split_server("[::1]:9123") == ("::1", 9123)
    assert split_server("::1") == ("::1", 123)


def test_parse_server_date_iso_and_http():
    iso = parse_server_date("2031-06-01T12:00:00.000Z")
    http = parse_server_date("Sun, 01 Jun 2031 12:00:00 GMT")
    assert iso == http == dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="not an ISO"):
        parse_server_date("yesterday")


def test_genesys_first_then_ntp_then_none():
    clock = FakeClock(wall=dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
    genesys_up = {"value": True}

    def genesys():
        if not genesys_up["value"]:
            raise ConnectionError("api unreachable")
        return "2031-06-01T12:00:00Z"

    with SntpResponder(lambda: SERVER_TIME + 3600) as server:
        trusted = TrustedClock(
            genesys_time=genesys,
            ntp_servers=["127.0.0.1:1", server.address],  # first server: nothing listens
            ntp_timeout_s=0.3,
            monotonic=clock.monotonic,
            wall_clock=clock.wall,
        )
        reading = trusted.sync()
        assert reading.source == "genesys"
        assert reading.utc == dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC)
        assert reading.local_skew_s == pytest.approx(clock.wall() - SERVER_TIME)

        genesys_up["value"] = False
        reading = TrustedClock(
            genesys_time=genesys, ntp_servers=["127.0.0.1:1", server.address], ntp_timeout_s=0.3
        ).sync()
        assert reading.source == f"ntp:{server.address}"
        assert abs(reading.utc.timestamp() - (SERVER_TIME + 3600)) < 1

    nothing = TrustedClock(
        genesys_time=genesys,
        ntp_servers=[],
        startup_grace_s=60,
        monotonic=clock.monotonic,
        wall_clock=clock.wall,
    )
    reading = nothing.sync()
    assert (reading.utc, reading.source, reading.within_grace) == (None, "none", True)
    clock.advance(61)
    assert nothing.now().within_grace is False


def test_setting_the_system_clock_back_changes_nothing():
    clock = FakeClock(wall=SERVER_TIME)
    trusted = TrustedClock(
        genesys_time=lambda: dt.datetime.fromtimestamp(SERVER_TIME, dt.UTC),
        monotonic=clock.monotonic,
        wall_clock=clock.wall,
    )
    trusted.sync()
    clock.advance(600)
    before = trusted.now().utc
    clock.wall_value -= 400 * 86400  # the administrator sets the clock back 400 days
    after = trusted.now()
    assert after.utc == before == dt.datetime.fromtimestamp(SERVER_TIME + 600, dt.UTC)
    assert after.local_skew_s == pytest.approx(-400 * 86400)


def test_extrapolation_ages_out_and_resync_is_due():
    clock = FakeClock(wall=SERVER_TIME)
    trusted = TrustedClock(
        genesys_time=lambda: dt.datetime.fromtimestamp(SERVER_TIME, dt.UTC),
        max_age_s=1000,
        resync_interval_s=100,
        monotonic=clock.monotonic,
        wall_clock=clock.wall,
    )
    assert trusted.needs_sync()
    trusted.sync()
    assert not trusted.needs_sync()
    clock.advance(150)
    assert trusted.needs_sync()
    clock.advance(900)
    reading = trusted.now()
    assert reading.utc is None and reading.source == "none" and not reading.within_grace
