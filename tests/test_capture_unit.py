"""The pieces of capture: the client's observer hooks, scrubbing, redaction, the recorder, the writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_helpers import FIXTURES

from capture.recorder import CaptureWriteError, Documents, Item, Recorder, classify, write_capture
from capture.redact import Redactor
from capture.scrub import REMOVED, scrub
from genesys.config import ClientConfig
from genesys.errors import NotFound
from genesys.media import add_download_observer, fetch_bytes, remove_download_observer
from genesys.rest import ApiResponse, GenesysClient
from genesys.transcripts import TranscriptFetcher, TranscriptsReady
from simulator.app import Simulator

TUTORIAL = FIXTURES / "tutorial-voice-transcript"
TUTORIAL_ID = "12345abc-1234-123a-5678-abc123xyz"


def _client(sim: Simulator) -> GenesysClient:
    return GenesysClient(ClientConfig(sim.api_url, sim.client_id, sim.client_secret, max_retries=0))


def test_the_client_tells_observers_every_response_without_headers_or_tokens() -> None:
    with Simulator(seed=2) as sim, _client(sim) as client:
        seen: list[ApiResponse] = []
        client.add_observer(seen.append)
        client.add_observer(lambda event: 1 / 0)  # a failing observer is logged, never raised
        user = sim.org.users[0]
        assert client.get_users([user.id])[0]["id"] == user.id
        with pytest.raises(NotFound):
            client.get_conversation("no-such-conversation")
        queue = client.get_queue(sim.org.queues[0].id)
        assert [(e.method, e.endpoint, e.path, e.status) for e in seen] == [
            ("GET", "GET /api/v2/users", "/api/v2/users", 200),
            (
                "GET",
                "GET /api/v2/conversations/{conversationId}",
                "/api/v2/conversations/no-such-conversation",
                404,
            ),
            ("GET", "GET /api/v2/routing/queues/{queueId}", f"/api/v2/routing/queues/{queue['id']}", 200),
        ]
        assert seen[0].query["id"] == [user.id] and seen[0].body["entities"][0]["id"] == user.id
        assert seen[1].body["status"] == 404 and seen[2].body == queue
        assert all(sim.client_secret not in repr(e) and "Bearer" not in repr(e) for e in seen)
        client.remove_observer(seen.append)
        client.get_date()
        assert len(seen) == 3


def test_pre_signed_downloads_are_observed_without_their_signature() -> None:
    with Simulator(seed=2, replay=[TUTORIAL]) as sim, _client(sim) as client:
        events = []
        add_download_observer(events.append)
        try:
            url = client.get_transcript_url(TUTORIAL_ID, TUTORIAL_ID)
            data = fetch_bytes(url)
        finally:
            remove_download_observer(events.append)
        fetch_bytes(url)
        assert len(events) == 1 and events[0].data == data
        assert "?" not in events[0].url and "Signature" not in events[0].url
        assert events[0].url == f"{sim.api_url}/transcripts/{TUTORIAL_ID}/{TUTORIAL_ID}"


def test_a_transcript_that_is_not_strict_json_reaches_the_tolerant_reader_as_served() -> None:
    from transcripts.parse import load_transcript

    with Simulator(seed=2, replay=[TUTORIAL]) as sim, _client(sim) as client:
        result = TranscriptFetcher(client, TUTORIAL_ID, [TUTORIAL_ID], deadline_s=60).step()
    assert isinstance(result, TranscriptsReady)
    (part,) = result.parts
    assert part.recording_id == json.loads((TUTORIAL / "recordings.json").read_text())[0]["id"]
    raw = result.documents[TUTORIAL_ID]
    assert raw == (TUTORIAL / "transcripts" / f"{TUTORIAL_ID}.json").read_bytes()
    document = load_transcript(raw, conversation_id=TUTORIAL_ID)
    assert any("trailing comma" in w for w in document.warnings)
    assert document.transcripts[0].phrases[0].text == "hello Jane Doe"


def test_scrub_removes_media_uris_and_every_signed_url() -> None:
    signed = "https://prod-use1-recordings.s3.amazonaws.com/a/b.wav?X-Amz-Signature=abc&X-Amz-Expires=600"
    doc = {
        "id": "r1",
        "mediaUris": {"S": {"mediaUri": signed}},
        "url": signed,
        "nested": [signed, {"imageUri": "https://cdn.example/x.png"}],
        "note": f"see {signed} now",
        "selfUri": "/api/v2/conversations/c/recordings/r1?formatId=WAV",
    }
    clean, removed = scrub(doc)
    assert clean == {
        "id": "r1",
        "nested": [REMOVED, {"imageUri": "https://cdn.example/x.png"}],
        "note": f"see {REMOVED} now",
        "selfUri": "/api/v2/conversations/c/recordings/r1?formatId=WAV",
    }
    assert removed == ["/mediaUris", "/url", "/nested/0", "/note"]
    assert "mediaUris" in doc  # the original is untouched


def test_redactor_uses_one_placeholder_per_value_everywhere() -> None:
    details = {
        "participants": [
            {
                "purpose": "customer",
                "participantName": "Ana Lima",
                "sessions": [
                    {
                        "ani": "tel:+5511912345678",
                        "dnis": "tel:+18005550100",
                        "remote": "5511912345678",
                        "metrics": [{"name": "tTalk", "value": 1}],
                    }
                ],
            },
            {"purpose": "acd", "participantName": "Sales", "sessions": [{"ani": "tel:+5511912345678"}]},
            {
                "purpose": "agent",
                "userId": "u1",
                "sessions": [
                    {"dnis": "sip:+5511912345678@10.1.2.3;user=phone", "addressTo": "sip:bo.chen@x.y"}
                ],
            },
        ]
    }
    user = {
        "id": "u1",
        "name": "Bo Chen",
        "email": "bo.chen@corp.example",
        "username": "bo.chen@corp.example",
    }
    transcript = {
        "transcripts": [{"phrases": [{"text": "Ana pays", "words": [{"word": "Ana"}, {"word": "pays"}]}]}]
    }
    redactor = Redactor()
    queue = {"id": "q1", "name": "Sales"}
    for kind, doc in (("details", details), ("user", user), ("transcript", transcript), ("queue", queue)):
        redactor.collect(kind, doc)
    out = redactor.apply("details", details)
    customer, acd, agent = out["participants"]
    assert customer["participantName"] == "Person 1" and acd["participantName"] == "Sales"
    session = customer["sessions"][0]
    # same number -> same placeholder, as many digits as the number had
    assert session["ani"] == "tel:+5550000000001" == acd["sessions"][0]["ani"]
    assert session["remote"] == "5550000000001" and session["dnis"] == "tel:+55500000002"
    assert session["metrics"] == [{"name": "tTalk", "value": 1}]
    assert agent["sessions"][0]["dnis"] == "sip:+5550000000001@redacted.invalid;user=phone"
    assert agent["sessions"][0]["addressTo"] == "sip:party-1@redacted.invalid"
    assert redactor.apply("user", user) == {
        "id": "u1",
        "name": "Person 2",
        "email": "person1@example.invalid",
        "username": "person1@example.invalid",
    }
    phrase = redactor.apply("transcript", transcript)["transcripts"][0]["phrases"][0]
    assert phrase == {"text": "qxa qxb", "words": [{"word": "qxa"}, {"word": "qxb"}]}
    assert redactor.apply("queue", {"name": "Sales"}) == {"name": "Sales"}


def test_responses_are_sorted_into_capture_files_by_their_path() -> None:
    assert classify("/api/v2/conversations/c%2F1/recordings/r1") == ("recording", {"cid": "c/1", "id": "r1"})
    assert classify("/api/v2/speechandtextanalytics/conversations/c/communications/m/transcripturls") == (
        "transcript-url",
        {"cid": "c", "id": "m"},
    )
    recorder = Recorder("c1")
    for path, body in (
        ("/api/v2/conversations/c1", {"id": "c1", "participants": []}),
        ("/api/v2/conversations/c2", {"id": "c2"}),  # another conversation: not this capture's
        ("/api/v2/conversations/c1/summaries", {"entities": []}),  # unknown today: kept for inspection
    ):
        recorder._on_response(ApiResponse("GET", f"GET {path}", path, {}, 200, body))
    docs = recorder.documents()
    assert [(i.kind, i.data) for i in docs.items] == [
        ("conversation", {"id": "c1", "participants": []}),
        ("recordings", []),
        ("response", {"entities": []}),
    ]
    assert len(docs.reads) == 3


def test_the_writer_refuses_a_secret_and_a_used_directory(tmp_path: Path) -> None:
    docs = Documents(
        items=[Item("details", None, {"conversationId": "c1", "note": "token s3cr3t-t0ken"}, {})]
    )
    with pytest.raises(CaptureWriteError, match="details.json would contain a token"):
        write_capture(
            docs,
            tmp_path / "a",
            conversation_id="c1",
            with_media=False,
            redact=False,
            secrets=["s3cr3t-t0ken"],
        )
    assert not (tmp_path / "a").exists() and list(tmp_path.iterdir()) == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("x")
    with pytest.raises(CaptureWriteError, match="not empty"):
        write_capture(docs, tmp_path / "b", conversation_id="c1", with_media=False, redact=False)
    written = write_capture(Documents(), tmp_path / "c", conversation_id="c1", with_media=False, redact=False)
    manifest = json.loads((written / "manifest.json").read_text())
    assert manifest["format"] == "callexport-capture" and manifest["tool"]["name"] == "callexport"


def test_an_unknown_conversation_is_not_captured_and_nothing_is_written(tmp_path: Path, caplog) -> None:
    from argparse import Namespace

    from capture.cli import capture
    from service.settings import Settings

    args = Namespace(
        conversation_id="7d3c1f7e-0000-4000-8000-000000000000",
        output=tmp_path / "capture",
        with_media=False,
        redact=False,
        recording_wait=5.0,
        transcript_wait=0.0,
    )
    with Simulator(seed=2) as sim, _client(sim) as client:
        assert capture(client, Settings(api_url=sim.api_url), sim.client_secret, args) == 1
    assert not (tmp_path / "capture").exists()
    assert "analytics has no details for conversation 7d3c1f7e" in caplog.text


def test_a_transcript_in_parts_is_captured_and_replayed_part_by_part(tmp_path: Path) -> None:
    """A recording restarted mid-call: `transcripturls` lists two parts, one per recording."""
    from argparse import Namespace

    import requests

    from capture.cli import capture
    from capture.layout import load_capture
    from service.settings import Settings
    from simulator import documents

    args = Namespace(
        output=tmp_path / "capture", with_media=False, redact=False, recording_wait=60.0, transcript_wait=0.0
    )
    with Simulator(seed=12) as sim, _client(sim) as client:
        call = sim.inject_call(kind="restarted_recording", queue_name="Sales", duration_s=60, ended_ago_s=60)
        (comm,) = documents.transcript_communication_ids(call)
        served = [
            json.dumps(documents.transcript_document(call, sim.org, comm, i)).encode()
            for i in range(len(documents.transcript_parts(call, comm)))
        ]
        args.conversation_id = call.conversation_id
        assert capture(client, Settings(api_url=sim.api_url), sim.client_secret, args) == 0
    parts = load_capture(args.output).transcripts[comm]
    assert len(parts) == len(served) == 2
    assert [json.loads(p.data) for p in parts] == [json.loads(d) for d in served]
    assert [p.recording_id for p in parts] == [r.recording_id for r in documents.transcript_parts(call, comm)]
    assert {f.name for f in (args.output / "transcripts").iterdir()} == {f"{comm}.1.json", f"{comm}.2.json"}
    with Simulator(seed=3, replay=[args.output]) as replay, _client(replay) as client:
        urls = client.get_transcript_urls(call.conversation_id, comm)["urls"]
        assert [u["recording"]["id"] for u in urls] == [p.recording_id for p in parts]
        assert [requests.get(u["url"], timeout=10).content for u in urls] == [p.data for p in parts]
