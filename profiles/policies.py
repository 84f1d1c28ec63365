"""Media retention policies: which finished calls a policy's conditions select, as Genesys Cloud defines them.

A profile's `RetentionPolicies` names policies of the org (`GET /api/v2/recording/mediaretentionpolicies`,
SDK model `Policy`); a call is in scope when one of them selects it. This module is the one place that
decides, for the service (`export.config_loader` parses the policies once per configuration load,
`profiles.scoping` evaluates them per conversation) and for `run.py profiles check` alike.

What a policy is (SDK models `Policy`, `MediaPolicies`, `CallMediaPolicy`, `CallMediaPolicyConditions`,
`PolicyConditions`, `TimeAllowed`, `TimeSlot`, `DurationCondition`; Genesys Cloud help "Create a
policy"):

* a disabled policy (`enabled: false`) selects nothing;
* a call is judged by the policy's call conditions, `mediaPolicies.callPolicy.conditions`; a policy with
  `mediaPolicies` but no `callPolicy` has no call part and selects no call; a policy without
  `mediaPolicies` uses its legacy top-level `conditions` (`PolicyConditions`, with `mediaTypes`);
* every condition that is set must hold (the help page lists them as optional matching criteria, each
  narrowing the policy); inside one condition any listed value will do; a condition that is absent or
  empty does not narrow, so a policy without `forQueues` applies to every queue, and one without any
  condition to every call.

The conditions, against the conversation's analytics details (`AnalyticsConversationWithoutAttributes`):

| condition | holds when |
|---|---|
| `forQueues` | a segment's `queueId` is one of them |
| `forUsers` | an agent/user participant's `userId` is one of them |
| `teams` | an agent/user participant's `teamId` is one of them |
| `wrapupCodes` | a segment's `wrapUpCode` is one of them |
| `languages` | a segment's `requestedLanguageId` is one of them |
| `directions` | `originatingDirection` (else the customer session's `direction`) is one of them (any case) |
| `dateRanges` | `conversationStart` lies in one of the ISO-8601 intervals `start/end` |
| `timeAllowed` | `conversationStart`, in `timeZoneId`, falls in one of the `timeSlots` (day 1 = Monday … 7 = Sunday, `HH:mm:ss.SSS` from start to stop); no slots or `empty: true` = no restriction |
| `duration` | the conversation's length (`conversationEnd - conversationStart`) is `Over`/`Under` the first value or `Between` the two values of `durationRange` (ISO-8601 durations such as `PT30S`, one, or two joined by `/` or `,`) |
| `customerParticipation` (legacy) | `YES`: a customer/external participant took part; `NO`: none did |
| `mediaTypes` (legacy) | one of them is a call |

Where the evidence cannot settle a condition (a `durationRange` in a format not documented anywhere, a
details document without `teamId`, an unknown time zone), the condition is taken as holding and the
reason is reported: exporting a call the policy might not select is recoverable (the file can be
deleted), silently not exporting one it does select is not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

CALL_MEDIA_TYPES = frozenset({"call", "voice", "callback"})
"""`PolicyConditions.mediaTypes` values (any case) that cover calls."""


@dataclass(frozen=True)
class TimeSlot:
    """`TimeSlot`: a weekday (1 = Monday … 7 = Sunday) and a time of day span in ms since midnight."""

    day: int
    start_ms: int
    stop_ms: int


@dataclass(frozen=True)
class Conditions:
    """The call conditions of a policy; `None` = the condition is not set (does not narrow)."""

    queue_ids: frozenset[str] | None = None
    user_ids: frozenset[str] | None = None
    team_ids: frozenset[str] | None = None
    wrapup_code_ids: frozenset[str] | None = None
    language_ids: frozenset[str] | None = None
    directions: frozenset[str] | None = None
    date_ranges: tuple[tuple[int, int], ...] | None = None
    time_slots: tuple[TimeSlot, ...] | None = None
    time_zone: str = "UTC"
    duration: tuple[str, tuple[int, ...]] | None = None
    """(mode `over`/`under`/`between`, bounds in ms)."""
    customer_participation: bool | None = None
    media_types: frozenset[str] | None = None
    unreadable: tuple[str, ...] = ()
    """Conditions set in the policy that could not be read (each taken as holding, and reported)."""


@dataclass(frozen=True)
class RetentionPolicy:
    """What scoping needs of a `Policy`: picklable, comparable (part of the configuration snapshot)."""

    id: str
    name: str
    enabled: bool
    conditions: Conditions | None
    """None: the policy has no call part (a `mediaPolicies` without `callPolicy`)."""

    @property
    def queue_ids(self) -> frozenset[str] | None:
        """The queues the policy is limited to; None = every queue (no queue condition)."""
        return None if self.conditions is None else self.conditions.queue_ids

    @property
    def selects_calls(self) -> bool:
        return self.enabled and self.conditions is not None


@dataclass(frozen=True)
class Verdict:
    """The result for one policy and one conversation."""

    policy: str
    selected: bool
    why_not: str = ""
    assumed: tuple[str, ...] = ()
    """Conditions taken as holding because the evidence could not settle them."""


# ----------------------------------------------------------------------------------------------
# parsing (the JSON of GET /api/v2/recording/mediaretentionpolicies, as the SDK serialises it)
# ----------------------------------------------------------------------------------------------
def parse_policy(entity: Mapping[str, Any]) -> RetentionPolicy:
    """A `Policy` entity -> `RetentionPolicy`."""
    enabled = entity.get("enabled") is not False  # absent: enabled (the API always sends it)
    media = entity.get("mediaPolicies")
    name = str(entity.get("name") or "")
    if isinstance(media, Mapping) and media:
        call = media.get("callPolicy")
        raw = (call or {}).get("conditions") if isinstance(call, Mapping) else None
        conditions = _conditions(raw or {}, name) if isinstance(call, Mapping) else None
    else:
        conditions = _conditions(entity.get("conditions") or {}, name)
    return RetentionPolicy(str(entity.get("id") or ""), name, enabled, conditions)


def parse_policies(entities: Iterable[Mapping[str, Any]]) -> dict[str, tuple[RetentionPolicy, ...]]:
    """`{name: policies of that name}` (names are not guaranteed unique; any of them may select)."""
    out: dict[str, list[RetentionPolicy]] = {}
    for entity in entities:
        if isinstance(entity, Mapping) and entity.get("name"):
            policy = parse_policy(entity)
            out.setdefault(policy.name, []).append(policy)
    return {name: tuple(policies) for name, policies in out.items()}


def _ids(raw: Any) -> frozenset[str] | None:
    if not raw:
        return None
    ids = frozenset(str(r["id"]) for r in raw if isinstance(r, Mapping) and r.get("id"))
    return ids or None


def _conditions(raw: Mapping[str, Any], policy: str) -> Conditions:
    unreadable: list[str] = []
    directions = frozenset(str(d).lower() for d in raw.get("directions") or []) or None
    media_types = frozenset(str(m).lower() for m in raw.get("mediaTypes") or []) or None
    date_ranges = None
    if raw.get("dateRanges"):
        ranges = []
        for text in raw["dateRanges"]:
            parsed = _interval(str(text))
            if parsed is None:
                unreadable.append(f"dateRanges {text!r}")
            else:
                ranges.append(parsed)
        date_ranges = tuple(ranges) if ranges else None
    time_slots, zone = None, "UTC"
    allowed = raw.get("timeAllowed")
    if isinstance(allowed, Mapping) and allowed.get("timeSlots") and not allowed.get("empty"):
        zone = str(allowed.get("timeZoneId") or "UTC")
        slots = []
        for slot in allowed["timeSlots"]:
            parsed_slot = _slot(slot)
            if parsed_slot is None:
                unreadable.append(f"timeAllowed slot {slot!r}")
            else:
                slots.append(parsed_slot)
        time_slots = tuple(slots) if slots else None
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            unreadable.append(f"timeAllowed timeZoneId {zone!r}")
            time_slots = None
    duration = None
    if isinstance(raw.get("duration"), Mapping) and raw["duration"]:
        duration = _duration(raw["duration"])
        if duration is None:
            unreadable.append(f"duration {dict(raw['duration'])!r}")
    participation = raw.get("customerParticipation")
    customer = None
    if participation:
        customer = {"YES": True, "NO": False}.get(str(participation).upper())
        if customer is None:
            unreadable.append(f"customerParticipation {participation!r}")
    if unreadable:
        logger.warning(
            "retention policy %r: cannot read %s; these conditions are taken as always holding",
            policy,
            "; ".join(unreadable),
        )
    return Conditions(
        queue_ids=_ids(raw.get("forQueues")),
        user_ids=_ids(raw.get("forUsers")),
        team_ids=_ids(raw.get("teams")),
        wrapup_code_ids=_ids(raw.get("wrapupCodes")),
        language_ids=_ids(raw.get("languages")),
        directions=directions,
        date_ranges=date_ranges,
        time_slots=time_slots,
        time_zone=zone,
        duration=duration,
        customer_participation=customer,
        media_types=media_types,
        unreadable=tuple(unreadable),
    )


def _instant_ms(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _interval(text: str) -> tuple[int, int] | None:
    """An ISO-8601 interval `start/end` (both instants) as epoch ms."""
    if "/" not in text:
        return None
    start, end = (_instant_ms(t) for t in text.split("/", 1))
    if start is None or end is None or end <= start:
        return None
    return start, end


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$")


def _time_of_day_ms(text: Any) -> int | None:
    m = _CLOCK.match(str(text or "").strip())
    if not m:
        return None
    h, mi, s, frac = int(m[1]), int(m[2]), int(m[3] or 0), (m[4] or "0").ljust(3, "0")
    if h > 24 or mi > 59 or s > 59:
        return None
    return ((h * 60 + mi) * 60 + s) * 1000 + int(frac)


def _slot(raw: Any) -> TimeSlot | None:
    if not isinstance(raw, Mapping):
        return None
    start, stop = _time_of_day_ms(raw.get("startTime")), _time_of_day_ms(raw.get("stopTime"))
    day_value = raw.get("day")
    if day_value is None:
        return None
    try:
        day = int(day_value)
    except (TypeError, ValueError):
        return None
    if start is None or stop is None or not 1 <= day <= 7:
        return None
    return TimeSlot(day, start, stop)


_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def _iso_duration_ms(text: str) -> int | None:
    m = _ISO_DURATION.match(text.strip().upper())
    if not m or not any(m.groupdict().values()):
        return None
    parts = {k: float(v) for k, v in m.groupdict().items() if v}
    seconds = (
        parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
    )
    return int(round(seconds * 1000))


def _duration(raw: Mapping[str, Any]) -> tuple[str, tuple[int, ...]] | None:
    """`DurationCondition` -> (mode, bounds ms); None when its range is not in a readable form."""
    mode = str(raw.get("durationMode") or "").lower()
    text = str(raw.get("durationRange") or "")
    bounds = []
    for part in re.split(r"[/,]", text):
        if not part.strip():
            continue
        value = _iso_duration_ms(part)
        if value is None:
            return None
        bounds.append(value)
    if mode in ("over", "under") and len(bounds) >= 1:
        return mode, (bounds[0],)
    if mode == "between" and len(bounds) == 2:
        return mode, (min(bounds), max(bounds))
    return None


# ----------------------------------------------------------------------------------------------
# the conversation (analytics details)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallFacts:
    """What the conditions look at, read once from the analytics details."""

    conversation_id: str
    queue_ids: frozenset[str]
    user_ids: frozenset[str]
    team_ids: frozenset[str]
    has_team_data: bool
    wrapup_code_ids: frozenset[str]
    language_ids: frozenset[str]
    direction: str | None
    start_ms: int | None
    end_ms: int | None
    customer_took_part: bool

    @classmethod
    def of(cls, details: Mapping[str, Any]) -> CallFacts:
        participants = [p for p in details.get("participants") or [] if isinstance(p, Mapping)]
        segments = [
            seg
            for p in participants
            for s in p.get("sessions") or []
            for seg in s.get("segments") or []
            if isinstance(seg, Mapping)
        ]
        agents = [p for p in participants if str(p.get("purpose", "")).lower() in ("agent", "user")]
        direction = details.get("originatingDirection")
        if not direction:
            for p in participants:
                if str(p.get("purpose", "")).lower() in ("customer", "external"):
                    direction = next(
                        (s.get("direction") for s in p.get("sessions") or [] if s.get("direction")), None
                    )
                    if direction:
                        break
        start, end = details.get("conversationStart"), details.get("conversationEnd")
        return cls(
            conversation_id=str(details.get("conversationId") or "?"),
            queue_ids=frozenset(str(s["queueId"]) for s in segments if s.get("queueId")),
            user_ids=frozenset(str(p["userId"]) for p in agents if p.get("userId")),
            team_ids=frozenset(str(p["teamId"]) for p in agents if p.get("teamId")),
            has_team_data=any("teamId" in p for p in agents),
            wrapup_code_ids=frozenset(str(s["wrapUpCode"]) for s in segments if s.get("wrapUpCode")),
            language_ids=frozenset(
                str(s["requestedLanguageId"]) for s in segments if s.get("requestedLanguageId")
            ),
            direction=str(direction).lower() if direction else None,
            start_ms=_instant_ms(str(start)) if start else None,
            end_ms=_instant_ms(str(end)) if end else None,
            customer_took_part=any(
                str(p.get("purpose", "")).lower() in ("customer", "external") for p in participants
            ),
        )


def evaluate(policy: RetentionPolicy, details: Mapping[str, Any] | CallFacts) -> Verdict:
    """Whether `policy` selects the conversation, and if not, the first condition that fails."""
    facts = details if isinstance(details, CallFacts) else CallFacts.of(details)
    if not policy.enabled:
        return Verdict(policy.name, False, "the policy is disabled")
    c = policy.conditions
    if c is None:
        return Verdict(policy.name, False, "the policy has no call conditions (no callPolicy)")
    assumed = list(c.unreadable)

    def among(wanted: frozenset[str] | None, have: frozenset[str], what: str) -> str:
        if wanted is None or wanted & have:
            return ""
        return f"no {what} of the policy ({len(wanted)} listed) took part"

    checks = [
        among(c.queue_ids, facts.queue_ids, "queue"),
        among(c.user_ids, facts.user_ids, "user"),
        among(c.wrapup_code_ids, facts.wrapup_code_ids, "wrap-up code"),
        among(c.language_ids, facts.language_ids, "language"),
    ]
    if c.team_ids is not None:
        if facts.has_team_data:
            checks.append(among(c.team_ids, facts.team_ids, "team"))
        else:
            assumed.append("teams (the details carry no teamId)")
    if c.media_types is not None and not c.media_types & CALL_MEDIA_TYPES:
        checks.append(f"the policy's media types {sorted(c.media_types)} do not include calls")
    if c.directions is not None:
        if facts.direction is None:
            assumed.append("directions (the details carry no direction)")
        elif facts.direction not in c.directions:
            checks.append(f"direction {facts.direction} is not one of {sorted(c.directions)}")
    if c.customer_participation is not None and c.customer_participation != facts.customer_took_part:
        checks.append("customer participation differs")
    checks += _time_checks(c, facts, assumed)
    failed = next((reason for reason in checks if reason), "")
    return Verdict(policy.name, not failed, failed, tuple(assumed))


def _time_checks(c: Conditions, facts: CallFacts, assumed: list[str]) -> list[str]:
    out: list[str] = []
    start = facts.start_ms
    if c.date_ranges is not None:
        if start is None:
            assumed.append("dateRanges (no conversationStart)")
        elif not any(a <= start < b for a, b in c.date_ranges):
            out.append("the call started outside the policy's date ranges")
    if c.time_slots is not None:
        if start is None:
            assumed.append("timeAllowed (no conversationStart)")
        else:
            local = datetime.fromtimestamp(start / 1000, tz=ZoneInfo(c.time_zone))
            if not any(_in_slot(slot, local) for slot in c.time_slots):
                out.append(
                    f"the call started at {local:%a %H:%M} {c.time_zone}, outside the policy's time slots"
                )
    if c.duration is not None:
        if start is None or facts.end_ms is None:
            assumed.append("duration (no conversationStart/End)")
        else:
            length = facts.end_ms - start
            mode, bounds = c.duration
            ok = (
                length > bounds[0]
                if mode == "over"
                else length < bounds[0]
                if mode == "under"
                else bounds[0] <= length <= bounds[1]
            )
            if not ok:
                out.append(f"the call lasted {length / 1000:.0f} s, not {mode} the policy's duration")
    return out


def _in_slot(slot: TimeSlot, local: datetime) -> bool:
    """Whether a local instant is in a weekly slot (a stop before the start runs past midnight)."""
    of_day = ((local.hour * 60 + local.minute) * 60 + local.second) * 1000 + local.microsecond // 1000
    day = local.isoweekday()
    if slot.start_ms < slot.stop_ms:
        return day == slot.day and slot.start_ms <= of_day < slot.stop_ms
    next_day = slot.day % 7 + 1
    return (day == slot.day and of_day >= slot.start_ms) or (day == next_day and of_day < slot.stop_ms)


def selects(policies: Iterable[RetentionPolicy], details: Mapping[str, Any]) -> list[Verdict]:
    """The verdict of each policy (in order) for one conversation."""
    facts = CallFacts.of(details)
    return [evaluate(p, facts) for p in policies]


def watched_queue_ids(
    policies: Iterable[RetentionPolicy], every_queue: Iterable[str]
) -> tuple[frozenset[str], list[str]]:
    """(queue ids the service must watch for these policies, names of policies that need every queue).

    A disabled policy, or one without a call part, needs no queue; one without a queue condition needs
    every queue of the org (`every_queue`)."""
    ids: set[str] = set()
    everywhere: list[str] = []
    all_ids = frozenset(every_queue)
    for policy in policies:
        if not policy.selects_calls:
            continue
        if policy.queue_ids is None:
            everywhere.append(policy.name)
            ids |= all_ids
        else:
            ids |= policy.queue_ids
    return frozenset(ids), everywhere
