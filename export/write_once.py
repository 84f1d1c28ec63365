"""Write one export file exactly once, whatever is re-sent or restarted.

The ledger records the target *before* the write (`planned`) and the final path after it (`written`).
A request for an item the ledger already has as written is answered from the ledger. A `planned`
item whose write may have landed before a crash or a lost reply is recognised by its content: the
planned name, or one of its conflict-counter variants, already holds exactly the bytes we would
write. Only then is nothing written again; anything else is written with the profile's conflict
strategy. Writes of the same item are serialised within the process.

On a shared ledger two instances can write the same item: one whose lease expired during a stall
while another took the job over. The writer is fenced: with `owner`, nothing is planned or written
unless that instance still holds the job's lease (`LeaseLost`), and the final record is
conditional: of two instances that both wrote the item exactly one records it, and the other
removes its copy if the conflict strategy gave it a counter name of its own, so the item stays one
file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

MAX_COUNTER_PROBE = 50


class LeaseLost(RuntimeError):
    """This instance no longer holds the job's lease: another instance exports it now."""


class OutputLedger(Protocol):
    def holds(self, conversation_id: str, owner: str) -> bool: ...
    def record_written_once(
        self, conversation_id: str, profile: str, item: str, path: str, size: int
    ) -> str | None: ...
    def output(self, conversation_id: str, profile: str, item: str) -> Any: ...
    def record_output(
        self,
        conversation_id: str,
        profile: str,
        item: str,
        status: str,
        path: str | None = None,
        size: int | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class WriteOutcome:
    path: Path | None  # None: the conflict strategy Ignore left an existing file
    size: int
    action: str  # written | overwritten | renamed | replaced | skipped | already written
    metadata: str = ""


_locks: dict[tuple[str, str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(key: tuple[str, str, str]) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def write_once(
    ledger: OutputLedger,
    conversation_id: str,
    profile: str,
    item: str,
    target: Path,
    source: Path | bytes,
    strategy: str,
    metadata: dict[str, str] | None = None,
    *,
    write: Callable[..., Any] | None = None,
    owner: str | None = None,
) -> WriteOutcome:
    """Write `source` to `target` for (conversation, profile, item) unless it is already there;
    `owner`: the instance that must hold the job's lease on a shared ledger (None: not shared)."""
    from storage.write import write_file

    write = write or write_file
    key = (conversation_id, profile, item)
    with _lock_for(key):
        record = ledger.output(conversation_id, profile, item)
        if record is not None and record.status in ("written", "skipped"):
            path = Path(record.path) if record.path else None
            return WriteOutcome(path, int(record.bytes or 0), "already written")
        if record is not None and record.path:
            planned = Path(record.path)
            landed = _landed(planned, source)
            if landed is not None:
                size = landed.stat().st_size
                ledger.record_output(conversation_id, profile, item, "written", str(landed), size)
                logger.info(
                    "Conversation %s, profile %s: %s was written before the interruption; not written again",
                    conversation_id,
                    profile,
                    landed,
                )
                return WriteOutcome(landed, size, "already written")
            target = planned  # keep the name planned first (sequence numbers are not drawn twice)
        if owner is not None and not ledger.holds(conversation_id, owner):
            raise LeaseLost(
                f"instance {owner} no longer holds conversation {conversation_id}; not writing {target}"
            )
        ledger.record_output(conversation_id, profile, item, "planned", str(target))
        result = write(target, source, strategy, metadata=metadata or None)
        if result.path is None:
            ledger.record_output(conversation_id, profile, item, "skipped", None, 0)
            return WriteOutcome(None, 0, result.action, str(result.metadata))
        if owner is None:
            ledger.record_output(
                conversation_id, profile, item, "written", str(result.path), result.bytes_written
            )
        else:  # another instance may have written it meanwhile: exactly one record wins
            theirs = ledger.record_written_once(
                conversation_id, profile, item, str(result.path), result.bytes_written
            )
            if theirs is not None:
                return _written_elsewhere(
                    conversation_id, profile, Path(theirs), Path(result.path), result.action
                )
        return WriteOutcome(result.path, result.bytes_written, result.action, str(result.metadata))


def _written_elsewhere(
    conversation_id: str, profile: str, theirs: Path, ours: Path, action: str
) -> WriteOutcome:
    """Another instance recorded this item written at `theirs` while we wrote it at `ours`. Ours is a
    duplicate when the conflict strategy gave it a counter name of its own: it is removed. Any other
    write went to the same name (overwritten or replaced; the two hosts may name the share
    differently), so nothing is removed."""
    removed = action == "renamed" and ours.exists() and not _same_file(theirs, ours)
    if removed:
        ours.unlink(missing_ok=True)
    logger.warning(
        "Conversation %s, profile %s: another instance wrote %s at the same time%s",
        conversation_id,
        profile,
        theirs,
        f"; removed this instance's copy {ours}" if removed else "",
    )
    try:
        size = theirs.stat().st_size
    except OSError:
        size = 0
    return WriteOutcome(theirs, size, "already written")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _landed(planned: Path, source: Path | bytes) -> Path | None:
    """The file at `planned` or a counter variant of it whose content equals `source`, if any."""
    try:
        want_size = len(source) if isinstance(source, bytes | bytearray) else Path(source).stat().st_size
    except OSError:
        return None
    digest: str | None = None
    suffix = "".join(planned.suffixes[-1:])
    stem = planned.name[: -len(suffix)] if suffix else planned.name
    candidates = [planned] + [
        planned.with_name(f"{stem}_{n}{suffix}") for n in range(1, MAX_COUNTER_PROBE + 1)
    ]
    for candidate in candidates:
        try:
            size = candidate.stat().st_size
        except OSError:
            if candidate is not planned:
                break  # counters are claimed in order: the first gap ends the list
            continue
        if size != want_size:
            continue
        digest = digest or _sha256(source)
        if _sha256(candidate) == digest:
            return candidate
    return None


def _sha256(source: Path | bytes) -> str:
    h = hashlib.sha256()
    if isinstance(source, bytes | bytearray):
        h.update(source)
    else:
        with open(source, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()
