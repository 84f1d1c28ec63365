"""Genesys' own published sample documents, arranged as capture directories, run end to end.

`tests/captures/` (see its build_fixtures.py and docs/capture.md): the voice conversation of the
Developer Tools "Analytics Query Builder" example result (MyPureCloud/developer-tools, 2016) and the
STA transcript of the Developer Center voice-transcript tutorial with its trailing comma
(MyPureCloud/developercenter-tutorials). Both run through `run.py export` against
`run.py simulate --replay`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import soundfile as sf
from capture_helpers import FIXTURES, api_get, export, files, simulate, statuses
from sim_fidelity import assert_sdk_roundtrip

from capture.layout import load_capture

DEVTOOLS = FIXTURES / "devtools-voice-2016"
TUTORIAL = FIXTURES / "tutorial-voice-transcript"
TUTORIAL_SHA256 = "7b32b0a9b20719b11f4e5cc1aa975601cefef2d8bb7fcd995f3bffacb13d34e9"
"""sha256 of MyPureCloud/developercenter-tutorials voice-transcript/nodejs/transcript.json (7,495 bytes)."""


def test_the_published_documents_are_kept_verbatim() -> None:
    published = (TUTORIAL / "source" / "transcript.json").read_bytes()
    assert hashlib.sha256(published).hexdigest() == TUTORIAL_SHA256 and len(published) == 7495
    served = (TUTORIAL / "transcripts" / "12345abc-1234-123a-5678-abc123xyz.json").read_bytes()
    assert served == published
    with pytest.raises(json.JSONDecodeError):
        json.loads(published)  # the trailing comma is part of what Genesys published
    source = json.loads((DEVTOOLS / "source" / "analytics-query-builder-conversation.json").read_text())
    details = json.loads((DEVTOOLS / "details.json").read_text())
    assert "conversationEnd" not in source
    assert {k: v for k, v in details.items() if k != "conversationEnd"} == source
    for root in (DEVTOOLS, TUTORIAL):
        manifest = json.loads((root / "manifest.json").read_text())
        published_entry = manifest["source"]["published"][0]
        assert (
            published_entry["repository"].startswith("MyPureCloud/") and len(published_entry["commit"]) == 40
        )
        assert all(entry.get("origin") for entry in manifest["files"])


def test_the_fixtures_are_what_build_fixtures_makes(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_fixtures", FIXTURES / "build_fixtures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, build in module.FIXTURES.items():
        built = build(tmp_path)
        committed = {k: p.read_bytes() for k, p in files(FIXTURES / name).items()}
        assert {k: p.read_bytes() for k, p in files(built).items()} == committed, name


@pytest.mark.parametrize("root", [DEVTOOLS, TUTORIAL], ids=lambda p: p.name)
def test_every_fixture_document_is_an_sdk_model(root: Path) -> None:
    capture = load_capture(root)
    assert_sdk_roundtrip(capture.details, "AnalyticsConversationWithoutAttributes")
    assert_sdk_roundtrip(capture.conversation, "Conversation")
    assert_sdk_roundtrip(capture.recording_metadata, "list[RecordingMetadata]")
    assert_sdk_roundtrip(capture.recordings, "list[Recording]")
    for queue in capture.queues.values():
        assert_sdk_roundtrip(queue, "Queue")
    for user in capture.users.values():
        assert_sdk_roundtrip(user, "User")
    for code in capture.wrapup_codes.values():
        assert_sdk_roundtrip(code, "WrapupCode")


def test_published_samples_run_end_to_end_through_export(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with simulate("--replay", str(DEVTOOLS), str(TUTORIAL), "--destination-root", str(out)) as api:
        replayed = api["REPLAYED"].split(",")
        assert replayed == [load_capture(DEVTOOLS).conversation_id, load_capture(TUTORIAL).conversation_id]
        for cid in replayed:
            export(tmp_path, api, cid, f"export-{cid[:8]}")
        devtools_cid, tutorial_cid = replayed
        tutorial_status = statuses(api_get(api, f"/api/v2/conversations/{tutorial_cid}"))
        devtools_records = api_get(api, f"/api/v2/conversations/{devtools_cid}/customattributes")["results"]
    written = files(out)
    # 2016 voice call: an internal user calls in, a failed alert, the agent answers on a second leg
    devtools_wav = [p for n, p in written.items() if devtools_cid in n and n.endswith(".wav")]
    assert len(devtools_wav) == 1
    info = sf.info(devtools_wav[0])
    assert info.channels == 2 and abs(info.duration - 37.825) < 0.02
    # no customer participant: the status goes to the custom attributes record only
    (record,) = devtools_records
    per_kind = record["customAttributes"]["exportStatuses_longtext"]
    assert per_kind == "Fixture/audio=exported; Fixture/transcript=skipped"  # transcription off on the queue
    # the tutorial transcript, trailing comma and all, becomes subtitles in step with the audio
    srt = [p for n, p in written.items() if tutorial_cid in n and n.endswith(".srt")]
    assert len(srt) == 1
    text = srt[0].read_text(encoding="utf-8")
    assert (
        "00:00:10,900 --> 00:00:14,500" in text and "hello Jane Doe" in text and "thank you goodbye" in text
    )
    wav = [p for n, p in written.items() if tutorial_cid in n and n.endswith(".wav")]
    assert len(wav) == 1 and abs(sf.info(wav[0]).duration - 52.323) < 0.02
    assert tutorial_status["callexport.Fixture (tutorial-voice-transcript).audio.status"] == "exported"
    assert tutorial_status["callexport.Fixture (tutorial-voice-transcript).transcript.status"] == "exported"
