"""Scenario engine: deterministic generation of realistic calls (`simulator.model.Call`).

`generate_call(org, rng, end_ms=...)` draws one call of a given (or random) kind. Everything,
including ids, comes from `rng`, so the same seed gives the same calls. The call ends (last party
disconnects) exactly at `end_ms`; agents' wrap-ups are submitted after that.

The kinds and what each exercises are described in docs/simulator-scenarios.md.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from simulator.model import (
    WRAPUP_TIMEOUT_CODE,
    Call,
    Participant,
    Recording,
    RecordingGap,
    Segment,
    Sound,
    Utterance,
    Word,
)
from simulator.org import Org, Queue, User, seeded_uuid

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = (
    "inbound_simple",
    "inbound_hold",
    "blind_transfer",
    "consult_transfer",
    "conference",
    "outbound",
    "abandoned",
    "no_recording",
    "multi_recording",
    "mono_pair",
    "long",
    "ivr_only",
    "restarted_recording",
)

# Relative frequencies for random calls: mostly ordinary calls, a few of each special case.
_KIND_WEIGHTS = {
    "inbound_simple": 30,
    "inbound_hold": 15,
    "blind_transfer": 6,
    "consult_transfer": 6,
    "conference": 4,
    "outbound": 10,
    "abandoned": 8,
    "no_recording": 4,
    "multi_recording": 6,
    "mono_pair": 4,
    "long": 1,
    "ivr_only": 6,
    # Only on request: a zero weight at the end keeps every seeded random call sequence unchanged.
    "restarted_recording": 0,
}

ORG_NUMBER = "+4721000000"

# Queue acwSettings.wrapupPrompt -> conversation participant wrapupPrompt spelling.
_PARTICIPANT_PROMPT = {
    "MANDATORY": "mandatory",
    "OPTIONAL": "optional",
    "MANDATORY_TIMEOUT": "timeout",
    "MANDATORY_FORCED_TIMEOUT": "forcedTimeout",
    "AGENT_REQUESTED": "agentRequested",
}

_CUSTOMER_LINES = (
    "hi I'm calling about my last invoice",
    "yes that's right",
    "I was charged twice for the same order",
    "my account number is on the letter I got",
    "can you check when the package will arrive",
    "okay thank you",
    "no I haven't received any email about it",
    "I'd like to change the address on my account",
    "could you repeat that please",
    "sure give me a second",
    "that would be great",
    "I tried resetting the password but it didn't work",
    "it's been three weeks already",
    "I want to cancel the subscription",
    "perfect that solves it",
    "hmm I'm not sure",
    "the reference number is T K T nine eight seven six five",
    "yes I can hold",
    "alright bye",
)

_AGENT_LINES = (
    "thank you for calling how can I help you today",
    "I can certainly help you with that",
    "could you please confirm your date of birth",
    "let me look that up for you",
    "I see the two charges here on your account",
    "I have refunded the duplicate payment",
    "it should arrive within three to five business days",
    "is there anything else I can help you with",
    "I'm going to place you on a brief hold",
    "thank you for holding",
    "I have updated the address for you",
    "you will receive a confirmation email shortly",
    "I understand that must be frustrating",
    "let me transfer you to a colleague who can help",
    "have a great day",
    "one moment please",
    "I've reset it now please try again",
)

_CONSULT_LINES = (
    "hi I have a customer on hold about a double charge",
    "sure I can take it",
    "they already confirmed their identity",
    "okay put them through",
    "thanks a lot",
)

_CUSTOMER_FIRST = ("Ola", "Kari", "Anna", "Mohammed", "Sofia", "Lars", "Emma", "Noah", "Ingrid", "Luca")
_CUSTOMER_LAST = ("Nordmann", "Hansen", "Larsen", "Smith", "García", "Rossi", "Berg", "Dahl", "Ali", "Nguyen")
_SEGMENTS = ("Gold", "Silver", "Bronze", "Platinum")


@dataclass
class _P:
    """Mutable participant under construction (relative times, ms from call start)."""

    pid: str
    purpose: str
    name: str
    comm: str
    address: str
    direction: str
    segs: list[Segment] = field(default_factory=list)
    user_id: str | None = None
    queue_id: str | None = None
    flow_id: str | None = None
    wrapup_required: bool = False
    wrapup_ms: int | None = None
    wrapup_code: str | None = None
    wrapup_prompt: str | None = None
    wrapup_timeout_ms: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    ani: str = ""
    dnis: str = ""
    consult_pid: str | None = None
    voice: int = 0

    def seg(self, segment_type: str, start: int, end: int, **kw: Any) -> None:  # kw: Segment's fields
        if end > start:
            self.segs.append(Segment(segment_type, int(start), int(end), **kw))


class _Builder:
    def __init__(self, org: Org, rng: random.Random, kind: str, queue: Queue) -> None:
        self.org, self.rng, self.kind, self.queue = org, rng, kind, queue
        self.parts: list[_P] = []
        self.utterances: list[Utterance] = []
        self.sounds: list[Sound] = []
        self.recordings: list[dict] = []
        self.gaps: list[RecordingGap] = []
        self.direction = "inbound"
        self.voices = 0
        self.conversation_id = seeded_uuid(rng)
        self.ani = f"+47{rng.randint(40_000_000, 99_999_999)}"
        self.attributes = {
            "CRMTicketNumber": f"TKT-{rng.randint(10_000, 99_999)}",
            "CustomerSegment": rng.choice(_SEGMENTS),
            "CustomerName": f"{rng.choice(_CUSTOMER_FIRST)} {rng.choice(_CUSTOMER_LAST)}",
        }
        self.agents_free = list(org.users)
        rng.shuffle(self.agents_free)

    # -- participants -------------------------------------------------------------------------
    def new_part(self, purpose: str, name: str, address: str, direction: str, **kw: Any) -> _P:  # kw: _P's
        p = _P(seeded_uuid(self.rng), purpose, name, seeded_uuid(self.rng), address, direction, **kw)
        p.voice = self.voices
        self.voices += 1
        self.parts.append(p)
        return p

    def customer(self, purpose: str = "customer", direction: str = "inbound") -> _P:
        return self.new_part(
            purpose,
            self.attributes["CustomerName"] if purpose == "external" else self.ani,
            f"tel:{self.ani}",
            direction,
            attributes=dict(self.attributes),
            ani=self.ani,
            dnis=ORG_NUMBER,
        )

    def agent(self, queue: Queue, direction: str = "inbound") -> tuple[_P, User]:
        user = self.agents_free.pop()
        p = self.new_part(
            "agent",
            user.name,
            f"sip:{user.username.split('@')[0]}@localhost",
            direction,
            user_id=user.id,
            queue_id=queue.id,
            wrapup_prompt=_PARTICIPANT_PROMPT[queue.acw_wrapup_prompt],
            wrapup_timeout_ms=queue.acw_timeout_ms,
            ani=self.ani,
            dnis=ORG_NUMBER,
        )
        return p, user

    def wrapup(self, p: _P, left_at: int, queue: Queue) -> None:
        """Decide the agent's after-call work: required or not, submitted when, which code."""
        rng = self.rng
        prompt = queue.acw_wrapup_prompt
        p.wrapup_required = prompt.startswith("MANDATORY")
        timed = prompt in ("MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT")
        code = rng.choice(self.org.wrapup_codes).id
        if p.wrapup_required:
            if timed and rng.random() < 0.25:
                p.wrapup_ms, p.wrapup_code = left_at + queue.acw_timeout_ms, WRAPUP_TIMEOUT_CODE
            else:
                limit = queue.acw_timeout_ms - 500 if timed else 120_000
                p.wrapup_ms, p.wrapup_code = (
                    left_at + rng.randint(1_500, max(2_000, min(limit, 45_000))),
                    code,
                )
        elif rng.random() < 0.5:
            p.wrapup_ms, p.wrapup_code = left_at + rng.randint(1_000, 20_000), code
        if p.wrapup_ms is not None:
            p.seg("wrapup", left_at, p.wrapup_ms, queue_id=queue.id, wrap_up_code=p.wrapup_code)

    # -- speech -------------------------------------------------------------------------------
    def say(self, p: _P, side: str, start: int, text: str, scope: str = "main", low: bool = False) -> int:
        """One utterance starting at `start`; returns its end (relative ms)."""
        rng = self.rng
        words = text.split()
        rate = rng.uniform(2.4, 3.6)  # words per second
        t = start
        out = []
        for w in words:
            dur = int((0.6 + 0.1 * len(w)) / rate * 1000 * rng.uniform(0.8, 1.2))
            if rng.random() < 0.06 or low:
                conf = round(rng.uniform(0.18, 0.55), 3)
            else:
                conf = round(rng.uniform(0.72, 0.995), 3)
            out.append(Word(w, t, t + dur, conf))
            t += dur + (rng.randint(20, 140) if rng.random() < 0.3 else 0)
        end = out[-1].end_ms
        conf = round(sum(w.confidence for w in out) / len(out), 3)
        self.utterances.append(Utterance(side, p.pid, start, end, text, tuple(out), conf, scope, p.voice))
        return end

    def dialogue(
        self,
        start: int,
        end: int,
        speakers: list[tuple[_P, str, tuple[str, ...]]],
        scope: str = "main",
        opening: str | None = None,
    ) -> None:
        """Alternating turns in [start, end): short pauses, some overlaps, some longer silences.

        The first speaker starts, with `opening` if given (an agent's greeting)."""
        rng = self.rng
        t = start + rng.randint(200, 900)
        turn = 0

        def fits(text: str) -> bool:
            return t + int(len(text.split()) / 2.4 * 1000 * 1.25) + 200 <= end - 300

        while True:
            p, side, lines = speakers[turn % len(speakers)]
            if turn and len(speakers) > 2 and rng.random() < 0.3:
                p, side, lines = rng.choice(speakers)
            text = opening if (turn == 0 and opening) else rng.choice(lines)
            if not fits(text):
                text = min(lines, key=lambda line: len(line.split()))  # a short reply still fits?
                if not fits(text):
                    break
            u_end = self.say(p, side, t, text, scope, low=rng.random() < 0.04)
            turn += 1
            r = rng.random()
            if r < 0.12:
                t = u_end - rng.randint(250, 700)  # the next speaker starts before this one ends
            elif r < 0.2:
                t = u_end + rng.randint(2_500, 6_000)  # a longer silence (typing, thinking)
            else:
                t = u_end + rng.randint(250, 1_300)

    # -- timeline helpers ---------------------------------------------------------------------
    def holds_in(self, start: int, end: int, count: int, long_call: bool) -> list[tuple[int, int]]:
        """`count` non-overlapping hold spans inside [start, end), away from its edges."""
        rng = self.rng
        spans: list[tuple[int, int]] = []
        if count <= 0 or end - start < 20_000:
            return spans
        slot = (end - start) // count
        for i in range(count):
            s0 = start + i * slot
            max_len = min(slot // 2, 600_000 if long_call else 90_000)
            if max_len < 4_000:
                continue
            length = rng.randint(3_000, max_len)
            offset = rng.randint(slot // 8, max(slot // 8 + 1, slot - length - slot // 8))
            spans.append((s0 + offset, s0 + offset + length))
        return spans

    def talk_with_holds(
        self, agent: _P, start: int, end: int, holds: list[tuple[int, int]], queue: Queue, others: list[_P]
    ) -> None:
        """Agent interact/hold segments, the hold music and the dialogue between the holds."""
        t = start
        for h0, h1 in holds:
            agent.seg("interact", t, h0, queue_id=queue.id)
            agent.seg("hold", h0, h1, queue_id=queue.id)
            self.sounds.append(Sound("hold_music", h0, h1))
            t = h1
        agent.seg("interact", t, end, queue_id=queue.id)
        t = start
        cust = others[0]
        opening = (
            _AGENT_LINES[0] if agent.direction == "inbound" else "hello this is " + agent.name.split()[0]
        )
        for h0, h1 in [*holds, (end, end)]:
            self.dialogue(
                t,
                h0,
                [(agent, "internal", _AGENT_LINES), (cust, "external", _CUSTOMER_LINES)],
                opening=opening,
            )
            t, opening = h1, "thank you for holding"

    def customer_segments(
        self, cust: _P, start: int, end: int, holds: list[tuple[int, int]], disc: str
    ) -> None:
        t = start
        for h0, h1 in holds:
            cust.seg("interact", t, h0)
            cust.seg("hold", h0, h1)
            t = h1
        cust.seg("interact", t, end, disconnect_type=disc)

    def secure_pause(self, start: int, end: int, holds: list[tuple[int, int]]) -> None:
        """Sometimes a secure pause: its edges fall in silences, so every utterance is either
        wholly recorded or wholly cut (the customer reads a card number while it is paused)."""
        rng = self.rng
        if end - start < 60_000 or rng.random() > 0.12:
            return
        spoken = sorted(
            (u.start_ms, u.end_ms) for u in self.utterances if u.scope == "main" and start <= u.start_ms < end
        )
        if len(spoken) < 4:
            return
        for _ in range(8):
            i = rng.randrange(1, len(spoken) - 2)
            g0 = spoken[i][1] + 150
            later = [a for a, _b in spoken[i + 1 :] if 8_000 <= a - 150 - g0 <= 40_000]
            if not later:
                continue
            g1 = rng.choice(later) - 150
            clean = all(b <= g0 or a >= g1 or (g0 <= a and b <= g1) for a, b in spoken)
            if clean and all(g1 <= h0 or g0 >= h1 for h0, h1 in holds):
                self.gaps.append(RecordingGap(g0, g1 - g0, "SecurePause"))
                return

    def record(
        self,
        subtype: str,
        start: int,
        end: int,
        *,
        layout: str,
        users: list[str],
        session: str,
        scope: str = "main",
    ) -> None:
        self.recordings.append(
            {
                "recording_id": seeded_uuid(self.rng),
                "subtype": subtype,
                "start": start,
                "end": end,
                "layout": layout,
                "users": tuple(users),
                "session": session,
                "scope": scope,
            }
        )

    def quiet_instant(self, start: int, end: int) -> int:
        """The middle of the longest silence (main scope) in [start, end): a clean place to cut."""
        spoken = sorted((u.start_ms, u.end_ms) for u in self.utterances if u.scope == "main")
        best, best_len, cursor = (start + end) // 2, -1, start
        for a, b in [*spoken, (end, end)]:
            if a > cursor and min(a, end) - cursor > best_len and cursor < end:
                best, best_len = (cursor + min(a, end)) // 2, min(a, end) - cursor
            cursor = max(cursor, b)
        return best

    # -- finish -------------------------------------------------------------------------------
    def build(self, end_ms: int, call_end_rel: int, transcribe: bool) -> Call:
        base = end_ms - call_end_rel
        if any(p.purpose == "acd" for p in self.parts):
            # Analytics puts the (first) queue on the customer's segments once it was queued.
            for p in self.parts:
                if p.purpose == "customer":
                    p.segs = [
                        Segment(s.segment_type, s.start_ms, s.end_ms, self.queue.id, s.disconnect_type)
                        if s.segment_type in ("interact", "hold") and s.queue_id is None
                        else s
                        for s in p.segs
                    ]

        def sh(seg: Segment) -> Segment:
            return Segment(
                seg.segment_type,
                seg.start_ms + base,
                seg.end_ms + base,
                seg.queue_id,
                seg.disconnect_type,
                seg.wrap_up_code,
                seg.conference,
            )

        participants = tuple(
            Participant(
                participant_id=p.pid,
                purpose=p.purpose,
                name=p.name,
                communication_id=p.comm,
                address=p.address,
                direction=p.direction,
                segments=tuple(sh(s) for s in sorted(p.segs, key=lambda s: (s.start_ms, s.end_ms))),
                user_id=p.user_id,
                queue_id=p.queue_id,
                flow_id=p.flow_id,
                wrapup_required=p.wrapup_required,
                wrapup_submitted_ms=None if p.wrapup_ms is None else p.wrapup_ms + base,
                wrapup_code=p.wrapup_code,
                wrapup_prompt=p.wrapup_prompt,
                wrapup_timeout_ms=p.wrapup_timeout_ms,
                attributes=dict(p.attributes),
                ani=p.ani,
                dnis=p.dnis,
                consult_participant_id=p.consult_pid,
            )
            for p in sorted(self.parts, key=lambda p: min(s.start_ms for s in p.segs))
        )
        utterances = tuple(
            Utterance(
                u.side,
                u.participant_id,
                u.start_ms + base,
                u.end_ms + base,
                u.text,
                tuple(Word(w.text, w.start_ms + base, w.end_ms + base, w.confidence) for w in u.words),
                u.confidence,
                u.scope,
                u.voice,
            )
            for u in sorted(self.utterances, key=lambda u: u.start_ms)
        )
        sounds = tuple(
            Sound(s.kind, s.start_ms + base, s.end_ms + base, s.side, s.scope)
            for s in sorted(self.sounds, key=lambda s: s.start_ms)
        )
        hold_spans = sorted(
            {
                (s.start_ms, s.end_ms)
                for p in participants
                if p.purpose == "agent"
                for s in p.segments
                if s.segment_type == "hold"
            }
        )
        recordings = []
        order = {"Trunk": 0, "Station": 1, "Consult": 2}
        for r in sorted(self.recordings, key=lambda r: order.get(r["subtype"], 9)):
            r0, r1 = r["start"] + base, r["end"] + base
            gaps = []
            for g in sorted(self.gaps, key=lambda g: g.wall_start_ms):
                a, b = max(g.wall_start_ms + base, r0), min(g.wall_start_ms + g.duration_ms + base, r1)
                if b > a and (r["scope"] == "main" or g.reason == "SecurePause"):
                    gaps.append(RecordingGap(a, b - a, g.reason))
            holds = tuple((max(a, r0), min(b, r1)) for a, b in hold_spans if min(b, r1) > max(a, r0))
            recordings.append(
                Recording(
                    recording_id=r["recording_id"],
                    subtype=r["subtype"],
                    start_ms=r0,
                    end_ms=r1,
                    layout=r["layout"],
                    user_ids=r["users"],
                    session_id=r["session"],
                    gaps=tuple(gaps),
                    scope=r["scope"],
                    holds=holds if r["scope"] == "main" else (),
                )
            )
        start = min(s.start_ms for p in participants for s in p.segments)
        has_trunk = any(r.subtype == "Trunk" and r.layout in ("dual", "external") for r in recordings)
        spoken = any(u.scope == "main" and u.side == "internal" for u in utterances)
        available = bool(transcribe and has_trunk and spoken)
        cust = next(p for p in participants if p.purpose in ("customer", "external"))
        transcript_ids = {cust.communication_id: seeded_uuid(self.rng)} if available else {}
        return Call(
            conversation_id=self.conversation_id,
            kind=self.kind,
            start_ms=start,
            end_ms=end_ms,
            direction=self.direction,
            participants=participants,
            recordings=tuple(recordings),
            utterances=utterances,
            sounds=sounds,
            transcript_available=available,
            customer_attributes=dict(self.attributes),
            ani=self.ani if self.direction == "inbound" else ORG_NUMBER,
            dnis=ORG_NUMBER if self.direction == "inbound" else self.ani,
            queue_name=self.queue.name if self.kind != "ivr_only" else None,
            division_id=self.org.division_id,
            audio_seed=self.rng.getrandbits(32),
            transcript_ids=transcript_ids,
        )


def _default_duration_s(kind: str, rng: random.Random) -> float:
    if kind == "long":
        return rng.uniform(3_600, 7_200)
    if kind == "ivr_only":
        return rng.uniform(15, 120)
    if kind == "abandoned":
        return rng.uniform(20, 300)
    return min(max(rng.lognormvariate(5.3, 0.7), 25.0), 1_800.0)


def generate_call(
    org: Org,
    rng: random.Random,
    *,
    end_ms: int,
    kind: str | None = None,
    duration_s: float | None = None,
    queue_name: str | None = None,
) -> Call:
    """Draw one call from `rng` whose last party disconnects at `end_ms` (epoch ms)."""
    if kind is None:
        kind = rng.choices(list(_KIND_WEIGHTS), weights=list(_KIND_WEIGHTS.values()))[0]
    if kind not in KINDS:
        raise ValueError(f"unknown call kind {kind!r}; known kinds: {', '.join(KINDS)}")
    queue = org.queue_by_name(queue_name) if queue_name else rng.choice(org.queues)
    if duration_s is None:
        duration_s = _default_duration_s(kind, rng)
    total = max(int(duration_s * 1000), 3_000)
    b = _Builder(org, rng, kind, queue)
    if kind == "outbound":
        end_rel = _outbound(b, total)
    elif kind in ("ivr_only", "abandoned"):
        end_rel = _unanswered(b, total)
    else:
        end_rel = _inbound(b, total)
    call = b.build(end_ms, end_rel, transcribe=queue.enable_transcription)
    logger.debug(
        "generated %s call %s (%.0f s)", kind, call.conversation_id, (call.end_ms - call.start_ms) / 1000
    )
    return call


def _front(b: _Builder, total: int, answered: bool) -> tuple[_P, _P, int, int]:
    """Customer + IVR (+ queue wait) part of an inbound call; returns (customer, ivr, ivr_end, system_end)."""
    rng = b.rng
    cust = b.customer()
    sys_end = min(rng.randint(150, 900), total // 20 + 50)
    cust.seg("system", 0, sys_end)
    flow = b.org.flows[0] if rng.random() < 0.85 else b.org.flows[1]
    ivr_len = min(rng.randint(6_000, 40_000), max(total // 5, 800)) if answered else total - sys_end
    ivr = b.new_part(
        "ivr", flow.name, f"tel:{ORG_NUMBER}", "inbound", flow_id=flow.id, ani=b.ani, dnis=ORG_NUMBER
    )
    ivr_end = sys_end + ivr_len
    ivr.seg("system", max(0, sys_end - rng.randint(30, 120)), sys_end)
    ivr.seg("ivr", sys_end, ivr_end, disconnect_type="transfer" if answered else "peer")
    # Prompts: a short beep and spoken prompts with pauses between them.
    t = sys_end + 300
    while t < ivr_end - 1_500:
        length = min(rng.randint(2_500, 6_000), ivr_end - 500 - t)
        b.sounds.append(Sound("ivr_prompt", t, t + length))
        t += length + rng.randint(1_200, 3_500)
    return cust, ivr, ivr_end, sys_end


def _unanswered(b: _Builder, total: int) -> int:
    rng = b.rng
    if b.kind == "ivr_only":
        cust, _ivr, ivr_end, _ = _front(b, total, answered=False)
        cust.seg("interact", cust.segs[-1].end_ms, ivr_end, disconnect_type="endpoint")
        b.record("Trunk", 0, ivr_end, layout="dual", users=[], session=cust.comm)
        return ivr_end
    cust, ivr, ivr_end, sys_end = _front(b, total, answered=True)
    acd = b.new_part(
        "acd", b.queue.name, f"tel:{ORG_NUMBER}", "inbound", queue_id=b.queue.id, ani=b.ani, dnis=ORG_NUMBER
    )
    delay = rng.randint(50, 600)
    end = max(total, ivr_end + delay + 1_000)
    acd.seg("delay", ivr_end, ivr_end + delay, queue_id=b.queue.id)
    acd.seg("interact", ivr_end + delay, end, queue_id=b.queue.id, disconnect_type="peer")
    cust.seg("interact", sys_end, end, disconnect_type="endpoint")
    b.sounds.append(Sound("queue_music", ivr_end + delay, end))
    b.record("Trunk", 0, end, layout="dual", users=[], session=cust.comm)
    return end


def _inbound(b: _Builder, total: int) -> int:
    rng, kind, queue = b.rng, b.kind, b.queue
    cust, _ivr, ivr_end, sys_end = _front(b, total, answered=True)
    acd = b.new_part(
        "acd", queue.name, f"tel:{ORG_NUMBER}", "inbound", queue_id=queue.id, ani=b.ani, dnis=ORG_NUMBER
    )
    delay = rng.randint(50, 600)
    wait = min(rng.randint(3_000, 90_000), max(total // 5, 500))
    alert = min(rng.randint(2_000, 9_000), max(total // 20, 300))
    answer = ivr_end + delay + wait
    acd.seg("delay", ivr_end, ivr_end + delay, queue_id=queue.id)
    acd.seg("interact", ivr_end + delay, answer, queue_id=queue.id, disconnect_type="transfer")
    b.sounds.append(Sound("queue_music", ivr_end + delay, answer - alert // 2))
    end = max(total, answer + 4_000)
    agent1, user1 = b.agent(queue)
    agent1.seg("alert", answer - alert, answer, queue_id=queue.id)
    if rng.random() < 0.15:  # IVR and queue wait suppressed from the trunk recording
        b.gaps.append(RecordingGap(sys_end, answer - sys_end, "FlowOrQueue"))
    long_call = kind == "long"
    hold_count = {"inbound_hold": rng.randint(1, 3), "long": rng.randint(2, 5), "multi_recording": 1}.get(
        kind, 0
    )
    customer_hangs_up = rng.random() < 0.5
    cust_disc, agent_end_disc = ("endpoint", "peer") if customer_hangs_up else ("peer", "client")
    users = [user1.id]

    if kind in ("blind_transfer", "consult_transfer", "conference") or (
        kind == "multi_recording" and rng.random() < 0.4
    ):
        queue2 = (
            rng.choice([q for q in b.org.queues if q.id != queue.id]) if kind == "blind_transfer" else queue
        )
        split = answer + int((end - answer) * rng.uniform(0.3, 0.5))
        agent2_part, user2 = b.agent(queue2)
        users.append(user2.id)
        a2_alert = min(rng.randint(2_000, 6_000), max((end - split) // 10, 300))
        if kind == "blind_transfer":
            agent1.seg("interact", answer, split, queue_id=queue.id, disconnect_type="transfer")
            b.dialogue(
                answer,
                split,
                [(agent1, "internal", _AGENT_LINES), (cust, "external", _CUSTOMER_LINES)],
                opening=_AGENT_LINES[0],
            )
            acd2 = b.new_part(
                "acd",
                queue2.name,
                f"tel:{ORG_NUMBER}",
                "inbound",
                queue_id=queue2.id,
                ani=b.ani,
                dnis=ORG_NUMBER,
            )
            wait2 = min(rng.randint(2_000, 40_000), max((end - split) // 5, 300))
            acd2.seg("interact", split, split + wait2, queue_id=queue2.id, disconnect_type="transfer")
            b.sounds.append(Sound("queue_music", split, split + wait2 - a2_alert // 2))
            agent2_part.seg("alert", split + wait2 - a2_alert, split + wait2, queue_id=queue2.id)
            agent2_part.seg(
                "interact", split + wait2, end, queue_id=queue2.id, disconnect_type=agent_end_disc
            )
            b.dialogue(
                split + wait2,
                end,
                [(agent2_part, "internal", _AGENT_LINES), (cust, "external", _CUSTOMER_LINES)],
                opening=_AGENT_LINES[0],
            )
            b.wrapup(agent1, split, queue)
            b.wrapup(agent2_part, end, queue2)
            cust.seg("interact", sys_end, end, disconnect_type=cust_disc)
        elif kind in ("consult_transfer", "multi_recording"):
            c1 = split + a2_alert + int((end - split) * rng.uniform(0.1, 0.25))
            agent1.seg("interact", answer, split, queue_id=queue.id)
            agent1.seg("hold", split, c1, queue_id=queue.id, disconnect_type="consultTransfer")
            agent1.consult_pid = agent2_part.pid
            b.dialogue(
                answer,
                split,
                [(agent1, "internal", _AGENT_LINES), (cust, "external", _CUSTOMER_LINES)],
                opening=_AGENT_LINES[0],
            )
            b.sounds.append(Sound("hold_music", split, c1))
            agent2_part.seg("alert", split, split + a2_alert, queue_id=queue.id)
            agent2_part.seg(
                "interact", split + a2_alert, end, queue_id=queue.id, disconnect_type=agent_end_disc
            )
            b.dialogue(
                split + a2_alert,
                c1,
                [(agent1, "internal", _CONSULT_LINES), (agent2_part, "external", _CONSULT_LINES)],
                scope="consult",
            )
            b.dialogue(
                c1,
                end,
                [(agent2_part, "internal", _AGENT_LINES), (cust, "external", _CUSTOMER_LINES)],
                opening=_AGENT_LINES[0],
            )
            b.wrapup(agent1, c1, queue)
            b.wrapup(agent2_part, end, queue)
            b.customer_segments(cust, sys_end, end, [(split, c1)], cust_disc)
            b.record(
                "Consult",
                split + a2_alert,
                c1,
                layout="dual",
                users=[user1.id, user2.id],
                session=agent2_part.comm,
                scope="consult",
            )
        else:  # conference
            leave = split + a2_alert + int((end - split - a2_alert) * rng.uniform(0.3, 1.0))
            leave = min(leave, end)
            agent1.seg(
                "interact",
                answer,
                leave,
                queue_id=queue.id,
                disconnect_type="client" if leave < end else agent_end_disc,
            )
            agent2_part.seg("alert", split, split + a2_alert, queue_id=queue.id)
            agent2_part.seg(
                "interact",
                split + a2_alert,
                end,
                queue_id=queue.id,
                conference=True,
                disconnect_type=agent_end_disc,
            )
            b.dialogue(
                answer,
                split + a2_alert,
                [(agent1, "internal", _AGENT_LINES), (cust, "external", _CUSTOMER_LINES)],
                opening=_AGENT_LINES[0],
            )
            b.dialogue(
                split + a2_alert,
                leave,
                [
                    (cust, "external", _CUSTOMER_LINES),
                    (agent1, "internal", _AGENT_LINES),
                    (agent2_part, "internal", _AGENT_LINES),
                ],
            )
            b.dialogue(
                leave, end, [(cust, "external", _CUSTOMER_LINES), (agent2_part, "internal", _AGENT_LINES)]
            )
            b.wrapup(agent1, leave, queue)
            b.wrapup(agent2_part, end, queue)
            cust.seg("interact", sys_end, end, disconnect_type=cust_disc)
        b.secure_pause(answer, split, [])
    else:
        holds = b.holds_in(answer, end, hold_count, long_call)
        b.talk_with_holds(agent1, answer, end, holds, queue, [cust])
        last = agent1.segs[-1]
        agent1.segs[-1] = Segment(
            last.segment_type, last.start_ms, last.end_ms, last.queue_id, agent_end_disc
        )
        b.customer_segments(cust, sys_end, end, holds, cust_disc)
        b.wrapup(agent1, end, queue)
        b.secure_pause(answer, end, holds)

    if kind == "no_recording":
        return end
    if kind == "mono_pair":
        b.record("Trunk", 0, end, layout="external", users=[], session=cust.comm)
        b.record("Station", answer, end, layout="internal", users=[user1.id], session=agent1.comm)
        return end
    if kind == "restarted_recording":
        # The customer's recording was stopped and started again: one communication, two Trunk
        # recordings (each transcribed on its own: two transcript parts of the same communication).
        split = b.quiet_instant(answer + (end - answer) // 4, end - (end - answer) // 4)
        b.record("Trunk", 0, split, layout="dual", users=users, session=cust.comm)
        b.record("Trunk", split, end, layout="dual", users=users, session=cust.comm)
        return end
    b.record("Trunk", 0, end, layout="dual", users=users, session=cust.comm)
    if kind == "multi_recording":
        b.record(
            "Station",
            answer,
            agent1.segs[-1].end_ms
            if agent1.segs[-1].segment_type != "wrapup"
            else max(s.end_ms for s in agent1.segs if s.segment_type != "wrapup"),
            layout="dual",
            users=[user1.id],
            session=agent1.comm,
        )
    return end


def _outbound(b: _Builder, total: int) -> int:
    rng, queue = b.rng, b.queue
    b.direction = "outbound"
    agent, user = b.agent(queue, direction="outbound")
    cust = b.customer(purpose="external", direction="outbound")
    dial = rng.randint(800, 2_500)
    ring = min(rng.randint(3_000, 15_000), max(total // 5, 500))
    answer = dial + ring
    end = max(total, answer + 4_000)
    agent.seg("dialing", 0, dial, queue_id=queue.id)
    agent.seg("contacting", dial, answer, queue_id=queue.id)
    cust.seg("alert", dial, answer)
    holds = b.holds_in(answer, end, rng.choice([0, 0, 1]), False)
    customer_hangs_up = rng.random() < 0.5
    cust_disc, agent_disc = ("endpoint", "peer") if customer_hangs_up else ("peer", "client")
    b.talk_with_holds(agent, answer, end, holds, queue, [cust])
    last = agent.segs[-1]
    agent.segs[-1] = Segment(last.segment_type, last.start_ms, last.end_ms, last.queue_id, agent_disc)
    b.customer_segments(cust, answer, end, holds, cust_disc)
    b.wrapup(agent, end, queue)
    for p in (agent, cust):  # the org calls out: ANI is the org's number, DNIS the customer's
        p.ani, p.dnis = ORG_NUMBER, b.ani
    b.record("Trunk", dial, end, layout="dual", users=[user.id], session=cust.comm)
    return end
