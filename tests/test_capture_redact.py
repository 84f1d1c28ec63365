"""`run.py capture --redact`: none of the source call's numbers, names or transcript words remain;
placeholders are consistent, timings and confidences are kept, and the pipeline still runs on it."""

from __future__ import annotations

import json
import re
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest
from capture_helpers import api_get, export, files, sim_api, statuses
from service_harness import document, profile

from capture.cli import capture, main
from capture.layout import load_capture
from genesys.credentials import Credentials
from service.runtime import build_client
from service.settings import Settings
from simulator import documents
from simulator.app import Simulator


def _args(out: Path, **extra: Any) -> Namespace:
    values = dict(
        conversation_id="",
        output=out,
        with_media=False,
        redact=True,
        recording_wait=60.0,
        transcript_wait=0.0,
    )
    values.update(extra)
    return Namespace(**values)


@pytest.fixture(scope="module")
def redacted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("redact")
    doc = document(
        profile(
            "QA",
            tmp / "out-original",
            Queues=["Support"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=True,
            TranscriptFormat="VTT",
        )
    )
    with Simulator(seed=23, config_document=doc) as sim:
        call = sim.inject_call(kind="blind_transfer", queue_name="Support", duration_s=45, ended_ago_s=60)
        settings = Settings(api_url=sim.api_url)
        client = build_client(settings, Credentials(sim.client_id, sim.client_secret))
        try:
            out = tmp / "capture"
            assert (
                capture(client, settings, sim.client_secret, _args(out, conversation_id=call.conversation_id))
                == 0
            )
        finally:
            client.close()
        transcripts = {
            (c, i): documents.transcript_document(call, sim.org, c, i)
            for c in documents.transcript_communication_ids(call)
            for i in range(len(documents.transcript_parts(call, c)))
        }
        users = [sim.org.user_by_id(p.user_id) for p in call.participants if p.user_id]
    return {"tmp": tmp, "call": call, "capture": out, "transcripts": transcripts, "users": users}


def _texts(capture: Path) -> dict[str, str]:
    return {name: path.read_text(encoding="utf-8") for name, path in files(capture).items()}


def test_no_number_name_or_email_of_the_source_call_remains(redacted: dict[str, Any]) -> None:
    call = redacted["call"]
    numbers = {
        re.sub(r"\D", "", n)
        for n in [call.ani, call.dnis, *(x for p in call.participants for x in (p.ani, p.dnis, p.address))]
        if len(re.sub(r"\D", "", n or "")) >= 6
    }
    people = [p for p in call.participants if p.purpose in ("customer", "external", "agent")]
    names = {p.name for p in people if p.name and not re.fullmatch(r"[+\d ]+", p.name)}
    names |= {u.name for u in redacted["users"]} | {u.username for u in redacted["users"]}
    emails = {u.email for u in redacted["users"]}
    assert numbers and names and emails
    for file, text in _texts(redacted["capture"]).items():
        for number in numbers:
            assert not re.search(rf"(?<!\d){number}(?!\d)", text), f"{file} still holds {number}"
        for value in names | emails:
            assert value not in text and json.dumps(value)[1:-1] not in text, f"{file} still holds {value!r}"


def test_no_transcript_word_remains_and_timings_and_confidences_are_kept(redacted: dict[str, Any]) -> None:
    capture = load_capture(redacted["capture"])
    captured = {(t.communication_id, t.part): t.data for parts in capture.transcripts.values() for t in parts}
    assert capture.redacted and set(captured) == set(redacted["transcripts"])
    for key, original in redacted["transcripts"].items():
        doc = json.loads(captured[key])
        before = [p for t in original["transcripts"] for p in t["phrases"]]
        after = [p for t in doc["transcripts"] for p in t["phrases"]]
        words_before = {w["word"].lower() for p in before for w in p["words"]}
        words_after = {w["word"].lower() for p in after for w in p["words"]}
        assert words_before and not words_before & words_after
        for old, new in zip(before, after, strict=True):
            assert (new["startTimeMs"], new["duration"], new.get("confidence")) == (
                old["startTimeMs"],
                old["duration"],
                old.get("confidence"),
            )
            assert [(w["startTimeMs"], w["duration"], w["confidence"]) for w in new["words"]] == [
                (w["startTimeMs"], w["duration"], w["confidence"]) for w in old["words"]
            ]
            tokens = set(
                re.findall(r"[^\W_]+(?:'[^\W_]+)*", new["text"] + " " + new.get("decoratedText", ""))
            )
            assert not {t.lower() for t in tokens} & words_before
        sentiment = [s for t in doc["transcripts"] for s in (t.get("analytics") or {}).get("sentiment") or []]
        for item in sentiment:
            assert not set(item.get("phrase", "").lower().split()) & words_before


def test_placeholders_are_consistent_across_documents(redacted: dict[str, Any]) -> None:
    capture = load_capture(redacted["capture"])
    customer_id = redacted["call"].customer().participant_id
    details_ani = {
        s["ani"]
        for p in capture.details["participants"]
        if p["participantId"] == customer_id
        for s in p["sessions"]
    }
    rest_ani = {p["ani"] for p in capture.conversation["participants"] if p["id"] == customer_id}
    transcript_ani = {
        p["ani"]
        for parts in capture.transcripts.values()
        for t in parts
        for p in json.loads(t.data)["participants"]
    }
    assert len(details_ani) == 1 and details_ani == rest_ani and details_ani <= transcript_ani
    assert re.fullmatch(r"tel:\+555\d+", details_ani.pop())
    agent_names = {p["participantName"] for p in capture.details["participants"] if p["purpose"] == "agent"}
    user_names = {u["name"] for u in capture.users.values()}
    assert agent_names and agent_names <= user_names and all(n.startswith("Person ") for n in user_names)
    assert "Support" in {q["name"] for q in capture.queues.values()}  # configuration is not redacted
    metrics = {
        m["name"]
        for p in capture.details["participants"]
        for s in p["sessions"]
        for m in s.get("metrics", [])
    }
    assert "tTalk" in metrics or "tHandle" in metrics  # labels are not names


def test_the_pipeline_still_runs_on_a_redacted_capture(redacted: dict[str, Any]) -> None:
    tmp, call = redacted["tmp"], redacted["call"]
    out = tmp / "out-redacted"
    with Simulator(seed=9, replay=[redacted["capture"]], replay_destination_root=out) as sim:
        export(tmp, sim_api(sim), call.conversation_id, "redacted")
        status = statuses(api_get(sim_api(sim), f"/api/v2/conversations/{call.conversation_id}"))
    written = files(out)
    assert [n for n in written if n.endswith(".wav")] and [n for n in written if n.endswith(".vtt")]
    assert status["callexport.QA.audio.status"] == "exported"
    assert status["callexport.QA.transcript.status"] == "exported"
    vtt = next(p for n, p in written.items() if n.endswith(".vtt")).read_text()
    cues = " ".join(re.findall(r"<v[^>]*>(.*?)</v>", vtt))
    tokens = {t.lower() for t in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)*", cues)}
    words = {w.text.lower() for u in call.utterances for w in u.words}
    assert tokens and all(t.startswith("qx") for t in tokens) and not tokens & words


def test_redact_with_media_is_refused(tmp_path: Path) -> None:
    assert main(_args(tmp_path / "c", conversation_id="x", with_media=True, settings=None)) == 2
    assert not (tmp_path / "c").exists()
