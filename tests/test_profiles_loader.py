"""load_config: document errors, schema defaults, every structural and semantic rule."""

from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest
import storage_fixtures as fx

from profiles import ConfigError, Profile, ProfileError, load_config
from profiles.docs import render_reference
from profiles.model import snake_case
from profiles.schema import profile_defaults, profile_keys, schema

REPO = pathlib.Path(__file__).resolve().parent.parent


def _load(*profiles: dict, **top: object):
    return load_config({"Profiles": list(profiles), **top})


def _only_error(result, name: str) -> ProfileError:
    errors = result.errors_for(name)
    assert len(errors) >= 1, result.errors
    return errors[0]


# --- document level -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ("[1, 2]", "must be a JSON object, not list"),
        ('"text"', "must be a JSON object, not str"),
        (b"\xff\xfe{}", "not UTF-8"),
        ('{"Profiles": {"Name": "x"}}', "'Profiles' must be a JSON array of profile objects, not dict"),
    ],
)
def test_unusable_documents_raise(document: str | bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(document)


def test_text_bytes_and_dict_documents() -> None:
    text = json.dumps({"ConfigReloadIntervalSeconds": 60, "Profiles": [fx.profile_doc()]})
    for document in (text, ("\ufeff" + text).encode("utf-8"), json.loads(text)):
        result = load_config(document)
        assert result.errors == []
        assert result.config.reload_interval_seconds == 60
        assert [p.name for p in result.config.profiles] == ["Support archive"]


def test_empty_document_uses_defaults() -> None:
    result = load_config("{}")
    assert (
        result.config.reload_interval_seconds == 300 and result.config.profiles == () and result.errors == []
    )


def test_document_level_problems_are_reported_and_profiles_still_load() -> None:
    result = load_config({"ConfigReloadIntervalSeconds": 1, "Extra": True, "Profiles": [fx.profile_doc()]})
    assert {(e.profile_name, e.field) for e in result.errors} == {
        (None, "ConfigReloadIntervalSeconds"),
        (None, "Extra"),
    }
    assert result.config.reload_interval_seconds == 300
    assert len(result.config.profiles) == 1
    assert str(next(e for e in result.errors if e.field == "Extra")).startswith(
        "document: Extra: unknown key"
    )


# --- defaults and the Profile dataclass -----------------------------------------------------------


def test_minimal_profile_gets_every_documented_default() -> None:
    result = _load(fx.profile_doc())
    profile = result.config.profiles[0]
    for key, default in profile_defaults().items():
        if key not in fx.profile_doc():
            expected = tuple(default) if isinstance(default, list) else default
            assert getattr(profile, snake_case(key)) == expected, key


def test_every_key_but_name_has_a_default() -> None:
    assert set(profile_keys()) - set(profile_defaults()) == {"Name"}


def test_profile_fields_are_the_schema_keys_in_snake_case() -> None:
    assert [f.name for f in dataclasses.fields(Profile)] == [snake_case(k) for k in profile_keys()]


def test_dataclass_defaults_equal_schema_defaults() -> None:
    for field in dataclasses.fields(Profile):
        if field.name == "name":
            continue
        key = next(k for k in profile_keys() if snake_case(k) == field.name)
        default = profile_defaults()[key]
        assert field.default == (tuple(default) if isinstance(default, list) else default), key


def test_lists_become_tuples_and_profiles_are_frozen() -> None:
    profile = _load(
        fx.profile_doc(Queues=["Support", "Sales"], AudioMetadataAttributes=["Conversation.Id"])
    ).config.profiles[0]
    assert profile.queues == ("Support", "Sales")
    assert profile.audio_metadata_attributes == ("Conversation.Id",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.name = "x"  # type: ignore[misc]


def test_schema_is_valid_draft_2020_12() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())


# --- structural rules (schema) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"AudioFromat": "MP3"}, "AudioFromat", "unknown key"),
        ({"Active": "yes"}, "Active", "'yes' is not of type 'boolean'"),
        ({"AudioFormat": "FLAC"}, "AudioFormat", "'FLAC' is not one of WAV, WAV_ULAW, WEBM"),
        ({"TranscriptFormat": "DOCX"}, "TranscriptFormat", "'DOCX' is not one of RAW"),
        ({"DirectoryStructureMode": "ByDay"}, "DirectoryStructureMode", "not one of Hierarchical"),
        ({"ConflictStrategy": "Merge"}, "ConflictStrategy", "not one of AppendCounter"),
        ({"RetryCount": -1}, "RetryCount", "-1 is less than the minimum of 0"),
        ({"ProcessingDelaySeconds": 1.5}, "ProcessingDelaySeconds", "is not of type 'integer'"),
        ({"Queues": "Support"}, "Queues", "is not of type 'array'"),
        ({"Queues": ["Support", "Support"]}, "Queues", "non-unique elements"),
        (
            {"ParticipantPurposesToExport": ["boss"]},
            "ParticipantPurposesToExport[0]",
            "'boss' is not one of acd",
        ),
        ({"CallSegmentsToExport": ["talk"]}, "CallSegmentsToExport[0]", "'talk' is not one of alert"),
        (
            {"AudioMetadataAttributes": ["Transcript.Id"]},
            "AudioMetadataAttributes[0]",
            "'Transcript.Id' is not one of",
        ),
        (
            {"TranscriptMetadataAttributes": ["Agent.Name"]},
            "TranscriptMetadataAttributes[0]",
            "'Agent.Name' is not one of",
        ),
        ({"Interval": "fortnight"}, "Interval", "'fortnight' is not a count and a unit (m, h, d, mo, y)"),
        ({"DestinationRoot": ""}, "DestinationRoot", "should be non-empty"),
    ],
)
def test_structural_rules(change: dict, field: str, reason: str) -> None:
    result = _load(fx.profile_doc(**change), fx.profile_doc(Name="Other"))
    error = _only_error(result, "Support archive")
    assert error.field == field and reason in error.reason, error
    assert [p.name for p in result.config.profiles] == ["Other"]  # the rest keep working


