"""Take pre-signed URLs out of documents before capture writes them.

Media URLs and transcript URLs are signed (the query string is the credential) and expire within
minutes; a capture never keeps one. `scrub` returns a copy of a document without ``mediaUris``
and without any absolute URL that carries a query string (object members are dropped, list items
and URLs inside longer text are replaced by `REMOVED`), plus the JSON pointers of what it removed
so the manifest can say so. `contains_secret` is the last check on every file capture writes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

REMOVED = "[pre-signed URL removed by callexport capture]"
DROPPED_KEYS = frozenset({"mediaUris"})
_ABSOLUTE_URL = re.compile(r"(?i)\b(?:https?|wss?)://[^\s\"'<>]+")


def is_signed_url(value: str) -> bool:
    """An absolute URL with a query string (pre-signed S3/CloudFront URLs carry their key there)."""
    match = _ABSOLUTE_URL.fullmatch(value.strip())
    return bool(match) and "?" in value and not value.rstrip().endswith("?")


def scrub(document: Any) -> tuple[Any, list[str]]:
    """(copy without pre-signed URLs, JSON pointers of what was removed)."""
    removed: list[str] = []
    return _scrub(document, "", removed), removed


def _scrub(value: Any, pointer: str, removed: list[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            here = f"{pointer}/{_escape(key)}"
            if key in DROPPED_KEYS or (isinstance(item, str) and is_signed_url(item)):
                removed.append(here)
                continue
            out[key] = _scrub(item, here, removed)
        return out
    if isinstance(value, list):
        return [_scrub(item, f"{pointer}/{index}", removed) for index, item in enumerate(value)]
    if isinstance(value, str):
        if is_signed_url(value):
            removed.append(pointer)
            return REMOVED
        if "?" in value and _ABSOLUTE_URL.search(value):
            cleaned = _ABSOLUTE_URL.sub(lambda m: REMOVED if "?" in m.group(0) else m.group(0), value)
            if cleaned != value:
                removed.append(pointer)
            return cleaned
    return value


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def contains_secret(data: bytes, secrets: Iterable[str]) -> str | None:
    """The first secret (token, client secret, signature) found in ``data``, else None."""
    for secret in secrets:
        if secret and len(secret) >= 8 and secret.encode("utf-8") in data:
            return secret
    return None
