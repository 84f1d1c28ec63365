"""The backfill's progress: a rich progress bar on a terminal, periodic log lines elsewhere.

The bar counts conversations found / in scope / exported / skipped (by reason) / failed, with the rate
of finished exports and the time left at that rate. Off a terminal (a service manager, a pipe, a
test) nothing is drawn: one INFO line every `log_every_s` and one at the end.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

from backfill.plan import Counts

logger = logging.getLogger(__name__)


def summary(counts: Counts, *, discovering: bool = False) -> str:
    skipped = ", ".join(
        f"{reason} {n}" for reason, n in sorted(counts.skipped.items(), key=lambda kv: -kv[1])
    )
    return (
        f"found {counts.found}{'+' if discovering else ''}, in scope {counts.in_scope}, "
        f"exported {counts.exported}, skipped {counts.skipped_total}"
        + (f" ({skipped})" if skipped else "")
        + f", failed {counts.failed}"
    )


class Rate:
    """Finished exports per minute over a sliding window, and the time left at that rate."""

    def __init__(self, window_s: float = 120.0) -> None:
        self.window_s = window_s
        self.samples: list[tuple[float, int]] = []

    def add(self, now: float, done: int) -> None:
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window_s:
            self.samples.pop(0)

    def per_minute(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        if t1 - t0 < 1.0:
            return None
        return (d1 - d0) * 60.0 / (t1 - t0)

    def eta_s(self, remaining: int) -> float | None:
        rate = self.per_minute()
        if not rate:
            return None
        return remaining * 60.0 / rate


def _bar_class() -> type:
    from rich.progress import Progress as RichProgress
    from rich.text import Text

    class Bar(RichProgress):
        """The bar, and the counts on a line of their own below it (they wrap on a narrow terminal)."""

        counts_line = ""

        def get_renderables(self) -> Any:
            yield self.make_tasks_table(self.tasks)
            yield Text(self.counts_line)

    return Bar


def _Bar(*columns: Any, **kwargs: Any) -> Any:  # noqa: N802 - a class made on first use (rich is imported late)
    return _bar_class()(*columns, **kwargs)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """Draws (or logs) the counts; `update(counts, discovering)` as often as wanted."""

    def __init__(
        self, *, stream: TextIO | None = None, log_every_s: float = 10.0, force_bar: bool = False
    ) -> None:
        self.stream = stream or sys.stderr
        self.interactive = force_bar or bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every_s = log_every_s
        self.rate = Rate()
        self.next_log = 0.0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.interactive:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

            self._bar = _Bar(
                TextColumn("backfill"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("backfill", total=None, rate="finding conversations")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, counts: Counts, *, discovering: bool, force_log: bool = False) -> None:
        now = time.monotonic()
        finished = counts.exported + counts.failed + counts.skipped_total
        self.rate.add(now, counts.exported + counts.failed)
        remaining = max(0, counts.found - finished)
        rate = self.rate.per_minute()
        tail = f"{rate:.1f}/min, ETA {_clock(self.rate.eta_s(remaining))}" if rate is not None else ""
        if self._bar is not None:
            self._bar.counts_line = summary(counts, discovering=discovering)
            self._bar.update(
                self._task,
                total=None if discovering else max(1, counts.found),
                completed=finished,
                rate=tail or ("finding conversations" if discovering else ""),
            )
            return
        if force_log or now >= self.next_log:
            self.next_log = now + self.log_every_s
            logger.info(
                "Backfill: %s%s", summary(counts, discovering=discovering), f"; {tail}" if tail else ""
            )
