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

How long a wrap-up is waited for (per waiting agent, the longest wins, capped by
``max_wrapup_timeout_s``): the participant's ``wrapupTimeoutMs`` when the prompt is timed; else the
queue's after-call-work settings (`Queue.acwSettings`: ``MANDATORY_TIMEOUT``,
``MANDATORY_FORCED_TIMEOUT`` and ``AGENT_REQUESTED`` end after ``timeoutMs``; ``MANDATORY`` has no
timeout, so ``default_wrapup_timeout_s``), fed through ``queue_acw``; plus ``wrapup_margin_s``. The
evidence that ends a wait: a ``wrapup`` with a code (``ININ-WRAP-UP-TIMEOUT`` when the platform
applied the timeout), ``endAcwTime``, ``wrapupSkipped``, ``afterCallWork.state`` complete/skipped/
notApplicable.

Restart-safe: every conversation that is over but waits for a wrap-up is *pending*; `take_changes()`
returns what to persist (``put_pending``) or drop, `pending_state()`/`restore_pending()` round-trip one
conversation through a JSON-able dict, and every instant is a wall-clock time (``time.time``), so a
deadline set before a restart holds after it. Events of other topics (``v2.system.*``) are ignored.

Thread-free: the owner (the NotificationActor) calls it from one thread.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .topics import queue_id_from_topic

logger = logging.getLogger(__name__)

STATE_VERSION = 1
WRAPUP_TIMEOUT_CODE = "ININ-WRAP-UP-TIMEOUT"
TIMED_PROMPTS = frozenset({"MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED"})
PROMPT_OF_PARTICIPANT = {
    "mandatory": "MANDATORY",
    "optional": "OPTIONAL",
    "timeout": "MANDATORY_TIMEOUT",
    "forcedtimeout": "MANDATORY_FORCED_TIMEOUT",
    "agentrequested": "AGENT_REQUESTED",
}
"""Conversation participant ``wrapupPrompt`` spelling -> queue ``acwSettings.wrapupPrompt``."""
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
    reason: str  # "wrapped-up" | "wrapup-timeout-code" | "no-wrapup-needed" | "wrapup-timeout"
    agent_user_ids: frozenset[str]
    participant_ids: tuple[str, ...]
    snapshot: dict[str, Any] = field(repr=False, compare=False)
    finished_at: float = 0.0


@dataclass(frozen=True)
class ConfigSignal:
    """A conversation arrived on the system queue: reload the configuration. ``active`` is False when
    the callback was already disconnected (nothing left to clean up)."""

    conversation_id: str
    queue_id: str
    active: bool = True


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
    wrapup_prompt: str | None = None  # queue spelling (MANDATORY, MANDATORY_TIMEOUT, ...)
    timeout_code: bool = False  # the platform applied ININ-WRAP-UP-TIMEOUT

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


