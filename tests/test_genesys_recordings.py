"""Recordings to "ready", media downloads and transcripts against the simulator."""

from __future__ import annotations

import json
import time
import wave

import pytest
from genesys_fixtures import make_client, requests_to, running_sim

from genesys.media import MediaUrlExpired, download, fetch_bytes
from genesys.recordings import Failed, Ready, RecordingFetcher, Waiting, fetch_recordings, media_uri
from genesys.transcripts import NotAvailable, TranscriptFetcher, TranscriptsReady, communication_ids
from genesys.transcripts import Waiting as TranscriptWaiting
from reliability.backoff import Backoff

FAST = Backoff(first_s=0.05, max_s=0.2, jitter=0.0)
QUICK = {"poll": FAST, "transcode": FAST, "api": FAST}


@pytest.fixture(scope="module")
def sim():
    with running_sim(seed=21) as s:
        yield s


@pytest.fixture(autouse=True)
def _reset_faults(sim):
    sim.faults.reset()
    yield
    sim.faults.reset()


def _finished_call(sim, kind: str = "inbound_simple", **kw):
    call = sim.inject_call(kind=kind, queue_name="Sales", duration_s=kw.pop("duration_s", 12), **kw)
    assert sim.wait_until_published(call.conversation_id, 20)
    return call


def _transcribed_call(sim):
    for _ in range(8):
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=40)
        if call.transcript_available:
            assert sim.wait_until_published(call.conversation_id, 20)
            return call
    raise AssertionError("the simulator produced no transcribed call")


def test_step_wise_fetch_reports_202_then_ready(sim) -> None:
    client = make_client(sim)
    call = _finished_call(sim)
    sim.faults.extra_202 = 2
    fetcher = RecordingFetcher(client, call.conversation_id, "WAV", **QUICK)
    results = []
    for _ in range(50):
        result = fetcher.step()
        results.append(result)
        if not isinstance(result, Waiting):
            break
        time.sleep(min(result.delay_s, 0.1))
    final = results[-1]
    assert isinstance(final, Ready), results
    assert any(isinstance(r, Waiting) and "202" in r.reason for r in results)
    assert [r["id"] for r in final.recordings] == [r.recording_id for r in call.recordings]
    assert all(media_uri(r) for r in final.recordings)


def test_blocking_fetch_downloads_real_wav_files(sim, tmp_path) -> None:
    client = make_client(sim)
    call = _finished_call(sim, kind="multi_recording")
    got = fetch_recordings(client, call.conversation_id, tmp_path, format_id="WAV", deadline_s=30, **QUICK)
    assert len(got.files) == len(call.recordings) >= 1
    for rec, file in got.files:
        assert file.path.exists() and file.size == file.path.stat().st_size > 44
        with wave.open(str(file.path)) as w:
            assert w.getnframes() > 0
        assert file.path.name == f"{rec['id']}.wav"
    assert not list(tmp_path.glob("*.part"))


