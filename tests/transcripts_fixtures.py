"""Hand-made transcript fixtures for the transcripts tests.

`TUTORIAL_SAMPLE_TEXT` reproduces the transcript that Genesys ships with its Developer Center
voice-transcript tutorial (same keys and values), including its flaw: a trailing comma after the
last phrase, which makes it invalid strict JSON.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

logger = logging.getLogger(__name__)

SAMPLE_START = 1610679598066
SAMPLE_CONVERSATION = "12345abc-1234-123a-5678-abc123xyz"


def _word(word: str, confidence: float, start: int, ms: int) -> dict[str, Any]:
    return {"word": word, "confidence": confidence, "startTimeMs": start, "duration": {"milliseconds": ms}}


def _phrase(text: str, start: int, ms: int, words: list[dict[str, Any]], purpose: str) -> dict[str, Any]:
    return {
        "text": text,
        "stability": 1,
        "startTimeMs": start,
        "duration": {"milliseconds": ms},
        "words": words,
        "alternatives": [],
        "participantPurpose": purpose,
    }


_PARTY = {
    "initialDirection": "inbound",
    "divisionId": "0edd806a-1a02-45f9-bc3a-32f430151b65",
    "ani": "tel:+163288406444",
    "dnis": "tel:+18443572040",
}
_QUEUE = "a6f03f8d-bb75-4bcf-8304-2d73a0f21572"

TUTORIAL_SAMPLE: dict[str, Any] = {
    "organizationId": SAMPLE_CONVERSATION,
    "conversationId": SAMPLE_CONVERSATION,
    "communicationId": SAMPLE_CONVERSATION,
    "transcripts": [
        {
            "transcriptId": SAMPLE_CONVERSATION,
            "language": "en-US",
            "programId": "",
            "startTime": SAMPLE_START,
            "duration": {"milliseconds": 42000},
            "phrases": [
                _phrase(
                    "hello Jane Doe",
                    1610679608966,
                    3600,
                    [
                        _word("hello", 0.69, 1610679609256, 1000),
                        _word("Jane", 0.7, 1610679611486, 330),
                        _word("Doe", 0.78, 1610679612216, 240),
                    ],
                    "internal",
                ),
                _phrase(
                    "how are you",
                    1610679614466,
                    900,
                    [
                        _word("how", 0.93, 1610679614466, 90),
                        _word("are", 0.93, 1610679614556, 360),
                        _word("you", 0.39, 1610679615166, 140),
                    ],
                    "internal",
                ),
                _phrase(
                    "i'm fine how about you",
                    1610679614866,
                    2000,
                    [
                        _word("i'm", 0.78, 1610679614906, 150),
                        _word("fine", 0.63, 1610679615056, 370),
                        _word("how", 0.59, 1610679615666, 300),
                        _word("about", 0.84, 1610679616126, 340),
                        _word("you", 0.81, 1610679616546, 290),
                    ],
                    "external",
                ),
                _phrase("okay", 1610679615766, 600, [_word("okay", 0.81, 1610679615766, 570)], "internal"),
                _phrase(
                    "thank you goodbye",
                    1610679647566,
                    1400,
                    [
                        _word("thank", 1, 1610679647566, 350),
                        _word("you", 1, 1610679647916, 280),
                        _word("goodbye", 0.54, 1610679648386, 400),
                    ],
                    "internal",
                ),
            ],
            "analytics": {"sentiment": []},
        }
    ],
    "participants": [
        {
            "participantPurpose": "customer",
            **_PARTY,
            "queueId": _QUEUE,
            "startTimeMs": 1610679597477,
            "endTimeMs": 1610679650389,
        },
        {
            "participantPurpose": "ivr",
            **_PARTY,
            "flowId": "3901d79a-4148-4921-af03-24deaa0d0c71",
            "startTimeMs": 1610679597375,
            "endTimeMs": 1610679608178,
        },
        {
            "participantPurpose": "acd",
            **_PARTY,
            "queueId": _QUEUE,
            "startTimeMs": 1610679608191,
            "endTimeMs": 1610679612014,
        },
        {
            "participantPurpose": "agent",
            "userId": "6ade8ef8-bbc5-4f05-9ad5-31be015fda25",
            **_PARTY,
            "queueId": _QUEUE,
            "startTimeMs": 1610679612011,
            "endTimeMs": 1610679650388,
        },
    ],
    "uri": "/transcript/v1/organizations/03671e89-0883-48b0-8284-cd5260c38745/conversations/"
    "74a9811f-9eee-4b75-b53b-2cb4959b90f1/communications/778a72f3-4d31-48fc-8adc-bd52c0939e37",
    "startTime": SAMPLE_START,
    "duration": {"milliseconds": 42000},
    "mediaType": "call",
    "conversationStartTime": 1610679597052,
}


def _with_trailing_comma(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, indent=2)
    marker = '"participantPurpose": "internal"\n        }\n      ],'
    assert marker in text, "fixture layout changed"
    return text.replace(marker, '"participantPurpose": "internal"\n        },\n      ],', 1)


TUTORIAL_SAMPLE_TEXT: str = _with_trailing_comma(TUTORIAL_SAMPLE)
"""The published sample as text: a trailing comma after the last phrase (not strict JSON)."""


def sample() -> dict[str, Any]:
    """A fresh deep copy of the tutorial sample (strict JSON-able)."""
    return copy.deepcopy(TUTORIAL_SAMPLE)


def rich_document() -> dict[str, Any]:
    """A newer-style document: two transcripts, phraseIndex, decoratedText, phrase confidence,
    channel, sentiment, characters every format must escape, and a low-confidence phrase."""
    base = 1_700_000_000_000
    conv = "0b5c7d1e-2f30-4a41-9b52-c6d7e8f90a1b"

    def phrase(index, start, ms, purpose, words, **extra):
        ws = [
            {
                "word": w,
                "confidence": c,
                "startTimeMs": start + k * (ms // len(words)),
                "duration": {"milliseconds": ms // len(words) - 10},
            }
            for k, (w, c) in enumerate(words)
        ]
        return {
            "phraseIndex": index,
            "text": " ".join(w for w, _ in words),
            "stability": 1,
            "startTimeMs": start,
            "duration": {"milliseconds": ms},
            "words": ws,
            "alternatives": [],
            "participantPurpose": purpose,
            **extra,
        }

    t1 = {
        "transcriptId": "tr-1",
        "language": "fr-CA",
        "startTime": base,
        "duration": {"milliseconds": 30000},
        "phrases": [
            phrase(
                0,
                base + 500,
                2500,
                "internal",
                [("bienvenue", 0.9), ("chez", 0.9), ("Acme", 0.95)],
                decoratedText="Bienvenue chez Acme & Co <inc>.",
                channel="INTERNAL",
            ),
            phrase(
                1,
                base + 4000,
                2000,
                "external",
                [("bonjour", 0.8), ("Zoë", 0.85)],
                decoratedText='Bonjour, "Zoë" --> ici.',
                confidence=0.82,
            ),
            phrase(2, base + 5000, 3000, "internal", [("tab\there", 0.9), ("ok", 0.1), ("merci", 0.92)]),
            phrase(3, base + 9000, 1000, "external", [("mumble", 0.2), ("grr", 0.3)]),
            phrase(4, base + 12000, 1500, "internal", [("au", 0.7), ("revoir", 0.8)], confidence=0.3),
        ],
        "analytics": {"sentiment": [{"phraseIndex": 1, "sentiment": 0.6, "participant": "external"}]},
    }
    t2 = {
        "transcriptId": "tr-2",
        "language": "fr-CA",
        "startTime": base + 20000,
        "duration": {"milliseconds": 8000},
        "phrases": [phrase(0, base + 21000, 2000, "external", [("encore", 0.9), ("moi", 0.9)])],
    }
    return {
        "organizationId": "org-1",
        "conversationId": conv,
        "communicationId": "comm-1",
        "transcripts": [t1, t2],
        "participants": [],
        "startTime": base,
        "duration": {"milliseconds": 30000},
        "mediaType": "call",
        "conversationStartTime": base - 2000,
    }
