"""Make untrusted text safe as (part of) a file or folder name on Windows and Linux.

Rules (documented in docs/storage.md):

* values substituted into a template never contain folder separators: ``/`` and ``\\`` become ``_``
  together with the other characters Windows forbids (``< > : " | ? *``) and control characters
  (U+0000..U+001F, U+007F..U+009F) and bidirectional overrides (U+200E/F, U+202A..E, U+2066..9) that
  make a name display differently from what it is;
* a value is cut to ``MAX_VALUE_CHARS`` characters (the cut keeps the first characters and appends ``~``
  and 8 hex digits of the SHA-1 of the whole value, so different long values stay different);
* every path component then gets: leading and trailing spaces and trailing dots removed, ``.``/``..``
  and empty components replaced by ``_``, Windows device names (CON, PRN, AUX, NUL, COM0-9, LPT0-9, also
  with an extension such as ``nul.txt``, also with superscript digits) prefixed by ``_``, and a length
  cap of ``MAX_COMPONENT_CHARS`` characters / ``MAX_COMPONENT_BYTES`` UTF-8 bytes that keeps the
  extension and inserts the hash.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

logger = logging.getLogger(__name__)

MAX_VALUE_CHARS = 100
MAX_COMPONENT_CHARS = 150
MAX_COMPONENT_BYTES = 240
REPLACEMENT = "_"

_ILLEGAL = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]')
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])$", re.IGNORECASE)


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def clean_value(value: str, *, max_chars: int = MAX_VALUE_CHARS) -> str:
    """A substituted value: no separators, no illegal or control characters, bounded length."""
    text = unicodedata.normalize("NFC", value)
    text = _ILLEGAL.sub(REPLACEMENT, text)
    if len(text) > max_chars:
        text = f"{text[: max_chars - 9]}~{short_hash(value)}"
    return text


def clean_literal(text: str) -> str:
    """Literal template text inside one component (separators were already split off)."""
    return _ILLEGAL.sub(REPLACEMENT, unicodedata.normalize("NFC", text))


def _shorten(component: str) -> str:
    if len(component) <= MAX_COMPONENT_CHARS and len(component.encode("utf-8")) <= MAX_COMPONENT_BYTES:
        return component
    stem, dot, ext = component.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, ext, dot = component, "", ""
    suffix = f"~{short_hash(component)}{dot}{ext}"
    budget_chars = MAX_COMPONENT_CHARS - len(suffix)
    budget_bytes = MAX_COMPONENT_BYTES - len(suffix.encode("utf-8"))
    kept = stem[:budget_chars]
    while len(kept.encode("utf-8")) > budget_bytes:
        kept = kept[:-1]
    return kept + suffix


def clean_component(component: str) -> str:
    """One folder or file name, safe on Windows and Linux and never ``.``/``..``/empty."""
    text = _ILLEGAL.sub(REPLACEMENT, unicodedata.normalize("NFC", component))
    text = text.strip(" ").rstrip(". ")
    if text in ("", ".", ".."):
        return REPLACEMENT
    stem = text.split(".", 1)[0].rstrip(" ")
    if _RESERVED.match(stem):
        text = REPLACEMENT + text
    return _shorten(text)
