"""A profile's ``TimeZoneOffset``: a fixed offset (``+01:00``) or an IANA zone (``Europe/Oslo``)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$")


class TimeZoneError(ValueError):
    """The text is neither a UTC offset nor a known IANA time zone."""


@lru_cache(maxsize=256)
def parse_time_zone(text: str) -> tzinfo:
    """``+01:00``, ``-05:30``, ``+0100``, ``+1``, ``Z``/``UTC`` or an IANA name such as ``Europe/Oslo``.

    Offsets are limited to ±14:00 (the range real time zones use).
    """
    value = text.strip()
    if value.upper() in ("Z", "UTC", "GMT", "+00:00", "-00:00"):
        return UTC
    match = _OFFSET.match(value)
    if match:
        hours = int(match["hours"])
        minutes = int(match["minutes"] or 0)
        if minutes >= 60 or hours * 60 + minutes > 14 * 60:
            raise TimeZoneError(f"offset {text!r} is outside -14:00..+14:00")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if match["sign"] == "-" else delta)
    if "/" in value or value.isalpha():
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise TimeZoneError(f"{text!r} is not a known IANA time zone") from exc
    raise TimeZoneError(f"{text!r} is not a UTC offset like '+01:00' nor an IANA zone like 'Europe/Oslo'")


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string (``...Z`` or with offset) or epoch milliseconds.

    Returns None for None/empty; raises ValueError for text that is not a timestamp.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
