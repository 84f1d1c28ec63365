"""What a failure means for the export: recoverable (wait and retry) or permanent (fail the item).

`classify(error)` is the one place that decides. Recoverable causes are the ones that heal without
anyone changing the export: Genesys Cloud being unavailable or rate limiting (5xx, 429, the network),
a share that is unreachable, refuses us for a while (permission denied), is full, or whose folder is
replaced, the ledger's database being unreachable. They are retried with `reliability.backoff` for as
long as the service's `recoverable_horizon` allows. Permanent causes fail the item at once with the cause: a missing
permission (403), a request Genesys rejects as invalid, a recording that is deleted, a file name the
share refuses, a conflict the profile says is an error, a template that cannot render for this call,
a transcript document that cannot be read. Anything else (media that cannot be decoded, an
unexpected error) is retried a bounded number of times (`attempts_cap`), then fails the item.

`FailureReporter` keeps the log readable during an outage: the first failure of a cause is a
WARNING, repeats of the same cause at most every few minutes, and one INFO line when it recovers.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass

from reliability.backoff import API, REPEAT_WARNING_S, STORAGE, Backoff

logger = logging.getLogger(__name__)

_STORAGE_RECOVERABLE = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.ENOENT,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.ENOTDIR,
        errno.EIO,
        errno.EAGAIN,
        errno.EBUSY,
        errno.ETIMEDOUT,
        errno.EHOSTDOWN,
        errno.EHOSTUNREACH,
        errno.ENETDOWN,
        errno.ENETUNREACH,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.ESTALE,
        errno.EINTR,
        errno.EEXIST,  # a file where the destination folder should be
    }
)
_STORAGE_PERMANENT = frozenset({errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ})


@dataclass(frozen=True)
class Failure:
    """How one error is handled: `kind` is "recoverable", "permanent", "bounded" (retried up to a
    cap) or "resend" (the worker doing it was lost: sent again, not counted as a failure); `cause`
    groups errors with the same origin for logging (e.g. "storage /mnt/share")."""

    kind: str
    cause: str
    message: str
    policy: Backoff = API

    @property
    def recoverable(self) -> bool:
        return self.kind == "recoverable"


def _errno_of(error: BaseException) -> int | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current.errno
        current = current.__cause__ or current.__context__
    return None


def classify(error: BaseException, *, where: str = "") -> Failure:
    """Decide how `error` is handled. `where` names the destination root or endpoint for the cause."""
    from audio.errors import AudioDecodeError
    from export.write_once import LeaseLost
    from genesys.errors import (
        AuthenticationFailed,
        BadRequest,
        ClientClosed,
        Forbidden,
        GenesysError,
        NotFound,
    )
    from storage.write import FileConflictError
    from transcripts.errors import TranscriptError

    message = f"{type(error).__name__}: {error}" if not str(error) else str(error)
    declared = getattr(error, "permanent", None)
    if declared is True:
        return Failure("permanent", type(error).__name__, message)
    if getattr(error, "resend", False) is True:  # the worker was lost, not the work: send it again
        return Failure("resend", type(error).__name__, message)
    if isinstance(error, ClientClosed):
        return Failure("recoverable", "shutdown", message)
    if isinstance(error, LeaseLost):  # another instance took the job over: this one stops it soon
        return Failure("recoverable", "lease", message)
    if isinstance(error, Forbidden):
        return Failure("permanent", "permission", f"missing permission: {message}")
    if isinstance(error, AuthenticationFailed):
        # wrong or rotated credentials: an operator fixes them, and then the work must still be there
        return Failure("recoverable", "genesys credentials", message)
    if isinstance(error, BadRequest):
        return Failure("permanent", "rejected", message)
    if isinstance(error, NotFound):
        return Failure("permanent", "not found", message)
    if isinstance(error, GenesysError):
        endpoint = getattr(error, "endpoint", "") or where
        return Failure("recoverable", f"genesys {endpoint}".strip(), message)
    if isinstance(error, FileConflictError):
        return Failure("permanent", "conflict", message)
    if isinstance(error, TranscriptError):
        return Failure("permanent", "transcript", message)
    if isinstance(error, AudioDecodeError):
        return Failure("bounded", "media", message)
    if isinstance(error, ValueError) and type(error).__module__.startswith(("storage.", "profiles.")):
        return Failure("permanent", "naming", f"cannot name the file: {message}")
    code = _errno_of(error)
    if code is not None:
        cause = f"storage {where}".strip()
        if code in _STORAGE_PERMANENT:
            return Failure("permanent", "file name", f"the share refuses this file: {message}")
        if code in _STORAGE_RECOVERABLE:
            return Failure("recoverable", cause, message, STORAGE)
        return Failure("bounded", cause, message, STORAGE)
    if isinstance(error, TimeoutError | ConnectionError):
        return Failure("recoverable", f"network {where}".strip(), message)
    from ledger.db import unavailable

    if unavailable(error):  # the ledger's database is down or restarting: wait for it
        return Failure("recoverable", "ledger", message)
    return Failure("bounded", type(error).__name__, message)


class FailureReporter:
    """Process-wide log throttle per cause (thread-safe; shared by every conversation's export)."""

    def __init__(self, repeat_s: float = REPEAT_WARNING_S, clock: object = time.monotonic) -> None:
        self.repeat_s = repeat_s
        self._clock = clock
        self._lock = threading.Lock()
        self._active: dict[str, tuple[float, float, int]] = {}  # cause -> (first, last warned, count)

    def failed(self, cause: str, line: str) -> None:
        """Log `line` at WARNING the first time `cause` fails, then at most every `repeat_s`."""
        now = self._clock()  # type: ignore[operator]
        with self._lock:
            first, warned, count = self._active.get(cause, (now, -1e18, 0))
            loud = now - warned >= self.repeat_s
            self._active[cause] = (first, now if loud else warned, count + 1)
        if loud:
            suffix = f" ({count + 1} failures since the first)" if count else ""
            logger.warning("%s%s", line, suffix)
        else:
            logger.debug("%s", line)

    def recovered(self, cause: str, line: str) -> None:
        """One INFO line when a cause that failed works again."""
        with self._lock:
            entry = self._active.pop(cause, None)
        if entry is not None:
            minutes = (self._clock() - entry[0]) / 60  # type: ignore[operator]
            logger.info("%s (recovered after %.1f min, %d failure(s))", line, minutes, entry[2])

    def active(self) -> dict[str, int]:
        with self._lock:
            return {cause: count for cause, (_, _, count) in self._active.items()}


REPORTER = FailureReporter()
