"""Which of the org's media retention policies apply to a simulated call, decided on the call's truth.

This is the platform's side (it decides the recordings' `deleteDate`/`archiveDate`); the client decides
from the documents it receives (`profiles.policies`). Both follow Genesys' definition: a disabled
policy applies to nothing; every condition that is set must hold, any listed value satisfies a condition,
and a condition that is not set does not narrow (no queue condition: every queue). When several
policies apply, the one keeping the recording longest wins (Genesys Cloud help, "Create a policy":
"When two or more recording retention policies match an interaction, Genesys uses the policy that
keeps the recording in the system the longest").
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from simulator.model import Call
from simulator.org import Org, RetentionPolicy

logger = logging.getLogger(__name__)


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)


def _clock_ms(text: str) -> int:
    h, m, rest = text.split(":")
    s, _, frac = rest.partition(".")
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int((frac or "0").ljust(3, "0")[:3])


def _seconds(iso: str) -> float:
    """A simple ISO-8601 duration (`PT30S`, `PT2M`, `PT1H30M`) in seconds."""
    body = iso.upper().removeprefix("PT")
    total, number = 0.0, ""
    for ch in body:
        if ch.isdigit() or ch == ".":
            number += ch
        else:
            total += float(number) * {"H": 3600, "M": 60, "S": 1}[ch]
            number = ""
    return total


def applies(policy: RetentionPolicy, call: Call) -> bool:
    """Whether `policy` selects `call` (see the module docstring)."""
    if not policy.enabled:
        return False
    if policy.queue_ids and not set(policy.queue_ids) & set(call.queue_ids()):
        return False
    if policy.directions and call.direction.upper() not in policy.directions:
        return False
    agents = call.agents()
    if policy.user_ids and not {a.user_id for a in agents} & set(policy.user_ids):
        return False
    if policy.wrapup_code_ids and not {p.wrapup_code for p in agents} & set(policy.wrapup_code_ids):
        return False
    if policy.languages and call.language not in {lang.name for lang in policy.languages}:
        return False  # the simulator's calls are not routed by language
    if policy.date_ranges:
        spans = [tuple(_ms(t) for t in r.split("/")) for r in policy.date_ranges]
        if not any(a <= call.start_ms < b for a, b in spans):
            return False
    if policy.time_slots:
        local = datetime.fromtimestamp(call.start_ms / 1000, tz=ZoneInfo(policy.time_zone or "UTC"))
        of_day = ((local.hour * 60 + local.minute) * 60 + local.second) * 1000 + local.microsecond // 1000
        if not any(
            local.isoweekday() == day and _clock_ms(start) <= of_day < _clock_ms(stop)
            for day, start, stop in policy.time_slots
        ):
            return False
    if policy.duration:
        mode, value = policy.duration
        # the conversation's length as analytics reports it (conversationStart to conversationEnd)
        length = (call.last_event_ms() - call.start_ms) / 1000
        bounds = [_seconds(v) for v in value.split("/")]
        if mode == "Over" and not length > bounds[0]:
            return False
        if mode == "Under" and not length < bounds[0]:
            return False
        if mode == "Between" and not bounds[0] <= length <= bounds[-1]:
            return False
    return True


def applying(call: Call, org: Org) -> list[RetentionPolicy]:
    """The org's policies that select the call, in the org's order."""
    return [p for p in org.policies if applies(p, call)]


def retention_dates(call: Call, org: Org) -> tuple[int | None, int | None]:
    """(delete days, archive days) the recordings get: the longest-keeping applying policy's."""
    chosen = applying(call, org)
    if not chosen:
        return None, None
    longest = max(chosen, key=lambda p: p.delete_days if p.delete_days is not None else 10**9)
    return longest.delete_days, longest.archive_days
