"""A small SNTP client (RFC 4330 / RFC 5905 client mode) on the standard library.

One request, one reply: the reply must come from the server we asked, echo our random transmit
timestamp as its originate timestamp (so a stray or spoofed packet is rejected), be in server mode,
synchronised (leap indicator not 3) and carry a stratum of 1-15 (0 is a "kiss-o'-death").

The local wall clock is not used at all: the server's transmit time is corrected by half of the
round trip measured with ``time.monotonic()``, and the result is anchored to the monotonic clock.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

NTP_PORT = 123
NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
_PACKET = struct.Struct("!BBbb11I")  # 48 bytes


class SntpError(Exception):
    """The server did not answer, or answered with something we must not trust."""


@dataclass(frozen=True)
class SntpResult:
    server: str
    unix_time: float  # server time (seconds since the Unix epoch) at `monotonic`
    monotonic: float  # the local monotonic reading that `unix_time` belongs to
    round_trip_s: float
    stratum: int


def split_server(server: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 literal → (host, port)."""
    server = server.strip()
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else NTP_PORT
    if server.count(":") == 1:
        host, port = server.split(":")
        return host, int(port)
    return server, NTP_PORT


def _ntp_to_unix(seconds: int, fraction: int) -> float:
    # Era 1 starts in 2036: timestamps with the top bit clear belong to it (RFC 4330 section 3).
    if seconds < 0x80000000:
        seconds += 1 << 32
    return seconds - NTP_UNIX_OFFSET + fraction / (1 << 32)


def sntp_query(
    server: str,
    timeout_s: float = 2.0,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> SntpResult:
    """Ask one SNTP server for the time. Raises SntpError with the reason on any failure."""
    host, port = split_server(server)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise SntpError(f"{server}: cannot resolve ({exc})") from None
    family, _type, proto, _name, address = infos[0]
    nonce_hi, nonce_lo = struct.unpack("!II", os.urandom(8))
    # LI=0, VN=4, mode=3 (client); everything else zero except our transmit timestamp (the nonce).
    request = _PACKET.pack(0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, nonce_hi, nonce_lo)
    with socket.socket(family, socket.SOCK_DGRAM, proto) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(address)  # the kernel drops datagrams from any other address
            sent = monotonic()
            sock.send(request)
            deadline = sent + timeout_s
            while True:
                data = sock.recv(512)
                received = monotonic()
                if len(data) >= _PACKET.size:
                    fields = _PACKET.unpack(data[: _PACKET.size])
                    if (fields[9], fields[10]) == (nonce_hi, nonce_lo):
                        break
                logger.debug("SNTP %s: ignoring a reply that does not answer our request", server)
                remaining = deadline - monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
        except TimeoutError:
            raise SntpError(f"{server}: no answer within {timeout_s:g} s") from None
        except OSError as exc:
            raise SntpError(f"{server}: {exc}") from None
    first, stratum = fields[0], fields[1]
    leap, mode = first >> 6, first & 7
    if mode != 4:
        raise SntpError(f"{server}: reply mode {mode}, expected 4 (server)")
    if stratum == 0:
        code = struct.pack("!I", fields[6]).decode("ascii", "replace")
        raise SntpError(f"{server}: kiss-o'-death {code!r}")
    if stratum > 15:
        raise SntpError(f"{server}: stratum {stratum} (unsynchronised)")
    if leap == 3:
        raise SntpError(f"{server}: leap indicator says the server clock is unsynchronised")
    receive_s, receive_f, transmit_s, transmit_f = fields[11], fields[12], fields[13], fields[14]
    if transmit_s == 0 and transmit_f == 0:
        raise SntpError(f"{server}: reply has no transmit timestamp")
    server_receive = _ntp_to_unix(receive_s, receive_f)
    server_transmit = _ntp_to_unix(transmit_s, transmit_f)
    processing = max(0.0, server_transmit - server_receive)
    round_trip = max(0.0, (received - sent) - processing)
    return SntpResult(
        server=server,
        unix_time=server_transmit + round_trip / 2,
        monotonic=received,
        round_trip_s=round_trip,
        stratum=stratum,
    )
