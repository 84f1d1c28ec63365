"""Every placeholder and function of the template engine, the seed's examples, DST and fallbacks."""

from __future__ import annotations

import dataclasses
import pathlib
import re
import uuid
from datetime import UTC, datetime

import pytest
import storage_fixtures as fx

from profiles import Profile
from storage.context import build_context
from storage.placeholders import PLACEHOLDERS
from storage.sequence import SequenceStore
from storage.templates import TemplateError, parse, render, validate

NOW = datetime(2026, 3, 24, 15, 0, 0, 250000, tzinfo=UTC)


def _profile(**changes: object) -> Profile:
    return dataclasses.replace(Profile(name="Support archive", time_zone_offset="+01:00"), **changes)


def _context(profile: Profile | None = None, tmp_path=None, **kwargs: object):
    args: dict[str, object] = dict(
        details=fx.details(),
        profile=profile or _profile(),
        recording=fx.recording(),
        transcript=fx.transcript(),
        conversation=fx.conversation(),
        queue_names=fx.QUEUE_NAMES,
        user_names=fx.USER_NAMES,
        file_extension="wav",
        format_name="WAV",
        now=NOW,
        machine_name="EXPORT01",
    )
    if tmp_path is not None:
        args["sequence"] = SequenceStore(tmp_path).source("Support archive")
    args.update(kwargs)
    return build_context(**args)  # type: ignore[arg-type]


def one(template: str, context) -> str:
    parts = render(template, context)
    assert len(parts) == 1, parts
    return parts[0]


# --- the product's examples (seed file), exactly -------------------------------------------------


def test_seed_example_agent_name_and_conversation_id() -> None:
    template = "{Recording.StartTime|Format(yyyyMMdd_HHmmss)}_{Agent.Name}_{Conversation.Id}.{FileExtension}"
    assert one(template, _context()) == f"20260324_143022_Jane Smith_{fx.CONVERSATION_ID}.wav"


def test_seed_example_direction_and_other_party() -> None:
    template = "{CustomerCall.Direction|ToUpper}_{CustomerCall.Other.Name}_{Recording.StartTime|Format(yyyyMMdd)}.{FileExtension}"
    assert one(template, _context()) == "INBOUND_+4791234567_20260324.wav"


def test_seed_example_path_template_and_transcript_name() -> None:
    ctx = _context(file_extension="srt", format_name="SRT")
    path = "{Acd.Name|ToLower}\\{Recording.StartTime|Format(yyyy)}\\{Recording.StartTime|Format(MM)}"
    assert render(path, ctx) == ("support", "2026", "03")
    name = "{Conversation.Id}_{Transcript.StartTime|Format(HHmmss)}.{FileExtension}"
    assert one(name, ctx) == f"{fx.CONVERSATION_ID}_143022.srt"


def test_seed_example_customer_attribute() -> None:
    template = "{CustomerCall.Attribute.CRMTicketNumber}_{Recording.StartTime|Format(yyyyMMddHHmmss)}.{FileExtension}"
    assert one(template, _context()) == "TKT-98765_20260324143022.wav"


# --- every placeholder ----------------------------------------------------------------------------

