"""Directory modes, every interval from one minute to one year, suffixes and hostile values."""

from __future__ import annotations

import dataclasses
import os
import pathlib

import pytest
import storage_fixtures as fx

from profiles import Profile
from storage.context import build_context
from storage.intervals import IntervalError, parse_interval
from storage.paths import (
    PathEscapeError,
    display_path,
    ensure_inside,
    relative_parts,
    segment_suffix,
    target_path,
)
from storage.sanitize import MAX_COMPONENT_BYTES, MAX_COMPONENT_CHARS, clean_component

SEED_NAME = f"20260324_143022_Jane Smith_{fx.CONVERSATION_ID}.wav"


def _profile(**changes: object) -> Profile:
    base = Profile(name="Support archive", destination_root="\\\\srv\\share", time_zone_offset="+01:00")
    return dataclasses.replace(base, **changes)


def _context(profile: Profile, **kwargs: object):
    args: dict[str, object] = dict(
        details=fx.details(),
        profile=profile,
        recording=fx.recording(),
        transcript=fx.transcript(),
        conversation=fx.conversation(),
        queue_names=fx.QUEUE_NAMES,
        user_names=fx.USER_NAMES,
        file_extension="wav",
        format_name="WAV",
    )
    args.update(kwargs)
    return build_context(**args)  # type: ignore[arg-type]


# --- the seed's directory examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "extra", "folder"),
    [
        ("Hierarchical", {"interval": "1h"}, "\\\\srv\\share\\2026\\03\\24\\14\\"),
        ("Flat", {"interval": "1d"}, "\\\\srv\\share\\20260324\\"),
        ("NoSubdirectory", {}, "\\\\srv\\share\\"),
        ("PathTemplate", {"path_template": "Sales\\{Acd.Name}"}, "\\\\srv\\share\\Sales\\Support\\"),
    ],
)
def test_seed_directory_modes(mode: str, extra: dict[str, str], folder: str) -> None:
    profile = _profile(directory_structure_mode=mode, **extra)
    assert display_path(profile, _context(profile), kind="audio") == folder + SEED_NAME


def test_seed_path_template_with_transcript() -> None:
    profile = _profile(
        directory_structure_mode="PathTemplate",
        path_template="{Acd.Name|ToLower}\\{Recording.StartTime|Format(yyyy)}\\{Recording.StartTime|Format(MM)}",
        transcription_file_template="{Conversation.Id}_{Transcript.StartTime|Format(HHmmss)}.{FileExtension}",
    )
    ctx = _context(profile, file_extension="srt", format_name="SRT")
    expected = f"\\\\srv\\share\\support\\2026\\03\\{fx.CONVERSATION_ID}_143022.srt"
    assert display_path(profile, ctx, kind="transcript") == expected


def test_slashes_also_separate_folders_in_path_templates() -> None:
    profile = _profile(directory_structure_mode="PathTemplate", path_template="Sales/{Acd.Name}\\x")
    assert relative_parts(profile, _context(profile), kind="audio")[:3] == ("Sales", "Support", "x")


# --- every interval from one minute to one year ---------------------------------------------------

