"""Read a Genesys Cloud STA transcript document, tolerating what can be safely recovered.

`load_transcript` accepts the bytes behind the pre-signed transcript URL, a str, or an already
decoded dict. Recovered problems (a trailing comma as in Genesys's own published sample, a UTF-8
byte order mark, a phrase without a duration, a word with an out-of-range confidence) become
entries in `TranscriptDocument.warnings` and one WARNING log line; what cannot be understood (not
JSON, truncated, no `transcripts` list, a transcript without usable phrases list) raises
`TranscriptError` naming the conversation and the problem. A bad phrase is skipped with a warning
and never costs the rest of the document.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from typing import Any

from transcripts.errors import TranscriptError
from transcripts.model import Phrase, Transcript, TranscriptDocument, Word
from transcripts.text import clean_text

logger = logging.getLogger(__name__)

_CONVERSATION_ID = re.compile(r'"conversationId"\s*:\s*"([^"\\]{1,100})"')


def load_transcript(
    data: bytes | str | dict[str, Any], *, conversation_id: str | None = None
) -> TranscriptDocument:
    """Parse one STA transcript document (all of its `transcripts[]`)."""
    warnings = _Warnings()
    if isinstance(data, dict):
        obj: Any = data
    elif isinstance(data, bytes | bytearray | str):
        obj = _decode_json(data, conversation_id, warnings)
    else:
        raise TranscriptError(
            f"cannot read a transcript from a {type(data).__name__}", conversation_id=conversation_id
        )
    if not isinstance(obj, dict):
        raise TranscriptError(
            f"the document is a JSON {_json_type(obj)}, expected an object with 'transcripts'",
            conversation_id=conversation_id,
        )
    doc_conversation = _id(obj.get("conversationId"))
    if conversation_id and doc_conversation and doc_conversation != conversation_id:
        warnings.add(f"document says conversationId {doc_conversation!r}, expected {conversation_id!r}")
    conversation_id = conversation_id or doc_conversation
    doc = _build(obj, conversation_id, warnings)
    doc.warnings = warnings.render()
    if doc.warnings:
        logger.warning(
            "transcript of conversation %s, communication %s recovered: %s",
            conversation_id or "?",
            doc.communication_id or "?",
            "; ".join(doc.warnings),
        )
    return doc


def decode_json(data: bytes | str, *, conversation_id: str | None = None) -> tuple[Any, list[str]]:
    """The JSON value of a transcript document with what was recovered (a trailing comma, a byte order
    mark), without building the model; `TranscriptError` when it cannot be understood."""
    warnings = _Warnings()
    return _decode_json(data, conversation_id, warnings), warnings.render()


class _Warnings:
    """Collects recovered problems, counting repeats so a 2-hour file does not log 10,000 lines."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._examples: dict[str, str] = {}

    def add(self, message: str, *, kind: str | None = None) -> None:
        key = kind or message
        self._counts[key] += 1
        self._examples.setdefault(key, message)

    def render(self) -> list[str]:
        out = []
        for key, count in self._counts.items():
            example = self._examples[key]
            out.append(example if count == 1 else f"{example} (and {count - 1} more like it)")
        return out


def _json_type(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
    }.get(type(value), "null" if value is None else type(value).__name__)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _decode_json(data: bytes | bytearray | str, conversation_id: str | None, warnings: _Warnings) -> Any:
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TranscriptError(
                f"the document is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                conversation_id=conversation_id or _sniff_conversation(data.decode("latin-1")),
            ) from None
    else:
        text = data
    if text.startswith("\ufeff"):
        text = text[1:]
        warnings.add("removed a UTF-8 byte order mark")
    if not text.strip():
        raise TranscriptError("the document is empty", conversation_id=conversation_id)
    conversation_id = conversation_id or _sniff_conversation(text)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        first_error = exc
    repaired, positions = _remove_trailing_commas(text)
    if positions:
        try:
            obj = json.loads(repaired, parse_constant=_reject_constant)
        except ValueError:
            pass
        else:
            where = ", ".join(f"line {line} column {col}" for line, col in positions[:5])
            more = f" and {len(positions) - 5} more" if len(positions) > 5 else ""
            warnings.add(f"not strict JSON: removed trailing comma(s) at {where}{more}")
            return obj
    raise TranscriptError(_describe_json_error(first_error, text), conversation_id=conversation_id) from None


def _sniff_conversation(text: str) -> str | None:
    match = _CONVERSATION_ID.search(text[:4096])
    return match.group(1) if match else None