EXPECTED = {
    "Conversation.Id": fx.CONVERSATION_ID,
    "Conversation.StartTime": "142940.120",
    "Conversation.EndTime": "143605.480",
    "Agent.Name": "Jane Smith",
    "Agent.Id": fx.AGENT_ID,
    "Agent.Username": "jane.smith@example.com",
    "Agent.ConnectTime": "143022.000",
    "Customer.Name": "Ola Nordmann",
    "Customer.Id": fx.CUSTOMER_PID,
    "Customer.ConnectTime": "142940.120",
    "Acd.Name": "Support",
    "Acd.Id": fx.QUEUE_ID,
    "Acd.ConnectTime": "142958.000",
    "Ivr.Name": "Main IVR",
    "Ivr.Id": fx.FLOW_ID,
    "Ivr.ConnectTime": "142940.300",
    "CustomerCall.Direction": "inbound",
    "CustomerCall.Other.Name": "+4791234567",
    "Recording.Id": fx.RECORDING_ID,
    "Recording.StartTime": "143022.000",
    "Recording.EndTime": "143605.000",
    "Recording.MediaSubtype": "Trunk",
    "Recording.MediaSubject": "Inbound call +4791234567",
    "Recording.User.Name": "Jane Smith",
    "Recording.User.Username": "jane.smith@example.com",
    "Transcript.Id": fx.TRANSCRIPT_ID,
    "Transcript.StartTime": "143022.000",
    "Transcript.CommunicationId": fx.COMMUNICATION_ID,
    "FileExtension": "wav",
    "FormatName": "WAV",
    "Profile.Name": "Support archive",
    "MachineName": "EXPORT01",
    "Now": "160000.250",
    "SequenceNumber": "1",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_placeholder(name: str, tmp_path) -> None:
    ctx = _context(tmp_path=tmp_path)
    suffix = "|Format(HHmmss.fff)" if PLACEHOLDERS[name].type == "time" else ""
    assert one(f"{{{name}{suffix}}}", ctx) == EXPECTED[name]


def test_every_placeholder_is_covered() -> None:
    assert set(EXPECTED) | {"NewGuid", "RandomNumber"} == set(PLACEHOLDERS)


def test_new_guid_and_random_number_are_drawn_once_per_file() -> None:
    ctx = _context()
    guid = one("{NewGuid}", ctx)
    assert uuid.UUID(guid).version == 4
    assert one("{NewGuid}_{NewGuid}", ctx) == f"{guid}_{guid}"
    number = int(one("{RandomNumber}", ctx))
    assert 0 <= number <= 999_999
    assert one("{RandomNumber}", ctx) == str(number)
    assert one("{NewGuid}", _context()) != guid


def test_sequence_number_is_drawn_only_when_used_and_persists(tmp_path) -> None:
    store = SequenceStore(tmp_path)
    first = _context(sequence=store.source("Support archive"))
    one("{Conversation.Id}", first)
    assert store.current("Support archive") == 0  # not used, not consumed
    assert one("{SequenceNumber|PadLeft(6)}", first) == "000001"
    assert one("{SequenceNumber|Format(D4)}", first) == "0001"  # same file, same number
    second = _context(sequence=SequenceStore(tmp_path).source("Support archive"))
    assert one("{SequenceNumber|Format(00000)}", second) == "00002"


def test_customer_attribute_lookup_is_exact_then_case_insensitive() -> None:
    ctx = _context()
    assert one("{CustomerCall.Attribute.crmticketnumber}", ctx) == "TKT-98765"
    assert one("{CustomerCall.Attribute.Language}", ctx) == "nb-NO"


def test_attributes_from_analytics_participants_when_no_rest_conversation() -> None:
    details = fx.details()
    details["participants"][0]["attributes"] = {"CRMTicketNumber": "TKT-1"}
    assert (
        one("{CustomerCall.Attribute.CRMTicketNumber}", _context(details=details, conversation=None))
        == "TKT-1"
    )


def test_outbound_call_other_party_is_the_dialled_number() -> None:
    details = fx.details()
    details["originatingDirection"] = "outbound"
    session = details["participants"][0]["sessions"][0]
    session.update(direction="outbound", ani="tel:+4722000000", dnis="tel:+4798765432")
    ctx = _context(details=details)
    assert one("{CustomerCall.Direction|ToUpper}_{CustomerCall.Other.Name}", ctx) == "OUTBOUND_+4798765432"


def test_agent_is_the_recordings_user_after_a_transfer() -> None:
    details = fx.details()
    second = {
        "participantId": "p-second",
        "participantName": "Kari Hansen",
        "purpose": "agent",
        "userId": "u-kari",
        "sessions": [
            {
                "segments": [
                    {
                        "segmentStart": "2026-03-24T13:40:00Z",
                        "segmentType": "interact",
                        "queueId": fx.QUEUE_SALES_ID,
                    }
                ]
            }
        ],
    }
    details["participants"].append(second)
    recording = fx.recording()
    recording["users"] = [{"id": "u-kari", "name": "Kari Hansen"}]
    ctx = _context(details=details, recording=recording)
    assert one("{Agent.Name}_{Acd.Name}", ctx) == "Kari Hansen_Sales"


# --- functions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{Recording.StartTime|Format(yyyyMMdd_HHmmss)}", "20260324_143022"),
        ("{Recording.StartTime|Format(yyyy-MM-dd HH.mm.ss.fff tt)}", "2026-03-24 14.30.22.000 PM"),
        ("{Recording.StartTime|Format(zzz)}", "+01_00"),  # ':' is illegal in Windows names
        ("{Recording.StartTime|Format(o)}", "2026-03-24T14_30_22.0000000+01_00"),
        ("{Recording.StartTime|Format(s)}", "2026-03-24T14_30_22"),
        ("{Recording.StartTime|Format(u)}", "2026-03-24 13_30_22Z"),
        ("{Recording.StartTime|Format(dddd, dd MMMM)}", "Tuesday, 24 March"),
        ("{Recording.StartTime|Format('Call at' HH'h')}", "Call at 14h"),
        ("{Recording.StartTime|ToUtc;Format(HHmmssK)}", "133022Z"),
        ("{Recording.StartTime|ToOffset(+05:30);Format(HHmm zzz)}", "1900 +05_30"),
        ("{Recording.StartTime|ToOffset(America/New_York);Format(HHmm)}", "0930"),
        ("{Recording.StartTime|ToOffset(Asia/Tokyo);Format(HHmm)}", "2230"),
        ("{Acd.Name|ToUpper}", "SUPPORT"),
        ("{Agent.Name|ToLower}", "jane smith"),
        ("{Acd.Name|PadLeft(10)}", "000Support"),
        ("{Acd.Name|PadLeft(10,#)}", "###Support"),
        ("{Acd.Name|PadRight(10)}", "Support___"),
        ("{Acd.Name|PadRight(9,-)}", "Support--"),
        ("{Acd.Name|PadLeft(3)}", "Support"),
        ("{Acd.Name|ToUpper;PadLeft(9,x)}", "xxSUPPORT"),
        ("{Conversation.Id|Random(7,7)}", "7"),
        ("{CustomerCall.Attribute.Missing|Default(no-ticket)}", "no-ticket"),
        ("{CustomerCall.Attribute.Missing|Default(none);ToUpper}", "NONE"),
        ("{CustomerCall.Attribute.CRMTicketNumber|Default(none)}", "TKT-98765"),
        ("{Recording.StartTime|format(yyyy)}", "2026"),  # function names are case-insensitive
        ("{Recording.StartTime}", "2026-03-24_14-30-22"),  # default rendering of a timestamp
        ("{{literal}}_{Acd.Name}", "{literal}_Support"),
    ],
)
def test_functions(template: str, expected: str) -> None:
    assert validate(template) == []
    assert one(template, _context()) == expected


