"""Recordings as a real org serves them (issue 11 items 1, 2, 10 and 14): no ``recording`` flag in
analytics, late metadata, screen recordings that stay 202, deleted/failed/restoring files; waits that
follow the backoff policies and survive a restart."""

from __future__ import annotations

import json
import time

import pytest
from genesys_fixtures import make_client, running_sim

from export.steps import advance_recordings, fetch_conversation
from genesys.recordings import Failed, Ready, RecordingFetcher, Waiting, media_uri
from reliability.backoff import API, POLL, TRANSCODE, Backoff

FAST = Backoff(first_s=0.05, max_s=0.2, jitter=0.0)
QUICK = {"poll": FAST, "transcode": FAST, "api": FAST}


def _finished(sim, kind: str = "inbound_simple", **kw):
    call = sim.inject_call(
        kind=kind, queue_name=kw.pop("queue_name", "Sales"), duration_s=kw.pop("duration_s", 15), **kw
    )
    assert sim.wait_until_published(call.conversation_id, 30)
    return call


def _details(client, sim, call) -> dict:
    assert sim.wait_until_available(call.conversation_id, "details", 20)
    for _ in range(100):
        try:
            return client.get_conversation_details(call.conversation_id)
        except Exception:
            time.sleep(0.05)
    raise AssertionError("details never came")


def test_recorded_call_without_recording_flag_and_late_metadata_is_exported_not_skipped(tmp_path) -> None:
    # Genesys' analytics documents carry no sessions[].recording at all, and the recording metadata
    # is listed seconds after analytics: neither may make a recorded call "not recorded".
    with running_sim(
        seed=61, recording_flag="absent", metadata_delay_s=3.0, screen_recording_fraction=0
    ) as sim:
        client = make_client(sim)
        call = _finished(sim)
        details = _details(client, sim, call)
        assert all(
            "recording" not in s for p in details["participants"] for s in p["sessions"]
        )  # as in Genesys' samples
        data = fetch_conversation(client, call.conversation_id)  # the export pipeline's own steps
        assert data.recordings == ()  # metadata not listed yet
        state: dict = {}
        for _ in range(20):
            progress = advance_recordings(client, data, "WAV", state, tmp_path, no_recording_grace_s=600)
            if progress.waiting_s is None:
                break
            state = progress.state
            time.sleep(min(progress.waiting_s, 5))
        assert [rec["id"] for rec, _ in progress.files] == [r.recording_id for r in call.recordings], progress
        assert all(path.stat().st_size > 44 for _, path in progress.files)


def test_not_recorded_only_on_evidence_or_after_the_bounded_wait_which_survives_a_restart() -> None:
    with running_sim(seed=62, recording_flag="present", screen_recording_fraction=0) as sim:
        client = make_client(sim)
        quiet = _finished(sim, kind="no_recording")
        details = _details(client, sim, quiet)
        # positive evidence: every voice session that can be recorded says recording: false
        result = RecordingFetcher(client, quiet.conversation_id, details=details, **QUICK).step()
        assert isinstance(result, Ready) and result.recordings == () and "recording: false" in result.note
    with running_sim(seed=63, recording_flag="absent", screen_recording_fraction=0) as sim:
        client = make_client(sim)
        quiet = _finished(sim, kind="no_recording")
        details = _details(client, sim, quiet)
        clock = [1000.0]
        fetcher = RecordingFetcher(
            client,
            quiet.conversation_id,
            details=details,
            no_recording_grace_s=120,
            clock=lambda: clock[0],
            **QUICK,
        )
        first = fetcher.step()
        assert isinstance(first, Waiting) and "no audio recording metadata yet" in first.reason
        clock[0] += 60
        assert isinstance(fetcher.step(), Waiting)  # an absent flag is no evidence: keep asking
        saved = json.loads(json.dumps(fetcher.state()))  # the process restarts here
        clock[0] += 61
        again = RecordingFetcher.restore(client, saved, clock=lambda: clock[0], **QUICK)
        done = again.step()
        assert isinstance(done, Ready) and "within 120s" in done.note  # the wait kept its age


def test_screen_recording_that_stays_202_neither_blocks_audio_nor_is_requested() -> None:
    with running_sim(seed=64, screen_recording_fraction=1.0, screen_transcode_s=3600) as sim:
        client = make_client(sim)
        call = _finished(sim)
        screens = sim.live(call.conversation_id).screen_recordings
        assert screens  # the org also screen-recorded the agent
        assert sim.wait_until_available(call.conversation_id, "recordings", 20)
        meta = client.get_recording_metadata(call.conversation_id)
        assert {m["media"] for m in meta} == {"audio", "screen"}
        result = RecordingFetcher(
            client, call.conversation_id, "WAV", deadline_s=20, max_wait_ms=2000, **QUICK
        ).wait_ready()
        assert isinstance(result, Ready), result
        assert [r["id"] for r in result.recordings] == [r.recording_id for r in call.recordings]
        assert all(media_uri(r) for r in result.recordings)
        paths = [r.path for r in sim.requests if call.conversation_id in r.path]
        assert not any(s.recording_id in p for s in screens for p in paths)  # never asked, never transcoded
        assert f"/api/v2/conversations/{call.conversation_id}/recordings" not in paths  # no list endpoint


