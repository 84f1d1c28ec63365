"""Independent third-party validators for each transcript output format (shared by the tests).

Each `check_<format>(data: bytes, ...)` raises AssertionError (or the validator's own exception)
when the output is not accepted, and returns what the validator parsed so tests can compare it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
# The W3C TTML1 XML Schema, vendored unchanged with its notice (tests/data/ttml1-xsd/NOTICE).
TTML_XSD = REPO / "tests" / "data" / "ttml1-xsd" / "ttml1.xsd"

# Permissive schema of the STA input (and RAW output): unknown keys are allowed everywhere.
STA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["transcripts"],
    "properties": {
        "conversationId": {"type": "string"},
        "communicationId": {"type": "string"},
        "startTime": {"type": "number"},
        "transcripts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["phrases"],
                "properties": {
                    "startTime": {"type": "number"},
                    "language": {"type": "string"},
                    "phrases": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["text", "startTimeMs", "duration"],
                            "properties": {
                                "text": {"type": "string"},
                                "startTimeMs": {"type": "number"},
                                "duration": {
                                    "type": "object",
                                    "properties": {"milliseconds": {"type": "number", "minimum": 0}},
                                },
                                "participantPurpose": {"type": "string"},
                                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                                "words": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["word", "startTimeMs"],
                                        "properties": {
                                            "word": {"type": "string"},
                                            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                                            "startTimeMs": {"type": "number"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

_TIME = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}
_CONF = {"type": "string", "pattern": r"^(0(\.\d+)?|1(\.0+)?)$"}
_ITEM = {
    "type": "object",
    "required": ["type", "alternatives"],
    "properties": {
        "id": {"type": "integer"},
        "type": {"enum": ["pronunciation", "punctuation"]},
        "start_time": _TIME,
        "end_time": _TIME,
        "channel_label": {"type": "string", "pattern": r"^ch_[01]$"},
        "speaker_label": {"type": "string", "pattern": r"^spk_\d+$"},
        "alternatives": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["confidence", "content"],
                "properties": {"confidence": _CONF, "content": {"type": "string", "minLength": 1}},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
    "if": {"properties": {"type": {"const": "pronunciation"}}},
    "then": {"required": ["start_time", "end_time"]},
}
# Amazon publishes no schema for Transcribe batch output; this one follows its documentation
# (how-input.html, channel-id-output-batch.html) strictly: string times and confidences.
AWS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["jobName", "accountId", "status", "results"],
    "properties": {
        "jobName": {"type": "string", "minLength": 1},
        "accountId": {"type": "string", "pattern": r"^\d{12}$"},
        "status": {"const": "COMPLETED"},
        "results": {
            "type": "object",
            "required": ["transcripts", "items"],
            "properties": {
                "transcripts": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["transcript"],
                        "properties": {"transcript": {"type": "string"}},
                    },
                },
                "items": {"type": "array", "items": _ITEM},
                "channel_labels": {
                    "type": "object",
                    "required": ["number_of_channels", "channels"],
                    "properties": {
                        "number_of_channels": {"type": "integer", "minimum": 1, "maximum": 2},
                        "channels": {
                            "type": "array",
                            "maxItems": 2,
                            "items": {
                                "type": "object",
                                "required": ["channel_label", "items"],
                                "properties": {
                                    "channel_label": {"type": "string", "pattern": r"^ch_[01]$"},
                                    "items": {"type": "array", "items": _ITEM},
                                },
                            },
                        },
                    },
                },
                "audio_segments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "transcript", "start_time", "end_time", "items"],
                        "properties": {
                            "id": {"type": "integer"},
                            "transcript": {"type": "string"},
                            "start_time": _TIME,
                            "end_time": _TIME,
                            "items": {"type": "array", "items": {"type": "integer"}},
                        },
                    },
                },
            },
        },
    },
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} in JSON")


def strict_json(data: bytes) -> Any:
    assert not data.startswith(b"\xef\xbb\xbf"), "JSON output must not start with a BOM"
    return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)


def check_raw(data: bytes, original: dict[str, Any]) -> Any:
    import jsonschema

    obj = strict_json(data)
    jsonschema.validate(obj, STA_SCHEMA)
    assert obj == original
    assert data.endswith(b"\n") and data.startswith(b"{\n  ")
    return obj


def check_srt(data: bytes) -> list[Any]:
    import pycaption
    import srt

    text = data.decode("utf-8")
    subs = list(srt.parse(text, ignore_errors=False))
    assert [s.index for s in subs] == list(range(1, len(subs) + 1)), "SRT indices must be 1, 2, 3..."
    for a, b in zip(subs, subs[1:], strict=False):
        assert a.end <= b.start, f"SRT cues {a.index} and {b.index} overlap"
    for s in subs:
        assert s.end > s.start, f"SRT cue {s.index} is empty"
    if subs:
        captions = pycaption.SRTReader().read(text)
        assert sum(len(captions.get_captions(lang)) for lang in captions.get_languages()) == len(subs)
    assert srt.compose(subs, reindex=False, strict=True).strip() == text.strip(), "srt round trip differs"
    if subs:
        assert not node_errors("srt", data), node_errors("srt", data)
    return subs


def check_vtt(data: bytes) -> list[Any]:
    import pycaption
    import webvtt

    text = data.decode("utf-8")
    assert text.startswith("WEBVTT")
    cues = list(webvtt.from_string(text))
    if cues:
        captions = pycaption.WebVTTReader(ignore_timing_errors=False).read(text)
        assert sum(len(captions.get_captions(lang)) for lang in captions.get_languages()) == len(cues)
    for a, b in zip(cues, cues[1:], strict=False):
        assert vtt_ms(a.start_time) <= vtt_ms(b.start_time), "WebVTT cue start times must not decrease"
    for cue in cues:
        assert vtt_ms(cue.end_time) > vtt_ms(cue.start_time), f"empty cue at {cue.start}"
        assert cue.voice, f"cue {cue.start} has no <v> voice span"
        assert "-->" not in cue.raw_text
    assert not node_errors("vtt", data), node_errors("vtt", data)
    return cues


def vtt_ms(stamp: Any) -> int:
    """Milliseconds of a webvtt-py Timestamp (its *_in_seconds properties are whole seconds)."""
    return ((stamp.hours * 60 + stamp.minutes) * 60 + stamp.seconds) * 1000 + stamp.milliseconds


def check_csv(data: bytes, schema: dict[str, Any]) -> list[dict[str, str]]:
    import frictionless

    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == "", "CSV must end with CRLF"
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, body = rows[0], rows[1:]
    assert all(len(r) == len(header) for r in body)
    resource = frictionless.Resource(
        data=data, format="csv", encoding="utf-8", schema=frictionless.Schema.from_descriptor(schema)
    )
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    return [dict(zip(header, r, strict=True)) for r in body]


def check_audlab(data: bytes) -> tuple[Any, list[str]]:
    import mir_eval

    text = data.decode("utf-8")
    for line in text.splitlines():
        start, end, label = line.split("\t")
        assert len(start.split(".")[1]) == 6 and len(end.split(".")[1]) == 6
        assert label and not label.startswith("\\")
    path = Path(_tmp_file(data, ".txt"))
    try:
        intervals, labels = mir_eval.io.load_labeled_intervals(str(path), delimiter="\t")
    finally:
        path.unlink()
    if len(labels):
        mir_eval.util.validate_intervals(intervals)
    assert len(labels) == len(text.splitlines())
    assert all(math.isfinite(x) for row in intervals for x in row)
    return intervals, labels


def _tmp_file(data: bytes, suffix: str) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("wb", suffix=suffix, delete=False) as handle:
        handle.write(data)
        return handle.name


def check_aws(data: bytes) -> Any:
    import jsonschema
    import tscribe

    path = Path(_tmp_file(data, ".json"))
    try:
        doc = tscribe.load_json(path)  # asserts jobName/results/status == COMPLETED
    finally:
        path.unlink()
    assert doc == strict_json(data)
    jsonschema.validate(doc, AWS_SCHEMA)
    results = doc["results"]
    items = results["items"]
    assert [i["id"] for i in items] == list(range(len(items)))
    starts = [float(i["start_time"]) for i in items]
    assert starts == sorted(starts), "items must be in time order"
    for item in items:
        assert float(item["end_time"]) > float(item["start_time"])
    # channel cross-references: every item in exactly one channel, as the very same object
    channels = results["channel_labels"]["channels"]
    listed = [it for ch in channels for it in ch["items"]]
    assert sorted(listed, key=lambda i: i["id"]) == items
    for ch in channels:
        assert all(it["channel_label"] == ch["channel_label"] for it in ch["items"])
    ids = {i["id"]: i for i in items}
    for segment in results.get("audio_segments", []):
        for item_id in segment["items"]:
            assert ids[item_id]["channel_label"] == segment["channel_label"]
            assert float(segment["start_time"]) <= float(ids[item_id]["start_time"])
    if items:
        frame = tscribe.decode_transcript(doc)
        assert set(frame["speaker"]) <= {"ch_0", "ch_1"}
        assert " ".join(frame["comment"]) == " ".join(i["alternatives"][0]["content"] for i in items)
    return doc


def check_ttml(data: bytes, caplog: Any = None) -> Any:
    import xml.etree.ElementTree as ET

    from lxml import etree
    from ttconv.imsc.reader import to_model

    assert TTML_XSD.is_file(), f"TTML1 XML Schema not found at {TTML_XSD}"
    schema = etree.XMLSchema(etree.parse(str(TTML_XSD)))
    root = etree.fromstring(data)
    assert schema.validate(root), str(schema.error_log)
    if caplog is not None:
        caplog.clear()
    model = to_model(ET.ElementTree(ET.fromstring(data)))
    assert model is not None
    if caplog is not None:
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, errors
    return root


def check_sami(data: bytes, language: str) -> list[Any]:
    import pycaption

    text = data.decode("utf-8")
    captions = pycaption.SAMIReader().read(text)
    assert captions.get_languages() == [language] or not captions.get_languages(), captions.get_languages()
    result = captions.get_captions(language) if captions.get_languages() else []
    for a, b in zip(result, result[1:], strict=False):
        assert a.end <= b.start, "SAMI captions overlap"
    for c in result:
        assert c.end > c.start
    return list(result)


# Node validators (docs/transcripts.md): srt-validator (strictest for SRT) and webvtt-parser (the W3C
# WebVTT parser, spec-exact). Used when node and the modules are installed: in the folder named by
# CALLEXPORT_NODE_MODULES, or REPO/node_modules (`npm install --no-save srt-validator@6 webvtt-parser@2`).
_NODE_SCRIPT = r"""
const [dir, kind] = process.argv.slice(1);
const text = require('fs').readFileSync(0, 'utf8');
let errors;
if (kind === 'srt') {
  const m = require(dir + '/srt-validator');
  errors = (m.default || m)(text);
} else {
  const { WebVTTParser } = require(dir + '/webvtt-parser');
  errors = new WebVTTParser().parse(text, 'metadata').errors;
}
process.stdout.write(JSON.stringify(errors));
"""


def node_modules() -> Path | None:
    import os
    import shutil

    if shutil.which("node") is None:
        return None
    for candidate in (os.environ.get("CALLEXPORT_NODE_MODULES"), REPO / "node_modules"):
        if (
            candidate
            and (Path(candidate) / "srt-validator").is_dir()
            and (Path(candidate) / "webvtt-parser").is_dir()
        ):
            return Path(candidate)
    return None


def node_errors(kind: str, data: bytes) -> list[Any] | None:
    """Errors the node validator reports for this SRT ('srt') or WebVTT ('vtt'); None if unavailable."""
    import subprocess

    modules = node_modules()
    if modules is None:
        return None
    result = subprocess.run(
        ["node", "-e", _NODE_SCRIPT, str(modules), kind],
        input=data,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)