def test_random_range() -> None:
    values = {int(one("{RandomNumber|Random(1,3)}", _context())) for _ in range(60)}
    assert values <= {1, 2, 3} and len(values) > 1


def test_format_on_text_holding_a_timestamp() -> None:
    conversation = fx.conversation()
    conversation["participants"][0]["attributes"]["Callback"] = "2026-03-24T12:00:00Z"
    ctx = _context(conversation=conversation)
    assert one("{CustomerCall.Attribute.Callback|Format(yyyyMMdd)}", ctx) == "20260324"


# --- time zones and daylight saving ---------------------------------------------------------------


def _at(utc_text: str, zone: str) -> str:
    recording = fx.recording()
    recording["startTime"] = utc_text
    ctx = _context(profile=_profile(time_zone_offset=zone), recording=recording)
    return one("{Recording.StartTime|Format(yyyy-MM-dd HH.mm zzz)}", ctx)


@pytest.mark.parametrize(
    ("utc", "zone", "expected"),
    [
        ("2026-03-24T13:30:22Z", "+01:00", "2026-03-24 14.30 +01_00"),
        ("2026-03-24T13:30:22Z", "-05:30", "2026-03-24 08.00 -05_30"),
        ("2026-03-24T13:30:22Z", "+00:00", "2026-03-24 13.30 +00_00"),
        ("2026-03-24T23:30:00Z", "+01:00", "2026-03-25 00.30 +01_00"),  # crosses midnight
        # Europe/Oslo: clocks go 02:00 -> 03:00 on 2026-03-29 (01:00 UTC)
        ("2026-03-29T00:59:00Z", "Europe/Oslo", "2026-03-29 01.59 +01_00"),
        ("2026-03-29T01:00:00Z", "Europe/Oslo", "2026-03-29 03.00 +02_00"),
        # and back 03:00 -> 02:00 on 2026-10-25 (01:00 UTC): 02:30 happens twice
        ("2026-10-25T00:30:00Z", "Europe/Oslo", "2026-10-25 02.30 +02_00"),
        ("2026-10-25T01:30:00Z", "Europe/Oslo", "2026-10-25 02.30 +01_00"),
        # America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC)
        ("2026-03-08T06:59:00Z", "America/New_York", "2026-03-08 01.59 -05_00"),
        ("2026-03-08T07:00:00Z", "America/New_York", "2026-03-08 03.00 -04_00"),
    ],
)
def test_timestamps_are_shifted_to_the_profile_time_zone(utc: str, zone: str, expected: str) -> None:
    assert _at(utc, zone) == expected


# --- fallbacks for missing values -----------------------------------------------------------------


