"""From parsed phrases to cues: filtered, labelled and timed in the exported file.

Every format except RAW renders the same `CueSet`, so filtering, speaker labels and timing are
decided once. With an `ExportTimeline` each phrase (and each word) is mapped through the cuts the
audio export made: a phrase wholly cut out is dropped, a partly cut one is clipped to what is kept
and loses the words that were cut. Without a timeline, times are relative to the document's start
(the earliest `transcripts[].startTime`, which is the transcript's start for the usual
single-transcript document).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from audio.channels import channel_of_side
from audio.timemap import ExportTimeline
from transcripts.confidence import (
    DEFAULT_POLICY,
    FilterPolicy,
    PhraseScore,
    is_low_word,
    keeps_phrase,
    score_phrase,
)
from transcripts.confidence import LOW_WORD_MASK as _MASK
from transcripts.model import Phrase, Transcript, TranscriptDocument
from transcripts.speakers import Speaker, SpeakerInfo
from transcripts.text import UNDETERMINED_LANGUAGE, clean_text, language_tag

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = UNDETERMINED_LANGUAGE


@dataclass(frozen=True)
class CueWord:
    text: str
    start_ms: int
    end_ms: int
    confidence: float | None


@dataclass(frozen=True)
class Cue:
    """One kept phrase, timed in the output (milliseconds from the start of the exported file)."""

    start_ms: int
    end_ms: int
    text: str
    speaker: Speaker
    phrase: Phrase
    transcript: Transcript
    score: PhraseScore
    words: tuple[CueWord, ...]
    low_words: int
    """Words of this phrase below the word threshold (dropped or masked from `text`)."""
    clipped: bool
    """Part of the phrase was cut out of the exported audio."""

    @property
    def side(self) -> str:
        """'internal' or 'external' (the channel side), 'unknown' otherwise."""
        channel = (self.phrase.channel or "").lower()
        if channel in ("internal", "external"):
            return channel
        return self.phrase.purpose if self.phrase.purpose in ("internal", "external") else "unknown"

    @property
    def channel_index(self) -> int | None:
        return channel_of_side(self.side) if self.side != "unknown" else None


@dataclass
class CueSet:
    """What the formats render: the kept cues in start order plus what they need to say about them."""

    doc: TranscriptDocument
    cues: list[Cue]
    speakers: SpeakerInfo
    language: str
    policy: FilterPolicy
    timeline: ExportTimeline | None
    dropped_low_confidence: int = 0
    dropped_cut: int = 0
    notes: list[str] = field(default_factory=list)


def build_cues(
    doc: TranscriptDocument,
    *,
    speakers: SpeakerInfo | None = None,
    timeline: ExportTimeline | None = None,
    language: str | None = None,
    policy: FilterPolicy = DEFAULT_POLICY,
) -> CueSet:
    fallback = SpeakerInfo.from_transcript_participants(doc.participants)
    speakers = speakers.with_fallback(fallback) if speakers else fallback
    span = _span_mapper(doc, timeline)
    result = CueSet(
        doc=doc,
        cues=[],
        speakers=speakers,
        language=_language(doc, language),
        policy=policy,
        timeline=timeline,
    )
    for transcript in doc.transcripts:
        for phrase in transcript.phrases:
            cue = _cue(phrase, transcript, speakers, span, policy, result)
            if cue is not None:
                result.cues.append(cue)
    result.cues.sort(key=lambda c: (c.start_ms, c.end_ms, c.side))
    if result.dropped_low_confidence or result.dropped_cut:
        logger.debug(
            "conversation %s: %d phrase(s) kept, %d below confidence %.2f, %d cut from the audio",
            doc.conversation_id or "?",
            len(result.cues),
            result.dropped_low_confidence,
            policy.phrase_min_score,
            result.dropped_cut,
        )
    return result


SpanMapper = Callable[[float, float], "tuple[int, int] | None"]


def _language(doc: TranscriptDocument, requested: str | None) -> str:
    for value in (requested, doc.language):
        tag = language_tag(value)
        if tag:
            return tag
        if value:
            logger.warning(
                "conversation %s: %r is not a language tag; using %r",
                doc.conversation_id or "?",
                value,
                DEFAULT_LANGUAGE,
            )
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _span_mapper(doc: TranscriptDocument, timeline: ExportTimeline | None) -> SpanMapper:
    if timeline is not None:

        def mapped(start_ms: float, end_ms: float) -> tuple[int, int] | None:
            out = timeline.map_span(start_ms, end_ms)
            if out is None:
                return None
            a, b = round(out[0] * 1000), round(out[1] * 1000)
            return (a, b) if b > a else None

        return mapped
    zero = doc.start_ms

    def relative(start_ms: float, end_ms: float) -> tuple[int, int] | None:
        a, b = max(round(start_ms - zero), 0), round(end_ms - zero)
        return (a, b) if b > a else None

    return relative


def _cue(
    phrase: Phrase,
    transcript: Transcript,
    speakers: SpeakerInfo,
    span: SpanMapper,
    policy: FilterPolicy,
    result: CueSet,
) -> Cue | None:
    score = score_phrase(phrase, policy)
    if not keeps_phrase(score, policy):
        result.dropped_low_confidence += 1
        return None
    end_ms = max(phrase.end_ms, phrase.start_ms + 1)
    mapped = span(phrase.start_ms, end_ms)
    if mapped is None:
        result.dropped_cut += 1
        return None
    words, parts, low, cut = [], [], 0, 0
    # A phrase kept whole (not cut) moves as one piece: its words shift by the same offset.
    shift = mapped[0] - phrase.start_ms if mapped[1] - mapped[0] == end_ms - phrase.start_ms else None
    for word in phrase.words:
        word_end = max(word.end_ms, word.start_ms + 1)
        if shift is not None and phrase.start_ms <= word.start_ms and word_end <= end_ms:
            word_span: tuple[int, int] | None = (word.start_ms + shift, word_end + shift)
        else:
            word_span = span(word.start_ms, word_end)
        if word_span is None:
            cut += 1
            continue
        if is_low_word(word, policy):
            low += 1
            if policy.low_word_action == "drop":
                continue
            parts.append(_MASK)
        else:
            parts.append(word.word)
        words.append(CueWord(clean_text(word.word), word_span[0], word_span[1], word.confidence))
    if phrase.words and not words:
        if cut:
            result.dropped_cut += 1
        else:
            result.dropped_low_confidence += 1
        return None
    if phrase.words and (low or cut):
        text = " ".join(parts)
    else:
        text = phrase.decorated_text or phrase.text
    text = clean_text(text)
    if not text:
        result.dropped_low_confidence += 1
        return None
    return Cue(
        start_ms=mapped[0],
        end_ms=mapped[1],
        text=text,
        speaker=speakers.speaker_for(phrase.purpose, phrase.start_ms, phrase.end_ms),
        phrase=phrase,
        transcript=transcript,
        score=score,
        words=tuple(words),
        low_words=low,
        clipped=bool(cut) or (mapped[1] - mapped[0]) < (end_ms - phrase.start_ms) - 1,
    )
