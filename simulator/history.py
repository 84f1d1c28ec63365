"""Past conversations, served like live calls but generated only when something asks for them.

`History.add(days, calls_per_day)` plans calls that ended on each of the `days` UTC days before
today: for every call a seed, kind, first queue, duration and end instant are drawn (microseconds
each); the call itself (`simulator.model.Call`) is generated from its seed the first time a route
needs one of its documents, its media is encoded only when downloaded. So thousands of calls cost
milliseconds to create, and a request for one of them costs one generation (a few ms).

Every planned call ends (analytics `conversationEnd`, i.e. after the last wrap-up) inside its day,
so `calls_on(day)` is exact without generating anything. Recordings follow the org's retention
policies as Genesys applies them: once a policy's `deleteDate` has passed the recordings are
`DELETED` (and their transcript with them), once its `archiveDate` has passed they are `ARCHIVED`;
on top of that a seeded fraction was deleted or archived by hand (`deleted_fraction`,
`archived_fraction`).

Materialised calls are kept in a small LRU cache; a call something was written to (participant
attributes, transcode counters) is pinned so the write is never lost.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import random
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from simulator.model import Call
from simulator.org import Org
from simulator.scenarios import _KIND_WEIGHTS, KINDS, generate_call
from simulator.state import LiveCall

logger = logging.getLogger(__name__)

DAY_MS = 86_400_000
EDGE_MS = 10 * 60_000
"""Planned disconnects stay this far from midnight: the last wrap-up (at most a few minutes after the
disconnect) then ends on the same UTC day, so a call's day is known without generating it."""
START_SLACK_MS = 15 * 60_000
"""How much earlier than `end - duration` a generated call may start (IVR, queue wait, alerting)."""
END_SLACK_MS = 5 * 60_000
"""How much later than the planned disconnect its `conversationEnd` may be (after-call work)."""
CACHE_SIZE = 512


@dataclass(frozen=True)
class HistoryCall:
    """One planned past call (known without generating it)."""

    conversation_id: str
    day: date
    end_ms: int  # planned disconnect (epoch ms); conversationEnd is at most END_SLACK_MS later
    kind: str
    queue_name: str
    duration_s: float
    seed: int
    manual_fate: str | None  # "ARCHIVED" / "DELETED" by hand, None: only the policies decide

    @property
    def recorded(self) -> bool:
        """Whether the call has recordings at all (every kind except `no_recording`)."""
        return self.kind != "no_recording"


@dataclass(frozen=True)
class CallTruth:
    """What a test needs to know about one past call (generated on demand)."""

    conversation_id: str
    day: date
    kind: str
    conversation_start_ms: int
    conversation_end_ms: int  # analytics conversationEnd (after the last wrap-up)
    queue_ids: tuple[str, ...]
    queue_names: tuple[str, ...]
    recorded: bool
    recording_state: str | None  # AVAILABLE / ARCHIVED / DELETED; None when not recorded
    recording_ids: tuple[str, ...]
    has_agent: bool
    transcript_available: bool


def _day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def policy_fate(call: Call, org: Org, now_ms: int) -> str | None:
    """ARCHIVED or DELETED when a retention policy of a queue the call touched has acted by now."""
    touched = set(call.queue_ids())
    fate = None
    for policy in org.policies:
        if not touched & set(policy.queue_ids):
            continue
        if policy.delete_days is not None and call.end_ms + policy.delete_days * DAY_MS <= now_ms:
            return "DELETED"
        if policy.archive_days is not None and call.end_ms + policy.archive_days * DAY_MS <= now_ms:
            fate = "ARCHIVED"
    return fate


