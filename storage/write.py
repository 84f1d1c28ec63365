"""Atomic file writes with the five conflict strategies.

Every file is written to a hidden temporary name in the target folder (``.<name>.<random>.part``),
flushed and fsynced, then moved into place, and the folder is fsynced: a reader never sees a partial
file under its final name and a crash leaves at most a ``.part`` file (``cleanup_partials`` removes old
ones). Claiming a name that must not be overwritten (``AppendCounter``, ``Ignore``, ``Error``) uses a
hard link, which fails if the name exists, so two writers can never overwrite each other.

Conflict strategies (``ConflictStrategy``), when the target name exists:

* ``AppendCounter``: ``name_1.ext``, ``name_2.ext``, ... the first free name
* ``Overwrite``: replace the existing file
* ``Ignore``: leave the existing file, write nothing (``WriteResult.path`` is None)
* ``ReplaceAndCopyTimestamps``: replace it and give the new file the old file's modification and access
  times (and creation time on Windows; Linux cannot set a birth time)
* ``Error``: raise ``FileConflictError``
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import secrets
import sys
import time
from dataclasses import dataclass

from storage.metadata import write_metadata

logger = logging.getLogger(__name__)

STRATEGIES = ("AppendCounter", "Overwrite", "Ignore", "ReplaceAndCopyTimestamps", "Error")
MAX_COUNTER = 10_000
CHUNK = 1 << 20


class StorageError(OSError):
    """Base class of the write errors below."""


class FileConflictError(StorageError, FileExistsError):
    """The target exists and the profile's ConflictStrategy is Error."""


class DestinationError(StorageError):
    """The destination cannot be written (message names the path and the cause)."""


@dataclass(frozen=True)
class WriteResult:
    path: pathlib.Path | None  # where the file now is; None when Ignore skipped it
    action: str  # "written" | "overwritten" | "skipped" | "renamed" | "replaced"
    bytes_written: int
    metadata: str  # "ads" | "xattr" | "none" | "not requested"
    requested_path: pathlib.Path | None = None

    @property
    def bytes(self) -> int:  # noqa: A003 - the name the service uses
        return self.bytes_written


def _fsync_dir(folder: pathlib.Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(folder: pathlib.Path, name: str, source: bytes | pathlib.Path) -> tuple[pathlib.Path, int]:
    temp = folder / f".{name[:80]}.{secrets.token_hex(6)}.part"
    written = 0
    try:
        with open(temp, "xb") as out:
            if isinstance(source, bytes | bytearray | memoryview):
                out.write(source)
                written = len(source)
            else:
                with open(source, "rb", buffering=0) as src:  # one read() per syscall: pipes stream too
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
                        written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp, written


def _claim(temp: pathlib.Path, target: pathlib.Path) -> bool:
    """Give ``temp`` the name ``target`` only if that name is free. True if claimed."""
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if sys.platform != "win32" and exc.errno not in (1, 38, 95):  # EPERM, ENOSYS, EOPNOTSUPP
            raise
        # No hard links here (some network shares): rename is exclusive on Windows; elsewhere check first.
        if target.exists():
            return False
        os.rename(temp, target)
        return True
    temp.unlink()
    return True


def _counter_name(target: pathlib.Path, counter: int) -> pathlib.Path:
    suffix = "".join(target.suffixes[-1:])
    stem = target.name[: -len(suffix)] if suffix else target.name
    return target.with_name(f"{stem}_{counter}{suffix}")


def _copy_times(source_stat: os.stat_result, target: pathlib.Path) -> None:
    os.utime(target, ns=(source_stat.st_atime_ns, source_stat.st_mtime_ns))
    if sys.platform == "win32":  # pragma: no cover - Windows only
        from storage.win_times import set_creation_time

        # Python 3.12+ has st_birthtime_ns; before that st_ctime_ns is the creation time on Windows
        set_creation_time(target, getattr(source_stat, "st_birthtime_ns", source_stat.st_ctime_ns))


def write_file(
    path: os.PathLike[str] | str,
    source: bytes | pathlib.Path,
    strategy: str,
    *,
    metadata: dict[str, str] | None = None,
) -> WriteResult:
    """Write ``source`` (bytes or a file to copy) to ``path`` atomically under a conflict strategy."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown ConflictStrategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    target = pathlib.Path(path)
    folder = target.parent
    if strategy == "Ignore" and target.exists():
        logger.info("%s exists; ConflictStrategy Ignore leaves it and writes nothing", target)
        return WriteResult(None, "skipped", 0, "not requested", target)
    if strategy == "Error" and target.exists():
        raise FileConflictError(f"{target} already exists and the profile's ConflictStrategy is Error")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp, written = _write_temp(folder, target.name, source)
    except OSError as exc:
        raise DestinationError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        final, action = _place(temp, target, strategy)
        if final is None:
            return WriteResult(None, "skipped", 0, "not requested", target)
        with contextlib.suppress(OSError):
            _fsync_dir(folder)
    except StorageError:
        raise
    except OSError as exc:
        raise DestinationError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    mechanism = "not requested"
    if metadata:
        previous = os.stat(final) if action == "replaced" else None
        mechanism = write_metadata(final, metadata)
        if previous is not None:
            os.utime(final, ns=(previous.st_atime_ns, previous.st_mtime_ns))
    logger.info("%s %s (%d bytes, metadata: %s)", action, final, written, mechanism)
    return WriteResult(final, action, written, mechanism, target)


def _place(temp: pathlib.Path, target: pathlib.Path, strategy: str) -> tuple[pathlib.Path | None, str]:
    if strategy == "Overwrite":
        existed = target.exists()
        os.replace(temp, target)
        return target, "overwritten" if existed else "written"
    if strategy == "ReplaceAndCopyTimestamps":
        try:
            old = os.stat(target)
        except FileNotFoundError:
            old = None
        os.replace(temp, target)
        if old is None:
            return target, "written"
        _copy_times(old, target)
        return target, "replaced"
    if _claim(temp, target):
        return target, "written"
    if strategy == "Ignore":
        logger.info("%s appeared meanwhile; ConflictStrategy Ignore leaves it", target)
        return None, "skipped"
    if strategy == "Error":
        raise FileConflictError(f"{target} already exists and the profile's ConflictStrategy is Error")
    for counter in range(1, MAX_COUNTER + 1):
        candidate = _counter_name(target, counter)
        if _claim(temp, candidate):
            return candidate, "renamed"
    raise FileConflictError(f"{target}: no free name after {MAX_COUNTER} counters")


def cleanup_partials(folder: os.PathLike[str] | str, older_than_seconds: float = 3600) -> int:
    """Remove ``.part`` files a crashed writer left in ``folder``; returns how many were removed."""
    removed = 0
    cutoff = time.time() - older_than_seconds
    for entry in pathlib.Path(folder).glob(".*.part"):
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
    return removed
