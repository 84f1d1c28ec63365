"""``python run.py profiles check``: validation report and the exact preview paths."""

from __future__ import annotations

import json
import pathlib
import random
import subprocess
import sys

import pytest
import storage_fixtures as fx

import run
from profiles import load_config
from profiles.preview import preview_files

REPO = pathlib.Path(__file__).resolve().parent.parent
CID = fx.CONVERSATION_ID
SEED_AUDIO = f"20260324_143022_Jane Smith_{CID}"


@pytest.fixture
def docs(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "details.json").write_text(json.dumps(fx.DETAILS))
    (tmp_path / "recordings.json").write_text(json.dumps([fx.RECORDING]))
    (tmp_path / "conversation.json").write_text(json.dumps(fx.CONVERSATION))
    (tmp_path / "names.json").write_text(json.dumps({"queues": fx.QUEUE_NAMES, "users": fx.USER_NAMES}))
    (tmp_path / "policies.json").write_text(json.dumps({"entities": [fx.POLICY], "pageCount": 1}))
    config = {
        "Profiles": [
            fx.profile_doc(
                DirectoryStructureMode="PathTemplate",
                PathTemplate="{Acd.Name|ToLower}\\{Recording.StartTime|Format(yyyy)}\\{Recording.StartTime|Format(MM)}",
                TranscriptExportEnabled=True,
                TranscriptFormat="SRT",
                TranscriptionFileTemplate="{Conversation.Id}_{Transcript.StartTime|Format(HHmmss)}.{FileExtension}",
            ),
            fx.profile_doc(
                Name="QA segments",
                DirectoryStructureMode="Hierarchical",
                Interval="1h",
                ParticipantPurposesToExport=["agent"],
                CallSegmentsToExport=["interact"],
                AudioFormat="MP3",
                AudioFileTemplate="{CustomerCall.Attribute.CRMTicketNumber}_{Recording.StartTime|Format(yyyyMMddHHmmss)}.{FileExtension}",
            ),
            fx.profile_doc(
                Name="Sales policy",
                Queues=[],
                RetentionPolicies=["Keep Sales 7 years"],
                DirectoryStructureMode="Flat",
            ),
            fx.profile_doc(Name="Broken", AudioFormat="FLAC"),
            fx.profile_doc(Name="Old", Active=False),
        ]
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = run.main(["profiles", "check", *argv])
    return code, capsys.readouterr().out


def test_validation_report(docs: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, str(docs / "config.json"))
    assert code == 1
    lines = out.splitlines()
    assert (
        lines[0]
        == f"{docs / 'config.json'}: 3 active profile(s) valid, 1 inactive, 1 error(s); reload every 300 s"
    )
    assert lines[1:] == [
        "[OK] Support archive",
        "[OK] QA segments",
        "[OK] Sales policy",
        "[INVALID] Broken",
        "    AudioFormat: 'FLAC' is not one of WAV, WAV_ULAW, WEBM, OGG_VORBIS, OGG_OPUS, MP3, M4B",
        "[INACTIVE] Old (ignored)",
    ]


def test_preview_prints_every_file_path(docs: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(
        capsys,
        str(docs / "config.json"),
        "--conversation", str(docs / "details.json"),
        "--recordings", str(docs / "recordings.json"),
        "--rest-conversation", str(docs / "conversation.json"),
        "--names", str(docs / "names.json"),
        "--policies", str(docs / "policies.json"),
    )  # fmt: skip
    assert code == 1
    preview = out[out.index("Preview") :].splitlines()
    paths = [
        line.split(None, 1)[1]
        for line in preview
        if line.startswith("    audio") or line.startswith("    transcript")
    ]
    assert paths == [
        f"\\\\srv\\share\\support\\2026\\03\\{SEED_AUDIO}.wav",
        f"\\\\srv\\share\\support\\2026\\03\\{CID}_143022.srt",
        "\\\\srv\\share\\2026\\03\\24\\14\\TKT-98765_20260324143022_001_Jane Smith_interact.mp3",
        "\\\\srv\\share\\2026\\03\\24\\14\\TKT-98765_20260324143022_002_Jane Smith_interact.mp3",
        f"\\\\srv\\share\\20260324\\{SEED_AUDIO}.wav",
    ]
    assert f"Preview for conversation {CID} (queues touched: Support)" in out
    assert "Support archive: in scope" in out and "QA segments: in scope" in out
    assert "Sales policy: NOT in scope" in out


def test_preview_without_recordings_uses_a_stand_in(
    docs: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, str(docs / "config.json"), "--conversation", str(docs / "details.json"))
    assert "no recordings document" in out
    # Recording.StartTime falls back to the conversation start (14:29:40 at +01:00); no names: queue unknown
    assert f"\\\\srv\\share\\unknown\\2026\\03\\20260324_142940_Jane Smith_{CID}.wav" in out
    assert "scope not checked (pass --names" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{broken", "unusable configuration: the configuration is not valid JSON"),
        ("[]", "must be a JSON object"),
    ],
)
def test_unusable_document(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    (tmp_path / "c.json").write_text(content)
    code, out = _run(capsys, str(tmp_path / "c.json"))
    assert code == 2 and message in out


def test_bad_inputs(docs: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, str(docs / "missing.json"))
    assert code == 2 and "cannot read configuration" in out and "missing.json" in out
    (docs / "notdetails.json").write_text("{}")
    code, out = _run(capsys, str(docs / "config.json"), "--conversation", str(docs / "notdetails.json"))
    assert code == 2 and "is not an analytics conversation details document" in out


def test_all_valid_exits_zero(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"Profiles": [fx.profile_doc()]}))
    code, out = _run(capsys, str(tmp_path / "c.json"))
    assert code == 0 and "[OK] Support archive" in out


