"""How the configuration document is stored in the Architect Data Table (one row, or several).

A document of at most ``CELL_LIMIT`` UTF-16 code units is stored as it is in the configuration column
of the configuration row (``config``): the layout every earlier version used. A longer document is cut
into parts of at most ``CELL_LIMIT`` code units (never inside a surrogate pair), each stored in its own
row ``<row>.part.<generation>.<n>`` (same column), and the configuration row holds a manifest::

    {"$callexportParts":1,"generation":"m7x2k9a1","length":12345,"parts":13,"sha256":"..."}

``length`` is the document's length in code points, ``sha256`` the hex SHA-256 of its UTF-8 bytes.
A writer stores the parts of a new generation first and the manifest last, so a reader never sees a
mix of two saves: it reads the manifest, then exactly that generation's parts, and checks the length
and the hash (a missing or changed part is a precise error, and the service keeps its last good
configuration). Parts of older generations are deleted after the manifest is written.

Why: Genesys documents no maximum length for a string column of a data table (only 5,000 rows per
table, 50 fields per table and 256 characters per row key), so the service does not rely on one long
cell; see docs/genesys.md ("Architect data tables") and docs/admin.md for the size a configuration can
have. The same layout is implemented in JavaScript (admin/js/engine/layout.js) and kept equal by the
golden vectors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)

CELL_LIMIT = 1000
"""Longest string written into one data table cell (UTF-16 code units, as Genesys' Java back end counts).
Assumed, not documented: the most restrictive value we consider plausible."""
MAX_PARTS = 200
"""Most parts one document may use: a save then costs at most about 2 x MAX_PARTS + 2 API requests."""
MAX_DOCUMENT_UNITS = CELL_LIMIT * MAX_PARTS
ROWS_PER_TABLE = 5000
"""Genesys: 'The number of data rows allowed in a single table is 5000' (help.mypurecloud.com)."""
KEY_LIMIT = 256
"""Genesys: 'The number of characters allowed in a single reference key is 256'."""
MARK = "$callexportParts"
PART_INFIX = ".part."


class LayoutError(ValueError):
    """The stored document is incomplete or inconsistent, or a document is too large to store."""


@dataclass(frozen=True)
class Manifest:
    generation: str
    parts: int
    length: int
    sha256: str

    def text(self) -> str:
        return json.dumps(
            {
                MARK: 1,
                "generation": self.generation,
                "length": self.length,
                "parts": self.parts,
                "sha256": self.sha256,
            },
            separators=(",", ":"),
            sort_keys=True,
        )


@dataclass(frozen=True)
class StoredRows:
    """The rows one document needs: the configuration row's value and the part rows (key, value)."""

    head: str
    parts: tuple[tuple[str, str], ...]
    manifest: Manifest | None


def limits() -> dict[str, int]:
    return {
        "cellLimit": CELL_LIMIT,
        "maxParts": MAX_PARTS,
        "maxDocumentUnits": MAX_DOCUMENT_UNITS,
        "rowsPerTable": ROWS_PER_TABLE,
        "keyLimit": KEY_LIMIT,
    }


def utf16_units(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def new_generation() -> str:
    """A short, unique, sortable generation id: base-36 milliseconds and 4 random hex digits."""
    millis = int(time.time() * 1000)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while millis:
        millis, rest = divmod(millis, 36)
        text = digits[rest] + text
    return f"{text}{secrets.token_hex(2)}"


def part_key(row_key: str, generation: str, index: int) -> str:
    return f"{row_key}{PART_INFIX}{generation}.{index}"


def is_part_key(row_key: str, key: str) -> bool:
    return key.startswith(f"{row_key}{PART_INFIX}")


def chunks(text: str, limit: int = CELL_LIMIT) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-16 code units (code points are never split)."""
    out: list[str] = []
    current: list[str] = []
    units = 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if units + size > limit:
            out.append("".join(current))
            current, units = [], 0
        current.append(char)
        units += size
    if current or not out:
        out.append("".join(current))
    return out


def split(text: str, row_key: str, generation: str, *, limit: int = CELL_LIMIT) -> StoredRows:
    """The rows that store ``text`` under ``row_key`` (parts only when it does not fit one cell)."""
    units = utf16_units(text)
    if units <= limit and not text.startswith('{"' + MARK):
        return StoredRows(text, (), None)
    if units > limit * MAX_PARTS:
        raise LayoutError(
            f"the configuration is {units:,} characters long; the data table layout stores at most "
            f"{limit * MAX_PARTS:,} ({MAX_PARTS} parts of {limit:,})"
        )
    pieces = chunks(text, limit)
    manifest = Manifest(generation, len(pieces), len(text), sha256_hex(text))
    keys = [part_key(row_key, generation, i) for i in range(1, len(pieces) + 1)]
    if max(len(k) for k in keys) > KEY_LIMIT:
        raise LayoutError(f"row key {row_key!r} is too long for part rows (keys are limited to {KEY_LIMIT})")
    return StoredRows(manifest.text(), tuple(zip(keys, pieces, strict=True)), manifest)


def parse_manifest(head: str) -> Manifest | None:
    """The manifest in a configuration row's value, or None when the value is the document itself."""
    if not head.startswith('{"' + MARK):
        return None
    try:
        doc = json.loads(head)
        manifest = Manifest(str(doc["generation"]), int(doc["parts"]), int(doc["length"]), str(doc["sha256"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise LayoutError(f"the configuration row holds a damaged parts manifest: {exc}") from exc
    if manifest.parts < 1 or manifest.parts > MAX_PARTS:
        raise LayoutError(f"the parts manifest names {manifest.parts} parts (1..{MAX_PARTS} allowed)")
    return manifest


def join(row_key: str, manifest: Manifest, part_value: Callable[[str], str | None]) -> str:
    """The document from its parts; ``part_value(key)`` returns a part row's value or None if missing."""
    pieces: list[str] = []
    missing: list[str] = []
    for index in range(1, manifest.parts + 1):
        key = part_key(row_key, manifest.generation, index)
        value = part_value(key)
        if value is None:
            missing.append(key)
        else:
            pieces.append(value)
    if missing:
        raise LayoutError(
            f"the configuration is stored in {manifest.parts} parts (generation {manifest.generation}) but "
            f"{len(missing)} part row(s) are missing: {', '.join(missing[:3])}"
            + (" ..." if len(missing) > 3 else "")
        )
    text = "".join(pieces)
    if len(text) != manifest.length or sha256_hex(text) != manifest.sha256:
        raise LayoutError(
            f"the configuration parts of generation {manifest.generation} do not add up "
            f"(length {len(text)} instead of {manifest.length}, or a different SHA-256): a part was changed"
        )
    return text


def read(row_key: str, head: str, rows: Mapping[str, str | None]) -> str:
    """The document given the configuration row's value and the other rows' values by key."""
    manifest = parse_manifest(head)
    if manifest is None:
        return head
    return join(row_key, manifest, rows.get)


def stale_part_keys(row_key: str, keys: Iterable[str], keep_generation: str | None) -> list[str]:
    """Part rows of ``row_key`` that belong to no current generation (left behind by earlier saves)."""
    keep = f"{row_key}{PART_INFIX}{keep_generation}." if keep_generation else None
    return [k for k in keys if is_part_key(row_key, k) and (keep is None or not k.startswith(keep))]


class RowStore(Protocol):
    """What ``store`` needs from a data table (the service's client, the simulator or the app)."""

    def keys(self) -> list[str]: ...

    def upsert(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


def store(rows: RowStore, row_key: str, text: str, *, generation: str | None = None) -> StoredRows:
    """Write ``text`` under ``row_key``: new parts first, the configuration row last, then delete the
    parts of earlier saves (best effort: a left-over part is harmless and removed by the next save)."""
    stored = split(text, row_key, generation or new_generation())
    existing = rows.keys()
    needed = len(stored.parts) + (0 if row_key in existing else 1)
    stale = stale_part_keys(row_key, existing, stored.manifest.generation if stored.manifest else None)
    if len(existing) + needed > ROWS_PER_TABLE:  # old and new parts exist together until the switch
        raise LayoutError(
            f"the data table would need {len(existing) + needed} rows; Genesys allows {ROWS_PER_TABLE} per table"
        )
    for key, value in stored.parts:
        rows.upsert(key, value)
    rows.upsert(row_key, stored.head)
    for key in stale:
        try:
            rows.delete(key)
        except Exception as exc:  # a left-over part costs a row, nothing else
            logger.warning("could not delete the old configuration part row %r: %s", key, exc)
    return stored
