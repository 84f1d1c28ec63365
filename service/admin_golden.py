"""Golden vectors: cases run through the Python template engine and profile rules, whose results the
JavaScript port (admin/js/engine/) must reproduce exactly.

``build_vectors()`` returns ``{section: [{"input": ..., "expected": ...}, ...]}``; ``compute(section,
input)`` is the Python side of one case, so the Python test (tests/test_admin_golden.py) runs every
case through the same code that made it, and a stale-file test compares the committed
``tests/golden/engine_vectors.json`` with a fresh ``build_vectors()``. The browser and Node run the
same file through admin/js/engine/golden.js.

Sections: ``format`` (.NET date formats in zones), ``timezone`` (TimeZoneOffset values and their
offsets across DST), ``interval`` (time buckets), ``sanitize`` (file-name safety of hostile values),
``validate`` (template problems), ``render`` (templates against Genesys Cloud documents), ``preview``
(every path a profile writes for a call), ``profiles`` (whole documents through the loader: every
schema and semantic rule) and ``layout`` (the Data Table storage layout).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from profiles import table_layout
from profiles.loader import load_config
from profiles.model import ConfigError
from profiles.schema import profile_defaults
from storage.context import build_context
from storage.dotnet_format import STANDARD_FORMATS, format_datetime
from storage.intervals import parse_interval
from storage.sanitize import clean_component, clean_literal, clean_value
from storage.templates import render, validate
from storage.timezones import parse_time_zone, parse_timestamp

logger = logging.getLogger(__name__)

# Instants around the 2026 DST changes of the zones below (UTC).
DST_INSTANTS = [
    "2026-01-15T12:00:00.000Z",
    "2026-03-08T06:59:59.999Z",
    "2026-03-08T07:00:00.000Z",
    "2026-03-29T00:59:59.000Z",
    "2026-03-29T01:00:00.000Z",
    "2026-04-05T15:59:59.000Z",
    "2026-04-05T16:00:00.000Z",
    "2026-07-15T12:00:00.000Z",
    "2026-10-04T01:59:59.000Z",
    "2026-10-04T02:00:00.000Z",
    "2026-10-25T00:59:59.000Z",
    "2026-10-25T01:00:00.000Z",
    "2026-11-01T05:59:59.000Z",
    "2026-11-01T06:00:00.000Z",
    "2026-12-31T23:59:59.999Z",
]
ZONES = [
    "+00:00",
    "-00:00",
    "Z",
    "utc",
    "GMT",
    "+01:00",
    "-05:30",
    "+0545",
    "+1",
    "-12",
    "+14:00",
    " +02:00 ",
    "Europe/Oslo",
    "America/New_York",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Europe/London",
    "Etc/GMT+5",
    "UTC",
    "Etc/UTC",
    "US/Eastern",
    "Asia/Calcutta",
    # invalid
    "+14:30",
    "+15",
    "+01:60",
    "Mars/Olympus",
    "europe/oslo",
    "Europe/../Etc/UTC",
    "01:00",
    "",
    "one hour",
]
CUSTOM_FORMATS = [
    "yyyyMMdd_HHmmss",
    "yyyy-MM-dd'T'HH:mm:ss.fffK",
    "yyyy",
    "yy",
    "y",
    "yyy",
    "yyyyy",
    "M",
    "MM",
    "MMM",
    "MMMM",
    "d dd ddd dddd",
    "h hh H HH",
    "m mm s ss",
    "f ff fff ffff fffff ffffff fffffff",
    "F FF FFF FFFFFFF",
    "ss.FFF",
    "HH:mm:ss.FFFFFFF",
    "t tt",
    "z zz zzz",
    "K",
    "KK",
    "g gg",
    "yyyy/MM/dd HH:mm",
    "'literal' \"quoted\" \\y \\\\",
    "'it''s'",
    "%d",
    "%H",
    "dddd, dd MMMM yyyy",
    "HHmmss_fff",
    "\u00e5r yyyy 😀 uke",
    "yyyyMMddTHHmmssZ",
    # invalid
    "ffffffff",
    "FFFFFFFF",
    "'unterminated",
    "HH\\",
    "%",
    "%%",
    "x",
    "Q",
]
FORMAT_INSTANTS = [
    "2026-03-24T14:30:22.123Z",
    "2026-03-24T02:05:09.000Z",
    "2026-12-31T23:59:59.999Z",
    "2026-01-01T00:00:00.000Z",
    "2024-02-29T12:00:00.500+02:00",
    "2026-07-04T08:09:10.120Z",
    "0999-01-05T01:02:03.004Z",
]
FORMAT_ZONES = ["+00:00", "UTC", "Europe/Oslo", "America/New_York", "Asia/Kathmandu", "-03:30", "+14:00"]

INTERVALS = [
    "1m",
    "2m",
    "15m",
    "30m",
    "60m",
    "1h",
    "4h",
    "12h",
    "24h",
    "1d",
    "1mo",
    "3mo",
    "6mo",
    "12mo",
    "1y",
    " 15 m ",
    "15M",
    "7m",
    "5h",
    "2d",
    "5mo",
    "2y",
    "",
    "m",
    "1 hour",
    "0m",
    "٣m",
]

HOSTILE = [
    "../../etc/passwd",
    "..\\..\\Windows",
    "C:\\secret",
    "\\\\server\\share",
    "CON",
    "nul.txt",
    "Com1",
    "LPT¹",
    "  spaced  ",
    "trailing dots...",
    "...",
    ".",
    "",
    'a<b>c:d"e|f?g*h',
    "tab\there\nnewline\x00nul\x1f\x7f\x9f",
    "bidi \u202eevil\u202c \u2066x\u2069 \u200e\u200f",
    "e\u0301 composed",
    "Björn Lindqvist",
    "Liam O'Connor",
    "名前 テスト",
    "emoji 😀🎧 call",
    "x" * 99,
    "x" * 100,
    "x" * 101,
    "Ωmega " * 40,
    "long.extension." + "y" * 20,
    "file." + "z" * 160 + ".wav",
    "é" * 130 + ".mp3",
    "😀" * 80 + ".wav",
    "{braces}",
    "per%cent & ampersand # hash",
    "semi;colon,comma",
]


def _sample() -> dict[str, Any]:
    from service.admin_data import sample_call

    return sample_call()


def _ref(path: str) -> dict[str, str]:
    """A reference to a fixture value (``sample.details``): keeps the vectors file small."""
    return {"$ref": path}


def resolve(value: Any, fixtures: dict[str, Any]) -> Any:
    """``value`` with every ``{"$ref": "a.b.c"}`` replaced by that fixture value."""
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            target: Any = fixtures
            for part in value["$ref"].split("."):
                target = target[int(part)] if isinstance(target, list) else target[part]
            return copy.deepcopy(target)
        return {k: resolve(v, fixtures) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, fixtures) for v in value]
    return value


def fixtures() -> dict[str, Any]:
    return {"sample": _sample(), "hostile": {str(i): _hostile_conversation(v) for i, v in enumerate(HOSTILE)}}


def _instant(iso: str) -> datetime:
    moment = parse_timestamp(iso)
    if moment is None:
        raise ValueError(f"no instant in {iso!r}")
    return moment


def _moment(iso: str, zone: str) -> datetime:
    return _instant(iso).astimezone(parse_time_zone(zone))


def _err(exc: Exception) -> dict[str, str]:
    return {"error": str(exc)}


# --- compute: the Python side of one case per section -------------------------------------------


def compute_format(case: dict[str, Any]) -> Any:
    try:
        return {"text": format_datetime(_moment(case["instant"], case["zone"]), case["format"])}
    except ValueError as exc:
        return _err(exc)


def compute_timezone(case: dict[str, Any]) -> Any:
    try:
        zone = parse_time_zone(case["text"])
    except ValueError as exc:
        return _err(exc)
    out = []
    for iso in DST_INSTANTS:
        moment = _instant(iso).astimezone(zone)
        offset = moment.utcoffset()
        out.append(
            {
                "offsetSeconds": int(offset.total_seconds()) if offset is not None else 0,
                "wall": format_datetime(moment, "yyyy-MM-dd HH:mm:ss.fff"),
                "K": format_datetime(moment, "%K"),
            }
        )
    return {"offsets": out}


def compute_interval(case: dict[str, Any]) -> Any:
    try:
        interval = parse_interval(case["text"])
    except ValueError as exc:
        return _err(exc)
    moment = _moment(case["instant"], case["zone"])
    return {
        "canonical": str(interval),
        "hierarchical": interval.hierarchical_parts(moment),
        "flat": interval.flat_name(moment),
    }


def compute_sanitize(case: dict[str, Any]) -> Any:
    text = case["text"]
    return {"value": clean_value(text), "literal": clean_literal(text), "component": clean_component(text)}


def compute_validate(case: dict[str, Any]) -> Any:
    return {"problems": validate(case["template"])}


class _Sequence:
    def __init__(self, start: int) -> None:
        self.value = start - 1

    def next_value(self) -> int:
        self.value += 1
        return self.value


def _context(spec: dict[str, Any]) -> Any:
    names = spec.get("names") or {}
    profile = SimpleNamespace(
        name=spec["profile"]["Name"], time_zone_offset=spec["profile"]["TimeZoneOffset"]
    )
    return build_context(
        details=spec["details"],
        profile=profile,
        recording=spec.get("recording"),
        transcript=spec.get("transcript"),
        conversation=spec.get("conversation"),
        queue_names=names.get("queues"),
        user_names=names.get("users"),
        flow_names=names.get("flows"),
        file_extension=spec.get("fileExtension", ""),
        format_name=spec.get("formatName", ""),
        sequence=_Sequence(spec["sequenceStart"]) if "sequenceStart" in spec else None,
        now=parse_timestamp(spec["now"]),
        machine_name=spec.get("machineName", "EXPORT01"),
    )


def compute_render(case: dict[str, Any]) -> Any:
    try:
        return {"components": list(render(case["template"], _context(case["context"])))}
    except ValueError as exc:
        return _err(exc)


def compute_preview(case: dict[str, Any]) -> Any:
    from profiles.loader import _to_profile
    from profiles.preview import preview_files

    merged = {**profile_defaults(), **case["profile"]}
    names = case.get("names") or {}
    files = preview_files(
        _to_profile(merged),
        case["details"],
        case.get("recordings"),
        conversation=case.get("conversation"),
        queue_names=names.get("queues"),
        user_names=names.get("users"),
        flow_names=names.get("flows"),
        now=parse_timestamp(case["now"]),
        machine_name=case.get("machineName", "EXPORT01"),
    )
    return {"files": [{"kind": f.kind, "path": f.path, "source": f.source} for f in files]}


def compute_profiles(case: dict[str, Any]) -> Any:
    try:
        result = load_config(case["document"])
    except ConfigError as exc:
        return _err(exc)
    return {
        "reloadIntervalSeconds": result.config.reload_interval_seconds,
        "valid": [p.name for p in result.config.profiles],
        "inactive": list(result.inactive),
        "errors": [[e.profile_name, e.field, e.reason] for e in result.errors],
    }


def compute_layout(case: dict[str, Any]) -> Any:
    try:
        stored = table_layout.split(case["text"], case["rowKey"], case["generation"], limit=case["limit"])
    except table_layout.LayoutError as exc:
        return _err(exc)
    rows = dict(stored.parts)
    for key in case.get("drop", []):
        rows.pop(key, None)
    for key, value in case.get("replace", {}).items():
        rows[key] = value
    try:
        back: Any = {"text": table_layout.read(case["rowKey"], stored.head, rows)}
    except table_layout.LayoutError as exc:
        back = _err(exc)
    return {"head": stored.head, "parts": [list(p) for p in stored.parts], "read": back}


COMPUTE: dict[str, Callable[[dict[str, Any]], Any]] = {
    "format": compute_format,
    "timezone": compute_timezone,
    "interval": compute_interval,
    "sanitize": compute_sanitize,
    "validate": compute_validate,
    "render": compute_render,
    "preview": compute_preview,
    "profiles": compute_profiles,
    "layout": compute_layout,
}


def compute(section: str, case: dict[str, Any]) -> Any:
    return COMPUTE[section](case)


# --- the cases --------------------------------------------------------------------------------------


def _format_cases() -> list[dict[str, Any]]:
    cases = []
    for fmt in [*STANDARD_FORMATS, *CUSTOM_FORMATS, ""]:
        for i, instant in enumerate(FORMAT_INSTANTS):
            zone = FORMAT_ZONES[i % len(FORMAT_ZONES)]
            cases.append({"instant": instant, "zone": zone, "format": fmt})
    for zone in FORMAT_ZONES:
        cases.append({"instant": "2026-10-25T00:30:00.000Z", "zone": zone, "format": "o"})
        cases.append(
            {"instant": "2026-03-29T01:30:00.000Z", "zone": zone, "format": "yyyy-MM-dd HH:mm zzz K"}
        )
    return cases


def _sanitize_cases() -> list[dict[str, Any]]:
    return [{"text": text} for text in HOSTILE]


VALID_TEMPLATES = [
    # the seed's examples
    "{Recording.StartTime|Format(yyyyMMdd_HHmmss)}_{Agent.Name}_{Conversation.Id}.{FileExtension}",
    "{CustomerCall.Direction|ToUpper}_{CustomerCall.Other.Name}_{Recording.StartTime|Format(yyyyMMdd)}.{FileExtension}",
    "{Acd.Name|ToLower}\\{Recording.StartTime|Format(yyyy)}\\{Recording.StartTime|Format(MM)}",
    "{Conversation.Id}_{Transcript.StartTime|Format(HHmmss)}.{FileExtension}",
    "{CustomerCall.Attribute.CRMTicketNumber}_{Recording.StartTime|Format(yyyyMMddHHmmss)}.{FileExtension}",
    # functions and types
    "{Recording.StartTime|ToUtc;Format(o)}",
    "{Recording.StartTime|ToOffset(Asia/Tokyo);Format(yyyy-MM-dd HH:mm K)}",
    "{Recording.StartTime|ToOffset(+05:30);Format(HH:mm zzz)}",
    "{Recording.StartTime}",
    "{Recording.EndTime|Format(dddd, dd MMMM)}",
    "{Now|Format(yyyyMMdd)}",
    "{SequenceNumber|Format(D6)}_{SequenceNumber|Format(0000)}",
    "{SequenceNumber|PadLeft(5)}_{SequenceNumber}",
    "{Agent.Name|PadRight(20,.)}|",
    "{Agent.Name|PadLeft(3,x)}",
    "{Agent.Name|ToUpper;PadLeft(30,*)}",
    "{Customer.Name|Default(anonymous)}",
    "{Ivr.Name|Default(no IVR)}/{Ivr.Id}",
    "{Transcript.Id|Default(none, yet)}",
    "{CustomerCall.Attribute.Missing|Default(n/a)}",
    "{CustomerCall.Attribute.crmticketnumber}",
    "{CustomerCall.Attribute.Hostile}",
    "{Profile.Name}/{MachineName}/{FormatName}",
    "{Acd.Id}_{Agent.Id}_{Agent.Username}_{Customer.Id}",
    "{Agent.ConnectTime|Format(HHmmss)}_{Customer.ConnectTime|Format(HHmmss)}_{Acd.ConnectTime|Format(HHmmss)}_{Ivr.ConnectTime|Format(HHmmss)}",
    "{Recording.Id}_{Recording.MediaSubtype}_{Recording.MediaSubject}_{Recording.User.Name}_{Recording.User.Username}",
    "{Transcript.CommunicationId}_{Transcript.StartTime|Format(o)}",
    "{Conversation.StartTime|Format(yyyy)}/{Conversation.EndTime|Format(MM)}//{Conversation.Id}",
    "literal {{braces}} and }}",
    "  spaced / .. / . / CON / x.",
    "{CustomerCall.Attribute.Hostile|ToLower}.{FileExtension}",
    "{ Agent.Name | ToUpper ; PadLeft( 3 , y ) }",
    "{CustomerCall.Attribute.When|Format(yyyyMMdd)}",
    "{CustomerCall.Attribute.CRMTicketNumber|Format(yyyyMMdd)}",
    "{Recording.StartTime|Format(%d)}{Recording.StartTime|Format(d)}",
    "a/b\\c/{Agent.Name}",
    "",
]
INVALID_TEMPLATES = [
    "{Unknown.Placeholder}",
    "{Agent.Name",
    "Agent.Name}",
    "{}",
    "{ }",
    "{Agent.Name|}",
    "{Agent.Name|Nope}",
    "{Agent.Name|Format(yyyy}",
    "{Recording.StartTime|Format(ffffffff)}",
    "{Recording.StartTime|Format()}",
    "{Recording.StartTime|Format('open)}",
    "{Agent.Name|ToUtc}",
    "{Agent.Name|ToOffset(+01:00)}",
    "{Recording.StartTime|ToOffset(Mars/Base)}",
    "{Recording.StartTime|ToOffset()}",
    "{Agent.Name|PadLeft(0)}",
    "{Agent.Name|PadLeft(201)}",
    "{Agent.Name|PadLeft(abc)}",
    "{Agent.Name|PadLeft(5,xy)}",
    "{Agent.Name|PadLeft()}",
    "{Agent.Name|Random(5,1)}",
    "{Agent.Name|Random(a,b)}",
    "{Agent.Name|Random(1)}",
    "{SequenceNumber|Format(yyyy)}",
    "{SequenceNumber|Format(D6);Format(D3)}",
    "{RandomNumber|Format(X8)}",
    "{Agent.Name|ToUpper(x)}",
    "{Agent.Name|Default()}",
    "{Agent.Name|Format(x) junk}",
    "{Agent.Name|ToUpper;}",
    "{CustomerCall.Attribute.}",
    "{{Agent.Name}",
    "x}y",
    "{Agent.Name|Random(1,5);PadLeft(3)}",
    "{Now|ToUtc;ToOffset(Europe/Oslo);Format(o)}",
    "{Agent.Name|Format(dddd)}",
]


def _render_context(**over: Any) -> dict[str, Any]:
    recording = _sample()["recordings"][0]
    spec: dict[str, Any] = {
        "details": _ref("sample.details"),
        "recording": _ref("sample.recordings.0"),
        "conversation": _ref("sample.conversation"),
        "names": _ref("sample.names"),
        "profile": {"Name": "QA Export", "TimeZoneOffset": "Europe/Oslo"},
        "fileExtension": "wav",
        "formatName": "WAV",
        "now": "2026-03-24T14:40:00.000Z",
        "machineName": "EXPORT01",
        "sequenceStart": 41,
        "transcript": {"communicationId": recording.get("sessionId"), "startTime": 1774362742123},
    }
    spec.update(over)
    return spec


def _hostile_conversation(value: str) -> dict[str, Any]:
    """A REST conversation reduced to what templates read from it: customer participant attributes."""
    return {
        "id": _sample()["conversation"]["id"],
        "participants": [
            {
                "purpose": "customer",
                "attributes": {
                    "Hostile": value,
                    "When": "2026-03-24T23:30:00+00:00",
                    "CRMTicketNumber": "TKT-98765",
                },
            }
        ],
    }


def _render_cases() -> list[dict[str, Any]]:
    cases = []
    for template in VALID_TEMPLATES:
        cases.append({"template": template, "context": _render_context()})
    for zone in ["+00:00", "America/New_York", "Asia/Kathmandu", "-03:30", "Pacific/Chatham"]:
        for template in VALID_TEMPLATES[:3] + VALID_TEMPLATES[5:9]:
            cases.append(
                {
                    "template": template,
                    "context": _render_context(
                        profile={"Name": "Z", "TimeZoneOffset": zone},
                        conversation=_ref("hostile.17"),
                    ),
                }
            )
    for i, _ in enumerate(HOSTILE):
        cases.append(
            {
                "template": "{CustomerCall.Attribute.Hostile}/{CustomerCall.Attribute.Hostile}.{FileExtension}",
                "context": _render_context(conversation=_ref(f"hostile.{i}")),
            }
        )
    sparse = {
        "conversationId": "c0ffee00-0000-4000-8000-000000000001",
        "conversationStart": "2026-03-24T14:30:22.123Z",
        "participants": [],
    }
    for template in VALID_TEMPLATES[:8]:
        cases.append(
            {
                "template": template,
                "context": _render_context(
                    details=sparse, recording=None, conversation=None, transcript=None, names={}
                ),
            }
        )
    second = _ref("sample.recordings.1")
    for template in VALID_TEMPLATES:
        cases.append(
            {
                "template": template,
                "context": _render_context(recording=second, conversation=_ref("hostile.18")),
            }
        )
    return cases


def _preview_cases() -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "Name": "Preview",
        "Queues": ["Support"],
        "DestinationRoot": "\\\\srv\\share\\calls",
    }
    profiles: list[dict[str, Any]] = [
        {},
        {"DirectoryStructureMode": "Flat", "Interval": "15m", "TimeZoneOffset": "America/New_York"},
        {"DirectoryStructureMode": "Hierarchical", "Interval": "1h", "TimeZoneOffset": "Asia/Kathmandu"},
        {"DirectoryStructureMode": "Hierarchical", "Interval": "3mo"},
        {"DirectoryStructureMode": "NoSubdirectory", "DestinationRoot": "D:\\Exports\\"},
        {"DirectoryStructureMode": "NoSubdirectory", "DestinationRoot": "/srv//exports/./x/"},
        {"DirectoryStructureMode": "NoSubdirectory", "DestinationRoot": "exports"},
        {"DirectoryStructureMode": "NoSubdirectory", "DestinationRoot": "//nas/share"},
        {
            "DirectoryStructureMode": "PathTemplate",
            "PathTemplate": "{Acd.Name|ToLower}\\{Recording.StartTime|Format(yyyy)}\\{Recording.StartTime|Format(MM)}",
            "TranscriptExportEnabled": True,
            "TranscriptFormat": "SRT",
            "TranscriptionFileTemplate": "{Conversation.Id}_{Transcript.StartTime|Format(HHmmss)}.{FileExtension}",
        },
        {
            "AudioFormat": "MP3",
            "ParticipantPurposesToExport": ["agent"],
            "CallSegmentsToExport": ["interact"],
        },
        {"AudioFormat": "OGG_OPUS", "ParticipantPurposesToExport": ["customer", "agent"]},
        {
            "AudioFormat": "M4B",
            "CallSegmentsToExport": ["interact", "hold"],
            "ConcatenateParticipantSegments": True,
        },
        {"AudioFormat": "WEBM", "ParticipantPurposesToExport": ["ivr"], "TimeZoneOffset": "+05:30"},
        {"AudioExportEnabled": False, "TranscriptExportEnabled": True, "TranscriptFormat": "AUDLAB"},
        {
            "TranscriptExportEnabled": True,
            "TranscriptFormat": "GCTXT",
            "AudioFileTemplate": "{SequenceNumber|Format(D4)}_{CustomerCall.Attribute.CRMTicketNumber}.{FileExtension}",
            "TranscriptionFileTemplate": "{SequenceNumber|Format(D4)}.{FileExtension}",
        },
        {
            "AudioFileTemplate": "{Agent.Name}/{Agent.Name}/{Conversation.Id}",
            "DirectoryStructureMode": "Flat",
            "Interval": "1y",
        },
    ]
    cases: list[dict[str, Any]] = []
    for overrides in profiles:
        profile = {**base, **overrides}
        common: dict[str, Any] = {
            "profile": profile,
            "details": _ref("sample.details"),
            "names": _ref("sample.names"),
            "now": "2026-03-24T14:40:00.000Z",
        }
        cases.append({**common, "recordings": _ref("sample.recordings"), "conversation": _ref("hostile.16")})
        cases.append({**common, "recordings": None})
    return cases


def _p(name: object, **keys: Any) -> dict[str, Any]:  # a name of any JSON type (the invalid cases)
    return {"Name": name, "Queues": ["Support"], **keys}


def _profiles_cases() -> list[dict[str, Any]]:
    docs: list[Any] = [
        {},
        {"Profiles": []},
        {"ConfigReloadIntervalSeconds": 60, "Profiles": [_p("A"), _p("B", Active=False)]},
        {"ConfigReloadIntervalSeconds": 5, "Profiles": [_p("A")]},
        {"ConfigReloadIntervalSeconds": "300", "Profiles": [_p("A")]},
        {"ConfigReloadIntervalSeconds": 90000, "Profiles": [_p("A")]},
        {"Profiles": [_p("A")], "Extra": 1, "Other": True},
        {"Profiles": "not a list"},
        {"Profiles": {"Name": "x"}},
        ["a", "list"],
        42,
        '{"Profiles": [{"Name": "from text", "Queues": ["Support"]}]}',
        {"Profiles": [1, "x", None, [], _p("ok")]},
        {"Profiles": [{}]},
        {"Profiles": [{"Queues": ["Support"]}]},
        {"Profiles": [_p("")]},
        {"Profiles": [_p("   ")]},
        {"Profiles": [_p("x" * 101)]},
        {"Profiles": [_p(5)]},
        {"Profiles": [_p("Dup"), _p("dup "), _p("DUP", Active=False), _p("Other")]},
        {"Profiles": [_p("Straße"), _p("STRASSE")]},
        {"Profiles": [_p("T", AudioFromat="MP3", extra=1)]},
        {"Profiles": [_p("T", Active="yes")]},
        {"Profiles": [_p("T", AudioFormat="FLAC")]},
        {"Profiles": [_p("T", AudioFormat=5)]},
        {"Profiles": [_p("T", TranscriptFormat="DOCX")]},
        {"Profiles": [_p("T", DirectoryStructureMode="Tree")]},
        {"Profiles": [_p("T", ConflictStrategy="Rename")]},
        {"Profiles": [_p("T", RetryCount=-1)]},
        {"Profiles": [_p("T", RetryCount=101)]},
        {"Profiles": [_p("T", RetryCount=True)]},
        {"Profiles": [_p("T", ProcessingDelaySeconds=1.5)]},
        {"Profiles": [_p("T", ProcessingDelaySeconds=86401)]},
        {"Profiles": [_p("T", Queues="Support")]},
        {"Profiles": [_p("T", Queues=["Support", "Support"])]},
        {"Profiles": [_p("T", Queues=[""])]},
        {"Profiles": [_p("T", Queues=[5])]},
        {"Profiles": [_p("T", RetentionPolicies=["a", "a"], Queues=[])]},
        {"Profiles": [_p("T", ParticipantPurposesToExport=["boss"])]},
        {"Profiles": [_p("T", CallSegmentsToExport=["talk", "hold", "talk"])]},
        {"Profiles": [_p("T", AudioMetadataAttributes=["Transcript.Id"])]},
        {"Profiles": [_p("T", TranscriptMetadataAttributes=["Agent.Name"])]},
        {"Profiles": [_p("T", Interval="5h")]},
        {"Profiles": [_p("T", Interval="hourly")]},
        {"Profiles": [_p("T", Interval="")]},
        {"Profiles": [_p("T", TimeZoneOffset="Mars/Olympus")]},
        {"Profiles": [_p("T", TimeZoneOffset="")]},
        {"Profiles": [_p("T", TimeZoneOffset="+15:00")]},
        {"Profiles": [_p("T", DestinationRoot="")]},
        {"Profiles": [_p("T", DestinationRoot="   ")]},
        {"Profiles": [_p("T", AudioFileTemplate="")]},
        {"Profiles": [_p("T", AudioFileTemplate="{Nope}_{Agent.Name|Bad}")]},
        {"Profiles": [_p("T", TranscriptionFileTemplate="{Agent.Name")]},
        {"Profiles": [_p("T", DirectoryStructureMode="PathTemplate")]},
        {"Profiles": [_p("T", DirectoryStructureMode="PathTemplate", PathTemplate="   ")]},
        {"Profiles": [_p("T", PathTemplate="{Acd.Name}")]},
        {"Profiles": [_p("T", DirectoryStructureMode="PathTemplate", PathTemplate="{Acd.Name|Random(3,1)}")]},
        {"Profiles": [_p("T", Queues=[], RetentionPolicies=[])]},
        {"Profiles": [_p("T", RetentionPolicies=["Keep calls"], Queues=[])]},
        {"Profiles": [_p("T", AudioExportEnabled=False)]},
        {"Profiles": [_p("T", AudioExportEnabled=False, TranscriptExportEnabled=True)]},
        {"Profiles": [_p("T", ExportChaptersForParticipantSegments=True)]},
        {"Profiles": [_p("T", ExportChaptersForParticipantSegments=True, AudioFormat="MP3")]},
        {
            "Profiles": [
                _p(
                    "T",
                    ExportChaptersForParticipantSegments=True,
                    TrimSilence=True,
                    ParticipantPurposesToExport=["agent"],
                    CallSegmentsToExport=["interact"],
                )
            ]
        },
        {"Profiles": [_p("T", ConcatenateParticipantSegments=True)]},
        {"Profiles": [_p("T", ConcatenateParticipantSegments=True, CallSegmentsToExport=["interact"])]},
        {"Profiles": [_p("Full", **{k: v for k, v in profile_defaults().items()}, Name2=1)]},
        {"Profiles": [{**profile_defaults(), "Name": "Defaults", "Queues": ["Support"]}]},
        {
            "Profiles": [
                _p("Bad1", AudioFormat="FLAC"),
                _p("Good"),
                _p("Bad2", Interval="7m", TimeZoneOffset="x"),
                _p("Off", Active=False, AudioFormat="FLAC"),
            ]
        },
    ]
    demo = json.loads(
        (__import__("pathlib").Path(__file__).with_name("demo_profiles.json"))
        .read_text(encoding="utf-8")
        .replace("{out}", "demo-output")
    )
    docs.append(demo)
    return [{"document": d} for d in docs]


def _layout_cases() -> list[dict[str, Any]]:
    doc = json.dumps({"Profiles": [_p(f"P{i}", DestinationRoot="\\\\srv\\share") for i in range(8)]})
    astral = "😀" * 30 + "x" + "é" * 10
    cases = [
        {"text": doc, "rowKey": "config", "generation": "g1", "limit": 1000},
        {"text": doc, "rowKey": "config", "generation": "g1", "limit": 100},
        {"text": doc[:100], "rowKey": "config", "generation": "g1", "limit": 100},
        {"text": doc[:101], "rowKey": "config", "generation": "g2", "limit": 100},
        {"text": astral, "rowKey": "config", "generation": "g3", "limit": 7},
        {"text": "", "rowKey": "config", "generation": "g4", "limit": 10},
        {"text": '{"$callexportParts": "fake"}', "rowKey": "config", "generation": "g5", "limit": 1000},
        {"text": doc, "rowKey": "config", "generation": "g6", "limit": 100, "drop": ["config.part.g6.2"]},
        {
            "text": doc,
            "rowKey": "config",
            "generation": "g7",
            "limit": 100,
            "replace": {"config.part.g7.1": "{}"},
        },
        {"text": doc, "rowKey": "cfg", "generation": "g8", "limit": 3},
        {"text": "x" * 20, "rowKey": "k" * 250, "generation": "g9", "limit": 5},
    ]
    return cases


CASES: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "format": _format_cases,
    "timezone": lambda: [{"text": z} for z in ZONES],
    "interval": lambda: [
        {"text": t, "instant": instant, "zone": zone}
        for t in INTERVALS
        for instant, zone in [
            ("2026-03-24T14:37:22.123Z", "Europe/Oslo"),
            ("2026-11-30T23:59:59.999Z", "Pacific/Chatham"),
        ]
    ],
    "sanitize": _sanitize_cases,
    "validate": lambda: [{"template": t} for t in VALID_TEMPLATES + INVALID_TEMPLATES],
    "render": _render_cases,
    "preview": _preview_cases,
    "profiles": _profiles_cases,
    "layout": _layout_cases,
}


def build_vectors() -> dict[str, Any]:
    fixed = fixtures()
    vectors: dict[str, Any] = {
        "about": "Golden vectors: Python results the JavaScript port must reproduce. "
        'Inputs may hold {"$ref": "fixture.path"}; regenerate with `python run.py admin generate`.',
        "fixtures": fixed,
    }
    logging.disable(logging.WARNING)
    try:
        for section, make in CASES.items():
            vectors[section] = [
                {"input": case, "expected": compute(section, resolve(case, fixed))} for case in make()
            ]
    finally:
        logging.disable(logging.NOTSET)
    return vectors
