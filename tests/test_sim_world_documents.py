"""Every document the simulator's world renders passes the SDK round trip and agrees with the truth."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from sim_fidelity import FidelityError, assert_sdk_roundtrip, sdk_roundtrip_errors
from sim_world_fixtures import END_MS, call_of_kind, org

from simulator import documents
from simulator.model import WRAPUP_TIMEOUT_CODE
from simulator.scenarios import KINDS, generate_call

EVENT_MODEL = {
    "conversations": "QueueConversationEventTopicConversation",
    "calls": "QueueConversationCallEventTopicCallConversation",
}


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.mark.parametrize("kind", KINDS)
def test_every_document_of_every_kind_round_trips_through_the_sdk(kind: str) -> None:
    call, o = call_of_kind(kind), org()
    assert_sdk_roundtrip(documents.analytics_details(call, o), "AnalyticsConversationWithoutAttributes")
    assert_sdk_roundtrip(documents.conversation(call, o), "Conversation")
    for at in documents.event_instants(call, random.Random(1)):
        assert_sdk_roundtrip(documents.conversation(call, o, at), "Conversation")
        assert_sdk_roundtrip(
            documents.analytics_details(call, o, at), "AnalyticsConversationWithoutAttributes"
        )
        for shape, model in EVENT_MODEL.items():
            assert_sdk_roundtrip(documents.queue_event_body(call, o, at, shape), model)
    metas = [documents.recording_metadata(call, r, o) for r in call.recordings]
    assert_sdk_roundtrip(metas, "list[RecordingMetadata]")
    recs = [
        documents.recording(
            call, r, o, format_id="WAV", media_uris={"S": "http://127.0.0.1/media/x.wav"}, output_size=1000
        )
        for r in call.recordings
    ]
    assert_sdk_roundtrip(recs, "list[Recording]")
    for r, doc in zip(call.recordings, recs, strict=True):
        assert doc["mediaUris"] == {"S": {"mediaUri": "http://127.0.0.1/media/x.wav"}}
        assert documents.recording(
            call,
            r,
            o,
            format_id="WAV",
            media_uris={"S": {"mediaUri": "http://127.0.0.1/media/x.wav"}},
            output_size=1000,
        ) == documents.recording(
            call, r, o, format_id="WAV", media_uris={"S": "http://127.0.0.1/media/x.wav"}, output_size=1000
        )
    for r in call.recordings:
        assert_sdk_roundtrip(
            documents.recording(
                call, r, o, format_id="MP3", media_uris=None, annotation_rng=random.Random(3)
            ),
            "Recording",
        )
        assert_sdk_roundtrip(
            documents.recording_metadata(call, r, o, file_state="UPLOADING"), "RecordingMetadata"
        )


def test_org_documents_round_trip() -> None:
    o = org()
    for q in o.all_queues():
        assert_sdk_roundtrip(documents.queue(q, o), "Queue")
    for u in o.users:
        assert_sdk_roundtrip(documents.user(u, o), "User")
    for f in o.flows:
        assert_sdk_roundtrip(documents.flow(f, o), "Flow")
    for p in o.policies:
        doc = documents.retention_policy(p, o)
        assert_sdk_roundtrip(doc, "Policy")
        conditions = doc["mediaPolicies"]["callPolicy"]["conditions"]
        names = {q["name"] for q in conditions.get("forQueues", [])}  # absent: every queue
        assert names == {o.queue_by_id(qid).name for qid in p.queue_ids}
    for c in o.wrapup_codes:
        assert_sdk_roundtrip(documents.wrapup_code(c.id, o), "WrapupCode")


def test_fidelity_checker_catches_what_the_sdk_would_silently_change() -> None:
    call, o = call_of_kind("inbound_simple"), org()
    good = documents.conversation(call, o)
    bad = dict(good, unknownKey=1)
    assert any("unknown" in e for e in sdk_roundtrip_errors(bad, "Conversation"))
    bad = dict(good, state="Connected")  # wrong case: the SDK accepts it case-insensitively
    assert any("state" in e for e in sdk_roundtrip_errors(bad, "Conversation"))
    bad = dict(good, startTime="2026-03-24 14:30:22")
    assert any("startTime" in e for e in sdk_roundtrip_errors(bad, "Conversation"))
    bad = {k: v for k, v in good.items() if k != "participants"}
    assert any("required" in e for e in sdk_roundtrip_errors(bad, "Conversation"))
    bad = dict(good, securePause="false")
    assert any("securePause" in e for e in sdk_roundtrip_errors(bad, "Conversation"))
    bad = dict(good, externalTag=None)
    assert any("null" in e for e in sdk_roundtrip_errors(bad, "Conversation"))
    rec = documents.recording(call, call.recordings[0], o, format_id="WAV", media_uris=None)
    rec["mediaSubtype"] = "Phone"
    with pytest.raises(FidelityError, match="mediaSubtype"):
        assert_sdk_roundtrip(rec, "Recording")


@pytest.mark.parametrize("kind", KINDS)
def test_ids_times_and_participants_agree_across_documents(kind: str) -> None:
    call, o = call_of_kind(kind), org()
    details = documents.analytics_details(call, o)
    conv = documents.conversation(call, o)
    assert details["conversationId"] == conv["id"] == call.conversation_id
    assert _ms(details["conversationStart"]) == _ms(conv["startTime"]) == call.start_ms
    assert _ms(conv["endTime"]) == call.end_ms
    assert _ms(details["conversationEnd"]) == call.last_event_ms() >= call.end_ms
    d_parts = {p["participantId"]: p for p in details["participants"]}
    c_parts = {p["id"]: p for p in conv["participants"]}
    assert list(d_parts) == list(c_parts) == [p.participant_id for p in call.participants]
    for p in call.participants:
        assert (
            d_parts[p.participant_id]["sessions"][0]["sessionId"]
            == c_parts[p.participant_id]["calls"][0]["id"]
        )
        assert d_parts[p.participant_id]["purpose"] == c_parts[p.participant_id]["purpose"] == p.purpose
        assert d_parts[p.participant_id].get("userId") == c_parts[p.participant_id].get("userId") == p.user_id
    final = documents.event_instants(call, random.Random(5))[-1]
    assert final == call.last_event_ms()
    for shape in documents.SHAPES:
        body = documents.queue_event_body(call, o, final, shape)
        assert body["id"] == call.conversation_id
        assert [p["id"] for p in body["participants"]] == [p.participant_id for p in call.participants]
    for rec in call.recordings:
        doc = documents.recording(call, rec, o, format_id="WAV", media_uris=None)
        assert doc["conversationId"] == call.conversation_id
        assert doc["sessionId"] in {p.communication_id for p in call.participants}
        assert _ms(doc["startTime"]) >= call.start_ms and _ms(doc["endTime"]) <= call.end_ms
        assert [u["id"] for u in doc["users"]] == list(rec.user_ids)
        assert doc["outputDurationMs"] == rec.media_duration_ms
    customer = call.customer()
    assert c_parts[customer.participant_id]["attributes"]["CRMTicketNumber"].startswith("TKT-")
    for cid in documents.transcript_communication_ids(call):
        t = documents.transcript_document(call, o, cid)
        assert (
            t["conversationId"] == call.conversation_id
            and t["communicationId"] == cid == customer.communication_id
        )
        assert t["organizationId"] == o.id


def test_events_show_the_call_progress_and_wrapup_after_disconnect() -> None:
    call, o = call_of_kind("inbound_hold"), org()
    agent = call.agents()[0]
    assert agent.wrapup_required is (o.queue_by_id(agent.queue_id).acw_wrapup_prompt.startswith("MANDATORY"))
    instants = documents.event_instants(call, random.Random(9))
    assert set(instants) >= {call.end_ms, *(s.start_ms for s in agent.segments if s.segment_type != "wrapup")}
    states = []
    for at in sorted(set(instants)):
        body = documents.queue_event_body(call, o, at, "calls")
        mine = [p for p in body["participants"] if p["id"] == agent.participant_id]
        if mine:
            states.append(mine[0]["state"])
            if at < (agent.wrapup_submitted_ms or 1 << 62):
                assert "wrapup" not in mine[0]
    assert states[0] == "alerting" and "connected" in states and states[-1] == "disconnected"
    hold = agent.spans("hold")[0]
    body = documents.queue_event_body(call, o, hold[0], "conversations")
    mine = next(p for p in body["participants"] if p["id"] == agent.participant_id)
    assert mine["calls"][0]["held"] is True and mine["queueId"] == agent.queue_id
    if agent.wrapup_submitted_ms is not None:
        assert agent.wrapup_submitted_ms > call.end_ms
        body = documents.queue_event_body(call, o, agent.wrapup_submitted_ms, "conversations")
        mine = next(p for p in body["participants"] if p["id"] == agent.participant_id)
        # the event's wrap-up code is the code's name (SDK: "The user configured wrap up code name")
        assert mine["calls"][0]["wrapup"]["code"] == documents._wrapup_code_name(agent.wrapup_code, o)


def test_event_instants_repeat_and_reorder_like_real_notifications() -> None:
    o = org()
    rng = random.Random(11)
    repeats = stale = 0
    for i in range(40):
        call = generate_call(o, rng, end_ms=END_MS + i * 1000)
        instants = documents.event_instants(call, random.Random(i))
        assert instants[-1] == call.last_event_ms() == max(instants)
        assert call.wrapup_done_ms() in instants
        repeats += sum(1 for a, b in zip(instants, instants[1:], strict=False) if a == b)
        stale += sum(1 for a, b in zip(instants, instants[1:], strict=False) if b < a)
    assert repeats > 0 and stale > 0


def test_wrapups_vary_required_optional_and_timed_out() -> None:
    o = org()
    rng = random.Random(3)
    agents = [a for i in range(150) for a in generate_call(o, rng, end_ms=END_MS + i).agents()]
    assert any(a.wrapup_required for a in agents) and any(not a.wrapup_required for a in agents)
    timed_out = [a for a in agents if a.wrapup_code == WRAPUP_TIMEOUT_CODE]
    assert timed_out
    for a in timed_out:
        assert a.wrapup_submitted_ms - a.end_ms == a.wrapup_timeout_ms
    for a in agents:
        if a.wrapup_submitted_ms is not None:
            assert a.wrapup_submitted_ms > a.end_ms


def test_analytics_at_an_instant_has_no_end_before_the_call_ends() -> None:
    call, o = call_of_kind("inbound_simple"), org()
    mid = (call.start_ms + call.end_ms) // 2
    doc = documents.analytics_details(call, o, mid)
    assert "conversationEnd" not in doc
    assert all(
        s["segmentType"] != "wrapup"
        for p in doc["participants"]
        for sess in p["sessions"]
        for s in sess["segments"]
    )
    at_end = documents.analytics_details(call, o, call.end_ms)
    if call.last_event_ms() > call.end_ms:  # still in after-call work
        assert "conversationEnd" not in at_end
    done = documents.analytics_details(call, o, call.last_event_ms())
    assert _ms(done["conversationEnd"]) == call.last_event_ms()
    wrap = [
        s for p in done["participants"] for s in p["sessions"][0]["segments"] if s["segmentType"] == "wrapup"
    ]
    assert len(wrap) == len([a for a in call.agents() if a.wrapup_submitted_ms])


def test_documents_are_deterministic() -> None:
    from simulator.org import default_org

    for kind in ("consult_transfer", "mono_pair"):
        a = generate_call(default_org(5), random.Random(42), end_ms=END_MS, kind=kind)
        b = generate_call(default_org(5), random.Random(42), end_ms=END_MS, kind=kind)
        assert a == b
        o = default_org(5)
        assert documents.analytics_details(a, o) == documents.analytics_details(b, o)
        assert documents.event_instants(a, random.Random(1)) == documents.event_instants(b, random.Random(1))


def test_a_queue_topic_publishes_from_the_moment_the_call_entered_that_queue() -> None:
    call = call_of_kind("blind_transfer")
    first, second = call.queue_ids()
    all_instants = documents.event_instants(call, random.Random(2))
    for qid in (first, second):
        entered = documents.queue_entered_ms(call, qid)
        acd = next(p for p in call.participants if p.purpose == "acd" and p.queue_id == qid)
        assert entered == acd.start_ms
        instants = documents.event_instants(call, random.Random(2), queue_id=qid)
        assert instants and min(instants) >= entered and instants[-1] == call.last_event_ms()
        assert set(instants) == {t for t in all_instants if t >= entered}
    assert documents.queue_entered_ms(call, "not-a-queue") is None
    assert documents.event_instants(call_of_kind("ivr_only"), random.Random(1), queue_id=first) == []
