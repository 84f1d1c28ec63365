"""Decide "the call is over and wrapped up" from queue conversation snapshots (rule and sources: docs/genesys.md, "genesys.wrapup").

`ConversationTracker.feed()` takes every event body of the queue topics, in both shapes:

* ``v2.routing.queues.{id}.conversations``: queue in ``participant.queueId``, call state in
  ``participant.calls[].state`` (other media lists likewise);
* ``v2.routing.queues.{id}.conversations.calls``: queue in ``participant.queue.id``, state in
  ``participant.state``.

Snapshots may repeat and arrive out of order, so per participant everything is merged
monotonically: a participant once seen disconnected stays disconnected, a wrap-up once seen stays.
A conversation is finished when every participant is disconnected and every agent that must wrap
up has done so; if an agent's wrap-up never arrives, `poll()` reports it after the wrap-up timeout.
Each conversation is reported exactly once; finished ids are remembered for ``remember_s`` so
late duplicates are suppressed, then forgotten (bounded memory). Conversations that touch the
system queue produce one `ConfigSignal` instead.

Thread-free: the owner (the NotificationActor) calls it from one thread.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .topics import queue_id_from_topic

logger = logging.getLogger(__name__)

TERMINAL_STATES = frozenset({"disconnected", "terminated"})
ACW_DONE_STATES = frozenset({"complete", "skipped", "notapplicable"})
AGENT_PURPOSES = frozenset({"agent"})
_MEDIA_LISTS = (
    "calls",
    "callbacks",
    "chats",
    "cobrowsesessions",
    "emails",
    "messages",
    "internalMessages",
    "screenshares",
    "socialExpressions",
    "videos",
)


@dataclass(frozen=True)
class Finished:
    """The conversation is over and wrapped up (or its wrap-up wait timed out)."""

    conversation_id: str
    queue_ids: frozenset[str]
    reason: str  # "wrapped-up" | "no-wrapup-needed" | "wrapup-timeout"
    agent_user_ids: frozenset[str]
    participant_ids: tuple[str, ...]
    snapshot: dict[str, Any] = field(repr=False, compare=False)
    finished_at: float = 0.0


@dataclass(frozen=True)
class ConfigSignal:
    """A conversation arrived on the system queue: reload the configuration."""

    conversation_id: str
    queue_id: str


Outcome = Finished | ConfigSignal


@dataclass
class _Participant:
    pid: str
    purpose: str = ""
    user_id: str | None = None
    queue_ids: set[str] = field(default_factory=set)
    media_seen: bool = False
    media_states: dict[str, str] = field(default_factory=dict)  # communication id -> state
    ended: bool = False
    wrapup_required: bool = False
    wrapped: bool = False
    wrapup_timeout_ms: int | None = None

    @property
    def disconnected(self) -> bool:
        if self.media_seen:
            return bool(self.media_states) and all(s in TERMINAL_STATES for s in self.media_states.values())
        return self.ended

    @property
    def awaiting_wrapup(self) -> bool:
        return self.purpose in AGENT_PURPOSES and self.wrapup_required and not self.wrapped


@dataclass
class _Conversation:
    cid: str
    participants: dict[str, _Participant] = field(default_factory=dict)
    queue_ids: set[str] = field(default_factory=set)
    snapshot: dict[str, Any] = field(default_factory=dict)
    disconnected_at: float | None = None
    wrapup_deadline: float | None = None
    last_seen: float = 0.0


def _lower(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


def _ref_id(value: Any) -> str | None:
    if isinstance(value, dict):
        ident = value.get("id")
        return ident if isinstance(ident, str) and ident else None
    return None


def _acw_done(item: dict[str, Any]) -> bool:
    acw = item.get("afterCallWork")
    return isinstance(acw, dict) and _lower(acw.get("state")) in ACW_DONE_STATES


def _has_wrapup(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("code") or value.get("name"))


class ConversationTracker:
    """Feed queue events, get `Finished` / `ConfigSignal` exactly once per conversation."""

    def __init__(
        self,
        *,
        system_queue_id: str | None = None,
        default_wrapup_timeout_s: float = 900.0,
        wrapup_margin_s: float = 30.0,
        max_wrapup_timeout_s: float = 3900.0,
        remember_s: float = 6 * 3600.0,
        max_remembered: int = 200_000,
        max_idle_s: float = 24 * 3600.0,
    ) -> None:
        self.system_queue_id = system_queue_id
        self.default_wrapup_timeout_s = default_wrapup_timeout_s
        self.wrapup_margin_s = wrapup_margin_s
        self.max_wrapup_timeout_s = max_wrapup_timeout_s
        self.remember_s = remember_s
        self.max_remembered = max_remembered
        self.max_idle_s = max_idle_s
        self._active: dict[str, _Conversation] = {}
        self._done: OrderedDict[str, float] = OrderedDict()

    # ----- public API -------------------------------------------------------------------------
    def feed(
        self, body: dict[str, Any], *, topic: str | None = None, now: float | None = None
    ) -> Outcome | None:
        """Merge one event body; return an outcome the first time the conversation is done."""
        now = time.monotonic() if now is None else now
        if not isinstance(body, dict):
            logger.warning("ignoring queue event whose body is not an object: %r", type(body).__name__)
            return None
        cid = body.get("id")
        if not isinstance(cid, str) or not cid:
            logger.warning("ignoring queue event without a conversation id (topic %s)", topic)
            return None
        self._expire_done(now)
        if cid in self._done:
            logger.debug("conversation %s already reported; duplicate event ignored", cid)
            return None
        conv = self._active.get(cid)
        if conv is None:
            conv = self._active[cid] = _Conversation(cid)
        conv.last_seen = now
        conv.snapshot = body
        topic_queue = queue_id_from_topic(topic) if topic else None
        if topic_queue:
            conv.queue_ids.add(topic_queue)
        participants = body.get("participants")
        if isinstance(participants, list):
            for raw in participants:
                if isinstance(raw, dict):
                    self._merge_participant(conv, raw)
        if self.system_queue_id and self.system_queue_id in conv.queue_ids:
            self._mark_done(cid, now)
            logger.info("conversation %s on the system queue: configuration change signalled", cid)
            return ConfigSignal(cid, self.system_queue_id)
        return self._evaluate(conv, now)

    def poll(self, now: float | None = None) -> list[Finished]:
        """Conversations whose wrap-up wait timed out (exported anyway); also forgets stale state."""
        now = time.monotonic() if now is None else now
        self._expire_done(now)
        out: list[Finished] = []
        for cid, conv in list(self._active.items()):
            if conv.wrapup_deadline is not None and now >= conv.wrapup_deadline:
                waiting = [p.pid for p in conv.participants.values() if p.awaiting_wrapup]
                logger.warning(
                    "conversation %s: wrap-up not seen from participant(s) %s within the timeout; exporting anyway",
                    cid,
                    ", ".join(waiting),
                )
                out.append(self._finish(conv, "wrapup-timeout", now))
            elif now - conv.last_seen > self.max_idle_s:
                logger.warning(
                    "conversation %s: no event for %.0fs and not over; forgetting it", cid, self.max_idle_s
                )
                del self._active[cid]
        return out

    def next_deadline(self) -> float | None:
        """The earliest wrap-up deadline (monotonic seconds), so the owner can schedule `poll`."""
        deadlines = [c.wrapup_deadline for c in self._active.values() if c.wrapup_deadline is not None]
        return min(deadlines) if deadlines else None

    def is_reported(self, conversation_id: str) -> bool:
        return conversation_id in self._done

    def forget(self, conversation_ids: Iterable[str]) -> None:
        for cid in conversation_ids:
            self._active.pop(cid, None)
            self._done.pop(cid, None)

    @property
    def active_count(self) -> int:
        return len(self._active)

    @property
    def remembered_count(self) -> int:
        return len(self._done)

    # ----- internals --------------------------------------------------------------------------
    def _merge_participant(self, conv: _Conversation, raw: dict[str, Any]) -> None:
        pid = raw.get("id")
        if not isinstance(pid, str) or not pid:
            return
        part = conv.participants.get(pid)
        if part is None:
            part = conv.participants[pid] = _Participant(pid)
        purpose = _lower(raw.get("purpose"))
        if purpose:
            part.purpose = purpose
        user_id = raw.get("userId") or _ref_id(raw.get("user"))
        if isinstance(user_id, str) and user_id:
            part.user_id = user_id
        for queue_id in (raw.get("queueId"), _ref_id(raw.get("queue"))):
            if isinstance(queue_id, str) and queue_id:
                part.queue_ids.add(queue_id)
                conv.queue_ids.add(queue_id)
        if raw.get("endTime"):
            part.ended = True
        if raw.get("wrapupRequired") is True or (
            raw.get("wrapupRequired") is None and raw.get("wrapupExpected") is True
        ):
            part.wrapup_required = True
        timeout_ms = raw.get("wrapupTimeoutMs")
        if isinstance(timeout_ms, int | float) and timeout_ms > 0:
            part.wrapup_timeout_ms = int(timeout_ms)
        if (
            _has_wrapup(raw.get("wrapup"))
            or raw.get("endAcwTime")
            or raw.get("wrapupSkipped") is True
            or _acw_done(raw)
        ):
            part.wrapped = True
        # flat shape (.calls topic): the state is on the participant itself
        state = raw.get("state")
        if isinstance(state, str) and state:
            part.media_seen = True
            self._merge_state(part, pid, state)
        for key in _MEDIA_LISTS:
            items = raw.get(key)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                part.media_seen = True
                comm_id = item.get("id") if isinstance(item.get("id"), str) else f"{pid}:{key}:{index}"
                self._merge_state(part, comm_id, _lower(item.get("state")) or "none")
                if _has_wrapup(item.get("wrapup")) or _acw_done(item):
                    part.wrapped = True

    @staticmethod
    def _merge_state(part: _Participant, comm_id: str, state: str) -> None:
        state = state.lower()
        previous = part.media_states.get(comm_id)
        if previous in TERMINAL_STATES:
            return  # monotonic: an older snapshot must not revive a finished call
        part.media_states[comm_id] = state

    def _evaluate(self, conv: _Conversation, now: float) -> Finished | None:
        parts = list(conv.participants.values())
        # Participants that carry no media state at all (rare: e.g. a workflow) cannot be judged
        # and do not block; every participant with a call (or other media) must be disconnected.
        judged = [p for p in parts if p.media_seen] or [p for p in parts if p.ended]
        if not judged or not all(p.disconnected for p in judged):
            return None
        if conv.disconnected_at is None:
            conv.disconnected_at = now
        waiting = [p for p in parts if p.awaiting_wrapup]
        if not waiting:
            needed = any(p.purpose in AGENT_PURPOSES and p.wrapup_required for p in parts)
            return self._finish(conv, "wrapped-up" if needed else "no-wrapup-needed", now)
        if conv.wrapup_deadline is None:
            timeouts = [p.wrapup_timeout_ms / 1000.0 for p in waiting if p.wrapup_timeout_ms]
            wait = (max(timeouts) if timeouts else self.default_wrapup_timeout_s) + self.wrapup_margin_s
            conv.wrapup_deadline = conv.disconnected_at + min(wait, self.max_wrapup_timeout_s)
            logger.debug(
                "conversation %s disconnected; waiting up to %.0fs for wrap-up of %d agent(s)",
                conv.cid,
                conv.wrapup_deadline - now,
                len(waiting),
            )
        return None

    def _finish(self, conv: _Conversation, reason: str, now: float) -> Finished:
        self._active.pop(conv.cid, None)
        self._mark_done(conv.cid, now)
        users = frozenset(
            p.user_id for p in conv.participants.values() if p.user_id and p.purpose in AGENT_PURPOSES
        )
        logger.info(
            "conversation %s is over (%s); queues %s",
            conv.cid,
            reason,
            ", ".join(sorted(conv.queue_ids)) or "-",
        )
        return Finished(
            conversation_id=conv.cid,
            queue_ids=frozenset(conv.queue_ids),
            reason=reason,
            agent_user_ids=users,
            participant_ids=tuple(conv.participants),
            snapshot=conv.snapshot,
            finished_at=now,
        )

    def _mark_done(self, cid: str, now: float) -> None:
        self._active.pop(cid, None)
        self._done[cid] = now
        self._done.move_to_end(cid)
        while len(self._done) > self.max_remembered:
            self._done.popitem(last=False)

    def _expire_done(self, now: float) -> None:
        while self._done:
            cid, at = next(iter(self._done.items()))
            if now - at <= self.remember_s:
                break
            self._done.popitem(last=False)
