"""TTML: a W3C TTML1 document (valid against the TTML1 XML Schema), speakers as `ttm:agent`s.

`<tt xml:lang=… ttp:timeBase="media">`; `head/metadata` holds a title and one
`<ttm:agent type="person">` per speaker (`ttm:name type="full"` is the person's name, or the role
when unknown; `type="alias"` is the role: Agent, Customer, IVR); each phrase is a
`<p begin end ttm:agent>` in `body/div`, clock-time `HH:MM:SS.mmm`. TTML allows overlapping
paragraphs, so each phrase keeps its own timing. The IVR is an agent of type "other".
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

from transcripts.cues import CueSet
from transcripts.formats._common import clock
from transcripts.speakers import IVR, Speaker

logger = logging.getLogger(__name__)

TT = "http://www.w3.org/ns/ttml"
TTM = "http://www.w3.org/ns/ttml#metadata"
TTP = "http://www.w3.org/ns/ttml#parameter"
TTS = "http://www.w3.org/ns/ttml#styling"
XML = "http://www.w3.org/XML/1998/namespace"
for _prefix, _uri in (("", TT), ("ttm", TTM), ("ttp", TTP), ("tts", TTS)):
    ET.register_namespace(_prefix, _uri)


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _agent_ids(cue_set: CueSet) -> dict[Speaker, str]:
    ids: dict[Speaker, str] = {}
    per_role: dict[str, int] = {}
    for cue in cue_set.cues:
        if cue.speaker not in ids:
            per_role[cue.speaker.role] = per_role.get(cue.speaker.role, 0) + 1
            n = per_role[cue.speaker.role]
            ids[cue.speaker] = cue.speaker.role if n == 1 else f"{cue.speaker.role}{n}"
    return ids


def render(cue_set: CueSet) -> bytes:
    doc = cue_set.doc
    tt = ET.Element(_q(TT, "tt"), {_q(XML, "lang"): cue_set.language, _q(TTP, "timeBase"): "media"})
    head = ET.SubElement(tt, _q(TT, "head"))
    metadata = ET.SubElement(head, _q(TT, "metadata"))
    title = ET.SubElement(metadata, _q(TTM, "title"))
    title.text = f"Conversation {doc.conversation_id or 'unknown'}"
    if doc.communication_id:
        desc = ET.SubElement(metadata, _q(TTM, "desc"))
        desc.text = f"Communication {doc.communication_id}; transcripts " + ", ".join(
            t.transcript_id for t in doc.transcripts
        )
    agent_ids = _agent_ids(cue_set)
    for speaker, agent_id in agent_ids.items():
        agent = ET.SubElement(
            metadata,
            _q(TTM, "agent"),
            {_q(XML, "id"): agent_id, "type": "other" if speaker.role == IVR else "person"},
        )
        ET.SubElement(agent, _q(TTM, "name"), {"type": "full"}).text = speaker.display
        ET.SubElement(agent, _q(TTM, "name"), {"type": "alias"}).text = speaker.label
    styling = ET.SubElement(head, _q(TT, "styling"))
    ET.SubElement(
        styling,
        _q(TT, "style"),
        {
            _q(XML, "id"): "caption",
            _q(TTS, "fontFamily"): "proportionalSansSerif",
            _q(TTS, "textAlign"): "center",
            _q(TTS, "color"): "white",
            _q(TTS, "backgroundColor"): "black",
        },
    )
    layout = ET.SubElement(head, _q(TT, "layout"))
    ET.SubElement(
        layout,
        _q(TT, "region"),
        {
            _q(XML, "id"): "bottom",
            _q(TTS, "origin"): "10% 75%",
            _q(TTS, "extent"): "80% 20%",
            _q(TTS, "displayAlign"): "after",
        },
    )
    body = ET.SubElement(tt, _q(TT, "body"), {"region": "bottom", "style": "caption"})
    div = ET.SubElement(body, _q(TT, "div"))
    for number, cue in enumerate(cue_set.cues, start=1):
        p = ET.SubElement(
            div,
            _q(TT, "p"),
            {
                _q(XML, "id"): f"p{number}",
                "begin": clock(cue.start_ms),
                "end": clock(cue.end_ms),
                _q(TTM, "agent"): agent_ids[cue.speaker],
            },
        )
        p.text = cue.text
    ET.indent(tt, space="  ")
    return ET.tostring(tt, encoding="utf-8", xml_declaration=True) + b"\n"
