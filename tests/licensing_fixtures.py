"""Helpers for the licensing tests: real Ed25519 keys, license files, and a real UDP SNTP responder."""

from __future__ import annotations

import datetime as dt
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licensing.document import build_fields, sign_license
from licensing.hwid import HardwareIdUnavailable, hardware_id
from licensing.keys import key_id

NTP_UNIX_OFFSET = 2_208_988_800


def machine_hwid() -> str:
    """This machine's hardware id; skips (with the reason) where the OS offers no identity at all,
    e.g. a container image without /etc/machine-id."""
    try:
        return hardware_id()
    except HardwareIdUnavailable as exc:
        pytest.skip(f"no machine identity here: {exc}")


def new_keys() -> tuple[Ed25519PrivateKey, dict]:
    private = Ed25519PrivateKey.generate()
    return private, {key_id(private.public_key()): private.public_key()}


def write_license(
    path: Path,
    private: Ed25519PrivateKey,
    *,
    hwid: str,
    expires: dt.date = dt.date(2030, 1, 1),
    licensee: str = "Example Ltd",
    issued: dt.date = dt.date(2026, 1, 1),
    limits: dict | None = None,
) -> bytes:
    data = sign_license(
        build_fields(
            licensee=licensee, hardware_id=hwid, expires=expires, issued=issued, limits=limits or {}
        ),
        private,
    )
    path.write_bytes(data)
    return data


def _ntp_ts(unix: float) -> tuple[int, int]:
    value = unix + NTP_UNIX_OFFSET
    seconds = int(value)
    return seconds & 0xFFFFFFFF, int((value - seconds) * (1 << 32))


class SntpResponder:
    """A real SNTP server on 127.0.0.1 (UDP) answering with ``time_fn()``.

    ``mode`` lets a test make it misbehave: "ok", "kiss" (stratum 0 RATE), "silent" (no answer),
    "stray_first" (first send a packet with a wrong originate timestamp, then the real answer),
    "client_mode" (replies in mode 3).
    """

    def __init__(self, time_fn: Callable[[], float], mode: str = "ok") -> None:
        self.time_fn = time_fn
        self.mode = mode
        self.requests = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> SntpResponder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            if len(data) < 48 or self.mode == "silent":
                continue
            version = (data[0] >> 3) & 7
            orig_hi, orig_lo = struct.unpack("!II", data[40:48])
            now = self.time_fn()
            rx = _ntp_ts(now)
            tx = _ntp_ts(now + 0.0001)
            mode = 3 if self.mode == "client_mode" else 4
            stratum = 0 if self.mode == "kiss" else 2
            refid = b"RATE" if self.mode == "kiss" else b"LOCL"
            first = (0 << 6) | (version << 3) | mode
            if self.mode == "stray_first":
                bogus = struct.pack("!BBbb", first, stratum, 4, -20) + b"\0" * 8 + refid
                bogus += struct.pack("!8I", *rx, 1, 2, *rx, *tx)
                self.sock.sendto(bogus, peer)
            reply = struct.pack("!BBbb", first, stratum, 4, -20) + b"\0" * 8 + refid
            reply += struct.pack("!8I", *rx, orig_hi, orig_lo, *rx, *tx)
            self.sock.sendto(reply, peer)


class FakeClock:
    """Injectable wall clock and monotonic clock that a test moves by hand."""

    def __init__(self, wall: float, mono: float = 1000.0) -> None:
        self.wall_value = wall
        self.mono_value = mono

    def wall(self) -> float:
        return self.wall_value

    def monotonic(self) -> float:
        return self.mono_value

    def advance(self, seconds: float) -> None:
        self.wall_value += seconds
        self.mono_value += seconds
