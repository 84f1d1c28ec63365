"""The base class every supervised actor inherits.

It reports every exit (normal stop, crash on the tell path, failure in start-up) to the
supervisor as `ChildExited`, because pykka itself has no links or monitors (a child's `on_failure`
telling its parent is the supervision pattern pykka's maintainers suggest, pykka issue #42).
It also runs blocking work off the actor thread: `run_in_background(fn, ..., reply=...)` runs `fn`
on a small per-actor thread pool and `tell`s the actor the result wrapped by `reply`, so handlers
stay short and the actor never blocks on I/O.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pykka

from messages.lifecycle import ChildExited, Ping

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackgroundDone:
    """Result of a `run_in_background` call, delivered to the actor's own mailbox."""

    tag: Any
    result: Any = None
    error: BaseException | None = None


class Supervised(pykka.ThreadingActor):
    """A pykka actor that reports its exit to a supervisor and can run blocking work in threads."""

    background_threads = 2

    def __init__(self, *, supervisor: pykka.ActorRef[Any] | None, child_id: str) -> None:
        super().__init__()
        self._supervisor = supervisor
        self.child_id = child_id
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self._closed = False

    # -- hooks for subclasses -------------------------------------------------
    def setup(self) -> None:
        """Start-up work (runs in the actor thread before the first message)."""

    def teardown(self) -> None:
        """Runs after a normal stop and after a failure: release resources, unblock threads."""

    def handle(self, message: Any) -> Any:
        """Handle one message (subclasses override)."""
        logger.warning("%s: unexpected message %r", self.child_id, type(message).__name__)
        return None

    # -- pykka hooks -----------------------------------------------------------
    def on_start(self) -> None:
        try:
            self.setup()
        except Exception as exc:
            logger.exception("%s failed to start", self.child_id)
            self._shutdown_executor()
            self._report(exc)
            raise

    def on_stop(self) -> None:
        try:
            self.teardown()
        finally:
            self._shutdown_executor()
            self._report(None)

    def on_failure(self, exception_type: Any, exception_value: Any, traceback: Any) -> None:
        try:
            self.teardown()
        except Exception:  # pragma: no cover - teardown must not hide the original failure
            logger.exception("%s: teardown after failure failed", self.child_id)
        finally:
            self._shutdown_executor()
            self._report(exception_value if exception_value is not None else RuntimeError("crashed"))

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Ping):
            return True
        return self.handle(message)

    # -- helpers ---------------------------------------------------------------
    def run_in_background(self, fn: Callable[..., Any], *args: Any, tag: Any, **kwargs: Any) -> Future[Any]:
        """Run `fn(*args, **kwargs)` off the actor thread; its outcome arrives as `BackgroundDone(tag, ...)`."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.background_threads, thread_name_prefix=f"{self.child_id}-io"
                )
            future = self._executor.submit(fn, *args, **kwargs)
        ref = self.actor_ref

        def deliver(done: Future[Any]) -> None:
            error = done.exception()
            message = BackgroundDone(tag, None if error else done.result(), error)
            try:
                ref.tell(message)
            except pykka.ActorDeadError:
                logger.debug("%s stopped before background task %r finished", self.child_id, tag)

        future.add_done_callback(deliver)
        return future

    def _shutdown_executor(self) -> None:
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _report(self, reason: BaseException | None) -> None:
        if self._supervisor is None or self._closed:
            return
        self._closed = True
        message = ChildExited(
            child_id=self.child_id,
            urn=self.actor_urn,
            reason=None if reason is None else f"{type(reason).__name__}: {reason}",
            crashed=reason is not None,
        )
        try:
            self._supervisor.tell(message)
        except pykka.ActorDeadError:
            pass