def test_expired_media_url_is_requested_again(sim, tmp_path) -> None:
    client = make_client(sim)
    call = _finished_call(sim)
    sim.faults.expire_media_urls = True
    fetcher = RecordingFetcher(client, call.conversation_id, "WAV", **QUICK)
    ready = fetcher.wait_ready()
    assert isinstance(ready, Ready)
    url = media_uri(ready.recordings[0])
    with pytest.raises(MediaUrlExpired):
        download(url, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists() and not (tmp_path / "x.wav.part").exists()
    sim.faults.expire_media_urls = False
    fetcher.media_expired(ready.recordings[0]["id"])
    before = len(requests_to(sim, f"/recordings/{ready.recordings[0]['id']}"))
    again = fetcher.wait_ready()
    assert isinstance(again, Ready) and media_uri(again.recordings[0]) != url
    assert len(requests_to(sim, f"/recordings/{ready.recordings[0]['id']}")) > before
    assert download(media_uri(again.recordings[0]), tmp_path / "x.wav").size > 0


def test_fetch_recordings_gives_up_on_urls_that_keep_expiring(sim, tmp_path) -> None:
    client = make_client(sim)
    call = _finished_call(sim)
    sim.faults.expire_media_urls = True
    with pytest.raises(Exception, match="refused"):
        fetch_recordings(client, call.conversation_id, tmp_path, deadline_s=20, max_url_renewals=2, **QUICK)


def test_no_recording_and_archived() -> None:
    with running_sim(seed=22, archived_fraction=1.0) as sim:
        client = make_client(sim)
        call = _finished_call(sim)
        ready = RecordingFetcher(client, call.conversation_id, **QUICK).wait_ready()
        assert isinstance(ready, Ready) and ready.recordings == ()
        assert {u.file_state for u in ready.unavailable} == {"ARCHIVED"}
        assert "restore" in ready.unavailable[0].reason
        quiet = _finished_call(sim, kind="no_recording")
        assert not quiet.recordings
        fetcher = RecordingFetcher(client, quiet.conversation_id, no_recording_grace_s=0.3, **QUICK)
        result = fetcher.wait_ready()
        assert isinstance(result, Ready) and result.recordings == () and "no audio recording" in result.note


def test_deadline_turns_waiting_into_failed(sim) -> None:
    client = make_client(sim)
    call = _finished_call(sim)
    sim.faults.extra_202 = 1000
    fetcher = RecordingFetcher(client, call.conversation_id, deadline_s=0.5, **QUICK)
    result = fetcher.wait_ready()
    assert isinstance(result, Failed) and not result.permanent and "202" in result.reason


def test_transcripts_pending_then_ready(sim) -> None:
    client = make_client(sim)
    call = _transcribed_call(sim)
    conv = client.get_conversation(call.conversation_id)
    comms = communication_ids(conv)
    assert comms[0] == call.customer().communication_id
    fetcher = TranscriptFetcher(client, call.conversation_id, comms, backoff=FAST, deadline_s=30)
    first = fetcher.step()
    if isinstance(first, TranscriptWaiting):
        assert "404" in first.reason
    result = fetcher.wait()
    assert isinstance(result, TranscriptsReady)
    doc = json.loads(result.documents[call.customer().communication_id])
    assert doc["conversationId"] == call.conversation_id and doc["transcripts"]
    assert sim.wait_until_available(call.conversation_id, "details", 20)
    details = client.get_conversation_details(call.conversation_id)
    assert call.customer().communication_id in communication_ids(details)


def test_transcripts_never_is_not_available_not_an_error(sim) -> None:
    client = make_client(sim)
    call = _finished_call(sim)
    sim.faults.transcripts_never = True
    fetcher = TranscriptFetcher(
        client, call.conversation_id, [call.customer().communication_id], backoff=FAST, deadline_s=0.6
    )
    result = fetcher.wait()
    assert isinstance(result, NotAvailable) and "404" in result.reason


def test_expired_transcript_url(sim) -> None:
    client = make_client(sim)
    call = _transcribed_call(sim)
    assert sim.wait_until_available(call.conversation_id, "transcript", 20)
    sim.faults.expire_media_urls = True
    url = client.get_transcript_url(call.conversation_id, call.customer().communication_id)
    with pytest.raises(MediaUrlExpired):
        fetch_bytes(url)
    sim.faults.expire_media_urls = False
    fresh = client.get_transcript_url(call.conversation_id, call.customer().communication_id)
    assert json.loads(fetch_bytes(fresh))["conversationId"] == call.conversation_id
    # the download carries no bearer token
    media = [r for r in sim.requests if r.path.startswith("/transcripts/")]
    assert media and all("authorization" not in {k.lower() for k in r.headers} for r in media)


def test_missing_permissions_fail_clearly(sim) -> None:
    client = make_client(sim)
    call = _finished_call(sim)
    sim.faults.forbidden_paths = ["/api/v2/speechandtextanalytics", "/api/v2/conversations/"]
    t = TranscriptFetcher(client, call.conversation_id, [call.customer().communication_id]).step()
    assert type(t).__name__ == "Failed" and "permission" in t.reason
    r = RecordingFetcher(client, call.conversation_id).step()
    assert isinstance(r, Failed) and r.permanent and "permission" in r.reason
