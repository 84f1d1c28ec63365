"""`render`: one transcript document, optionally mapped through one exported file's timeline, as bytes.

The service calls it once per (communication, exported audio file) with that file's
`ExportTimeline`, or once per document without a timeline when the audio was not cut.
`render_many` does several formats of the same document and timeline while building the cues once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from audio.timemap import ExportTimeline
from transcripts.confidence import DEFAULT_POLICY, FilterPolicy
from transcripts.cues import CueSet, build_cues
from transcripts.formats import get_format
from transcripts.model import TranscriptDocument
from transcripts.speakers import SpeakerInfo
from transcripts.text import UNDETERMINED_LANGUAGE

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
    the document's language tag. RAW is the whole document as it is (no filtering, absolute times).
    ValueError for an unknown format name.
    """
    return render_many(
        doc, [format_name], speakers=speakers, timeline=timeline, language=language, policy=policy
    )[get_format(format_name).name]


def render_many(
    doc: TranscriptDocument,
    format_names: Iterable[str],
    *,
    speakers: SpeakerInfo | None = None,
    timeline: ExportTimeline | None = None,
    language: str | None = None,
    policy: FilterPolicy = DEFAULT_POLICY,
) -> dict[str, bytes]:
    """Several formats of one document (format name -> bytes), sharing the filtering and timing."""
    formats = [get_format(name) for name in format_names]
    began = time.perf_counter()
    cue_set: CueSet | None = None
    out: dict[str, bytes] = {}
    for fmt in formats:
        if fmt.filtered:
            if cue_set is None:
                cue_set = build_cues(
                    doc, speakers=speakers, timeline=timeline, language=language, policy=policy
                )
            cues = cue_set
        else:
            cues = _unfiltered(doc, speakers, timeline, language, policy)
        out[fmt.name] = fmt.writer(cues)
    if cue_set is not None:
        logger.debug(
            "conversation %s: %s of %d phrase(s) (%d low-confidence, %d cut) in %.1f ms",
            doc.conversation_id or "?",
            "/".join(out),
            len(cue_set.cues),
            cue_set.dropped_low_confidence,
            cue_set.dropped_cut,
            (time.perf_counter() - began) * 1000,
        )
    return out


def _unfiltered(
    doc: TranscriptDocument,
    speakers: SpeakerInfo | None,
    timeline: ExportTimeline | None,
    language: str | None,
    policy: FilterPolicy,
) -> CueSet:
    return CueSet(
        doc=doc,
        cues=[],
        speakers=speakers or SpeakerInfo(),
        language=language or doc.language or UNDETERMINED_LANGUAGE,
        policy=policy,
        timeline=timeline,
    )
