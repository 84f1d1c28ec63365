"""Text hygiene shared by the parser, the speaker labels and the writers.

Transcript text, names and ids end up in XML, HTML-like, CSV and line-based formats. Whatever comes
in, what goes out is one line of printable text that encodes as UTF-8 and is legal XML 1.0: control
characters, lone surrogates (JSON can carry them as `\\ud800` escapes) and the non-characters
U+FFFE/U+FFFF are removed, and whitespace runs (tabs, newlines) become one space.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")

UNDETERMINED_LANGUAGE = "und"
"""BCP 47 'undetermined', used when no usable language tag is known."""


def clean_text(text: str) -> str:
    """One line of printable text: unprintable characters removed, whitespace runs collapsed."""
    return _SPACES.sub(" ", _UNPRINTABLE.sub("", text)).strip()


def language_tag(value: str | None) -> str | None:
    """A well-formed BCP 47 tag ('en_US' becomes 'en-US'); None when `value` is not one."""
    if not value:
        return None
    tag = value.strip().replace("_", "-")
    return tag if _LANGUAGE.match(tag) else None