def test_missing_name() -> None:
    doc = fx.profile_doc()
    del doc["Name"]
    result = _load(doc)
    assert result.errors == [ProfileError("#1", "Name", "required")]
    assert str(result.errors[0]) == "profile '#1': Name: required"


def test_blank_name() -> None:
    result = _load(fx.profile_doc(Name="   "))
    assert result.errors == [ProfileError("#1", "Name", "'   ' must contain a non-space character")]


def test_a_profile_that_is_not_an_object() -> None:
    result = _load("just text", fx.profile_doc())
    assert (
        result.errors[0].profile_name == "#1" and "must be a JSON object, not str" in result.errors[0].reason
    )
    assert len(result.config.profiles) == 1


# --- semantic rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"TrimSilence": True, "ExportChaptersForParticipantSegments": True, "AudioFormat": "MP3"},
            "TrimSilence",
            "mutually exclusive",
        ),
        (
            {
                "ExportChaptersForParticipantSegments": True,
                "AudioFormat": "M4B",
                "ParticipantPurposesToExport": ["agent"],
            },
            "ParticipantPurposesToExport",
            "cannot be combined with segment filtering",
        ),
        (
            {
                "ExportChaptersForParticipantSegments": True,
                "AudioFormat": "MP3",
                "CallSegmentsToExport": ["interact"],
            },
            "CallSegmentsToExport",
            "cannot be combined with segment filtering",
        ),
        (
            {"ExportChaptersForParticipantSegments": True, "AudioFormat": "WAV"},
            "AudioFormat",
            "needs MP3 or M4B, not WAV",
        ),
        (
            {"ConcatenateParticipantSegments": True},
            "ConcatenateParticipantSegments",
            "needs at least one entry",
        ),
        (
            {"DirectoryStructureMode": "PathTemplate"},
            "PathTemplate",
            "required when DirectoryStructureMode is PathTemplate",
        ),
        ({"PathTemplate": "{Acd.Name}"}, "PathTemplate", "only used in PathTemplate mode"),
        (
            {"AudioFileTemplate": "{Agent.Nmae}.{FileExtension}"},
            "AudioFileTemplate",
            "unknown placeholder {Agent.Nmae}",
        ),
        (
            {"TranscriptionFileTemplate": "{Conversation.Id|Bold}"},
            "TranscriptionFileTemplate",
            "unknown function 'Bold'",
        ),
        (
            {"DirectoryStructureMode": "PathTemplate", "PathTemplate": "{Acd.Name"},
            "PathTemplate",
            "unclosed '{'",
        ),
        (
            {"AudioFileTemplate": "{Recording.StartTime|Format(ffffffff)}"},
            "AudioFileTemplate",
            "more than seven 'f'",
        ),
        ({"Interval": "7m"}, "Interval", "does not divide its parent unit evenly"),
        ({"Interval": "2y"}, "Interval", "allowed: 1y"),
        ({"TimeZoneOffset": "+15:00"}, "TimeZoneOffset", "outside -14:00..+14:00"),
        ({"TimeZoneOffset": "Europe/Atlantis"}, "TimeZoneOffset", "not a known IANA time zone"),
        ({"TimeZoneOffset": "CET+1"}, "TimeZoneOffset", "not a UTC offset"),
        ({"Queues": [], "RetentionPolicies": []}, "Queues", "no input scope"),
        (
            {"AudioExportEnabled": False, "TranscriptExportEnabled": False},
            "AudioExportEnabled",
            "nothing to export",
        ),
        ({"DestinationRoot": "   "}, "DestinationRoot", "must not be empty"),
    ],
)
def test_semantic_rules(change: dict, field: str, reason: str) -> None:
    result = _load(fx.profile_doc(**change), fx.profile_doc(Name="Other"))
    error = _only_error(result, "Support archive")
    assert error.field == field and reason in error.reason, result.errors
    assert [p.name for p in result.config.profiles] == ["Other"]


