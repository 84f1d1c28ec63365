"""Issue 16: `run.py capture` of a simulated call, replay, `run.py export`: the same files and statuses.

One simulated call (a consult transfer: a trunk and a consult recording, a transcript) is exported by
two profiles (WAV as Genesys serves it plus a VTT transcript; agent-only audio through the DSP),
captured with and without media, replayed (`run.py simulate --replay`; the Python `Simulator`
API) and exported again against the replay.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import soundfile as sf
from capture_helpers import api_get, export, files, run_py, sim_api, simulate, statuses
from service_harness import document, profile

from simulator.app import Simulator


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("roundtrip")
    out = tmp / "out-original"
    doc = document(
        profile(
            "Archive",
            out,
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=True,
            TranscriptFormat="VTT",
        ),
        profile(
            "AgentOnly",
            out / "agent",
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            ParticipantPurposesToExport=["agent"],
            TranscriptExportEnabled=False,
        ),
    )
    with Simulator(seed=41, config_document=doc) as sim:
        call = sim.inject_call(kind="consult_transfer", queue_name="Sales", duration_s=40, ended_ago_s=60)
        cid = call.conversation_id
        api = sim_api(sim)
        export(tmp, api, cid, "original")
        captures = {"media": tmp / "capture-media", "plain": tmp / "capture-plain"}
        for name, extra in (("media", ["--with-media"]), ("plain", [])):
            result = run_py(
                ["capture", cid, "-o", str(captures[name]), *extra],
                tmp,
                sim.api_url,
                sim.client_id,
                sim.client_secret,
                f"capture-{name}",
            )
            assert result.returncode == 0, result.stderr[-3000:]
        conversation = api_get(api, f"/api/v2/conversations/{cid}")
        secrets = {sim.client_secret} | {
            r.headers.get("Authorization", "").removeprefix("Bearer ")
            for r in sim.requests
            if r.headers.get("Authorization", "").startswith("Bearer ")
        }
    return {
        "tmp": tmp,
        "cid": cid,
        "call": call,
        "out": out,
        "files": files(out),
        "statuses": statuses(conversation),
        "captures": captures,
        "secrets": secrets,
    }


def the_original_export_wrote_audio_transcripts_and_status(original: dict[str, Any]) -> None:
    names = original["files"]
    assert [n for n in names if n.endswith(".vtt")] and [n for n in names if n.startswith("agent/")]
    assert (
        len([n for n in names if n.endswith(".wav") and "/" not in n])
        == len(original["call"].recordings)
        == 2
    )
    status = original["statuses"]
    assert status["callexport.Archive.audio.status"] == "exported"
    assert status["callexport.Archive.transcript.status"] == "exported"
    assert status["callexport.AgentOnly.audio.status"] == "exported"
    assert status["callexport.AgentOnly.audio.files"] == len([n for n in names if n.startswith("agent/")])


def replay_with_media_gives_the_same_files_byte_for_byte_and_the_same_statuses(
    original: dict[str, Any],
) -> None:
    tmp, cid = original["tmp"], original["cid"]
    out = tmp / "out-replay-media"
    with simulate("--replay", str(original["captures"]["media"]), "--destination-root", str(out)) as api:
        assert api["REPLAYED"] == cid
        export(tmp, api, cid, "replay-media")
        replayed_status = statuses(api_get(api, f"/api/v2/conversations/{cid}"))
    # the captured profiles wrote below out-original; the replay writes the same tree below `out`
    got = files(out)
    assert set(got) == set(original["files"])
    for name, path in original["files"].items():
        assert got[name].read_bytes() == path.read_bytes(), name
    assert _without_roots(replayed_status) == _without_roots(original["statuses"])


def replay_without_media_gives_the_same_paths_durations_and_statuses(original: dict[str, Any]) -> None:
    tmp, cid = original["tmp"], original["cid"]
    out = tmp / "out-replay-plain"
    with Simulator(seed=7, replay=[original["captures"]["plain"]], replay_destination_root=out) as sim:
        export(tmp, sim_api(sim), cid, "replay-plain")
        replayed_status = statuses(api_get(sim_api(sim), f"/api/v2/conversations/{cid}"))
    got = files(out)
    assert set(got) == set(original["files"])
    for name, path in original["files"].items():
        if name.endswith(".wav"):
            before, after = sf.info(path), sf.info(got[name])
            assert after.channels == before.channels, name
            assert abs(after.duration - before.duration) <= 0.020, (name, before.duration, after.duration)
        else:
            assert got[name].read_bytes() == path.read_bytes(), name  # the transcript
    assert _without_roots(replayed_status) == _without_roots(original["statuses"])


def a_capture_holds_no_token_secret_or_media_url(original: dict[str, Any]) -> None:
    cid = original["cid"]
    forbidden = [s.encode() for s in original["secrets"] if s]
    patterns = [
        rb"Signature=",
        rb"Expires=",
        rb"X-Amz-",
        rb"\"mediaUris?\"\s*:",
        rb"/media/" + cid.encode(),
        rb"https?://[^\"\s]*\?",
    ]
    checked = 0
    for capture in original["captures"].values():
        for path in capture.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            checked += 1
            for secret in forbidden:
                assert secret not in data, f"{path} contains a token or secret"
            for pattern in patterns:
                assert not re.search(pattern, data), f"{path} matches {pattern!r}"
    assert checked >= 2 * 8
    media = list((original["captures"]["media"] / "media").glob("*.wav"))
    assert len(media) == 2 and not (original["captures"]["plain"] / "media").exists()


def _without_roots(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if not k.endswith(".root")}


def test_capture_and_replay_round_trip(original: dict[str, Any]) -> None:
    """One test for the four checks of the one original export: under xdist, separate tests of this
    module ran on two workers, and each worker made the original export and both captures again
    (about a minute of subprocesses)."""
    the_original_export_wrote_audio_transcripts_and_status(original)
    a_capture_holds_no_token_secret_or_media_url(original)
    replay_with_media_gives_the_same_files_byte_for_byte_and_the_same_statuses(original)
    replay_without_media_gives_the_same_paths_durations_and_statuses(original)