# Recording at 2026-03-24 14:37:52 local (+01:00) = 13:37:52 UTC
INTERVAL_CASES = [
    ("1m", ["2026", "03", "24", "14", "37"], "202603241437"),
    ("2m", ["2026", "03", "24", "14", "36"], "202603241436"),
    ("3m", ["2026", "03", "24", "14", "36"], "202603241436"),
    ("4m", ["2026", "03", "24", "14", "36"], "202603241436"),
    ("5m", ["2026", "03", "24", "14", "35"], "202603241435"),
    ("6m", ["2026", "03", "24", "14", "36"], "202603241436"),
    ("10m", ["2026", "03", "24", "14", "30"], "202603241430"),
    ("12m", ["2026", "03", "24", "14", "36"], "202603241436"),
    ("15m", ["2026", "03", "24", "14", "30"], "202603241430"),
    ("20m", ["2026", "03", "24", "14", "20"], "202603241420"),
    ("30m", ["2026", "03", "24", "14", "30"], "202603241430"),
    ("60m", ["2026", "03", "24", "14"], "2026032414"),
    ("1h", ["2026", "03", "24", "14"], "2026032414"),
    ("2h", ["2026", "03", "24", "14"], "2026032414"),
    ("3h", ["2026", "03", "24", "12"], "2026032412"),
    ("4h", ["2026", "03", "24", "12"], "2026032412"),
    ("6h", ["2026", "03", "24", "12"], "2026032412"),
    ("8h", ["2026", "03", "24", "08"], "2026032408"),
    ("12h", ["2026", "03", "24", "12"], "2026032412"),
    ("24h", ["2026", "03", "24"], "20260324"),
    ("1d", ["2026", "03", "24"], "20260324"),
    ("1mo", ["2026", "03"], "202603"),
    ("2mo", ["2026", "03"], "202603"),
    ("3mo", ["2026", "01"], "202601"),
    ("4mo", ["2026", "01"], "202601"),
    ("6mo", ["2026", "01"], "202601"),
    ("12mo", ["2026"], "2026"),
    ("1y", ["2026"], "2026"),
]


@pytest.mark.parametrize(("interval", "folders", "flat"), INTERVAL_CASES)
def test_intervals_in_both_time_bucket_modes(interval: str, folders: list[str], flat: str) -> None:
    recording = fx.recording()
    recording["startTime"] = "2026-03-24T13:37:52.900Z"
    hierarchical = _profile(directory_structure_mode="Hierarchical", interval=interval)
    parts = relative_parts(hierarchical, _context(hierarchical, recording=recording), kind="audio")
    assert list(parts[:-1]) == folders
    flat_profile = _profile(directory_structure_mode="Flat", interval=interval)
    parts = relative_parts(flat_profile, _context(flat_profile, recording=recording), kind="audio")
    assert list(parts[:-1]) == [flat]


def test_interval_buckets_use_the_profile_time_zone_across_midnight_and_dst() -> None:
    recording = fx.recording()
    recording["startTime"] = "2026-12-31T23:30:00Z"  # 2027-01-01 00:30 in Oslo
    profile = _profile(directory_structure_mode="Hierarchical", interval="1y", time_zone_offset="Europe/Oslo")
    assert relative_parts(profile, _context(profile, recording=recording), kind="audio")[0] == "2027"
    # the repeated hour 02:00-03:00 on 2026-10-25 lands in one hour folder "02"
    profile = _profile(directory_structure_mode="Hierarchical", interval="1h", time_zone_offset="Europe/Oslo")
    for utc in ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"):
        recording["startTime"] = utc
        assert relative_parts(profile, _context(profile, recording=recording), kind="audio")[:4] == (
            "2026",
            "10",
            "25",
            "02",
        )


def test_bucket_time_falls_back_to_the_conversation_start() -> None:
    profile = _profile(directory_structure_mode="Flat", interval="1m")
    parts = relative_parts(profile, _context(profile, recording=None, transcript=None), kind="audio")
    assert parts[0] == "202603241429"


@pytest.mark.parametrize("text", ["0m", "7m", "45m", "5h", "2d", "5mo", "2y", "1w", "m", "", "1 day", "-1h"])
def test_unsupported_intervals(text: str) -> None:
    with pytest.raises(IntervalError):
        parse_interval(text)


# --- segment file suffixes ------------------------------------------------------------------------


def test_segment_suffix_goes_before_the_extension() -> None:
    profile = _profile(directory_structure_mode="NoSubdirectory")
    suffix = segment_suffix("Jane Smith", "interact", 2)
    name = relative_parts(profile, _context(profile), kind="audio", file_name_suffix=suffix)[-1]
    assert name == f"20260324_143022_Jane Smith_{fx.CONVERSATION_ID}_002_Jane Smith_interact.wav"
    profile = _profile(audio_file_template="{Conversation.Id}", directory_structure_mode="NoSubdirectory")
    assert (
        relative_parts(profile, _context(profile), kind="audio", file_name_suffix="x/y")[-1]
        == f"{fx.CONVERSATION_ID}_x_y"
    )


# --- hostile values stay inside DestinationRoot ---------------------------------------------------

