"""Decide "licensed" or "unlicensed" for one license file, with the precise reason.

Checks, in order (the first failing one is the reason):

==========================  ======================================================================
``missing``                 no file at the license path
``malformed``               unreadable, not JSON, missing/ill-typed fields, unreadable signature
``unknown_key``             signed with a key this build does not trust
``tampered``                the signature does not match the content (any field was edited)
``demo_key_not_allowed``    signed with the DEMO key while the API host is not loopback
``wrong_hardware``          the license names another machine's hardware id
``time_unknown``            no trusted time (Genesys, NTP) and the start-up grace is over
``expired``                 trusted time is past the end of the expiry day (UTC)
==========================  ======================================================================

:func:`evaluate` is a pure function of its inputs plus one file read. :class:`LicenseEvaluator` is
the thread-free object the LicenseActor holds: it re-evaluates on demand, logs only changes, and says
when the next periodic check is due (at the latest just after the expiry instant).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from licensing import keys as license_keys
from licensing.document import License, LicenseError, verify_license
from licensing.hwid import InvalidHardwareId, parse_hwid
from licensing.trusted_time import TrustedClock, TrustedTime

logger = logging.getLogger(__name__)

LICENSED = "licensed"
UNLICENSED = "unlicensed"
REASONS = (
    "missing",
    "malformed",
    "unknown_key",
    "tampered",
    "demo_key_not_allowed",
    "wrong_hardware",
    "time_unknown",
    "expired",
)


@dataclass(frozen=True)
class LicenseStatus:
    state: str  # "licensed" | "unlicensed"
    reason: str | None  # None when licensed, else one of REASONS
    detail: str  # one human sentence
    licensee: str | None = None
    expiry: dt.date | None = None  # inclusive last day (UTC)
    hwid_match: bool | None = None  # None when the file could not be verified
    time_source: str = "none"
    limits: Mapping[str, int] = field(default_factory=dict)
    license_path: str = ""
    demo: bool = False  # signed with the demo key
    trusted_now: dt.datetime | None = None
    license_id: str | None = None

    @property
    def licensed(self) -> bool:
        return self.state == LICENSED

    @property
    def max_active_profiles(self) -> int | None:
        return self.limits.get("max_active_profiles")

    def seconds_until_expiry(self) -> float | None:
        if self.expiry is None or self.trusted_now is None:
            return None
        end = dt.datetime.combine(self.expiry + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        return (end - self.trusted_now).total_seconds()

    def log_line(self) -> str:
        if self.licensed:
            return (
                f"licensed to {self.licensee!r} until {self.expiry} (UTC, inclusive); "
                f"trusted time from {self.time_source}; {self.detail}"
            )
        return f"UNLICENSED (reason={self.reason}): {self.detail} [{self.license_path}]"


class _StatusContext(TypedDict, total=False):
    """The keyword fields of :class:`LicenseStatus` shared by every outcome of one evaluation."""

    license_path: str
    time_source: str
    trusted_now: dt.datetime | None
    licensee: str | None
    expiry: dt.date | None
    hwid_match: bool
    limits: Mapping[str, int]
    demo: bool
    license_id: str | None


def _as_trusted_time(trusted_now: TrustedTime | dt.datetime | None) -> TrustedTime:
    if isinstance(trusted_now, TrustedTime):
        return trusted_now
    if isinstance(trusted_now, dt.datetime):
        if trusted_now.tzinfo is None:
            raise ValueError("trusted_now must be timezone-aware")
        return TrustedTime(trusted_now.astimezone(dt.UTC), "given")
    return TrustedTime(None, "none")


def evaluate(
    license_path: str | Path,
    *,
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
    hwid: str,
    trusted_now: TrustedTime | dt.datetime | None,
    api_url: str | None,
    demo_keys: Mapping[str, Ed25519PublicKey] | None = None,
    log: bool = True,
) -> LicenseStatus:
    """Evaluate one license file. ``public_keys`` defaults to the production keys built into the
    package and ``demo_keys`` to the committed demo key (accepted only for a loopback ``api_url``).
    Logs one line (INFO licensed / WARNING unlicensed) naming the reason unless ``log=False``."""
    status = _evaluate(
        Path(license_path),
        public_keys=license_keys.production_public_keys() if public_keys is None else public_keys,
        demo_keys=license_keys.demo_public_keys() if demo_keys is None else demo_keys,
        hwid=hwid,
        now=_as_trusted_time(trusted_now),
        api_url=api_url,
    )
    if log:
        log_status(status)
    return status


def log_status(status: LicenseStatus) -> None:
    if status.licensed:
        logger.info("license: %s", status.log_line())
    else:
        logger.warning("license: %s", status.log_line())


def _evaluate(
    path: Path,
    *,
    public_keys: Mapping[str, Ed25519PublicKey],
    demo_keys: Mapping[str, Ed25519PublicKey],
    hwid: str,
    now: TrustedTime,
    api_url: str | None,
) -> LicenseStatus:
    base: _StatusContext = {"license_path": str(path), "time_source": now.source, "trusted_now": now.utc}
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return LicenseStatus(UNLICENSED, "missing", f"no license file at {path}", **base)
    except OSError as exc:
        return LicenseStatus(UNLICENSED, "malformed", f"cannot read the license file: {exc}", **base)

    trusted = {**demo_keys, **public_keys}
    try:
        lic: License = verify_license(data, trusted)
    except LicenseError as exc:
        return LicenseStatus(UNLICENSED, exc.reason, str(exc), **base)

    is_demo = lic.key_id in demo_keys and lic.key_id not in public_keys
    try:
        hwid_match = parse_hwid(hwid) == lic.hardware_id
    except InvalidHardwareId:
        hwid_match = False
    info: _StatusContext = {
        **base,
        "licensee": lic.licensee,
        "expiry": lic.expires,
        "hwid_match": hwid_match,
        "limits": dict(lic.limits),
        "demo": is_demo,
        "license_id": lic.license_id,
    }
    if is_demo and not license_keys.is_loopback_url(api_url):
        return LicenseStatus(
            UNLICENSED,
            "demo_key_not_allowed",
            f"this is a DEMO license; it only works against the simulator (loopback), not {api_url}",
            **info,
        )
    if not hwid_match:
        return LicenseStatus(
            UNLICENSED,
            "wrong_hardware",
            f"the license is for hardware id {lic.hardware_id}, this machine is {hwid}",
            **info,
        )
    if now.utc is None:
        if now.within_grace:
            return LicenseStatus(
                LICENSED,
                None,
                "trusted time not yet known: start-up grace, the expiry is checked as soon as it is",
                **info,
            )
        return LicenseStatus(
            UNLICENSED,
            "time_unknown",
            "no trusted time: neither Genesys Cloud nor any NTP server has answered",
            **info,
        )
    if lic.is_expired(now.utc):
        return LicenseStatus(
            UNLICENSED,
            "expired",
            f"the license expired at the end of {lic.expires} (UTC); trusted time is "
            f"{now.utc.isoformat(timespec='seconds')} from {now.source}",
            **info,
        )
    days_left = (lic.expires_at() - now.utc).total_seconds() / 86400
    kind = "demo license (simulator only)" if is_demo else "license"
    return LicenseStatus(LICENSED, None, f"{kind}, {days_left:.1f} days left", **info)


class LicenseEvaluator:
    """What the LicenseActor holds: the license path, the trusted clock and the machine's identity.

    ``check()`` (re-)evaluates the file, syncing the clock first when it is due; it logs only when
    the outcome changes and returns ``(status, changed)``. ``next_check_delay_s()`` says when to call
    it again: the periodic interval, or just after the expiry instant if that comes sooner.
    """

    def __init__(
        self,
        license_path: str | Path,
        *,
        clock: TrustedClock,
        hwid: str,
        api_url: str | None,
        public_keys: Mapping[str, Ed25519PublicKey] | None = None,
        demo_keys: Mapping[str, Ed25519PublicKey] | None = None,
        recheck_interval_s: float = 60.0,
        expiry_warning_days: float = 14.0,
    ) -> None:
        self.license_path = Path(license_path)
        self.clock = clock
        self.hwid = hwid
        self.api_url = api_url
        self.public_keys = license_keys.production_public_keys() if public_keys is None else public_keys
        self.demo_keys = license_keys.demo_public_keys() if demo_keys is None else demo_keys
        self.recheck_interval_s = recheck_interval_s
        self.expiry_warning_days = expiry_warning_days
        self.status: LicenseStatus | None = None
        self._last_expiry_warning: float | None = None

    def check(self, *, sync: bool = True) -> tuple[LicenseStatus, bool]:
        if sync and self.clock.needs_sync():
            self.clock.sync()
        status = evaluate(
            self.license_path,
            public_keys=self.public_keys,
            demo_keys=self.demo_keys,
            hwid=self.hwid,
            trusted_now=self.clock.now(),
            api_url=self.api_url,
            log=False,
        )
        previous, self.status = self.status, status
        changed = previous is None or _signature(previous) != _signature(status)
        if changed:
            log_status(status)
            if previous is not None and previous.state != status.state:
                logger.warning(
                    "license state changed: %s -> %s%s",
                    previous.state,
                    status.state,
                    f" (reason={status.reason})" if status.reason else "",
                )
        self._warn_if_expiring(status, changed)
        return status, changed

    def _warn_if_expiring(self, status: LicenseStatus, changed: bool) -> None:
        """A WARNING when the license runs out within ``expiry_warning_days``: at once, then daily."""
        left = status.seconds_until_expiry() if status.licensed else None
        if left is None or left > self.expiry_warning_days * 86400:
            self._last_expiry_warning = None
            return
        mono = self.clock.monotonic()
        if changed or self._last_expiry_warning is None or mono - self._last_expiry_warning >= 86400:
            self._last_expiry_warning = mono
            logger.warning(
                "license for %r expires at the end of %s (UTC): %.1f days left; ask the vendor for a renewal",
                status.licensee,
                status.expiry,
                left / 86400,
            )

    def next_check_delay_s(self) -> float:
        delay = self.recheck_interval_s
        if self.status is not None and self.status.licensed:
            left = self.status.seconds_until_expiry()
            if left is not None:
                delay = min(delay, max(0.5, left + 0.5))
            if self.status.time_source == "none":
                delay = min(delay, max(0.5, self.clock.grace_remaining_s() + 0.5))
        return delay


def _signature(status: LicenseStatus) -> tuple[object, ...]:
    return (
        status.state,
        status.reason,
        status.licensee,
        status.expiry,
        status.license_id,
        status.time_source,
    )
