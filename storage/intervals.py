"""``Interval``: the time bucket of the Hierarchical and Flat directory modes (1 minute .. 1 year).

Written as a count and a unit: ``m`` (minutes), ``h`` (hours), ``d`` (days), ``mo`` (months), ``y``
(years). A bucket is the timestamp floored to a multiple of the count inside the next larger unit, so
the count must divide that unit evenly: minutes 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30; hours 1, 2, 3, 4,
6, 8, 12; days 1 (daily folders); months 1, 2, 3, 4, 6; years 1. ``60m`` is accepted as ``1h``, ``24h``
as ``1d`` and ``12mo`` as ``1y``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger(__name__)

UNITS = ("y", "mo", "d", "h", "m")
ALLOWED_COUNTS: dict[str, tuple[int, ...]] = {
    "m": (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30),
    "h": (1, 2, 3, 4, 6, 8, 12),
    "d": (1,),
    "mo": (1, 2, 3, 4, 6),
    "y": (1,),
}
_PROMOTE = {("m", 60): ("h", 1), ("h", 24): ("d", 1), ("mo", 12): ("y", 1)}
_PATTERN = re.compile(r"^\s*(\d+)\s*(mo|m|h|d|y)\s*$")


class IntervalError(ValueError):
    """The interval text is not one of the supported buckets."""


@dataclass(frozen=True)
class Interval:
    count: int
    unit: str  # one of UNITS

    def bucket_start(self, moment: datetime) -> datetime:
        """The start of the bucket that holds ``moment`` (in ``moment``'s own time zone)."""
        if self.unit == "y":
            return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        if self.unit == "mo":
            month = (moment.month - 1) // self.count * self.count + 1
            return moment.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
        if self.unit == "d":
            return moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.unit == "h":
            return moment.replace(
                hour=moment.hour // self.count * self.count, minute=0, second=0, microsecond=0
            )
        return moment.replace(minute=moment.minute // self.count * self.count, second=0, microsecond=0)

    def hierarchical_parts(self, moment: datetime) -> list[str]:
        """``yyyy``, ``MM``, ``dd``, ``HH``, ``mm`` folders down to the interval's unit."""
        start = self.bucket_start(moment)
        parts = [
            f"{start.year:04d}",
            f"{start.month:02d}",
            f"{start.day:02d}",
            f"{start.hour:02d}",
            f"{start.minute:02d}",
        ]
        return parts[: UNITS.index(self.unit) + 1]

    def flat_name(self, moment: datetime) -> str:
        """One folder: ``yyyy``, ``yyyyMM``, ``yyyyMMdd``, ``yyyyMMddHH`` or ``yyyyMMddHHmm``."""
        return "".join(self.hierarchical_parts(moment))

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


def parse_interval(text: str) -> Interval:
    match = _PATTERN.match(str(text))
    if not match:
        raise IntervalError(
            f"interval {text!r} is not a count and a unit (m, h, d, mo, y), for example '15m', '1h', '1d', '1mo', '1y'"
        )
    count, unit = int(match[1]), match[2]
    promoted = _PROMOTE.get((unit, count))
    if promoted:
        unit, count = promoted
    if count not in ALLOWED_COUNTS[unit]:
        allowed = ", ".join(f"{c}{unit}" for c in ALLOWED_COUNTS[unit])
        raise IntervalError(f"interval {text!r} does not divide its parent unit evenly; allowed: {allowed}")
    return Interval(count, unit)