@pytest.mark.parametrize(
    ("knob", "state", "words"),
    [("deleted_fraction", "DELETED", "deleted on "), ("error_fraction", "ERROR", "reports an error")],
)
def test_deleted_and_failed_recordings_are_reported_precisely(knob: str, state: str, words: str) -> None:
    with running_sim(seed=65, screen_recording_fraction=0, **{knob: 1.0}) as sim:
        client = make_client(sim)
        call = _finished(sim)
        result = RecordingFetcher(client, call.conversation_id, deadline_s=20, **QUICK).wait_ready()
        assert isinstance(result, Ready) and result.recordings == ()
        assert {u.file_state for u in result.unavailable} == {state}
        assert all(words in u.reason for u in result.unavailable), result.unavailable
        assert {u.recording_id for u in result.unavailable} == {r.recording_id for r in call.recordings}


def test_restoring_recording_is_a_wait_then_downloadable() -> None:
    with running_sim(seed=66, screen_recording_fraction=0, restoring_fraction=1.0, restore_s=1.5) as sim:
        client = make_client(sim)
        call = _finished(sim)
        assert sim.wait_until_available(call.conversation_id, "recordings", 20)
        fetcher = RecordingFetcher(client, call.conversation_id, deadline_s=30, **QUICK)
        first = fetcher.step()
        assert isinstance(first, Waiting) and "restored from the archive" in first.reason
        result = fetcher.wait_ready()
        assert isinstance(result, Ready) and result.unavailable == ()
        assert [r["fileState"] for r in result.recordings] == ["RESTORED"] * len(call.recordings)
        assert all(media_uri(r) for r in result.recordings)


def _within(delay: float, policy: Backoff, attempt: int) -> bool:
    base = policy.base(attempt)
    return base - 1e-9 <= delay <= base * (1 + policy.jitter) + 1e-9


def test_recording_waits_follow_the_backoff_policies() -> None:
    with running_sim(seed=67, screen_recording_fraction=0, metadata_delay_s=30) as sim:
        client = make_client(sim)
        call = _finished(sim)
        fetcher = RecordingFetcher(client, call.conversation_id, expect_recordings=True)
        polls = [fetcher.step() for _ in range(3)]  # metadata not listed yet: POLL, 2 s doubling
        assert all(isinstance(w, Waiting) for w in polls)
        assert all(_within(w.delay_s, POLL, n) for n, w in enumerate(polls, 1)), polls
        sim.faults.rate_5xx, sim.faults.fault_paths = 1.0, {f"/api/v2/conversations/{call.conversation_id}"}
        flaky = RecordingFetcher(make_client(sim, max_retries=0), call.conversation_id)
        errors = [flaky.step() for _ in range(2)]
        assert all(isinstance(w, Waiting) and "unavailable" in w.reason for w in errors)
        assert all(_within(w.delay_s, API, n) for n, w in enumerate(errors, 1)), errors
    with running_sim(seed=68, screen_recording_fraction=0, transcode_202_count=5) as sim:
        client = make_client(sim)
        call = _finished(sim)
        assert sim.wait_until_available(call.conversation_id, "recordings", 20)
        fetcher = RecordingFetcher(client, call.conversation_id, "MP3")
        transcoding = [fetcher.step() for _ in range(3)]
        assert all(isinstance(w, Waiting) and "202" in w.reason for w in transcoding)
        assert [w.delay_s for w in transcoding] == [TRANSCODE.base(n) for n in (1, 2, 3)]


def test_recording_fetcher_state_is_json_and_restores_with_its_wall_clock_deadline() -> None:
    with running_sim(seed=69, screen_recording_fraction=0, metadata_delay_s=60) as sim:
        client = make_client(sim)
        call = _finished(sim)
        clock = [5000.0]
        fetcher = RecordingFetcher(
            client,
            call.conversation_id,
            "OGG_OPUS",
            expect_recordings=True,
            deadline_s=100,
            clock=lambda: clock[0],
        )
        assert isinstance(fetcher.step(), Waiting)
        state = json.loads(json.dumps(fetcher.state()))
        assert (
            state["started_at"] == 5000.0
            and state["format_id"] == "OGG_OPUS"
            and state["attempts"]["poll"] == 1
        )
        clock[0] += 99
        restored = RecordingFetcher.restore(client, state, clock=lambda: clock[0])
        assert restored.format_id == "OGG_OPUS" and restored.started_at == 5000.0
        result = restored.step()  # the deadline counts from before the restart
        assert isinstance(result, Failed) and not result.permanent and "within 100s" in result.reason
