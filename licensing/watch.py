"""Watch the install directory for license files, and report a change once the file is whole.

Polling, on purpose: a stat and a small read of the matching files every ``poll_interval_s`` works the
same on NTFS, ext4, network shares (where change notifications are unreliable) and in containers, and
it sees every way a file can arrive (written in place, copied, renamed over, deleted).

Debounce: a change is reported only when the directory's matching files have been identical (size,
mtime, inode and a SHA-256 of the content) for ``debounce_s``, and every one of them can be opened for
reading (Windows holds a file being copied open without read sharing). An editor's save in several
writes, a slow copy, or a rename is therefore reported once, and the content the callback reads is
the final one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_HASHED_BYTES = 1024 * 1024

Signature = tuple[int, int, int, str]
Snapshot = dict[str, Signature]


class LicenseFileWatcher:
    """A helper thread calling ``on_change(changed_paths)`` when matching files settle after a change.

    ``changed_paths`` lists the files added, modified or removed since the last report. The callback
    runs in the watcher thread: keep it short (e.g. ``actor_ref.tell(LicenseFileChanged(...))``).
    The state at ``start()`` is the baseline and is not reported.
    """

    def __init__(
        self,
        directory: str | Path,
        filename_pattern: str,
        on_change: Callable[[list[Path]], None],
        debounce_s: float = 1.0,
        poll_interval_s: float = 0.2,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(directory)
        self.filename_pattern = filename_pattern
        self.on_change = on_change
        self.debounce_s = debounce_s
        self.poll_interval_s = poll_interval_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._missing_logged = False
        self._digests: dict[str, tuple[tuple[int, int, int], str]] = {}
        self.reports = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> LicenseFileWatcher:
        if self._thread is not None:
            raise RuntimeError("watcher already started")
        baseline = self.scan()
        self._thread = threading.Thread(
            target=self._run, args=(baseline,), name=f"license-watch:{self.directory.name}", daemon=True
        )
        self._thread.start()
        logger.info(
            "watching %s for %s (debounce %.1f s)", self.directory, self.filename_pattern, self.debounce_s
        )
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and join; returns within one poll interval (plus a running callback)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("license watcher thread did not stop within %.1f s", timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> LicenseFileWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ scanning

    def _matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name.lower(), self.filename_pattern.lower())

    def scan(self, *, rehash: bool = True) -> Snapshot | None:
        """The current signatures of the matching files; None while any of them cannot be read.

        With ``rehash=False`` a file whose size, mtime and inode are unchanged keeps its previous
        digest without being opened: in the steady state the watcher opens nothing, so it can never
        hold a file open while an editor on Windows renames a new version over it.
        """
        snapshot: Snapshot = {}
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            if not self._missing_logged:
                logger.warning("license directory %s does not exist (yet)", self.directory)
                self._missing_logged = True
            return snapshot
        except OSError as exc:
            logger.warning("cannot list the license directory %s: %s", self.directory, exc)
            return None
        self._missing_logged = False
        for entry in entries:
            if not self._matches(entry.name):
                continue
            try:
                if not entry.is_file():
                    continue
                st = os.stat(entry.path)
                stat_key = (st.st_size, st.st_mtime_ns, st.st_ino)
                cached = self._digests.get(entry.name)
                if not rehash and cached is not None and cached[0] == stat_key:
                    digest = cached[1]
                else:
                    digest = ""
                    if st.st_size <= MAX_HASHED_BYTES:
                        with open(entry.path, "rb") as handle:  # fails on Windows while a copy holds it
                            digest = hashlib.sha256(handle.read()).hexdigest()
                    self._digests[entry.name] = (stat_key, digest)
            except FileNotFoundError:
                continue  # renamed or deleted between listing and reading: the next poll sees it
            except OSError:
                return None  # locked or unreadable right now: not settled
            snapshot[entry.name] = (st.st_size, st.st_mtime_ns, st.st_ino, digest)
        return snapshot

    # ------------------------------------------------------------ thread

    def _run(self, baseline: Snapshot | None) -> None:
        settled: Snapshot = baseline or {}
        candidate: Snapshot | None = None
        candidate_since = 0.0
        while not self._stop.wait(self.poll_interval_s):
            try:
                # re-read contents only while a change is settling; otherwise stat alone decides
                current = self.scan(rehash=candidate is not None)
            except Exception:  # a watcher must not die on a surprise from the file system
                logger.exception("license watcher: scanning %s failed", self.directory)
                continue
            now = self._clock()
            if current is None:
                candidate = None  # unreadable: start the quiet period again once it is readable
                continue
            if current == settled:
                candidate = None
                continue
            if current != candidate:
                candidate, candidate_since = current, now
                continue
            if now - candidate_since < self.debounce_s:
                continue
            changed = sorted(
                name for name in set(settled) | set(current) if settled.get(name) != current.get(name)
            )
            settled, candidate = current, None
            self.reports += 1
            paths = [self.directory / name for name in changed]
            logger.info("license file change settled: %s", ", ".join(str(p) for p in paths))
            try:
                self.on_change(paths)
            except Exception:
                logger.exception("license watcher: the change callback failed")
