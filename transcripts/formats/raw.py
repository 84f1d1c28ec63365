"""RAW: the full Genesys Cloud transcript document, re-serialised as indented UTF-8 JSON.

Nothing is filtered or re-timed (times stay absolute epoch milliseconds), so no information is
lost; re-serialising also repairs what the tolerant reader recovered (e.g. trailing commas).
"""

from __future__ import annotations

import json
import logging

from transcripts.cues import CueSet

logger = logging.getLogger(__name__)


def render(cue_set: CueSet) -> bytes:
    try:
        text = json.dumps(cue_set.doc.raw, indent=2, ensure_ascii=False, allow_nan=False)
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (sent as a \ud800 escape) cannot be UTF-8: keep it as a JSON escape.
        return (json.dumps(cue_set.doc.raw, indent=2, ensure_ascii=True, allow_nan=False) + "\n").encode(
            "utf-8"
        )
