"""Encoded recordings on disk: each (recording, formatId) is encoded once, off the request thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from simulator.model import Call, Recording

logger = logging.getLogger(__name__)


class MediaCache:
    def __init__(self, directory: Path, workers: int = 2) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sim-encode")
        self._futures: dict[tuple[str, str], Future[Path]] = {}
        self._lock = threading.Lock()

    def request(self, call: Call, rec: Recording, format_id: str) -> Future[Path]:
        """Start (or join) the encoding of one recording in one format."""
        key = (rec.recording_id, format_id)
        with self._lock:
            fut = self._futures.get(key)
            if fut is None:
                fut = self._pool.submit(self._encode, call, rec, format_id)
                self._futures[key] = fut
            return fut

    def request_job(self, key: tuple[str, str], job: Callable[[Path], Path]) -> Future[Path]:
        """Start (or join) ``job(directory) -> file`` once per ``key`` (replayed recordings)."""
        with self._lock:
            fut = self._futures.get(key)
            if fut is None:
                fut = self._pool.submit(job, self.directory)
                self._futures[key] = fut
            return fut

    def ready(self, recording_id: str, format_id: str) -> bool:
        with self._lock:
            fut = self._futures.get((recording_id, format_id))
        return fut is not None and fut.done() and fut.exception() is None

    def _encode(self, call: Call, rec: Recording, format_id: str) -> Path:
        from simulator.media import encode_recording

        path = Path(encode_recording(call, rec, format_id, self.directory))
        logger.info(
            "simulator encoded conversation %s recording %s as %s (%d bytes)",
            call.conversation_id,
            rec.recording_id,
            format_id,
            path.stat().st_size,
        )
        return path

    def close(self) -> None:
        """Cancel what has not started and let running encodes end (the directory may be removed next:
        an encode cut off by that would fail a request still being answered)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
