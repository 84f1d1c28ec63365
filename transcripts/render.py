"""`render`: one transcript document, optionally mapped through one exported file's timeline, as bytes.

The service calls it once per (communication, exported audio file) with that file's
`ExportTimeline`, or once per document without a timeline when the audio was not cut.
"""

from __future__ import annotations

import logging
import time

from audio.timemap import ExportTimeline
from transcripts.confidence import DEFAULT_POLICY, FilterPolicy
from transcripts.cues import build_cues
from transcripts.formats import get_format
from transcripts.model import TranscriptDocument
from transcripts.speakers import SpeakerInfo

logger = logging.getLogger(__name__)


def render(
    doc: TranscriptDocument,
    format_name: str,
    *,
    speakers: SpeakerInfo | None = None,
    timeline: ExportTimeline | None = None,
    language: str | None = None,
    policy: FilterPolicy = DEFAULT_POLICY,
) -> bytes:
    """The document in `format_name` (RAW, AWS, TTML, SRT, VTT, SAMI, CSV, AUDLAB, GCTXT), UTF-8.

    `speakers` supplies names and IVR spans (default: IVR spans from the document's participants).
    With `timeline`, phrase times are mapped into that exported file (cut phrases dropped, partly
    cut ones clipped); without it they are relative to the document's start. `language` overrides
    the document's language tag. ValueError for an unknown format name.
    """
    fmt = get_format(format_name)
    began = time.perf_counter()
    cue_set = build_cues(doc, speakers=speakers, timeline=timeline, language=language, policy=policy)
    data = fmt.writer(cue_set)
    logger.debug(
        "conversation %s: %s transcript of %d phrase(s) (%d low-confidence, %d cut) in %.1f ms",
        doc.conversation_id or "?",
        fmt.name,
        len(cue_set.cues),
        cue_set.dropped_low_confidence,
        cue_set.dropped_cut,
        (time.perf_counter() - began) * 1000,
    )
    return data
