"""SAMI (.smi): Microsoft Synchronized Accessible Media Interchange captions.

A caption stays on screen until the next `<SYNC>`, so SAMI can show one caption at a time: the
phrases are split into non-overlapping blocks exactly as for SRT (each block shows every phrase
being spoken, one `Speaker: text` line each, joined by `<br>`), and a `&nbsp;` SYNC clears the
screen at the end of each block that is followed by silence. `Start` is integer milliseconds. The
language is a class in the style block (`.ENUSCC { Name: en-US; lang: en-US; SAMIType: CC; }`)
that every `<P>` uses; text is HTML-escaped.
"""

from __future__ import annotations

import html
import logging
import re

from transcripts.cues import CueSet
from transcripts.formats._common import stacked_blocks

logger = logging.getLogger(__name__)

_NOT_CLASS = re.compile(r"[^A-Za-z0-9]")


def language_class(language: str) -> str:
    return _NOT_CLASS.sub("", language).upper() + "CC"


def render(cue_set: CueSet) -> bytes:
    doc = cue_set.doc
    cls = language_class(cue_set.language)
    lang = html.escape(cue_set.language)
    out = [
        "<SAMI>",
        "<HEAD>",
        f"<TITLE>{html.escape('Conversation ' + (doc.conversation_id or 'unknown'))}</TITLE>",
        "<SAMIParam>",
        "  Metrics {time:ms;}",
        "  Spec {MSFT:1.0;}",
        "</SAMIParam>",
        '<STYLE TYPE="text/css">',
        "<!--",
        "P { font-family: Arial; font-weight: normal; color: white; background-color: black;"
        " text-align: center; }",
        f".{cls} {{ Name: {lang}; lang: {lang}; SAMIType: CC; }}",
        "-->",
        "</STYLE>",
        "</HEAD>",
        "<BODY>",
    ]
    blocks = stacked_blocks(cue_set.cues)
    for k, block in enumerate(blocks):
        lines = "<br>".join(
            html.escape(f"{cue.speaker.label}: {cue.text}", quote=False) for cue in block.cues
        )
        out.append(f'<SYNC Start="{block.start_ms}"><P Class="{cls}">{lines}</P></SYNC>')
        if k + 1 == len(blocks) or blocks[k + 1].start_ms > block.end_ms:
            out.append(f'<SYNC Start="{block.end_ms}"><P Class="{cls}">&nbsp;</P></SYNC>')
    out += ["</BODY>", "</SAMI>"]
    return ("\n".join(out) + "\n").encode("utf-8")
