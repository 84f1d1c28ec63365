"""Template functions: ``{Placeholder|Function1;Function2(args)}``.

=================  ==========================================================================
``Format(fmt)``    date/time: a .NET standard or custom format string (``yyyyMMdd_HHmmss``, ``o``);
                   number: ``D6`` / ``0000`` (zero padded); text holding an ISO timestamp: as a date
``ToUtc``          date/time converted to UTC (then ``K`` renders ``Z``)
``ToOffset(tz)``   date/time converted to a fixed offset (``+02:00``) or an IANA zone (``Asia/Tokyo``)
``ToUpper``        upper case (invariant)
``ToLower``        lower case (invariant)
``PadLeft(n[,c])`` pad on the left to ``n`` characters with ``c`` (default ``0``)
``PadRight(n[,c])`` pad on the right to ``n`` characters with ``c`` (default ``_``)
``Random(min,max)`` replace the value by a random integer ``min..max`` (inclusive)
``Default(text)``  use ``text`` when the placeholder has no value for this call
=================  ==========================================================================

Function names are case-insensitive. Arguments are separated by commas, except ``Format`` and
``Default`` whose whole argument is one string (so ``Format(dddd, dd MMMM)`` works).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.dotnet_format import DateFormatError, format_datetime, validate_format
from storage.timezones import TimeZoneError, parse_time_zone, parse_timestamp

logger = logging.getLogger(__name__)

DEFAULT_TIME_FORMAT = "yyyy-MM-dd_HH-mm-ss"
MAX_PAD = 200


class FunctionError(ValueError):
    """A function call in a template is unknown or has invalid arguments."""


Value = str | int | datetime | None


def to_text(value: Value) -> str:
    """The text of a value that reaches the file name without a Format function."""
    if isinstance(value, datetime):
        return format_datetime(value, DEFAULT_TIME_FORMAT)
    return "" if value is None else str(value)


_NUMBER_FORMAT = re.compile(r"^(?:[Dd](\d{0,2})|(0+))$")


def _format(value: Value, args: tuple[str, ...]) -> Value:
    fmt = args[0]
    if isinstance(value, int):
        match = _NUMBER_FORMAT.match(fmt)
        if not match:
            raise FunctionError(f"number format {fmt!r} is not 'D<digits>' or zeros like '0000'")
        width = int(match[1] or 0) if match[1] is not None else len(match[2])
        return f"{value:0{width}d}" if value >= 0 else f"-{-value:0{width}d}"
    if isinstance(value, str):
        try:
            moment = parse_timestamp(value)
        except ValueError:
            logger.warning("Format(%s) applied to text that is not a timestamp; value kept as is", fmt)
            return value
        value = moment
    if isinstance(value, datetime):
        return format_datetime(value, fmt)
    return value


def _to_utc(value: Value, args: tuple[str, ...]) -> Value:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _to_offset(value: Value, args: tuple[str, ...]) -> Value:
    return value.astimezone(parse_time_zone(args[0])) if isinstance(value, datetime) else value


def _upper(value: Value, args: tuple[str, ...]) -> Value:
    return to_text(value).upper()


def _lower(value: Value, args: tuple[str, ...]) -> Value:
    return to_text(value).lower()


def _pad(left: bool) -> Callable[[Value, tuple[str, ...]], Value]:
    def pad(value: Value, args: tuple[str, ...]) -> Value:
        width = int(args[0])
        fill = args[1] if len(args) > 1 else ("0" if left else "_")
        text = to_text(value)
        return text.rjust(width, fill) if left else text.ljust(width, fill)

    return pad


def _random(value: Value, args: tuple[str, ...]) -> Value:
    low, high = int(args[0]), int(args[1])
    return random.SystemRandom().randint(low, high)


def _default(value: Value, args: tuple[str, ...]) -> Value:
    return value  # applied by the renderer before anything else when the value is missing


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    apply: Callable[[Value, tuple[str, ...]], Value]
    min_args: int
    max_args: int
    whole_argument: bool = False  # the argument text is one string (no comma splitting)
    needs: str | None = None  # "time" when the function only makes sense on a date/time


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name.lower(): spec
    for spec in (
        FunctionSpec("Format", _format, 1, 1, whole_argument=True),
        FunctionSpec("ToUtc", _to_utc, 0, 0, needs="time"),
        FunctionSpec("ToOffset", _to_offset, 1, 1, needs="time"),
        FunctionSpec("ToUpper", _upper, 0, 0),
        FunctionSpec("ToLower", _lower, 0, 0),
        FunctionSpec("PadLeft", _pad(True), 1, 2),
        FunctionSpec("PadRight", _pad(False), 1, 2),
        FunctionSpec("Random", _random, 2, 2),
        FunctionSpec("Default", _default, 1, 1, whole_argument=True),
    )
}


def split_arguments(spec: FunctionSpec, raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    if spec.whole_argument:
        return (raw,)
    return tuple(part.strip() for part in raw.split(","))


def check_call(
    name: str, raw_args: str | None, value_type: str | None
) -> tuple[FunctionSpec, tuple[str, ...]]:
    """Resolve and validate one function call; raises FunctionError with a precise reason."""
    spec = FUNCTIONS.get(name.lower())
    if spec is None:
        known = ", ".join(s.name for s in FUNCTIONS.values())
        raise FunctionError(f"unknown function {name!r} (known: {known})")
    args = split_arguments(spec, raw_args)
    if not spec.min_args <= len(args) <= spec.max_args:
        expected = (
            str(spec.min_args) if spec.min_args == spec.max_args else f"{spec.min_args}..{spec.max_args}"
        )
        raise FunctionError(f"{spec.name} takes {expected} argument(s), got {len(args)}")
    if spec.needs == "time" and value_type not in ("time", None):
        raise FunctionError(f"{spec.name} needs a date/time placeholder, not a {value_type} one")
    if spec.name == "Format":
        if not args[0]:
            raise FunctionError("Format needs a format string, e.g. Format(yyyyMMdd_HHmmss)")
        if value_type == "time":
            try:
                validate_format(args[0])
            except DateFormatError as exc:
                raise FunctionError(str(exc)) from exc
        elif value_type == "number" and not _NUMBER_FORMAT.match(args[0]):
            raise FunctionError(f"number format {args[0]!r} is not 'D<digits>' or zeros like '0000'")
    elif spec.name == "ToOffset":
        try:
            parse_time_zone(args[0])
        except TimeZoneError as exc:
            raise FunctionError(str(exc)) from exc
    elif spec.name in ("PadLeft", "PadRight"):
        if not args[0].isdigit() or not 0 < int(args[0]) <= MAX_PAD:
            raise FunctionError(f"{spec.name} width must be a whole number 1..{MAX_PAD}, got {args[0]!r}")
        if len(args) > 1 and len(args[1]) != 1:
            raise FunctionError(f"{spec.name} fill must be exactly one character, got {args[1]!r}")
    elif spec.name == "Random":
        try:
            low, high = int(args[0]), int(args[1])
        except ValueError as exc:
            raise FunctionError(f"Random needs two whole numbers, got {args!r}") from exc
        if low > high:
            raise FunctionError(f"Random({low},{high}): the minimum is larger than the maximum")
    return spec, args
