""".NET date/time format strings (invariant culture) for `{Placeholder|Format(...)}`.

Custom specifiers: ``yyyy yyy yy y``, ``MMMM MMM MM M``, ``dddd ddd dd d``, ``HH H``, ``hh h``,
``mm m``, ``ss s``, ``f``..``fffffff``, ``F``..``FFFFFFF``, ``tt t``, ``zzz zz z``, ``K``, ``g gg``,
``:`` and ``/`` (invariant separators), quoted literals ``'...'`` and ``"..."``, backslash escape and
``%x`` (a single custom specifier used on its own). Everything else is copied.

Standard formats (a format string of exactly one character): ``d D f F g G m M o O r R s t T u U y Y``
with the invariant culture's patterns. ``r``/``R``/``u``/``U`` convert to UTC first, like .NET's
``DateTimeOffset``.

Values are timezone-aware ``datetime`` objects. ``K`` renders ``Z`` when the value's zone is UTC (after
``ToUtc``) and the offset (``+01:00``) otherwise; ``z``/``zz``/``zzz`` always render the offset.
Python keeps microseconds, so the seventh fraction digit is always ``0``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Invariant-culture patterns of the standard formats.
STANDARD_FORMATS: dict[str, str] = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "m": "MMMM dd",
    "M": "MMMM dd",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "U": "dddd, dd MMMM yyyy HH:mm:ss",
    "y": "yyyy MMMM",
    "Y": "yyyy MMMM",
}
_UTC_STANDARD = frozenset("rRuU")


class DateFormatError(ValueError):
    """The format string is not a valid .NET date/time format."""


def _is_utc(value: datetime) -> bool:
    return value.tzinfo is UTC or value.tzinfo is not None and value.tzinfo.tzname(value) == "UTC"


def _offset_text(value: datetime, width: int) -> str:
    offset = value.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    if width == 1:
        return f"{sign}{hours}"
    if width == 2:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}"


def _run_length(fmt: str, index: int) -> int:
    char = fmt[index]
    end = index
    while end < len(fmt) and fmt[end] == char:
        end += 1
    return end - index


def _quoted(fmt: str, index: int) -> tuple[str, int]:
    """The literal text of the quoted string starting at fmt[index]; returns (text, next index)."""
    quote = fmt[index]
    out: list[str] = []
    i = index + 1
    while i < len(fmt):
        char = fmt[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\" and i + 1 < len(fmt):
            out.append(fmt[i + 1])
            i += 2
            continue
        out.append(char)
        i += 1
    raise DateFormatError(f"unterminated quoted literal starting at position {index} in {fmt!r}")


def _fraction(value: datetime, count: int) -> str:
    return f"{value.microsecond:06d}0"[:count]


def format_custom(value: datetime, fmt: str) -> str:
    """Format ``value`` with a .NET custom date/time format string."""
    out: list[str] = []
    i = 0
    n = len(fmt)
    while i < n:
        char = fmt[i]
        if char in "'\"":
            text, i = _quoted(fmt, i)
            out.append(text)
            continue
        if char == "\\":
            if i + 1 >= n:
                raise DateFormatError(f"a backslash at the end of {fmt!r} escapes nothing")
            out.append(fmt[i + 1])
            i += 2
            continue
        if char == "%":
            if i + 1 >= n or fmt[i + 1] == "%":
                raise DateFormatError(f"'%' in {fmt!r} must be followed by one format specifier")
            i += 1
            continue
        count = _run_length(fmt, i)
        i += count
        if char == "y":
            year = value.year
            out.append(
                str(year % 100) if count == 1 else f"{year % 100:02d}" if count == 2 else f"{year:0{count}d}"
            )
        elif char == "M":
            if count <= 2:
                out.append(f"{value.month:0{count}d}")
            else:
                name = MONTHS[value.month - 1]
                out.append(name[:3] if count == 3 else name)
        elif char == "d":
            if count <= 2:
                out.append(f"{value.day:0{count}d}")
            else:
                name = DAYS[value.weekday()]
                out.append(name[:3] if count == 3 else name)
        elif char in "Hhms":
            number = {
                "H": value.hour,
                "h": value.hour % 12 or 12,
                "m": value.minute,
                "s": value.second,
            }[char]
            out.append(f"{number:0{min(count, 2)}d}")
        elif char == "f":
            if count > 7:
                raise DateFormatError(f"more than seven 'f' specifiers in {fmt!r}")
            out.append(_fraction(value, count))
        elif char == "F":
            if count > 7:
                raise DateFormatError(f"more than seven 'F' specifiers in {fmt!r}")
            digits = _fraction(value, count).rstrip("0")
            if digits:
                out.append(digits)
            elif out and out[-1].endswith("."):
                # .NET drops a '.' directly before an F group that renders nothing.
                out[-1] = out[-1][:-1]
        elif char == "t":
            designator = "AM" if value.hour < 12 else "PM"
            out.append(designator[0] if count == 1 else designator)
        elif char == "z":
            out.append(_offset_text(value, min(count, 3)))
        elif char == "K":
            out.extend("Z" if _is_utc(value) else _offset_text(value, 3) for _ in range(count))
        elif char == "g":
            out.append("A.D.")
        elif char == ":":
            out.append(":" * count)
        elif char == "/":
            out.append("/" * count)
        else:
            out.append(char * count)
    return "".join(out)


def format_datetime(value: datetime, fmt: str) -> str:
    """Format ``value`` with a .NET standard (one character) or custom format string."""
    if value.tzinfo is None:
        raise ValueError("format_datetime needs a timezone-aware datetime")
    if not fmt:
        fmt = "G"
    if len(fmt) == 1:
        pattern = STANDARD_FORMATS.get(fmt)
        if pattern is None:
            raise DateFormatError(
                f"{fmt!r} is not a standard date/time format (one of {''.join(sorted(STANDARD_FORMATS))}); "
                f"use '%{fmt}' for the single custom specifier"
            )
        if fmt in _UTC_STANDARD:
            value = value.astimezone(UTC)
        return format_custom(value, pattern)
    return format_custom(value, fmt)


def validate_format(fmt: str) -> None:
    """Raise DateFormatError if ``fmt`` cannot be used (checked once, when a profile loads)."""
    format_datetime(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), fmt)
