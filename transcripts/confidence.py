"""Low-confidence filtering: the one place that decides what speech is good enough to export.

Why these numbers: Genesys Cloud word confidences are 0..1 floats; on the published sample the
mean word confidence per phrase ranged 0.72-0.85 while single words went as low as 0.39. A phrase
whose words average below 0.5 is more likely wrong than right, so it is dropped (PHRASE_MIN_SCORE).
Single words are noisier than phrases; a word below 0.3 inside a kept phrase is usually a
mis-hearing of a short function word, so it is removed from the displayed text (WORD_MIN_CONFIDENCE,
LOW_WORD_ACTION) while the phrase and its timing stay. Using the mean rather than the min as the
phrase score keeps one mumbled word from throwing away a whole sentence; `PhraseScore` records the
source so the CSV shows how each score was obtained. `stability` (streaming-hypothesis stability,
1 on final transcripts) is never used: it is not a confidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from transcripts.model import Phrase, Word

logger = logging.getLogger(__name__)

PHRASE_MIN_SCORE = 0.5
"""Phrases whose score is below this are dropped from every format except RAW."""

WORD_MIN_CONFIDENCE = 0.3
"""Words below this inside a kept phrase are handled by LOW_WORD_ACTION."""

PHRASE_SCORE_FROM_WORDS: Literal["mean", "min"] = "mean"
"""How a phrase without its own `confidence` is scored from its words."""

LOW_WORD_ACTION: Literal["drop", "mask"] = "drop"
"""'drop' removes a low-confidence word from the text; 'mask' shows it as LOW_WORD_MASK."""

LOW_WORD_MASK = "[?]"


@dataclass(frozen=True)
class FilterPolicy:
    """The thresholds in force; the defaults are the constants above."""

    phrase_min_score: float = PHRASE_MIN_SCORE
    word_min_confidence: float = WORD_MIN_CONFIDENCE
    score_from_words: Literal["mean", "min"] = PHRASE_SCORE_FROM_WORDS
    low_word_action: Literal["drop", "mask"] = LOW_WORD_ACTION


DEFAULT_POLICY = FilterPolicy()


@dataclass(frozen=True)
class PhraseScore:
    value: float | None
    """None when neither the phrase nor any word has a confidence (such a phrase is kept)."""
    source: Literal["phrase", "words_mean", "words_min", "none"]
    min_word_confidence: float | None


def score_phrase(phrase: Phrase, policy: FilterPolicy = DEFAULT_POLICY) -> PhraseScore:
    confidences = [w.confidence for w in phrase.words if w.confidence is not None]
    min_word = min(confidences) if confidences else None
    if phrase.confidence is not None:
        return PhraseScore(phrase.confidence, "phrase", min_word)
    if not confidences:
        return PhraseScore(None, "none", None)
    if policy.score_from_words == "min":
        return PhraseScore(min_word, "words_min", min_word)
    return PhraseScore(sum(confidences) / len(confidences), "words_mean", min_word)


def keeps_phrase(score: PhraseScore, policy: FilterPolicy = DEFAULT_POLICY) -> bool:
    return score.value is None or score.value >= policy.phrase_min_score


def is_low_word(word: Word, policy: FilterPolicy = DEFAULT_POLICY) -> bool:
    return word.confidence is not None and word.confidence < policy.word_min_confidence
