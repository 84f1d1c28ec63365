"""Windows only: list a file's alternate data streams (``FindFirstStreamW``/``FindNextStreamW``)."""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger(__name__)


def list_streams(path: os.PathLike[str] | str) -> list[str]:  # pragma: no cover - Windows only
    """Names of the file's named ``$DATA`` streams (the unnamed main stream is left out)."""
    if sys.platform != "win32":  # callers check the platform; this also tells the type checker
        raise OSError("list alternate data streams: Windows only")
    import ctypes
    from ctypes import wintypes

    class FindStreamData(ctypes.Structure):
        _fields_ = [("StreamSize", ctypes.c_longlong), ("cStreamName", ctypes.c_wchar * (260 + 36))]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.FindFirstStreamW.restype = wintypes.HANDLE
    data = FindStreamData()
    handle = kernel32.FindFirstStreamW(str(path), 0, ctypes.byref(data), 0)
    if handle == wintypes.HANDLE(-1).value:
        return []
    names: list[str] = []
    try:
        while True:
            raw = data.cStreamName  # ":name:$DATA"
            name = raw[1:].rsplit(":", 1)[0]
            if name:
                names.append(name)
            if not kernel32.FindNextStreamW(handle, ctypes.byref(data)):
                break
    finally:
        kernel32.FindClose(handle)
    return names