def _describe_json_error(exc: ValueError, text: str) -> str:
    if isinstance(exc, json.JSONDecodeError):
        if not text[exc.pos :].strip() and exc.pos > 0:
            return (
                f"the document is truncated: it ends at line {exc.lineno} column {exc.colno} "
                f"before the JSON is complete ({exc.msg})"
            )
        return f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    return f"not valid JSON: {exc}"


def _remove_trailing_commas(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Drop every ',' that is followed (after whitespace) by ']' or '}', outside strings."""
    out: list[str] = []
    positions: list[tuple[int, int]] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        ch = text[i]
        if in_string:
            if ch == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "]}":
                line = text.count("\n", 0, i) + 1
                positions.append((line, i - text.rfind("\n", 0, i)))
                i += 1
                continue
        out.append(ch)
        i += 1
    return "".join(out), positions


def _id(value: Any) -> str | None:
    """An id as printable text (ids are written into headers and file metadata)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return clean_text(str(value)) or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _duration_ms(value: Any) -> float | None:
    if isinstance(value, dict):
        return _number(value.get("milliseconds"))
    return _number(value)


def _build(obj: dict[str, Any], conversation_id: str | None, warnings: _Warnings) -> TranscriptDocument:
    def fail(problem: str) -> TranscriptError:
        return TranscriptError(problem, conversation_id=conversation_id)

    if "transcripts" not in obj:
        keys = ", ".join(sorted(map(str, obj))[:8]) or "none"
        raise fail(f"no 'transcripts' list in the document (top-level keys: {keys})")
    raw_transcripts = obj["transcripts"]
    if not isinstance(raw_transcripts, list):
        raise fail(f"'transcripts' is a JSON {_json_type(raw_transcripts)}, expected an array")
    doc_start = _number(obj.get("startTime"))
    transcripts: list[Transcript] = []
    for t_index, raw in enumerate(raw_transcripts):
        where = f"transcripts[{t_index}]"
        if not isinstance(raw, dict):
            raise fail(f"{where} is a JSON {_json_type(raw)}, expected an object")
        transcripts.append(_transcript(raw, where, doc_start, warnings, fail))
    if not transcripts:
        warnings.add("the document has no transcripts (no speech was transcribed)")
    starts = [t.start_ms for t in transcripts]
    if starts:
        start_ms = min(starts)
    elif doc_start is not None:
        start_ms = round(doc_start)
    else:
        start_ms = 0
    participants = obj.get("participants")
    conv_start = _number(obj.get("conversationStartTime"))
    return TranscriptDocument(
        conversation_id=conversation_id,
        communication_id=_id(obj.get("communicationId")),
        organization_id=_id(obj.get("organizationId")),
        start_ms=start_ms,
        transcripts=transcripts,
        participants=[p for p in participants if isinstance(p, dict)]
        if isinstance(participants, list)
        else [],
        conversation_start_ms=round(conv_start) if conv_start is not None else None,
        media_type=obj.get("mediaType") if isinstance(obj.get("mediaType"), str) else None,
        raw=obj,
    )


def _transcript(
    raw: dict[str, Any], where: str, doc_start: float | None, warnings: _Warnings, fail: Any
) -> Transcript:
    raw_phrases = raw.get("phrases", None)
    if raw_phrases is None:
        warnings.add(f"{where} has no 'phrases'; treated as empty", kind="no-phrases")
        raw_phrases = []
    if not isinstance(raw_phrases, list):
        raise fail(f"{where}.phrases is a JSON {_json_type(raw_phrases)}, expected an array")
    sentiments = _sentiments(raw.get("analytics"))
    phrases = []
    for p_index, raw_phrase in enumerate(raw_phrases):
        phrase = _phrase(raw_phrase, f"{where}.phrases[{p_index}]", p_index, sentiments, warnings)
        if phrase is not None:
            phrases.append(phrase)
    phrases.sort(key=lambda p: (p.start_ms, p.index))
    start = _number(raw.get("startTime"))
    if start is None:
        fallback = doc_start if doc_start is not None else (phrases[0].start_ms if phrases else None)
        if fallback is None:
            raise fail(f"{where} has no 'startTime' and no phrase to take it from")
        warnings.add(f"{where} has no numeric 'startTime'; using {round(fallback)}")
        start = fallback
    duration = _duration_ms(raw.get("duration"))
    transcript_id = _id(raw.get("transcriptId"))
    language = raw.get("language")
    return Transcript(
        transcript_id=transcript_id or f"transcript-{where}",
        language=language if isinstance(language, str) and language.strip() else None,
        start_ms=round(start),
        duration_ms=round(duration) if duration is not None else None,
        phrases=tuple(phrases),
    )


def _sentiments(analytics: Any) -> dict[int, float]:
    out: dict[int, float] = {}
    if isinstance(analytics, dict) and isinstance(analytics.get("sentiment"), list):
        for entry in analytics["sentiment"]:
            if isinstance(entry, dict):
                index, value = entry.get("phraseIndex"), _number(entry.get("sentiment"))
                if isinstance(index, int) and value is not None:
                    out[index] = value
    return out


def _phrase(
    raw: Any, where: str, position: int, sentiments: dict[int, float], warnings: _Warnings
) -> Phrase | None:
    if not isinstance(raw, dict):
        warnings.add(f"{where} is a JSON {_json_type(raw)}, not an object; skipped", kind="phrase-type")
        return None
    words = _words(raw.get("words"), where, warnings)
    start = _number(raw.get("startTimeMs"))
    if start is None:
        if not words:
            warnings.add(f"{where} has no numeric 'startTimeMs' and no words; skipped", kind="phrase-start")
            return None
        start = float(words[0].start_ms)
        warnings.add(
            f"{where} has no numeric 'startTimeMs'; taken from its first word", kind="phrase-start-w"
        )
    duration = _duration_ms(raw.get("duration"))
    if duration is None or duration < 0:
        if words:
            duration = max(w.end_ms for w in words) - start
            warnings.add(f"{where} has no usable duration; taken from its words", kind="phrase-duration")
        else:
            duration = 0.0
            warnings.add(f"{where} has no usable duration and no words; zero length", kind="phrase-duration0")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        text = " ".join(w.word for w in words)
        if not text.strip():
            warnings.add(f"{where} has no text and no words; skipped", kind="phrase-text")
            return None
    purpose = raw.get("participantPurpose")
    channel = raw.get("channel") if isinstance(raw.get("channel"), str) else None
    if not isinstance(purpose, str) or not purpose:
        purpose = channel.lower() if channel and channel.lower() in ("internal", "external") else "unknown"
        warnings.add(f"{where} has no 'participantPurpose'; speaker is {purpose}", kind="phrase-purpose")
    index = raw.get("phraseIndex")
    if isinstance(index, bool) or not isinstance(index, int):
        index = position
    confidence = _confidence(raw.get("confidence"), where, warnings)
    decorated = raw.get("decoratedText")
    return Phrase(
        index=index,
        text=text,
        start_ms=round(start),
        duration_ms=max(round(duration), 0),
        purpose=purpose.lower(),
        words=words,
        confidence=confidence,
        decorated_text=decorated if isinstance(decorated, str) and decorated.strip() else None,
        channel=channel,
        sentiment=sentiments.get(index),
    )


def _confidence(value: Any, where: str, warnings: _Warnings) -> float | None:
    if value is None:
        return None
    number = _number(value)
    if number is None or not 0.0 <= number <= 1.0:
        warnings.add(f"{where} has confidence {value!r} outside 0..1; ignored", kind="confidence")
        return None
    return number


def _words(raw: Any, where: str, warnings: _Warnings) -> tuple[Word, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        warnings.add(f"{where}.words is not an array; ignored", kind="words-type")
        return ()
    words = []
    for w_index, item in enumerate(raw):
        w_where = f"{where}.words[{w_index}]"
        if not isinstance(item, dict):
            warnings.add(f"{w_where} is not an object; skipped", kind="word-type")
            continue
        text, start = item.get("word"), _number(item.get("startTimeMs"))
        if not isinstance(text, str) or not text.strip() or start is None:
            warnings.add(f"{w_where} lacks 'word' or a numeric 'startTimeMs'; skipped", kind="word-fields")
            continue
        duration = _duration_ms(item.get("duration"))
        if duration is None or duration < 0:
            warnings.add(f"{w_where} has no usable duration; zero length", kind="word-duration")
            duration = 0.0
        words.append(
            Word(
                word=text.strip(),
                start_ms=round(start),
                duration_ms=round(duration),
                confidence=_confidence(item.get("confidence"), w_where, warnings),
            )
        )
    words.sort(key=lambda w: w.start_ms)
    return tuple(words)
