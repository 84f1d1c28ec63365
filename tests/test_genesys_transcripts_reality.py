"""Transcripts as a real org serves them (issue 11 items 4, 10 and 13): every part of a multi-recording
communication, only communications that can have a transcript, a bounded and restorable wait, and
documents that are not strict JSON."""

from __future__ import annotations

import json

from genesys_fixtures import make_client, running_sim

from export.steps import ConversationData, advance_transcripts
from genesys.transcripts import (
    NotAvailable,
    TranscriptFetcher,
    TranscriptsReady,
    Waiting,
    transcript_communication_ids,
)
from reliability.backoff import POLL, Backoff
from simulator.transcript_synth import transcribed_utterances
from transcripts.parse import load_transcript

FAST = Backoff(first_s=0.05, max_s=0.2, jitter=0.0)


def _transcribed(sim, kind: str):
    for _ in range(8):
        call = sim.inject_call(kind=kind, queue_name="Sales", duration_s=60)
        if call.transcript_available:
            assert sim.wait_until_published(call.conversation_id, 30)
            assert sim.wait_until_available(call.conversation_id, "transcript", 30)
            return call
    raise AssertionError(f"no transcribed {kind} call")


def _sta_requests(sim, cid: str) -> list:
    return [
        r for r in sim.requests if r.path.startswith(f"/api/v2/speechandtextanalytics/conversations/{cid}/")
    ]


def test_multi_recording_communication_transcript_comes_back_whole() -> None:
    with running_sim(seed=71) as sim:
        client = make_client(sim)
        call = _transcribed(sim, "restarted_recording")
        customer = call.customer().communication_id
        trunks = [r for r in call.recordings if r.subtype == "Trunk"]
        assert len(trunks) == 2 and {r.session_id for r in trunks} == {customer}  # one communication
        comms = transcript_communication_ids(client.get_conversation(call.conversation_id))
        result = TranscriptFetcher(client, call.conversation_id, comms, backoff=FAST).wait()
        assert isinstance(result, TranscriptsReady), result
        parts = [p for p in result.parts if p.communication_id == customer]
        assert [p.recording_id for p in parts] == [r.recording_id for r in trunks]
        docs = [load_transcript(p.raw, conversation_id=call.conversation_id) for p in parts]
        got = sum(len(d.phrases) for d in docs)
        want = sum(len(transcribed_utterances(call, r)) for r in trunks)
        assert got == want > len(transcribed_utterances(call, trunks[0]))  # both halves of the call
        assert set(result.documents) == {f"{customer}#1", f"{customer}#2"}


def test_only_customer_and_agent_communications_can_have_transcripts() -> None:
    with running_sim(seed=72) as sim:
        client = make_client(sim)
        call = sim.inject_call(kind="blind_transfer", queue_name="Sales", duration_s=60)
        assert sim.wait_until_published(call.conversation_id, 30)
        conv = client.get_conversation(call.conversation_id)
        comms = transcript_communication_ids(conv)
        by_purpose = {p.communication_id: p.purpose for p in call.participants}
        assert comms[0] == call.customer().communication_id
        assert {by_purpose[c] for c in comms} == {"customer", "agent"}  # no ACD or IVR leg
        assert {c for c, purpose in by_purpose.items() if purpose in ("acd", "ivr")}.isdisjoint(comms)
        sim.faults.transcripts_never = True
        fetcher = TranscriptFetcher(client, call.conversation_id, comms, backoff=FAST, max_requests=4)
        assert isinstance(fetcher.wait(), NotAvailable)
        asked = {
            r.path.split("/communications/")[1].split("/")[0]
            for r in _sta_requests(sim, call.conversation_id)
        }
        assert asked == {comms[0]}  # only the primary is polled while nothing exists


def test_a_call_that_never_gets_a_transcript_costs_at_most_15_requests_over_the_wait() -> None:
    with running_sim(seed=73) as sim:
        client = make_client(sim)
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
        assert sim.wait_until_published(call.conversation_id, 30)
        sim.faults.transcripts_never = True
        clock = [10_000.0]
        comms = transcript_communication_ids(client.get_conversation(call.conversation_id))
        fetcher = TranscriptFetcher(
            client, call.conversation_id, comms, deadline_s=3600, clock=lambda: clock[0]
        )
        delays, steps = [], 0
        while True:
            result = fetcher.step()
            steps += 1
            if steps == 6:  # the process restarts mid-wait: the budget and the backoff carry over
                state = json.loads(json.dumps(fetcher.state()))
                fetcher = TranscriptFetcher.restore(client, state, clock=lambda: clock[0])
            if not isinstance(result, Waiting):
                break
            delays.append(result.delay_s)
            clock[0] += result.delay_s
        assert isinstance(result, NotAvailable) and "15 request" in result.reason
        assert len(_sta_requests(sim, call.conversation_id)) == 15
        for n, delay in enumerate(delays, 1):  # 2 s doubling to 5 min
            assert POLL.base(n) <= delay <= POLL.base(n) * (1 + POLL.jitter)
        assert max(delays) <= 300 * (1 + POLL.jitter) and delays[0] < 2.5


def test_transcript_with_trailing_commas_is_exported_through_the_tolerant_parser() -> None:
    with running_sim(seed=74) as sim:
        client = make_client(sim)
        call = _transcribed(sim, "inbound_simple")
        sim.faults.loose_transcript_json = True  # like Genesys' own published sample
        conv = client.get_conversation(call.conversation_id)
        assert sim.wait_until_available(call.conversation_id, "details", 30)
        details = client.get_conversation_details(call.conversation_id)
        data = ConversationData(call.conversation_id, details, conv, ())
        outcome = advance_transcripts(client, data, {}, deadline_s=30)  # the export pipeline's own step
        assert outcome.error is None and len(outcome.documents) == 1
        (doc,) = outcome.documents
        assert doc.phrases and any("trailing comma" in w for w in doc.warnings), doc.warnings
