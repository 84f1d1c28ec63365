"""TTML, SAMI and AWS outputs on hand-made documents, checked by independent validators."""

from __future__ import annotations

import json

import pytest
from transcripts_fixtures import TUTORIAL_SAMPLE_TEXT, rich_document
from transcripts_validators import check_aws, check_sami, check_ttml

from transcripts.parse import load_transcript
from transcripts.render import render
from transcripts.speakers import SpeakerInfo

TT = "{http://www.w3.org/ns/ttml}"
TTM = "{http://www.w3.org/ns/ttml#metadata}"
XML = "{http://www.w3.org/XML/1998/namespace}"


@pytest.fixture
def tutorial():
    return load_transcript(TUTORIAL_SAMPLE_TEXT)


@pytest.fixture
def rich():
    return load_transcript(rich_document())


def test_ttml_is_schema_valid_with_language_and_agents(tutorial, rich, caplog):
    speakers = SpeakerInfo(agent_name="Jane Smith", customer_name="Zoë & Co")
    root = check_ttml(render(tutorial, "TTML", speakers=speakers), caplog)
    assert root.get(f"{XML}lang") == "en-US"
    agents = {a.get(f"{XML}id"): [n.text for n in a] for a in root.iter(f"{TTM}agent")}
    assert agents == {"agent": ["Jane Smith", "Agent"], "customer": ["Zoë & Co", "Customer"]}
    ps = list(root.iter(f"{TT}p"))
    assert [p.get(f"{TTM}agent") for p in ps] == ["agent", "agent", "customer", "agent", "agent"]
    assert (ps[0].get("begin"), ps[0].get("end"), ps[0].text) == (
        "00:00:10.900",
        "00:00:14.500",
        "hello Jane Doe",
    )
    rich_root = check_ttml(render(rich, "TTML"), caplog)
    assert rich_root.get(f"{XML}lang") == "fr-CA"
    assert any(p.text == "Bienvenue chez Acme & Co <inc>." for p in rich_root.iter(f"{TT}p"))


def test_ttml_without_language_says_undetermined(tutorial, caplog):
    tutorial.transcripts[0] = type(tutorial.transcripts[0])(
        **{**tutorial.transcripts[0].__dict__, "language": None}
    )
    root = check_ttml(render(tutorial, "TTML"), caplog)
    assert root.get(f"{XML}lang") == "und"


def test_sami_has_language_class_escaping_and_clearing_syncs(tutorial, rich):
    captions = check_sami(render(tutorial, "SAMI"), "en-US")
    assert captions[0].get_text() == "Agent: hello Jane Doe"
    assert (captions[0].start, captions[0].end) == (10_900_000, 14_500_000)
    data = render(rich, "SAMI").decode()
    assert ".FRCACC { Name: fr-CA; lang: fr-CA; SAMIType: CC; }" in data
    assert "Acme &amp; Co &lt;inc&gt;." in data
    rich_caps = check_sami(data.encode(), "fr-CA")
    assert rich_caps[-1].get_text() == "Customer: encore moi"
    assert rich_caps[-1].end == 23_000_000


def test_aws_items_channels_and_confidences(tutorial, rich):
    doc = check_aws(render(tutorial, "AWS"))
    items = doc["results"]["items"]
    assert items[0]["alternatives"][0] == {"confidence": "0.69", "content": "hello"}
    assert (items[0]["start_time"], items[0]["end_time"]) == ("11.190", "12.190")
    # customer (external) is ch_0 like the exported stereo audio; agent ch_1
    assert {i["channel_label"] for i in items if i["alternatives"][0]["content"] == "fine"} == {"ch_0"}
    assert {i["channel_label"] for i in items if i["alternatives"][0]["content"] == "okay"} == {"ch_1"}
    assert doc["results"]["transcripts"][0]["transcript"].startswith("hello Jane Doe how are you")
    rich_doc = check_aws(render(rich, "AWS"))
    contents = [i["alternatives"][0]["content"] for i in rich_doc["results"]["items"]]
    assert "ok" not in contents  # word confidence 0.1 < threshold: dropped like in every format
    assert "tab here" in contents
    assert rich_doc["results"]["language_code"] == "fr-CA"


def test_aws_phrase_without_words_gets_evenly_spread_items():
    doc = load_transcript(
        {
            "conversationId": "c-1",
            "transcripts": [
                {
                    "startTime": 1000,
                    "phrases": [
                        {
                            "text": "one two",
                            "startTimeMs": 2000,
                            "duration": {"milliseconds": 1000},
                            "participantPurpose": "external",
                            "confidence": 0.9,
                        }
                    ],
                }
            ],
        }
    )
    out = check_aws(render(doc, "AWS"))
    items = out["results"]["items"]
    assert [(i["start_time"], i["end_time"], i["alternatives"][0]["confidence"]) for i in items] == [
        ("1.000", "1.500", "0.9"),
        ("1.500", "2.000", "0.9"),
    ]
    assert json.loads(render(doc, "AWS"))["jobName"] == "c-1"