def test_documented_fallbacks() -> None:
    ctx = _context(recording=None, transcript=None, conversation=None, user_names={}, queue_names={})
    assert one("{Recording.Id}", ctx) == "unknown"
    assert one("{Recording.StartTime|Format(HHmmss)}", ctx) == "142940"  # -> Conversation.StartTime
    assert one("{Transcript.StartTime|Format(HHmmss)}", ctx) == "142940"  # -> Recording -> Conversation
    assert one("{Recording.EndTime|Format(HHmmss)}", ctx) == "143605"  # -> Conversation.EndTime
    assert one("{Acd.Name}", ctx) == "unknown"  # queue name not looked up
    assert one("{Agent.Name}", ctx) == "Jane Smith"  # participantName stands in for the user lookup
    assert one("{CustomerCall.Attribute.CRMTicketNumber}", ctx) == "unknown"
    assert one("{SequenceNumber}", ctx) == "0"  # no sequence store given


def test_conversation_end_falls_back_to_start_while_in_progress() -> None:
    details = fx.details()
    del details["conversationEnd"]
    assert one("{Conversation.EndTime|Format(HHmmss)}", _context(details=details)) == "142940"


# --- parsing and validation -----------------------------------------------------------------------


def test_separators_split_folders_and_values_never_do() -> None:
    conversation = fx.conversation()
    conversation["participants"][0]["attributes"]["Team"] = "a/b\\c"
    ctx = _context(conversation=conversation)
    assert render("x/{CustomerCall.Attribute.Team}\\y", ctx) == ("x", "a_b_c", "y")
    assert render("/leading//double\\\\sep/", ctx) == ("leading", "double", "sep")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{Nope}", "unknown placeholder {Nope}"),
        ("{Agent.Name|Shout}", "unknown function 'Shout'"),
        ("{Agent.Name|ToUpper(1)}", "ToUpper takes 0 argument(s), got 1"),
        ("{Agent.Name|PadLeft}", "PadLeft takes 1..2 argument(s), got 0"),
        ("{Agent.Name|PadLeft(x)}", "width must be a whole number"),
        ("{Agent.Name|PadLeft(5,ab)}", "fill must be exactly one character"),
        ("{Agent.Name|ToUtc}", "ToUtc needs a date/time placeholder"),
        ("{Recording.StartTime|Format(yyyy);ToUtc}", "ToUtc needs a date/time placeholder"),
        ("{Recording.StartTime|Format(ffffffff)}", "more than seven 'f'"),
        ("{Recording.StartTime|Format(q)}", "not a standard date/time format"),
        ("{Recording.StartTime|Format()}", "Format needs a format string"),
        ("{SequenceNumber|Format(yyyy)}", "number format 'yyyy'"),
        ("{Recording.StartTime|ToOffset(Mars/Olympus)}", "not a known IANA time zone"),
        ("{RandomNumber|Random(9,1)}", "minimum is larger than the maximum"),
        ("{RandomNumber|Random(a,b)}", "two whole numbers"),
        ("{Agent.Name", "unclosed '{'"),
        ("Agent}", "unexpected '}'"),
        ("{}", "empty placeholder name"),
        ("{Agent.Name|}", "empty function name"),
        ("{Recording.StartTime|Format(yyyy}", "unclosed '('"),
        ("{Recording.StartTime|Format(yyyy)x}", "expected ';' or '}'"),
        ("{CustomerCall.Attribute.}", "unknown placeholder"),
    ],
)
def test_validation_errors(template: str, message: str) -> None:
    problems = validate(template)
    assert problems and message in problems[0], problems


def test_parse_errors_raise_template_error() -> None:
    with pytest.raises(TemplateError):
        parse("{open")


def test_format_argument_may_hold_quotes_parentheses_and_semicolons() -> None:
    template = "{Recording.StartTime|Format('(' yyyy ')' ';');ToLower}"
    assert validate(template) == []
    assert one(template, _context()) == "( 2026 ) ;"


def test_placeholder_table_in_docs_matches_code() -> None:
    text = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "storage.md").read_text(
        encoding="utf-8"
    )
    documented = set(re.findall(r"^\| `\{([A-Za-z.]+)\}` \|", text, re.MULTILINE))
    assert documented == set(PLACEHOLDERS)


def test_sparse_and_odd_documents_never_break_rendering() -> None:
    details = {
        "conversationId": "c-1",
        "conversationStart": "2026-03-24T13:29:40Z",
        "participants": [
            {"purpose": "customer", "sessions": None},
            {
                "purpose": "agent",
                "userId": "u1",
                "sessions": [{"segments": [{"segmentStart": "not a time"}]}],
            },
        ],
    }
    ctx = build_context(
        details=details,
        profile=_profile(),
        recording={"id": "r", "users": None, "startTime": None},
        transcript={"transcripts": [None]},
        now=NOW,
        machine_name="M",
    )
    template = "_".join(f"{{{name}}}" for name in PLACEHOLDERS)
    assert validate(template) == []
    (rendered,) = render(template, ctx)
    assert rendered.startswith("c-1_2026-03-24_14-29-40_")
