"""Trusted "now" for license expiry: Genesys Cloud server time, else SNTP, never the local clock alone.

:class:`TrustedClock` is thread-free. :meth:`TrustedClock.sync` asks the sources in order (the
Genesys callable, then each SNTP server) and anchors the answer to ``time.monotonic()``;
:meth:`TrustedClock.now` extrapolates from that anchor with the monotonic clock, without any network
traffic. Moving the system clock (in either direction) therefore changes nothing: the wall clock is
read only to report how far off it is.

Unknown time: before the first successful sync the clock reports source ``"none"``; during a start-up
grace (default 15 minutes) the license evaluation treats an otherwise valid license as licensed (the
service cannot reach Genesys Cloud anyway if neither Genesys nor NTP answers), after it as
``time_unknown``. Once synced, the anchor stays usable for ``max_age_s`` (default 7 days) without a
fresh sync, since monotonic extrapolation cannot be wound back; after that time is unknown again.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from licensing.sntp import SntpError, SntpResult, sntp_query

logger = logging.getLogger(__name__)

DEFAULT_NTP_SERVERS: tuple[str, ...] = ("pool.ntp.org", "time.windows.com")  # as service.settings
DEFAULT_STARTUP_GRACE_S = 15 * 60.0
DEFAULT_MAX_AGE_S = 7 * 24 * 3600.0
DEFAULT_RESYNC_INTERVAL_S = 3600.0
SKEW_WARNING_S = 300.0

GenesysTime = Callable[[], "dt.datetime | str | Mapping[str, Any]"]


@dataclass(frozen=True)
class TrustedTime:
    """One reading of the trusted clock."""

    utc: dt.datetime | None  # None: unknown
    source: str  # "genesys", "ntp:<server>", or "none"
    synced_age_s: float | None = None  # seconds since the last successful sync
    within_grace: bool = False  # unknown, but still inside the start-up grace
    local_skew_s: float | None = None  # local wall clock minus trusted time (diagnostic only)

    @property
    def known(self) -> bool:
        return self.utc is not None


def parse_server_date(value: dt.datetime | str | Mapping[str, Any]) -> dt.datetime:
    """A Genesys ``ServerDate`` document (``{"currentDate": ...}``, what ``GenesysClient.get_date()``
    returns), its ISO 8601 ``currentDate``, or an HTTP ``Date`` header → aware UTC datetime."""
    if isinstance(value, Mapping):
        if "currentDate" not in value:
            raise ValueError("server date document has no 'currentDate'")
        value = value["currentDate"]
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError):
                raise ValueError(f"not an ISO 8601 or HTTP date: {value!r}") from None
    else:
        raise ValueError(f"not a server date: {type(value).__name__}")
    if parsed.tzinfo is None:
        raise ValueError(f"server date has no time zone: {value!r}")
    return parsed.astimezone(dt.UTC)


class TrustedClock:
    """Trusted UTC time anchored to the monotonic clock. Not thread-safe: one owner (the LicenseActor)."""

    def __init__(
        self,
        *,
        genesys_time: GenesysTime | None = None,
        ntp_servers: Sequence[str] = DEFAULT_NTP_SERVERS,
        ntp_timeout_s: float = 2.0,
        startup_grace_s: float = DEFAULT_STARTUP_GRACE_S,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        resync_interval_s: float = DEFAULT_RESYNC_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sntp: Callable[..., SntpResult] = sntp_query,
    ) -> None:
        self.genesys_time = genesys_time
        self.ntp_servers = tuple(ntp_servers)
        self.ntp_timeout_s = ntp_timeout_s
        self.startup_grace_s = startup_grace_s
        self.max_age_s = max_age_s
        self.resync_interval_s = resync_interval_s
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._sntp = sntp
        self._created = monotonic()
        self._anchor_unix: float | None = None
        self._anchor_mono = 0.0
        self._source = "none"
        self.last_errors: list[str] = []

    # ------------------------------------------------------------ sources

    def _from_genesys(self) -> tuple[float, float] | None:
        if self.genesys_time is None:
            return None
        before = self._monotonic()
        try:
            value = self.genesys_time()
            utc = parse_server_date(value)
        except Exception as exc:  # noqa: BLE001 - any failure of the caller's HTTP stack means "try NTP"
            self.last_errors.append(f"genesys: {exc}")
            logger.warning("trusted time: Genesys Cloud server time unavailable: %s", exc)
            return None
        after = self._monotonic()
        # An HTTP Date header is truncated to the second: its true value is on average half a second later.
        bias = 0.5 if isinstance(value, str) and value.strip().endswith("GMT") else 0.0
        return utc.timestamp() + bias, (before + after) / 2

    def _from_ntp(self) -> tuple[float, float, str] | None:
        for server in self.ntp_servers:
            try:
                result = self._sntp(server, self.ntp_timeout_s, monotonic=self._monotonic)
            except SntpError as exc:
                self.last_errors.append(f"ntp: {exc}")
                logger.warning("trusted time: %s", exc)
                continue
            return result.unix_time, result.monotonic, server
        return None

    # ------------------------------------------------------------ public API

    def sync(self) -> TrustedTime:
        """Ask Genesys Cloud, then each NTP server; anchor the first answer. Returns :meth:`now`."""
        self.last_errors = []
        reading = self._from_genesys()
        source = "genesys"
        if reading is None:
            ntp = self._from_ntp()
            if ntp is not None:
                reading, source = (ntp[0], ntp[1]), f"ntp:{ntp[2]}"
        if reading is None:
            if self._anchor_unix is None:
                logger.warning("trusted time unknown: neither Genesys Cloud nor any NTP server answered")
            else:
                logger.warning(
                    "trusted time: re-sync failed, still extrapolating from %s (%.0f s ago)",
                    self._source,
                    self._monotonic() - self._anchor_mono,
                )
            return self.now()
        unix, mono = reading
        if self._anchor_unix is not None:
            drift = unix - (self._anchor_unix + (mono - self._anchor_mono))
            if abs(drift) > 60:
                logger.warning("trusted time jumped by %+.0f s on re-sync (%s)", drift, source)
        self._anchor_unix, self._anchor_mono, self._source = unix, mono, source
        now = self.now()
        if now.local_skew_s is not None and abs(now.local_skew_s) > SKEW_WARNING_S:
            logger.warning(
                "the local clock is %+.0f s off the trusted time from %s; it is ignored for licensing",
                now.local_skew_s,
                source,
            )
        logger.debug("trusted time synced from %s: %s", source, now.utc)
        return now

    def now(self) -> TrustedTime:
        """Trusted time from the last anchor plus monotonic elapsed time; no network traffic."""
        mono = self._monotonic()
        if self._anchor_unix is not None:
            age = mono - self._anchor_mono
            if age <= self.max_age_s:
                unix = self._anchor_unix + age
                utc = dt.datetime.fromtimestamp(unix, dt.UTC)
                return TrustedTime(utc, self._source, age, False, self._wall_clock() - unix)
            return TrustedTime(None, "none", age, False, None)
        within = (mono - self._created) <= self.startup_grace_s
        return TrustedTime(None, "none", None, within, None)

    def monotonic(self) -> float:
        """The clock's (injectable) monotonic reading, for callers that schedule against it."""
        return self._monotonic()

    def needs_sync(self) -> bool:
        """True before the first sync and when the anchor is older than ``resync_interval_s``."""
        return self._anchor_unix is None or self._monotonic() - self._anchor_mono >= self.resync_interval_s

    def grace_remaining_s(self) -> float:
        """Seconds left of the start-up grace (0 once synced or when it has run out)."""
        if self._anchor_unix is not None:
            return 0.0
        return max(0.0, self.startup_grace_s - (self._monotonic() - self._created))


def http_date_source(api_url: str, *, timeout_s: float = 10.0) -> Callable[[], str]:
    """A ``genesys_time`` callable that needs no token: ``GET <api>/api/v2/date`` and use
    ``currentDate`` when it answers 200, else the HTTP ``Date`` header of whatever it answered
    (Genesys Cloud sends one with every response, including 401)."""
    import requests  # noqa: PLC0415 - only the CLI needs it

    url = api_url.rstrip("/") + "/api/v2/date"

    def fetch() -> str:
        response = requests.get(url, timeout=timeout_s)
        if response.status_code == 200:
            try:
                return str(response.json()["currentDate"])
            except (ValueError, KeyError, TypeError):
                pass
        header = response.headers.get("Date")
        if not header:
            raise ValueError(f"{url} answered {response.status_code} without a Date header")
        return header

    return fetch
