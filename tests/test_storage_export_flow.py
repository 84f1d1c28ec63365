"""The service's sequence end to end on real files: context → target_path → write_file → metadata."""

from __future__ import annotations

import os
import pathlib
import random

import pytest

from profiles import load_config
from storage.attributes import attribute_values
from storage.context import build_context
from storage.formats import extension_for
from storage.metadata import read_metadata
from storage.paths import target_path
from storage.sequence import SequenceStore
from storage.write import FileConflictError, write_file


def _simulated_call():
    from simulator import documents
    from simulator.org import default_org
    from simulator.scenarios import generate_call

    org = default_org(0)
    call = generate_call(
        org, random.Random(11), end_ms=1_774_359_000_000, kind="inbound_hold", queue_name="Support"
    )
    details = documents.analytics_details(call, org)
    recording = documents.recording(call, call.recordings[0], org, format_id="WAV", media_uris=None)
    conversation = documents.conversation(call, org)
    queue_names = {q.id: q.name for q in org.all_queues()}
    return details, recording, conversation, queue_names


def _xattrs(folder: pathlib.Path) -> bool:
    probe = folder / ".probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.p", b"1")
        return True
    except (OSError, AttributeError):
        return False
    finally:
        probe.unlink()


@pytest.mark.parametrize("evil", ["../../../../tmp/owned", "CON", "x\x00y\r\n" * 40, "é" * 10_240])
def test_export_flow_with_hostile_customer_attributes(tmp_path: pathlib.Path, evil: str) -> None:
    details, recording, conversation, queue_names = _simulated_call()
    customer = next(p for p in conversation["participants"] if p["purpose"] == "customer")
    customer.setdefault("attributes", {})["CRMTicketNumber"] = evil
    root = tmp_path / "export"
    profile = load_config(
        {
            "Profiles": [
                {
                    "Name": "Flow",
                    "Queues": ["Support"],
                    "DestinationRoot": str(root),
                    "DirectoryStructureMode": "PathTemplate",
                    "PathTemplate": "{Acd.Name}\\{CustomerCall.Attribute.CRMTicketNumber}",
                    "AudioFileTemplate": "{CustomerCall.Attribute.CRMTicketNumber}_{SequenceNumber|PadLeft(4)}.{FileExtension}",
                    "ConflictStrategy": "Error",
                    "TimeZoneOffset": "Europe/Oslo",
                    "AudioMetadataAttributes": [
                        "Conversation.Id",
                        "Recording.Id",
                        "Acd.Name",
                        "Recording.StartTime",
                    ],
                }
            ]
        }
    ).config.profiles[0]
    store = SequenceStore(tmp_path / "state")
    files = []
    for _ in range(2):
        ctx = build_context(
            details=details,
            profile=profile,
            recording=recording,
            conversation=conversation,
            queue_names=queue_names,
            file_extension=extension_for("audio", profile.audio_format),
            format_name=profile.audio_format,
            sequence=store.source(profile.name),
        )
        path = target_path(profile, ctx, kind="audio")
        result = write_file(
            path,
            b"RIFF....WAVE",
            profile.conflict_strategy,
            metadata=attribute_values(ctx, profile.audio_metadata_attributes),
        )
        files.append(result.path)
        if _xattrs(tmp_path):
            assert read_metadata(result.path)["Conversation.Id"] == details["conversationId"]
            assert read_metadata(result.path)["Acd.Name"] == "Support"
    assert files[0] != files[1] and files[1].name.endswith("_0002.wav")
    for file in files:
        assert file.resolve().is_relative_to(root.resolve())
        assert file.relative_to(root).parts[0] == "Support"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "state"]  # nothing escaped
    with pytest.raises(FileConflictError):
        write_file(files[0], b"again", "Error")
