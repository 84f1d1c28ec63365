"""The simulator's real-platform variations (issue 11 items 1, 2 and 14) and their SDK fidelity:
``sessions[].recording`` absent or present, screen recordings, recording file states, dialer and
callback session fields."""

from __future__ import annotations

from typing import Any

from sim_fidelity import assert_sdk_roundtrip
from sim_server_fixtures import FAST, Api

from genesys.transcripts import transcript_communication_ids
from simulator.app import Simulator


def _finished(sim: Simulator, **kw: Any) -> Any:
    kw.setdefault("kind", "inbound_simple")
    kw.setdefault("queue_name", "Sales")
    kw.setdefault("duration_s", 20)
    call = sim.inject_call(**kw)
    assert sim.wait_until_published(call.conversation_id, 20)
    assert sim.wait_until_available(call.conversation_id, "details", 20)
    assert sim.wait_until_available(call.conversation_id, "recordings", 20)
    return call


def _flags(details: dict) -> set:
    return {
        s.get("recording", "absent")
        for p in details["participants"]
        for s in p["sessions"]
        if p["purpose"] in ("customer", "agent", "external")
    }


def test_recording_flag_is_absent_like_genesys_samples_or_explicit() -> None:
    with Simulator(seed=121, recording_flag="absent", **FAST) as sim:
        api = Api(sim)
        call = _finished(sim)
        assert _flags(api.ok("GET", f"/api/v2/analytics/conversations/{call.conversation_id}/details")) == {
            "absent"
        }
    with Simulator(seed=122, recording_flag="present", **FAST) as sim:
        api = Api(sim)
        recorded, quiet = _finished(sim), _finished(sim, kind="no_recording")
        assert _flags(
            api.ok("GET", f"/api/v2/analytics/conversations/{recorded.conversation_id}/details")
        ) == {True}
        assert _flags(api.ok("GET", f"/api/v2/analytics/conversations/{quiet.conversation_id}/details")) == {
            False
        }
    with Simulator(seed=123, **FAST) as sim:  # default "mixed": some recorded calls carry no flag
        modes = {sim.live(_finished(sim, duration_s=8).conversation_id).recording_flag for _ in range(8)}
        assert modes == {"absent", "present"}


def test_recording_file_states_and_screen_recordings_round_trip_through_the_sdk() -> None:
    for seed, knobs, state in (
        (124, {"deleted_fraction": 1.0}, "DELETED"),
        (125, {"error_fraction": 1.0}, "ERROR"),
        (126, {"restoring_fraction": 1.0, "restore_s": 60}, "RESTORING"),
    ):
        with Simulator(seed=seed, screen_recording_fraction=1.0, **knobs, **FAST) as sim:
            api = Api(sim)
            call = _finished(sim)
            cid = call.conversation_id
            meta = api.ok("GET", f"/api/v2/conversations/{cid}/recordingmetadata")
            assert_sdk_roundtrip(meta, "list[RecordingMetadata]")
            audio = [m for m in meta if m["media"] == "audio"]
            screens = [m for m in meta if m["media"] == "screen"]
            assert {m["fileState"] for m in audio} == {state} and screens
            assert all(m["mediaSubtype"] == "Screen" and m["startTime"] for m in screens)
            if state == "DELETED":
                assert all(m["deleteDate"] for m in audio)
            for m in meta:
                r = api.call("GET", f"/api/v2/conversations/{cid}/recordings/{m['id']}?formatId=WAV")
                assert_sdk_roundtrip(r.json(), "Recording")
                assert "mediaUris" not in r.json()


def test_dialer_and_callback_session_fields_round_trip_and_have_no_transcript() -> None:
    with Simulator(seed=127, **FAST) as sim:
        api = Api(sim)
        for _ in range(10):
            call = _finished(sim, kind="outbound", duration_s=10)
            if sim.live(call.conversation_id).campaign:
                break
        else:
            raise AssertionError("no dialer call among ten outbound calls")
        details = api.ok("GET", f"/api/v2/analytics/conversations/{call.conversation_id}/details")
        assert_sdk_roundtrip(details, "AnalyticsConversationWithoutAttributes")
        external = next(p for p in details["participants"] if p["purpose"] == "external")["sessions"][0]
        assert (
            external["outboundCampaignId"] and external["outboundContactId"] and external["dispositionName"]
        )
        created = api.ok(
            "POST",
            "/api/v2/conversations/callbacks",
            json={
                "queueId": sim.org.system_queue.id,
                "callbackNumbers": ["+4790000000"],
                "callbackUserName": "callexport",
                "callbackScheduledTime": "2026-03-01T12:00:00.000Z",
            },
        )
        cid = created["conversation"]["id"]
        conversation = api.ok("GET", f"/api/v2/conversations/{cid}")
        assert_sdk_roundtrip(conversation, "Conversation")
        callback = conversation["participants"][0]["callbacks"][0]
        assert (
            callback["callbackScheduledTime"] == "2026-03-01T12:00:00.000Z"
            and callback["skipEnabled"] is True
        )
        cb_details = api.ok("GET", f"/api/v2/analytics/conversations/{cid}/details")
        assert_sdk_roundtrip(cb_details, "AnalyticsConversationWithoutAttributes")
        assert {s["mediaType"] for p in cb_details["participants"] for s in p["sessions"]} == {"callback"}
        assert (
            transcript_communication_ids(cb_details) == []
            and transcript_communication_ids(conversation) == []
        )
