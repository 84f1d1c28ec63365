"""Per-profile sequence numbers that survive restarts (``{SequenceNumber}``).

One small JSON file per profile in ``state_dir`` (``sequence-<hash>.json`` holding the profile name and
the last number handed out). ``next_value`` increments under a thread lock and, where available, an
exclusive ``fcntl`` lock on a lock file (two processes never hand out the same number); the new value
is written to a temporary file, fsynced and renamed over the old one before it is returned, so after a
crash at any point the store holds either the old or the new number, never a torn file, and a number
is never handed out twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pathlib
import sys
import threading
from collections.abc import Iterator

logger = logging.getLogger(__name__)

if sys.platform != "win32":
    import fcntl


class SequenceStore:
    def __init__(self, state_dir: os.PathLike[str] | str) -> None:
        self.state_dir = pathlib.Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _file(self, profile_name: str) -> pathlib.Path:
        digest = hashlib.sha1(profile_name.casefold().encode("utf-8")).hexdigest()[:16]
        return self.state_dir / f"sequence-{digest}.json"

    @contextlib.contextmanager
    def _exclusive(self, profile_name: str) -> Iterator[None]:
        with self._lock:
            if sys.platform == "win32":  # pragma: no cover - Windows: one service process per install
                yield
                return
            with open(self._file(profile_name).with_suffix(".lock"), "a+b") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def current(self, profile_name: str) -> int:
        """The last number handed out for the profile (0 before the first)."""
        path = self._file(profile_name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return int(data["last"])
        except FileNotFoundError:
            return 0
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"sequence file {path} for profile {profile_name!r} is unreadable: {exc}"
            ) from exc

    def next_value(self, profile_name: str) -> int:
        """Hand out the profile's next number (1, 2, 3, ...) and persist it before returning."""
        with self._exclusive(profile_name):
            value = self.current(profile_name) + 1
            path = self._file(profile_name)
            temp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            with open(temp, "w", encoding="utf-8") as out:
                json.dump({"profile": profile_name, "last": value}, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
            return value

    def source(self, profile_name: str) -> ProfileSequence:
        """A ``storage.context.SequenceSource`` bound to one profile."""
        return ProfileSequence(self, profile_name)


class ProfileSequence:
    def __init__(self, store: SequenceStore, profile_name: str) -> None:
        self.store = store
        self.profile_name = profile_name

    def next_value(self) -> int:
        return self.store.next_value(self.profile_name)