HOSTILE = [
    "../../../../etc/passwd",
    "..\\..\\Windows\\System32\\evil.dll",
    "/etc/cron.d/x",
    "C:\\Windows\\win.ini",
    "\\\\attacker\\share\\x",
    "..",
    ".",
    "...",
    "CON",
    "nul.txt",
    "Com1",
    "LPT9.log",
    "aux ",
    "bad\x00name\x07\x1b[31m\r\n\t",
    "trailing dots...   ",
    '<>:"|?*',
    "x" * 10_240,
    "ä" * 5000,
    "\u202etxt.exe",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    ("mode", "path_template"),
    [
        ("NoSubdirectory", ""),
        ("PathTemplate", "{CustomerCall.Attribute.Evil}\\{CustomerCall.Attribute.Evil}"),
    ],
)
def test_hostile_attribute_values_stay_inside_the_root(
    tmp_path: pathlib.Path, value: str, mode: str, path_template: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    profile = _profile(
        destination_root=str(root),
        directory_structure_mode=mode,
        path_template=path_template,
        audio_file_template="{CustomerCall.Attribute.Evil}.{FileExtension}",
    )
    conversation = fx.conversation()
    conversation["participants"][0]["attributes"]["Evil"] = value
    path = target_path(profile, _context(profile, conversation=conversation), kind="audio")
    assert path.resolve().is_relative_to(root.resolve())
    for part in path.relative_to(root).parts:
        assert part not in ("", ".", "..")
        assert not any(c in part for c in '<>:"/\\|?*\u202e') and all(ord(c) >= 32 for c in part)
        assert len(part) <= MAX_COMPONENT_CHARS and len(part.encode()) <= MAX_COMPONENT_BYTES
        assert part.split(".")[0].strip().upper() not in {"CON", "NUL", "COM1", "LPT9", "AUX"}
        assert part == part.rstrip(". ")
    # and the name can really be created there
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"ok")


def test_long_values_are_shortened_predictably() -> None:
    a = clean_component("x" * 400 + ".wav")
    assert a == clean_component("x" * 400 + ".wav") and a.endswith(".wav") and len(a) <= MAX_COMPONENT_CHARS
    assert clean_component("x" * 399 + "y.wav") != a  # the hash keeps different names different


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CON", "_CON"),
        ("con.wav", "_con.wav"),
        ("LPT1.tar.gz", "_LPT1.tar.gz"),
        ("COM¹", "_COM¹"),
        ("CONSOLE", "CONSOLE"),
        ("name. . ", "name"),
        ("..", "_"),
        ("   ", "_"),
        ("a\tb", "a_b"),
    ],
)
def test_component_rules(raw: str, expected: str) -> None:
    assert clean_component(raw) == expected


def test_literal_dot_dot_in_a_template_cannot_climb(tmp_path: pathlib.Path) -> None:
    profile = _profile(
        destination_root=str(tmp_path),
        directory_structure_mode="PathTemplate",
        path_template="..\\..\\{Acd.Name}",
    )
    path = target_path(profile, _context(profile), kind="audio")
    assert path.relative_to(tmp_path).parts[:3] == ("_", "_", "Support")


def test_symlink_escape_is_caught_by_the_containment_check(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "Support")
    profile = _profile(
        destination_root=str(root), directory_structure_mode="PathTemplate", path_template="{Acd.Name}"
    )
    with pytest.raises(PathEscapeError, match="outside"):
        target_path(profile, _context(profile), kind="audio")
    with pytest.raises(PathEscapeError):
        ensure_inside(root, root)


def test_display_path_of_a_posix_root() -> None:
    profile = _profile(destination_root="/srv/export", directory_structure_mode="NoSubdirectory")
    assert display_path(profile, _context(profile), kind="audio") == "/srv/export/" + SEED_NAME


def test_every_supported_interval_is_covered_above() -> None:
    from storage.intervals import ALLOWED_COUNTS

    covered = {str(parse_interval(text)) for text, _, _ in INTERVAL_CASES}
    assert covered == {f"{count}{unit}" for unit, counts in ALLOWED_COUNTS.items() for count in counts}
