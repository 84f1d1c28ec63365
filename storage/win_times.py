"""Windows only: set a file's creation time (``SetFileTime``), used by ReplaceAndCopyTimestamps."""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger(__name__)

_EPOCH_AS_FILETIME = 116444736000000000  # 1970-01-01 in 100 ns units since 1601-01-01


def set_creation_time(path: os.PathLike[str] | str, birthtime_ns: int) -> None:  # pragma: no cover - Windows
    if sys.platform != "win32":  # callers check the platform; this also tells the type checker
        raise OSError("set the creation time: Windows only")
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateFileW.restype = wintypes.HANDLE
    handle = kernel32.CreateFileW(str(path), 0x100, 0x7, None, 3, 0x02000000, None)  # FILE_WRITE_ATTRIBUTES
    if handle == wintypes.HANDLE(-1).value:
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        value = birthtime_ns // 100 + _EPOCH_AS_FILETIME
        filetime = wintypes.FILETIME(value & 0xFFFFFFFF, value >> 32)
        if not kernel32.SetFileTime(handle, ctypes.byref(filetime), None, None):
            raise ctypes.WinError(ctypes.get_last_error())
    finally:
        kernel32.CloseHandle(handle)
