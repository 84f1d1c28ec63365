"""File metadata: NTFS alternate data streams on Windows, ``user.*`` extended attributes on Linux.

* Windows: each attribute is a stream named after it, ``recording.wav:Conversation.Id``, holding the
  UTF-8 value (``Get-Content .\\recording.wav:Conversation.Id``).
* Linux (and other systems with ``os.setxattr``): an extended attribute ``user.<Attribute>``
  (``getfattr -d recording.wav``).
* Elsewhere, or on a file system without streams / user xattrs, a WARNING names the file and the reason
  and the export carries on: metadata never fails an export.

A value is cut to ``MAX_VALUE_BYTES`` UTF-8 bytes (ext4 keeps all of a file's attributes in one 4 KiB
block); if the file system still has no room, it is cut to ``FALLBACK_VALUE_BYTES`` and, failing that,
left out with a warning.
"""

from __future__ import annotations

import errno
import logging
import os
import sys

logger = logging.getLogger(__name__)

ADS = "ads"
XATTR = "xattr"
NONE = "none"
XATTR_PREFIX = "user."
MAX_VALUE_BYTES = 1024
FALLBACK_VALUE_BYTES = 200
_UNSUPPORTED = {errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.ENOSYS, errno.EACCES}
_NO_ROOM = {errno.ENOSPC, errno.E2BIG, errno.ERANGE}


def _platform() -> str:
    """The platform the mechanism is chosen for (a function so tests can fake Windows)."""
    return sys.platform


def _cut(value: str, limit: int) -> bytes:
    data = value.encode("utf-8", "replace")
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", "ignore").encode("utf-8")


def mechanism() -> str:
    """The mechanism this platform would try: ``ads``, ``xattr`` or ``none``."""
    if _platform() == "win32":
        return ADS
    return XATTR if hasattr(os, "setxattr") else NONE


def _write_ads(path: str, attrs: dict[str, str]) -> None:
    for name, value in attrs.items():
        with open(f"{path}:{name}", "wb") as stream:
            stream.write(_cut(value, MAX_VALUE_BYTES))


def _write_xattrs(path: str, attrs: dict[str, str]) -> None:
    for name, value in attrs.items():
        key = XATTR_PREFIX + name
        try:
            os.setxattr(path, key, _cut(value, MAX_VALUE_BYTES))
        except OSError as exc:
            if exc.errno not in _NO_ROOM:
                raise
            try:
                os.setxattr(path, key, _cut(value, FALLBACK_VALUE_BYTES))
                logger.warning(
                    "%s: attribute %s cut to %d bytes (no room for more)", path, name, FALLBACK_VALUE_BYTES
                )
            except OSError as again:
                if again.errno not in _NO_ROOM:
                    raise
                logger.warning("%s: attribute %s left out: %s", path, name, again.strerror)


def write_metadata(path: os.PathLike[str] | str, attrs: dict[str, str]) -> str:
    """Attach ``attrs`` to the file; returns the mechanism used (``ads``, ``xattr`` or ``none``)."""
    target = os.fspath(path)
    if not attrs:
        return NONE
    chosen = mechanism()
    if chosen == NONE:
        logger.warning(
            "%s: this platform has neither alternate data streams nor extended attributes; "
            "metadata (%s) not written, the file itself is complete",
            target,
            ", ".join(attrs),
        )
        return NONE
    try:
        if chosen == ADS:
            _write_ads(target, attrs)
        else:
            _write_xattrs(target, attrs)
    except OSError as exc:
        logger.warning(
            "%s: the file system does not accept %s (%s); metadata (%s) not written, the file "
            "itself is complete",
            target,
            "alternate data streams" if chosen == ADS else "user extended attributes",
            exc.strerror or exc,
            ", ".join(attrs),
        )
        return NONE
    return chosen


def _ads_names(path: str) -> list[str]:
    """Stream names of a file: FindFirstStreamW on Windows; otherwise the known attribute names."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        from storage.win_streams import list_streams

        return list_streams(path)
    from storage.attributes import ALL_ATTRIBUTES

    return [name for name in ALL_ATTRIBUTES if os.path.exists(f"{path}:{name}")]


def read_metadata(path: os.PathLike[str] | str) -> dict[str, str]:
    """The attributes attached to a file (empty when there are none or the platform has none)."""
    target = os.fspath(path)
    if not os.path.exists(target):
        raise FileNotFoundError(errno.ENOENT, "no such file", target)
    chosen = mechanism()
    result: dict[str, str] = {}
    if chosen == ADS:
        for name in _ads_names(target):
            with open(f"{target}:{name}", "rb") as stream:
                result[name] = stream.read().decode("utf-8", "replace")
    elif chosen == XATTR:
        try:
            keys = os.listxattr(target)
        except OSError as exc:
            if exc.errno in _UNSUPPORTED:
                return {}
            raise
        for key in sorted(keys):
            if key.startswith(XATTR_PREFIX):
                result[key[len(XATTR_PREFIX) :]] = os.getxattr(target, key).decode("utf-8", "replace")
    return result