def _is_timeout_code(value: Any) -> bool:
    return isinstance(value, dict) and WRAPUP_TIMEOUT_CODE in (value.get("code"), value.get("name"))


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
        queue_acw: dict[str, dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.system_queue_id = system_queue_id
        self.default_wrapup_timeout_s = default_wrapup_timeout_s
        self.wrapup_margin_s = wrapup_margin_s
        self.max_wrapup_timeout_s = max_wrapup_timeout_s
        self.remember_s = remember_s
        self.max_remembered = max_remembered
        self.max_idle_s = max_idle_s
        self.queue_acw: dict[str, dict[str, Any]] = dict(queue_acw or {})
        """queue id -> the queue's ``acwSettings`` (``wrapupPrompt``, ``timeoutMs``)."""
        self.clock = clock
        self._active: dict[str, _Conversation] = {}
        self._done: OrderedDict[str, float] = OrderedDict()
        self._dirty: set[str] = set()
        self._dropped: set[str] = set()
        self._persisted: set[str] = set()

    # ----- public API -------------------------------------------------------------------------
    def feed(
        self, body: dict[str, Any], *, topic: str | None = None, now: float | None = None
    ) -> Outcome | None:
        """Merge one event body; return an outcome the first time the conversation is done."""
        now = self.clock() if now is None else now
        if topic is not None and not topic.startswith("v2.routing.queues."):
            logger.debug("ignoring an event of topic %s (not a queue conversation topic)", topic)
            return None
        if not isinstance(body, dict):
            logger.warning("ignoring queue event whose body is not an object: %r", type(body).__name__)
            return None
        cid = body.get("id")
        if not isinstance(cid, str) or not cid:
            if "systemTopicType" in body or "channelId" in body:
                logger.debug("ignoring a system message delivered as an event (topic %s)", topic)
                return None
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
            active = not conv.participants or not all(p.disconnected for p in conv.participants.values())
            logger.info("conversation %s on the system queue: configuration change signalled", cid)
            return ConfigSignal(cid, self.system_queue_id, active)
        return self._evaluate(conv, now)

    def poll(self, now: float | None = None) -> list[Finished]:
        """Conversations whose wrap-up wait timed out (exported anyway); also forgets stale state."""
        now = self.clock() if now is None else now
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
                self._forget_pending(cid)
        return out

    def next_deadline(self) -> float | None:
        """The earliest wrap-up deadline (wall-clock seconds), so the owner can schedule `poll`."""
        deadlines = [c.wrapup_deadline for c in self._active.values() if c.wrapup_deadline is not None]
        return min(deadlines) if deadlines else None

    def is_reported(self, conversation_id: str) -> bool:
        return conversation_id in self._done

    def mark_reported(self, conversation_ids: Iterable[str], now: float | None = None) -> None:
        """Conversations exported through another path (reconciliation): never reported again."""
        now = self.clock() if now is None else now
        for cid in conversation_ids:
            self._mark_done(cid, now)

    def forget(self, conversation_ids: Iterable[str]) -> None:
        for cid in conversation_ids:
            self._active.pop(cid, None)
            self._done.pop(cid, None)
            self._forget_pending(cid)

    @property
    def active_count(self) -> int:
        return len(self._active)

    @property
    def remembered_count(self) -> int:
        return len(self._done)

    # ----- persistence --------------------------------------------------------------------------
    def pending_ids(self) -> list[str]:
        """Conversations that are over and wait for a wrap-up (what must survive a restart)."""
        return [cid for cid, c in self._active.items() if c.wrapup_deadline is not None]

    def pending_state(self, conversation_id: str) -> dict[str, Any]:
        """A JSON-able snapshot of one pending conversation, for `restore_pending`."""
        conv = self._active[conversation_id]
        return {
            "version": STATE_VERSION,
            "queue_ids": sorted(conv.queue_ids),
            "disconnected_at": conv.disconnected_at,
            "wrapup_deadline": conv.wrapup_deadline,
            "last_seen": conv.last_seen,
            "participants": {
                pid: {
                    "purpose": p.purpose,
                    "user_id": p.user_id,
                    "queue_ids": sorted(p.queue_ids),
                    "media_seen": p.media_seen,
                    "media_states": dict(p.media_states),
                    "ended": p.ended,
                    "wrapup_required": p.wrapup_required,
                    "wrapped": p.wrapped,
                    "wrapup_timeout_ms": p.wrapup_timeout_ms,
                    "wrapup_prompt": p.wrapup_prompt,
                    "timeout_code": p.timeout_code,
                }
                for pid, p in conv.participants.items()
            },
        }

    def restore_pending(self, conversation_id: str, state: dict[str, Any]) -> None:
        """Take back a pending conversation persisted before a restart (its deadline is kept)."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"pending conversation state version {state.get('version')!r} is not {STATE_VERSION}"
            )
        conv = _Conversation(conversation_id)
        conv.queue_ids = set(state.get("queue_ids") or [])
        conv.disconnected_at = state.get("disconnected_at")
        conv.wrapup_deadline = state.get("wrapup_deadline")
        conv.last_seen = float(state.get("last_seen") or self.clock())
        for pid, raw in (state.get("participants") or {}).items():
            conv.participants[pid] = _Participant(
                pid,
                purpose=str(raw.get("purpose") or ""),
                user_id=raw.get("user_id"),
                queue_ids=set(raw.get("queue_ids") or []),
                media_seen=bool(raw.get("media_seen")),
                media_states=dict(raw.get("media_states") or {}),
                ended=bool(raw.get("ended")),
                wrapup_required=bool(raw.get("wrapup_required")),
                wrapped=bool(raw.get("wrapped")),
                wrapup_timeout_ms=raw.get("wrapup_timeout_ms"),
                wrapup_prompt=raw.get("wrapup_prompt"),
                timeout_code=bool(raw.get("timeout_code")),
            )
        self._active[conversation_id] = conv
        self._persisted.add(conversation_id)

    def take_changes(self) -> tuple[dict[str, tuple[dict[str, Any], float]], set[str]]:
        """(conversation id -> (state, expires_at) to persist, ids to drop) since the last call.
        ``expires_at`` is the wrap-up deadline: after it the conversation is exported anyway."""
        updates = {
            cid: (self.pending_state(cid), float(self._active[cid].wrapup_deadline or 0.0))
            for cid in self._dirty
            if cid in self._active and self._active[cid].wrapup_deadline is not None
        }
        dropped = self._dropped & self._persisted
        self._persisted |= set(updates)
        self._persisted -= dropped
        self._dirty.clear()
        self._dropped.clear()
        return updates, dropped

    def _forget_pending(self, cid: str) -> None:
        self._dirty.discard(cid)
        if cid in self._persisted:
            self._dropped.add(cid)

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
        prompt = raw.get("wrapupPrompt")
        if isinstance(prompt, str) and prompt:
            part.wrapup_prompt = PROMPT_OF_PARTICIPANT.get(prompt.lower(), prompt.upper())
        if _is_timeout_code(raw.get("wrapup")):
            part.timeout_code = True
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
                raw_id = item.get("id")
                comm_id = raw_id if isinstance(raw_id, str) else f"{pid}:{key}:{index}"
                self._merge_state(part, comm_id, _lower(item.get("state")) or "none")
                if _is_timeout_code(item.get("wrapup")):
                    part.timeout_code = True
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
            if not needed:
                return self._finish(conv, "no-wrapup-needed", now)
            timed_out = any(p.timeout_code for p in parts if p.purpose in AGENT_PURPOSES)
            return self._finish(conv, "wrapup-timeout-code" if timed_out else "wrapped-up", now)
        if conv.wrapup_deadline is None:
            wait = max(self._wrapup_wait_s(p) for p in waiting) + self.wrapup_margin_s
            conv.wrapup_deadline = conv.disconnected_at + min(wait, self.max_wrapup_timeout_s)
            self._dirty.add(conv.cid)
            logger.info(
                "conversation %s is over; waiting up to %.0fs for the wrap-up of %d agent(s)",
                conv.cid,
                conv.wrapup_deadline - now,
                len(waiting),
            )
        return None

    def _wrapup_wait_s(self, part: _Participant) -> float:
        """How long an agent's after-call work can last: the participant's timed-ACW timeout, else
        the queue's ``acwSettings`` (timed prompts end after ``timeoutMs``), else the default."""
        if part.wrapup_timeout_ms:
            return part.wrapup_timeout_ms / 1000.0
        prompts = [part.wrapup_prompt] if part.wrapup_prompt else []
        timeouts: list[float] = []
        for queue_id in part.queue_ids:
            acw = self.queue_acw.get(queue_id) or {}
            prompt = str(acw.get("wrapupPrompt") or "").upper()
            if prompt:
                prompts.append(prompt)
            timeout_ms = acw.get("timeoutMs")
            if prompt in TIMED_PROMPTS and isinstance(timeout_ms, int | float) and timeout_ms > 0:
                timeouts.append(timeout_ms / 1000.0)
        if timeouts:
            return max(timeouts)
        return self.default_wrapup_timeout_s

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
        self._forget_pending(cid)
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
