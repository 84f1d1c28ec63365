"""`Simulator(replay=[...])`: a capture served exactly as captured, media in every formatId,
write-back on replayed calls, captured org documents next to the org's own."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import requests
import soundfile as sf
from capture_helpers import FIXTURES
from sim_fidelity import assert_sdk_roundtrip
from sim_server_fixtures import Api

from audio.channels import EXTERNAL_CHANNEL, INTERNAL_CHANNEL
from simulator.app import Simulator
from simulator.state import FORMAT_IDS

TUTORIAL = FIXTURES / "tutorial-voice-transcript"
CID = "12345abc-1234-123a-5678-abc123xyz"
CONV = f"/api/v2/conversations/{CID}"
FRAMES = 418_584  # the arranged recording: 52.323 s at 8 kHz


def _json(name: str):
    return json.loads((TUTORIAL / name).read_text())


@pytest.fixture(scope="module")
def replay():
    with Simulator(seed=3, replay=[TUTORIAL]) as sim:
        yield sim, Api(sim)


def test_documents_are_served_exactly_as_captured(replay) -> None:
    sim, api = replay
    assert api.ok("GET", f"/api/v2/analytics/conversations/{CID}/details") == _json("details.json")
    assert api.ok("GET", CONV) == _json("conversation.json")
    assert api.ok("GET", CONV + "/recordingmetadata") == _json("recordingmetadata.json")
    (rid,) = [r["id"] for r in _json("recordings.json")]
    assert api.ok("GET", CONV + f"/recordingmetadata/{rid}") == _json("recordingmetadata.json")[0]
    # a replayed call from 2021 is older than the synchronous query reaches (35 days) and than the
    # analytics retention (5 years): the queries refuse the interval as Genesys does; `run.py export`
    # reads the call by id, which is served as captured (above)
    query = {
        "interval": "2021-01-15T00:00:00Z/2021-01-16T00:00:00Z",
        "conversationFilters": [
            {"type": "and", "predicates": [{"dimension": "conversationId", "value": CID}]}
        ],
    }
    refused = api.call("POST", "/api/v2/analytics/conversations/details/query", json=query)
    assert refused.status_code == 400 and "jobs" in refused.json()["message"]
    many = api.ok("GET", f"/api/v2/analytics/conversations/details?id={CID}")
    assert many["conversations"] == [_json("details.json")]


def test_the_transcript_is_served_byte_for_byte_behind_a_signed_url(replay) -> None:
    sim, api = replay
    url = api.ok(
        "GET", f"/api/v2/speechandtextanalytics/conversations/{CID}/communications/{CID}/transcripturl"
    )["url"]
    assert "Signature=" in url
    served = requests.get(url, timeout=10)
    assert served.status_code == 200
    assert served.content == (TUTORIAL / "transcripts" / f"{CID}.json").read_bytes()  # trailing comma kept
    urls = api.ok(
        "GET", f"/api/v2/speechandtextanalytics/conversations/{CID}/communications/{CID}/transcripturls"
    )
    assert_sdk_roundtrip(urls, "TranscriptUrls")
    assert (
        api.get(
            f"/api/v2/speechandtextanalytics/conversations/{CID}/communications/other/transcripturl"
        ).status_code
        == 404
    )
    tampered = url.replace("Signature=", "Signature=x")
    assert requests.get(tampered, timeout=10).status_code == 403


def test_synthesised_media_in_every_format_has_the_recorded_length_channels_and_speech(replay) -> None:
    sim, api = replay
    for fmt in FORMAT_IDS:
        (recording,) = api.ok("GET", CONV + f"/recordings?formatId={fmt}")
        assert_sdk_roundtrip(recording, "Recording")
        data = requests.get(recording["mediaUris"]["S"]["mediaUri"], timeout=60).content
        samples, rate = _decode(data)
        assert samples.shape[1] == 2, fmt
        assert abs(samples.shape[0] / rate - FRAMES / 8000) < 0.1, fmt
        if fmt == "WAV":
            assert samples.shape[0] == FRAMES
            agent = samples[int(11.0 * rate) : int(14.0 * rate), INTERNAL_CHANNEL]
            quiet = samples[int(25.0 * rate) : int(28.0 * rate), INTERNAL_CHANNEL]
            customer = samples[int(17.0 * rate) : int(18.5 * rate), EXTERNAL_CHANNEL]
            # speech where the transcript says the agent ("hello Jane Doe") and the customer speak
            assert _rms(agent) > 10 * _rms(quiet) and _rms(customer) > 10 * _rms(quiet)
    assert api.ok("GET", CONV + f"/recordings/{recording['id']}?formatId=NONE").get("mediaUris") is None


def test_write_back_works_on_replayed_calls(replay) -> None:
    sim, api = replay
    customer = next(p["id"] for p in _json("conversation.json")["participants"] if p["purpose"] == "customer")
    body = {"attributes": {"callexport.P.audio.status": "exported"}}
    patched = api.ok(
        "PATCH", f"/api/v2/conversations/calls/{CID}/participants/{customer}/attributes", json=body
    )
    assert patched == {"attributes": body["attributes"]}
    assert sim.participant_attributes(CID) == {customer: body["attributes"]}
    conversation = api.ok("GET", CONV)
    assert (
        next(p for p in conversation["participants"] if p["id"] == customer)["attributes"]
        == body["attributes"]
    )
    assert api.call("PATCH", CONV + "/participants/nobody/attributes", json=body).status_code == 404
    schema = api.ok(
        "POST",
        "/api/v2/conversations/customattributes/schemas",
        json={
            "title": "S",
            "properties": {
                "a_text": {"allOf": [{"$ref": "#/definitions/text"}], "title": "A", "maxLength": 20}
            },
        },
    )
    record = {
        "id": "9f0e1b0a-0c84-4d77-9f3b-0b9d1a0c5e21",
        "schemaId": schema["id"],
        "divisions": [],
        "customAttributes": {"a_text": "b"},
    }
    assert api.ok("PUT", CONV + "/customattributes", json=record)["id"] == record["id"]
    assert api.ok("GET", CONV + "/customattributes")["results"][0]["customAttributes"] == {"a_text": "b"}


def test_captured_org_documents_join_the_orgs_own(replay) -> None:
    sim, api = replay
    queue = _json("queues/a6f03f8d-bb75-4bcf-8304-2d73a0f21572.json")
    listed = api.ok("GET", "/api/v2/routing/queues?pageSize=100")["entities"]
    names = [q["name"] for q in listed]
    assert "Tutorial Queue" in names and "Sales" in names and "CallExport System" in names
    assert api.ok("GET", "/api/v2/routing/queues?name=Tutorial*")["entities"] == [queue]
    assert api.ok("GET", f"/api/v2/routing/queues/{queue['id']}") == queue
    user = _json("users/6ade8ef8-bbc5-4f05-9ad5-31be015fda25.json")
    assert api.ok("GET", f"/api/v2/users?id={user['id']}")["entities"] == [user]
    assert api.ok("GET", f"/api/v2/users/{user['id']}") == user
    org_user = sim.org.users[0]
    assert api.ok("GET", f"/api/v2/users/{org_user.id}")["name"] == org_user.name


def test_a_captured_queue_replaces_the_org_queue_of_the_same_name(tmp_path: Path) -> None:
    root = tmp_path / "capture"
    shutil.copytree(TUTORIAL, root)
    path = root / "queues" / "a6f03f8d-bb75-4bcf-8304-2d73a0f21572.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "name": "Sales"}))
    with Simulator(seed=3, replay=[root]) as sim:
        sales = [q for q in Api(sim).ok("GET", "/api/v2/routing/queues?name=sales")["entities"]]
        assert [q["id"] for q in sales] == ["a6f03f8d-bb75-4bcf-8304-2d73a0f21572"]


def test_status_attributes_of_an_earlier_export_are_left_out_unless_kept(tmp_path: Path) -> None:
    root = tmp_path / "capture"
    shutil.copytree(TUTORIAL, root)
    conversation = json.loads((root / "conversation.json").read_text())
    conversation["participants"][0]["attributes"] = {
        "callexport.Fixture.audio.status": "exported",
        "ivr": "1",
    }
    (root / "conversation.json").write_text(json.dumps(conversation))
    with Simulator(seed=3) as sim:
        sim.load_replay(root)
        assert Api(sim).ok("GET", CONV)["participants"][0]["attributes"] == {"ivr": "1"}
    with Simulator(seed=3) as sim:
        sim.load_replay(root, keep_status_attributes=True)
        assert (
            Api(sim).ok("GET", CONV)["participants"][0]["attributes"]["callexport.Fixture.audio.status"]
            == "exported"
        )


def test_captured_media_is_served_as_captured_and_re_encoded_for_other_formats(tmp_path: Path) -> None:
    root = tmp_path / "capture"
    shutil.copytree(TUTORIAL, root)
    manifest = json.loads((root / "manifest.json").read_text())
    rid = manifest["media"][0]["recordingId"]
    rng = np.random.default_rng(5)
    audio = (rng.standard_normal((FRAMES, 2)) * 0.1).astype(np.float32)
    (root / "media").mkdir()
    sf.write(root / "media" / f"{rid}.wav", audio, 8000, subtype="PCM_16")
    manifest["media"][0]["file"] = f"media/{rid}.wav"
    (root / "manifest.json").write_text(json.dumps(manifest))
    with Simulator(seed=3, replay=[root]) as sim:
        api = Api(sim)
        wav = api.ok("GET", CONV + "/recordings?formatId=WAV")[0]["mediaUris"]["S"]["mediaUri"]
        assert requests.get(wav, timeout=30).content == (root / "media" / f"{rid}.wav").read_bytes()
        mp3 = api.ok("GET", CONV + f"/recordings/{rid}?formatId=MP3")["mediaUris"]["S"]["mediaUri"]
        samples, rate = _decode(requests.get(mp3, timeout=60).content)
        assert samples.shape[1] == 2 and abs(samples.shape[0] / rate - FRAMES / 8000) < 0.1
        assert abs(_rms(samples) - _rms(audio)) < 0.02  # the captured audio, not a synthesised one


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    try:
        samples, rate = sf.read(io.BytesIO(data), always_2d=True)
        return samples, rate
    except RuntimeError:
        pass
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray() for f in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    planar = np.concatenate(frames, axis=1)
    return planar.T.astype(np.float64), rate


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0