def test_command_runs_as_a_process(docs: pathlib.Path) -> None:
    out = subprocess.run(
        [sys.executable, "run.py", "profiles", "check", str(docs / "config.json"), "--conversation", str(docs / "details.json"),
         "--recordings", str(docs / "recordings.json"), "--names", str(docs / "names.json")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert f"\\\\srv\\share\\support\\2026\\03\\{SEED_AUDIO}.wav" in out.stdout
    assert out.stderr == ""


def test_preview_of_a_simulated_call_matches_its_documents() -> None:
    """A call generated by the simulator (blind transfer, Support -> Retention), previewed as-is."""
    from simulator import documents
    from simulator.org import default_org
    from simulator.scenarios import generate_call

    org = default_org(0)
    call = generate_call(
        org, random.Random(3), end_ms=1_774_359_000_000, kind="blind_transfer", queue_name="Support"
    )
    details = documents.analytics_details(call, org)
    recordings = [
        documents.recording(call, rec, org, format_id="WAV", media_uris=None) for rec in call.recordings
    ]
    conversation = documents.conversation(call, org)
    queue_names = {q.id: q.name for q in org.all_queues()}
    users = {u.id: {"name": u.name, "username": u.username} for u in org.users}
    config = load_config(
        {
            "Profiles": [
                {
                    "Name": "Sim",
                    "Queues": ["Support"],
                    "DestinationRoot": "/srv/export",
                    "DirectoryStructureMode": "PathTemplate",
                    "PathTemplate": "{Acd.Name}/{Recording.StartTime|ToUtc;Format(yyyy-MM-dd)}",
                    "AudioFileTemplate": "{CustomerCall.Attribute.CRMTicketNumber}_{Agent.Name}_{Recording.Id}.{FileExtension}",
                    "TranscriptExportEnabled": True,
                    "TranscriptFormat": "VTT",
                    "TranscriptionFileTemplate": "{Conversation.Id}_{Transcript.CommunicationId}.{FileExtension}",
                }
            ]
        }
    ).config
    files = preview_files(
        config.profiles[0],
        details,
        recordings,
        conversation=conversation,
        queue_names=queue_names,
        user_names=users,
    )
    ticket = next(
        p["attributes"]["CRMTicketNumber"] for p in conversation["participants"] if p["purpose"] == "customer"
    )
    rec = recordings[0]
    agent = rec["users"][0]["name"]
    day = rec["startTime"][:10]
    first_queue = next(p["participantName"] for p in details["participants"] if p["purpose"] == "acd")
    customer_session = next(p for p in details["participants"] if p["purpose"] == "customer")["sessions"][0][
        "sessionId"
    ]
    assert [f.path for f in files] == [
        f"/srv/export/{first_queue}/{day}/{ticket}_{agent}_{rec['id']}.wav",
        f"/srv/export/{first_queue}/{day}/{details['conversationId']}_{customer_session}.vtt",
    ]