class History:
    """The simulator's past: planned calls, materialised lazily (thread-safe)."""

    def __init__(self, org: Org, seed: int, *, clock: Callable[[], float] | None = None) -> None:
        import time

        self.org = org
        self.seed = seed
        self._clock = clock or time.time
        self._lock = threading.RLock()
        self._plans: dict[str, HistoryCall] = {}
        self._by_end: list[tuple[int, str]] = []  # (end_ms, conversation id), sorted
        self._max_duration_ms = 0
        self._cache: OrderedDict[str, LiveCall] = OrderedDict()
        self._pinned: dict[str, LiveCall] = {}
        self._batches = 0
        self.generated = 0  # calls generated so far (for tests and benchmarks)

    # -- planning --------------------------------------------------------------------------------
    def add(
        self,
        days: int,
        calls_per_day: int,
        *,
        end_day: date | None = None,
        kinds: Iterable[str] | None = None,
        queue_names: Iterable[str] | None = None,
        duration_s: float | None = None,
        archived_fraction: float = 0.05,
        deleted_fraction: float = 0.03,
        seed: int | None = None,
    ) -> list[HistoryCall]:
        """Plan `calls_per_day` calls on each of the `days` UTC days before `end_day` (default:
        today, so every call is over). The first calls cycle through every kind (all of
        `simulator.scenarios.KINDS` by default), the rest are drawn with the usual weights."""
        if days < 0 or calls_per_day < 0:
            raise ValueError("days and calls_per_day must be >= 0")
        kind_list = list(kinds) if kinds is not None else list(KINDS)
        unknown = [k for k in kind_list if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown call kind(s) {unknown}; known kinds: {', '.join(KINDS)}")
        names = list(queue_names) if queue_names is not None else [q.name for q in self.org.queues]
        for name in names:
            self.org.queue_by_name(name)  # KeyError for an unknown queue
        last = end_day or datetime.fromtimestamp(self._clock(), UTC).date()
        with self._lock:
            batch = self._batches
            self._batches += 1
        rng = random.Random(f"history-{self.seed if seed is None else seed}-{batch}")
        weights = [_KIND_WEIGHTS.get(k, 1) for k in kind_list]
        planned: list[HistoryCall] = []
        index = 0
        for back in range(days, 0, -1):
            day = last - timedelta(days=back)
            start = _day_start_ms(day)
            for _ in range(calls_per_day):
                kind = kind_list[index] if index < len(kind_list) else rng.choices(kind_list, weights)[0]
                index += 1
                dur = duration_s if duration_s is not None else _duration_s(kind, rng)
                end_ms = rng.randint(start + EDGE_MS, start + DAY_MS - EDGE_MS)
                fate_draw = rng.random()
                manual = (
                    "DELETED"
                    if fate_draw < deleted_fraction
                    else "ARCHIVED"
                    if fate_draw < deleted_fraction + archived_fraction
                    else None
                )
                planned.append(
                    HistoryCall(
                        conversation_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        day=day,
                        end_ms=end_ms,
                        kind=kind,
                        queue_name=rng.choice(names),
                        duration_s=dur,
                        seed=rng.getrandbits(63),
                        manual_fate=manual,
                    )
                )
        with self._lock:
            for plan in planned:
                self._plans[plan.conversation_id] = plan
                bisect.insort(self._by_end, (plan.end_ms, plan.conversation_id))
                self._max_duration_ms = max(self._max_duration_ms, int(plan.duration_s * 1000))
        logger.info("simulator history: %d calls planned over %d day(s) before %s", len(planned), days, last)
        return planned

    # -- plan queries (no generation) -------------------------------------------------------------
    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._plans

    def __len__(self) -> int:
        return len(self._plans)

    def plans(self) -> list[HistoryCall]:
        """Every planned call, by end time."""
        with self._lock:
            return [self._plans[cid] for _, cid in self._by_end]

    def plan(self, conversation_id: str) -> HistoryCall | None:
        return self._plans.get(conversation_id)

    def days(self) -> list[date]:
        return sorted({p.day for p in self._plans.values()})

    def calls_on(self, day: date) -> list[HistoryCall]:
        """The calls whose conversation ended on `day` (UTC)."""
        start = _day_start_ms(day)
        with self._lock:
            lo = bisect.bisect_left(self._by_end, (start, ""))
            hi = bisect.bisect_left(self._by_end, (start + DAY_MS, ""))
            return [self._plans[cid] for _, cid in self._by_end[lo:hi]]

    def candidates(self, start_ms: int, end_ms: int) -> list[HistoryCall]:
        """Planned calls whose lifetime may overlap [start_ms, end_ms) (a superset, by bounds)."""
        with self._lock:
            lo = bisect.bisect_left(self._by_end, (start_ms - END_SLACK_MS, ""))
            hi = bisect.bisect_left(self._by_end, (end_ms + self._max_duration_ms + START_SLACK_MS, ""))
            return [self._plans[cid] for _, cid in self._by_end[lo:hi]]

    # -- materialisation ------------------------------------------------------------------------
    def live(self, conversation_id: str) -> LiveCall | None:
        """The call as the API serves it (generated on first use, then cached)."""
        plan = self._plans.get(conversation_id)
        if plan is None:
            return None
        with self._lock:
            live = self._pinned.get(conversation_id) or self._cache.get(conversation_id)
            if live is not None:
                if conversation_id in self._cache:
                    self._cache.move_to_end(conversation_id)
                return live
            live = self._materialise(plan)
            self._cache[conversation_id] = live
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return live

    def pin(self, conversation_id: str) -> None:
        """Keep this call's state for good (something was written to it)."""
        with self._lock:
            live = self._cache.pop(conversation_id, None)
            if live is not None:
                self._pinned[conversation_id] = live

    def generate(self, plan: HistoryCall) -> Call:
        """The planned call's truth (generated from its seed: the same every time)."""
        call = generate_call(
            self.org,
            random.Random(plan.seed),
            end_ms=plan.end_ms,
            kind=plan.kind,
            duration_s=plan.duration_s,
            queue_name=plan.queue_name,
        )
        self.generated += 1
        return dataclasses.replace(call, conversation_id=plan.conversation_id)

    def fate(self, plan: HistoryCall, call: Call) -> str | None:
        """The recordings' state now: DELETED / ARCHIVED, or None (available)."""
        if not call.recordings:
            return None
        by_policy = policy_fate(call, self.org, int(self._clock() * 1000))
        if "DELETED" in (by_policy, plan.manual_fate):
            return "DELETED"
        if "ARCHIVED" in (by_policy, plan.manual_fate):
            return "ARCHIVED"
        return None

    def _materialise(self, plan: HistoryCall) -> LiveCall:
        call = self.generate(plan)
        fate = self.fate(plan, call)
        if fate == "DELETED":  # the transcript is deleted with the recording
            call = dataclasses.replace(call, transcript_available=False, transcript_ids={})
        last_s = call.last_event_ms() / 1000.0
        live = LiveCall(
            call=call,
            seed=plan.seed,
            disconnect_s=call.end_ms / 1000.0,
            last_event_s=last_s,
            details_s=last_s,
            recordings_s=call.end_ms / 1000.0,
            transcript_s=call.end_ms / 1000.0,
            archived=fate == "ARCHIVED",
            fate="DELETED" if fate == "DELETED" else "AVAILABLE",
        )
        live.done.set()
        return live

    # -- truth for tests ------------------------------------------------------------------------
    def truth(self, conversation_id: str) -> CallTruth:
        plan = self._plans[conversation_id]
        live = self.live(conversation_id)
        assert live is not None
        call = live.call
        state = live.recording_state(self._clock()) if call.recordings else None
        qids = tuple(call.queue_ids())
        return CallTruth(
            conversation_id=call.conversation_id,
            day=plan.day,
            kind=plan.kind,
            conversation_start_ms=call.start_ms,
            conversation_end_ms=call.last_event_ms(),
            queue_ids=qids,
            queue_names=tuple(self.org.queue_by_id(q).name for q in qids),
            recorded=bool(call.recordings),
            recording_state=state,
            recording_ids=tuple(r.recording_id for r in call.recordings),
            has_agent=bool(call.agents()),
            transcript_available=call.transcript_available,
        )

    def truth_by_day(self) -> dict[date, list[CallTruth]]:
        """Day → the truth of every call that ended that day (generates every call)."""
        out: dict[date, list[CallTruth]] = {}
        for plan in self.plans():
            out.setdefault(plan.day, []).append(self.truth(plan.conversation_id))
        return out


def _duration_s(kind: str, rng: random.Random) -> float:
    if kind == "long":
        return rng.uniform(3_600, 5_400)
    if kind == "ivr_only":
        return rng.uniform(15, 120)
    if kind == "abandoned":
        return rng.uniform(20, 300)
    return min(max(rng.lognormvariate(5.3, 0.7), 25.0), 1_800.0)