@pytest.mark.parametrize(
    "change",
    [
        {"ExportChaptersForParticipantSegments": True, "AudioFormat": "M4B"},
        {
            "ExportChaptersForParticipantSegments": True,
            "AudioFormat": "MP3",
            "ReduceNoise": True,
            "NormalizeLoudness": True,
        },
        {"ConcatenateParticipantSegments": True, "ParticipantPurposesToExport": ["agent"]},
        {"ConcatenateParticipantSegments": True, "CallSegmentsToExport": ["interact"], "TrimSilence": True},
        {
            "DirectoryStructureMode": "PathTemplate",
            "PathTemplate": "{Acd.Name|ToLower}\\{Recording.StartTime|Format(yyyy)}",
        },
        {"Queues": [], "RetentionPolicies": ["Keep Sales 7 years"]},
        {"AudioExportEnabled": False, "TranscriptExportEnabled": True},
        {"TimeZoneOffset": "Europe/Oslo", "Interval": "15m"},
        {"TimeZoneOffset": "-03:30", "Interval": "1y"},
    ],
)
def test_valid_combinations(change: dict) -> None:
    result = _load(fx.profile_doc(**change))
    assert result.errors == [] and len(result.config.profiles) == 1


def test_duplicate_names_reject_every_holder_case_insensitively() -> None:
    result = _load(fx.profile_doc(Name="Sales"), fx.profile_doc(Name="SALES"), fx.profile_doc(Name="Support"))
    assert [p.name for p in result.config.profiles] == ["Support"]
    assert {(e.profile_name, e.field) for e in result.errors} == {("Sales", "Name"), ("SALES", "Name")}
    assert "duplicate profile name" in result.errors[0].reason


def test_inactive_profiles_are_ignored_entirely() -> None:
    result = _load(
        fx.profile_doc(Name="Old", Active=False, AudioFormat="FLAC", Bogus=1),
        fx.profile_doc(Name="Support", Active=False),
        fx.profile_doc(Name="Support"),
    )
    assert result.errors == []
    assert [p.name for p in result.config.profiles] == ["Support"]
    assert result.inactive == ("Old", "Support")


def test_every_problem_of_a_profile_is_listed() -> None:
    result = _load(fx.profile_doc(Interval="7m", TimeZoneOffset="nowhere", AudioFileTemplate="{X}"))
    assert {e.field for e in result.errors} == {"Interval", "TimeZoneOffset", "AudioFileTemplate"}


# --- docs/profiles.md is generated from the schema ------------------------------------------------


def test_profiles_doc_reference_matches_the_schema() -> None:
    text = (REPO / "docs" / "profiles.md").read_text(encoding="utf-8")
    assert render_reference() in text, "run: .venv/bin/python -m profiles.docs > /tmp/ref.md and paste it"
    for key in profile_keys():
        assert f"`{key}`" in text
